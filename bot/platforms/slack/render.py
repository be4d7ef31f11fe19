"""Neutral cards and forms to Block Kit, as pure functions.

Limits are respected by construction (see PLATFORMS.md 1.5): every string is
neutralized, escaped and cut to its field's limit with a visible marker, a
message never has more than 50 blocks, and every message carries a plain
``text`` fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.cards import ButtonStyle, Card, Form, InputKind
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


def card_blocks(card: Card) -> list[dict[str, Any]]:
    """The Block Kit blocks of a card (at most 50)."""
    blocks: list[dict[str, Any]] = []
    if card.title:
        blocks.append({"type": "header", "text": plain(card.title, HEADER_TEXT)})
    for block in card.blocks:
        blocks.append(
            {"type": "section", "text": mrkdwn(block.text, SECTION_TEXT, quote=block.quote)}
        )
    for start in range(0, len(card.fields), MAX_FIELDS):
        fields = card.fields[start : start + MAX_FIELDS]
        blocks.append(
            {
                "type": "section",
                "fields": [mrkdwn_field(field.label, field.value) for field in fields],
            }
        )
    for start in range(0, len(card.buttons), MAX_ACTIONS):
        buttons = card.buttons[start : start + MAX_ACTIONS]
        elements = []
        for offset, button in enumerate(buttons):
            element: dict[str, Any] = {
                "type": "button",
                "text": plain(button.label, BUTTON_TEXT),
                "action_id": action_id_for(button.action_id, start + offset),
                "value": button.value[:BUTTON_VALUE],
            }
            if button.style is not ButtonStyle.DEFAULT:
                element["style"] = button.style.value
            elements.append(element)
        blocks.append({"type": "actions", "elements": elements})
    if card.context:
        blocks.append({"type": "context", "elements": [mrkdwn(card.context, CONTEXT_TEXT)]})
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        hidden = len(blocks) - (MAX_MESSAGE_BLOCKS - 1)
        blocks = blocks[: MAX_MESSAGE_BLOCKS - 1]
        blocks.append(
            {"type": "context", "elements": [mrkdwn(f"… {hidden} more blocks not shown", 100)]}
        )
    return blocks


def mrkdwn_field(label: str, value: str) -> dict[str, Any]:
    """``*Label*`` over the value, in one field (2000 characters at most)."""
    head = "*" + escape(single_line(label, 100)) + "*\n"
    return {
        "type": "mrkdwn",
        "text": head + fit(value, FIELD_TEXT - len(head), escape, one_line=True),
        "verbatim": True,
    }


def fallback_text(card: Card) -> str:
    """The plain ``text`` that notifications and screen readers use."""
    parts = [card.title] + [b.text for b in card.blocks[:1]]
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
        blocks.append({"type": "section", "text": mrkdwn(form.intro, SECTION_TEXT)})
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
