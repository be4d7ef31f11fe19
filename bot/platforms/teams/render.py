"""Neutral cards and forms to Adaptive Cards 1.5, as pure functions.

All text goes into ``TextRun``s of ``RichTextBlock``s, which Teams never reads
as markdown, so text from the social web cannot fake a link, a button or a
mention. Buttons are ``Action.Execute`` (Universal Actions) with an
``Action.Submit`` fallback for older clients, inside an ``ActionSet``. A card
stays under 28 KB (measured as UTF-16, as Teams counts).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.core.cards import (
    Badge,
    BlockStyle,
    Button,
    ButtonStyle,
    Card,
    Form,
    InputKind,
    Row,
    TextBlock,
    Tone,
    refresh_action,
)
from bot.core.text import neutralize, single_line

CARD_VERSION = "1.5"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_CARD_BYTES = 28 * 1024
TITLE_LIMIT = 150
BLOCK_LIMIT = 3000
FIELD_LIMIT = 400
BUTTON_LIMIT = 60
CONTEXT_LIMIT = 300
# Keys our action data carries; form inputs are prefixed so they cannot collide.
MARK = "pc"
INPUT_PREFIX = "in_"


def text_block(text: str, *, limit: int, **run: Any) -> dict[str, Any]:
    """A RichTextBlock with one plain TextRun (never parsed as markdown)."""
    return {
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": neutralize(text, limit) or " ", **run}],
    }


def _field(label: str, value: str) -> dict[str, Any]:
    return {
        "type": "ColumnSet",
        "spacing": "None",
        "columns": [
            {
                "type": "Column",
                "width": "90px",
                "items": [text_block(single_line(label, 50), limit=50, isSubtle=True)],
            },
            {
                "type": "Column",
                "width": "stretch",
                "items": [text_block(single_line(value, FIELD_LIMIT), limit=FIELD_LIMIT)],
            },
        ],
    }


TONE_COLOURS = {
    Tone.GOOD: "Good",
    Tone.WARNING: "Warning",
    Tone.ATTENTION: "Attention",
    Tone.ACCENT: "Accent",
    Tone.NEUTRAL: "Default",
}


def _badges(badges: tuple[Badge, ...]) -> dict[str, Any]:
    """The state words as coloured runs of one block, which wraps on a phone."""
    inlines: list[dict[str, Any]] = []
    for badge in badges:
        if inlines:
            inlines.append({"type": "TextRun", "text": "  ·  ", "isSubtle": True})
        inlines.append(
            {
                "type": "TextRun",
                "text": single_line(badge.text, 60) or " ",
                "weight": "Bolder",
                "color": TONE_COLOURS[badge.tone],
            }
        )
    return {"type": "RichTextBlock", "spacing": "Small", "inlines": inlines}


def _block(block: TextBlock, limit: int) -> dict[str, Any]:
    if block.quote:
        # Social text, literal: a TextRun is never read as markdown.
        return {
            "type": "Container",
            "style": "emphasis",
            "items": [text_block(block.text, limit=limit)],
        }
    if block.tone is not Tone.NEUTRAL:
        return text_block(block.text, limit=limit, weight="Bolder", color=TONE_COLOURS[block.tone])
    return text_block(block.text, limit=limit, **STYLE_RUNS[block.style])


STYLE_RUNS: dict[BlockStyle, dict[str, Any]] = {
    BlockStyle.BODY: {},
    BlockStyle.SUBTLE: {"isSubtle": True, "size": "Small"},
    BlockStyle.PROMINENT: {"size": "Medium"},
    BlockStyle.HEADING: {"weight": "Bolder", "color": "Accent"},
    BlockStyle.SOURCE: {"color": "Accent", "size": "Small"},
}


def _row(row: Row) -> dict[str, Any]:
    items = [text_block(single_line(row.text, FIELD_LIMIT), limit=FIELD_LIMIT, weight="Bolder")]
    if row.snippet:
        items.append(
            text_block(single_line(row.snippet, FIELD_LIMIT), limit=FIELD_LIMIT, isSubtle=True)
        )
    columns: list[dict[str, Any]] = [
        {"type": "Column", "width": "stretch", "verticalContentAlignment": "Center", "items": items}
    ]
    if row.button is not None:
        columns.append(
            {
                "type": "Column",
                "width": "auto",
                "verticalContentAlignment": "Center",
                "items": [{"type": "ActionSet", "actions": [_button(row.button)]}],
            }
        )
    return {"type": "ColumnSet", "separator": True, "spacing": "Small", "columns": columns}


def action_data(action_id: str, value: str) -> dict[str, Any]:
    return {MARK: "action", "action_id": action_id, "value": value}


def _action(label: str, data: dict[str, Any], verb: str, style: ButtonStyle) -> dict[str, Any]:
    title = single_line(label, BUTTON_LIMIT) or " "
    fallback: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": data}
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": data,
        "fallback": fallback,
    }
    if style is ButtonStyle.PRIMARY:
        action["style"] = fallback["style"] = "positive"
    elif style is ButtonStyle.DANGER:
        action["style"] = fallback["style"] = "destructive"
    return action


def _button(button: Button) -> dict[str, Any]:
    if button.url:
        return {
            "type": "Action.OpenUrl",
            "title": single_line(button.label, BUTTON_LIMIT) or " ",
            "url": button.url,
        }
    return _action(
        button.label, action_data(button.action_id, button.value), button.action_id, button.style
    )


def _more(card: Card, limit: int) -> dict[str, Any] | None:
    """Overflow actions and the Details view, behind one "More" button."""
    if not card.overflow and not card.details:
        return None
    body: list[dict[str, Any]] = [_field(f.label, f.value) for f in card.details]
    if card.overflow:
        body.append({"type": "ActionSet", "actions": [_button(b) for b in card.overflow]})
    return {
        "type": "ActionSet",
        "spacing": "Small",
        "actions": [
            {
                "type": "Action.ShowCard",
                "title": "More" if card.overflow else "Details",
                "card": {"type": "AdaptiveCard", "version": CARD_VERSION, "body": body},
            }
        ],
    }


def _when(at: datetime) -> dict[str, Any]:
    """The time in the viewer's own time zone (the client formats DATE/TIME)."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "TextBlock",
        "text": f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}",
        "isSubtle": True,
        "size": "Small",
        "spacing": "None",
        "wrap": True,
    }


def adaptive_card(card: Card, *, notes: tuple[TextBlock, ...] = ()) -> dict[str, Any]:
    """The Adaptive Card for ``card``; ``notes`` are shown on top (for one person's view)."""
    limit = BLOCK_LIMIT
    while True:
        rendered = _adaptive_card(card, notes, limit)
        if card_size(rendered) <= MAX_CARD_BYTES or limit <= 200:
            return rendered
        limit //= 2


def note_block(note: TextBlock) -> dict[str, Any]:
    """A note for the clicker: success in the good colour, a refusal in attention."""
    return text_block(note.text, limit=500, weight="Bolder", color=TONE_COLOURS[note.tone])


def _adaptive_card(card: Card, notes: tuple[TextBlock, ...], limit: int) -> dict[str, Any]:
    body: list[dict[str, Any]] = [note_block(note) for note in notes]
    if card.title:
        body.append(
            text_block(
                single_line(card.title, TITLE_LIMIT),
                limit=TITLE_LIMIT,
                weight="Bolder",
                size="Medium",
            )
        )
    if card.badges:
        body.append(_badges(card.badges))
    body += [_block(block, limit) for block in card.blocks]
    body += [_field(field.label, field.value) for field in card.fields]
    body += [_row(row) for row in card.rows]
    if card.buttons:
        body.append({"type": "ActionSet", "actions": [_button(b) for b in card.buttons]})
    more = _more(card, limit)
    if more is not None:
        body.append(more)
    if card.context:
        body.append(text_block(card.context, limit=CONTEXT_LIMIT, isSubtle=True, size="Small"))
    if card.at is not None:
        body.append(_when(card.at))
    return {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": CARD_VERSION, "body": body}


FORM_VERB = "pc.form"


def form_card(
    form: Form,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A form as a card with inputs; submitting sends the inputs with the
    form's id, context and definition (so a bad submission comes back as this
    card with the error next to its input, seen only by the submitter).
    Cancel shows the card the form was opened from again."""
    values = values or {}
    errors = errors or {}
    body: list[dict[str, Any]] = [
        text_block(
            single_line(form.title, TITLE_LIMIT), limit=TITLE_LIMIT, weight="Bolder", size="Medium"
        )
    ]
    if form.intro:
        body.append(text_block(form.intro, limit=BLOCK_LIMIT))
    for item in form.inputs:
        element: dict[str, Any]
        label = single_line(item.label, 100) or item.id
        if item.kind is InputKind.CHOICE:
            element = {
                "type": "Input.ChoiceSet",
                "style": "compact",
                "choices": [
                    {"title": single_line(c.label, 100) or c.value, "value": c.value}
                    for c in item.choices
                ],
            }
        else:
            element = {
                "type": "Input.Text",
                "isMultiline": item.kind is InputKind.MULTILINE,
                "maxLength": item.max_length,
            }
            if item.placeholder:
                element["placeholder"] = single_line(item.placeholder, 150)
        element.update(
            {
                "id": INPUT_PREFIX + item.id,
                "label": label,
                "isRequired": item.required,
                "errorMessage": f"{label} is required" if item.required else None,
            }
        )
        # A submitted form comes back as submitted; a new one with its defaults.
        value = values.get(item.id, "") if values else item.initial
        if value:
            element["value"] = value[: item.max_length]
        body.append({k: v for k, v in element.items() if v is not None})
        if item.id in errors:
            error = text_block(errors[item.id], limit=300, color="Attention")
            body.append({**error, "spacing": "None"})
    data = {
        MARK: "form",
        "form_id": form.form_id,
        "context": form.context,
        "form": form.to_json(),
    }
    actions = [_action(form.submit_label, data, FORM_VERB, ButtonStyle.PRIMARY)]
    if form.return_to:
        cancel = {**action_data(refresh_action(form.return_to), form.return_to)}
        actions.append(
            _action("Cancel", cancel, refresh_action(form.return_to), ButtonStyle.DEFAULT)
        )
        # Cancel must not be blocked by the required inputs it abandons.
        actions[-1]["associatedInputs"] = "None"
        actions[-1]["fallback"]["associatedInputs"] = "None"
    body.append({"type": "ActionSet", "actions": actions})
    return {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": CARD_VERSION, "body": body}


def card_size(card: dict[str, Any]) -> int:
    """Bytes as Teams counts them (UTF-16)."""
    return len(json.dumps(card, ensure_ascii=False).encode("utf-16-le"))


def form_values(data: dict[str, Any]) -> dict[str, str]:
    """Submitted input values by input id, from an action's merged data."""
    return {
        key[len(INPUT_PREFIX) :]: "" if value is None else str(value)
        for key, value in data.items()
        if key.startswith(INPUT_PREFIX)
    }
