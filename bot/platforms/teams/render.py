"""Neutral cards and forms to Adaptive Cards 1.5, as pure functions.

All text goes into ``TextRun``s of ``RichTextBlock``s, which Teams never reads
as markdown, so text from the social web cannot fake a link, a button or a
mention. Buttons are ``Action.Execute`` (Universal Actions) with an
``Action.Submit`` fallback for older clients, inside an ``ActionSet``. A card
stays under 28 KB (measured as UTF-16, as Teams counts).
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.cards import ButtonStyle, Card, Form, InputKind, TextBlock
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


def _block(block: TextBlock, limit: int) -> dict[str, Any]:
    rich = text_block(block.text, limit=limit, italic=block.quote)
    if not block.quote:
        return rich
    return {"type": "Container", "style": "emphasis", "items": [rich]}


def action_data(action_id: str, value: str) -> dict[str, Any]:
    return {MARK: "action", "action_id": action_id, "value": value}


def _action(label: str, data: dict[str, Any], verb: str, style: ButtonStyle) -> dict[str, Any]:
    title = single_line(label, BUTTON_LIMIT) or " "
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": title, "data": data},
    }
    if style is ButtonStyle.PRIMARY:
        action["style"] = "positive"
    elif style is ButtonStyle.DANGER:
        action["style"] = "destructive"
    return action


def adaptive_card(card: Card, *, notes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The Adaptive Card for ``card``; ``notes`` are shown on top (for one person's view)."""
    limit = BLOCK_LIMIT
    while True:
        rendered = _adaptive_card(card, notes, limit)
        if card_size(rendered) <= MAX_CARD_BYTES or limit <= 200:
            return rendered
        limit //= 2


def _adaptive_card(card: Card, notes: tuple[str, ...], limit: int) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        text_block(note, limit=500, weight="Bolder", color="Attention") for note in notes
    ]
    if card.title:
        body.append(
            text_block(
                single_line(card.title, TITLE_LIMIT),
                limit=TITLE_LIMIT,
                weight="Bolder",
                size="Medium",
            )
        )
    body += [_block(block, limit) for block in card.blocks]
    body += [_field(field.label, field.value) for field in card.fields]
    if card.buttons:
        body.append(
            {
                "type": "ActionSet",
                "actions": [
                    _action(b.label, action_data(b.action_id, b.value), b.action_id, b.style)
                    for b in card.buttons
                ],
            }
        )
    if card.context:
        body.append(text_block(card.context, limit=CONTEXT_LIMIT, isSubtle=True, size="Small"))
    return {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": CARD_VERSION, "body": body}


FORM_VERB = "pc.form"


def form_card(form: Form) -> dict[str, Any]:
    """A form as a card with inputs; submitting sends the inputs with the form's id and context."""
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
        if item.initial:
            element["value"] = item.initial[: item.max_length]
        body.append({k: v for k, v in element.items() if v is not None})
    data = {MARK: "form", "form_id": form.form_id, "context": form.context}
    body.append(
        {
            "type": "ActionSet",
            "actions": [_action(form.submit_label, data, FORM_VERB, ButtonStyle.PRIMARY)],
        }
    )
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
