"""Neutral cards and forms to Block Kit, as pure functions.

Limits are respected by construction (see PLATFORMS.md 1.5): every string is
neutralized, escaped and cut to its field's limit with a visible marker, a
message never has more than 50 blocks, and every message carries a plain
``text`` fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.core.cards import (
    DETAILS_ACTION,
    Badge,
    BlockStyle,
    Button,
    ButtonStyle,
    Card,
    Field,
    Form,
    InputKind,
    Row,
    TextBlock,
    Tone,
)
from bot.core.text import neutralize, single_line

MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
MAX_ACTIONS = 25
CONTEXT_TEXT = 3000
FALLBACK_TEXT = 3000
MODAL_TITLE = 24
LABEL_TEXT = 2000
PLACEHOLDER_TEXT = 150
OPTION_TEXT = 75
OPTION_VALUE = 150
PRIVATE_METADATA = 3000

# Our action ids carry a suffix so several buttons with one action (a queue's
# "Claim 1", "Claim 2") stay unique within their actions block, as Slack requires.
ACTION_SUFFIX = "#"


def escape(text: str) -> str:
    """Slack's three control characters; nothing else is special once these are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int, shape: Callable[[str], str], *, one_line: bool = False) -> str:
    """``shape(neutralized text)`` no longer than ``limit``: escaping can
    lengthen text, so the neutralized text is cut until the shaped form fits."""
    budget = limit
    while True:
        cleaned = single_line(text, budget) if one_line else neutralize(text, budget)
        shaped = shape(cleaned)
        if len(shaped) <= limit or budget <= 1:
            return shaped[:limit]
        budget = max(1, budget - (len(shaped) - limit))


def plain(text: str, limit: int) -> dict[str, Any]:
    """A ``plain_text`` object (never parsed for mentions or links)."""
    return {
        "type": "plain_text",
        "text": fit(text, limit, str, one_line=True) or " ",
        "emoji": False,
    }


def _quote(text: str) -> str:
    return "\n".join("&gt; " + line if line else "&gt;" for line in escape(text).split("\n"))


def mrkdwn(text: str, limit: int, *, quote: bool = False) -> dict[str, Any]:
    """A ``mrkdwn`` object with escaped text; ``verbatim`` stops Slack from
    turning bare names and URLs into mentions or links."""
    shape = _quote if quote else escape
    return {"type": "mrkdwn", "text": fit(text, limit, shape) or " ", "verbatim": True}


def action_id_for(action_id: str, index: int) -> str:
    return f"{action_id}{ACTION_SUFFIX}{index}"[:ACTION_ID]


def neutral_action_id(slack_action_id: str) -> str:
    """Inverse of :func:`action_id_for`."""
    base, sep, index = slack_action_id.rpartition(ACTION_SUFFIX)
    return base if sep and index.isdigit() else slack_action_id


TONE_EMOJI = {
    Tone.GOOD: "large_green_circle",
    Tone.WARNING: "large_orange_circle",
    Tone.ATTENTION: "red_circle",
    Tone.ACCENT: "large_blue_circle",
    Tone.NEUTRAL: "white_circle",
}
NOTE_EMOJI = {Tone.GOOD: "white_check_mark", Tone.ATTENTION: "warning", Tone.WARNING: "warning"}
# Overflow options carry "<action id> <value>" (Slack gives an overflow one action id).
OVERFLOW_ACTION = "overflow"
OVERFLOW_VALUE = 150
MAX_OVERFLOW = 5
RICH_TEXT = 4000


def literal(text: str, limit: int, **style: bool) -> dict[str, Any]:
    """A rich-text ``text`` element: shown exactly as written, never read as
    mrkdwn, links or mentions (the way for social text and our own words alike)."""
    element: dict[str, Any] = {"type": "text", "text": neutralize(text, limit) or " "}
    if style:
        element["style"] = style
    return element


def rich_text(*elements: dict[str, Any], quote: bool = False) -> dict[str, Any]:
    kind = "rich_text_quote" if quote else "rich_text_section"
    return {"type": "rich_text", "elements": [{"type": kind, "elements": list(elements)}]}


def _text_block(block: TextBlock) -> dict[str, Any]:
    if block.quote:
        return rich_text(literal(block.text, SECTION_TEXT), quote=True)
    if block.tone in NOTE_EMOJI:
        return rich_text(
            {"type": "emoji", "name": NOTE_EMOJI[block.tone]},
            literal(" " + block.text, SECTION_TEXT, bold=True),
        )
    if block.style is BlockStyle.SUBTLE:
        return {"type": "context", "elements": [plain_block(block.text, CONTEXT_TEXT)]}
    if block.style is BlockStyle.SOURCE:
        return rich_text(
            {"type": "emoji", "name": "page_facing_up"}, literal(" " + block.text, SECTION_TEXT)
        )
    if block.style in (BlockStyle.HEADING, BlockStyle.PROMINENT):
        return rich_text(literal(block.text, SECTION_TEXT, bold=block.style is BlockStyle.HEADING))
    return rich_text(literal(block.text, SECTION_TEXT))


def _badges(badges: tuple[Badge, ...]) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    for badge in badges:
        if elements:
            elements.append(literal("   ", 5))
        elements.append({"type": "emoji", "name": TONE_EMOJI[badge.tone]})
        elements.append(literal(" " + single_line(badge.text, 60), 61, bold=True))
    return rich_text(*elements)


def _facts(fields: tuple[Field, ...]) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    for field in fields:
        if elements:
            elements.append(literal("\n", 1))
        elements.append(literal(single_line(field.label, 100) + "  ", 102, bold=True))
        elements.append(literal(single_line(field.value, FIELD_TEXT), FIELD_TEXT))
    return rich_text(*elements)


def _button(button: Button, index: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(button.label, BUTTON_TEXT),
        "action_id": action_id_for(button.action_id, index),
    }
    if button.url:
        element["url"] = button.url[:3000]
    else:
        element["value"] = button.value[:BUTTON_VALUE]
    if button.style is not ButtonStyle.DEFAULT:
        element["style"] = button.style.value
    return element


def _overflow(card: Card) -> dict[str, Any] | None:
    extra = list(card.overflow)
    if card.details and card.card_key:
        extra.append(Button("Details", DETAILS_ACTION, card.card_key))
    options = [
        {
            "text": plain(b.label, OPTION_TEXT),
            "value": f"{b.action_id} {b.value}"[:OVERFLOW_VALUE],
        }
        for b in extra[:MAX_OVERFLOW]
        if not b.url
    ]
    if not options:
        return None
    return {"type": "overflow", "action_id": OVERFLOW_ACTION, "options": options}


def _row(row: Row, index: int) -> dict[str, Any]:
    text = single_line(row.text, 500)
    if row.snippet:
        text += "\n" + single_line(row.snippet, 500)
    section: dict[str, Any] = {"type": "section", "text": plain_block(text, SECTION_TEXT)}
    if row.button is not None:
        section["accessory"] = _button(row.button, index)
    return section


def plain_block(text: str, limit: int) -> dict[str, Any]:
    """A multi-line ``plain_text`` object (literal, like :func:`plain`)."""
    return {"type": "plain_text", "text": neutralize(text, limit) or " ", "emoji": False}


def _when(at: datetime) -> dict[str, Any]:
    """The time in each viewer's own time zone: Slack formats ``<!date>`` per reader."""
    stamp = int(at.timestamp())
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "type": "mrkdwn",
        "text": f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>",
        "verbatim": True,
    }


def card_blocks(card: Card) -> list[dict[str, Any]]:
    """The Block Kit blocks of a card (at most 50)."""
    blocks: list[dict[str, Any]] = []
    if card.title:
        blocks.append({"type": "header", "text": plain(card.title, HEADER_TEXT)})
    if card.badges:
        blocks.append(_badges(card.badges))
    blocks += [_text_block(block) for block in card.blocks]
    if card.fields:
        blocks.append(_facts(card.fields))
    blocks += [_row(row, 100 + n) for n, row in enumerate(card.rows)]
    elements = [_button(b, n) for n, b in enumerate(card.buttons[: MAX_ACTIONS - 1])]
    overflow = _overflow(card)
    if overflow is not None:
        elements.append(overflow)
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    context: list[dict[str, Any]] = []
    if card.context:
        context.append(plain(card.context, CONTEXT_TEXT))
    if card.at is not None:
        context.append(_when(card.at))
    if context:
        blocks.append({"type": "context", "elements": context})
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        hidden = len(blocks) - (MAX_MESSAGE_BLOCKS - 1)
        blocks = blocks[: MAX_MESSAGE_BLOCKS - 1]
        blocks.append(
            {"type": "context", "elements": [plain(f"… {hidden} more blocks not shown", 100)]}
        )
    return blocks


def overflow_choice(value: str) -> tuple[str, str]:
    """(action id, value) of a chosen overflow option."""
    action_id, _, rest = value.partition(" ")
    return action_id, rest


def fallback_text(card: Card) -> str:
    """The plain ``text`` that notifications and screen readers use: our own
    words only (Slack reads this as mrkdwn, so no social text goes here)."""
    parts = [card.title, *(b.text for b in card.badges)]
    parts += [b.text for b in card.blocks if not b.quote][:1]
    return fit(
        " · ".join(p for p in parts if p) or "Playcaller", FALLBACK_TEXT, escape, one_line=True
    )


def message(card: Card) -> dict[str, Any]:
    """``text`` and ``blocks`` for chat.postMessage / chat.update / ephemeral."""
    return {"text": fallback_text(card), "blocks": card_blocks(card)}


def modal(form: Form) -> dict[str, Any]:
    """A modal view for ``views.open``; ``private_metadata`` carries the form's context."""
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks.append(rich_text(literal(form.intro, SECTION_TEXT)))
    for item in form.inputs[: MAX_MODAL_BLOCKS - len(blocks)]:
        element: dict[str, Any]
        if item.kind is InputKind.CHOICE:
            options = [
                {"text": plain(choice.label, OPTION_TEXT), "value": choice.value[:OPTION_VALUE]}
                for choice in item.choices[:100]
            ]
            element = {"type": "static_select", "action_id": "value", "options": options}
            initial = next((o for o in options if o["value"] == item.initial), None)
            if initial:
                element["initial_option"] = initial
        else:
            element = {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": item.kind is InputKind.MULTILINE,
                "max_length": item.max_length,
            }
            if item.initial:
                element["initial_value"] = item.initial[: item.max_length]
        if item.placeholder:
            element["placeholder"] = plain(item.placeholder, PLACEHOLDER_TEXT)
        blocks.append(
            {
                "type": "input",
                "block_id": item.id[:255],
                "optional": not item.required,
                "label": plain(item.label, LABEL_TEXT),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": form.form_id[:255],
        "title": plain(form.title, MODAL_TITLE),
        "submit": plain(form.submit_label, MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "private_metadata": form.context[:PRIVATE_METADATA],
        "blocks": blocks,
    }


def form_values(state: dict[str, Any]) -> dict[str, str]:
    """Submitted values by input id, from a view's ``state.values``."""
    values: dict[str, str] = {}
    for block_id, actions in (state.get("values") or {}).items():
        entry = (actions or {}).get("value") or {}
        if entry.get("type") == "static_select":
            chosen = entry.get("selected_option") or {}
            values[block_id] = str(chosen.get("value") or "")
        else:
            values[block_id] = str(entry.get("value") or "")
    return values
