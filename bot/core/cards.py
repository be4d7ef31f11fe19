"""The neutral Card and Form that every platform renders.

Structure lives here in typed code; words come from templates. All text is
plain: each platform renderer neutralizes and escapes it, so no text, ours or
the social web's, can ping a channel, fake a link or break a card.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ButtonStyle(StrEnum):
    """Button emphasis; platforms map what they support."""

    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """A button: ``action_id`` routes it, ``value`` says on what."""

    label: str
    action_id: str
    value: str = ""
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True)
class Field:
    """A labelled fact shown in a grid."""

    label: str
    value: str


@dataclass(frozen=True)
class TextBlock:
    """A paragraph. ``quote`` marks text quoted from outside (the social web)."""

    text: str
    quote: bool = False


@dataclass(frozen=True)
class Choice:
    """One option of a choice input."""

    value: str
    label: str


class InputKind(StrEnum):
    """What a form input collects."""

    TEXT = "text"
    MULTILINE = "multiline"
    CHOICE = "choice"


@dataclass(frozen=True)
class Input:
    """One form input."""

    id: str
    label: str
    kind: InputKind = InputKind.TEXT
    required: bool = False
    choices: tuple[Choice, ...] = ()
    placeholder: str = ""
    initial: str = ""
    max_length: int = 2000


@dataclass(frozen=True)
class Card:
    """A message with structure.

    ``card_key`` identifies a card that is updated in place (for example
    ``mention:x:123``); ``context`` is the small print at the bottom.
    """

    title: str
    blocks: tuple[TextBlock, ...] = ()
    fields: tuple[Field, ...] = ()
    buttons: tuple[Button, ...] = ()
    context: str = ""
    card_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (for the outbox).

        Written out by hand; it returns exactly what ``dataclasses.asdict``
        did (same keys in field order, nested tuples as tuples, the
        :class:`ButtonStyle` member), at a tenth of the cost.
        """
        return {
            "title": self.title,
            "blocks": tuple({"text": b.text, "quote": b.quote} for b in self.blocks),
            "fields": tuple({"label": f.label, "value": f.value} for f in self.fields),
            "buttons": tuple(
                {"label": b.label, "action_id": b.action_id, "value": b.value, "style": b.style}
                for b in self.buttons
            ),
            "context": self.context,
            "card_key": self.card_key,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Card:
        """Inverse of :meth:`to_json`."""
        return Card(
            title=data["title"],
            blocks=tuple(TextBlock(**b) for b in data.get("blocks", ())),
            fields=tuple(Field(**f) for f in data.get("fields", ())),
            buttons=tuple(
                Button(
                    label=b["label"],
                    action_id=b["action_id"],
                    value=b.get("value", ""),
                    style=ButtonStyle(b.get("style", "default")),
                )
                for b in data.get("buttons", ())
            ),
            context=data.get("context", ""),
            card_key=data.get("card_key"),
        )


@dataclass(frozen=True)
class Form:
    """A form (Slack modal, Teams card with inputs, console prompt).

    ``context`` comes back untouched in :class:`FormSubmitted` (for example the
    mention key the form is about).
    """

    form_id: str
    title: str
    inputs: tuple[Input, ...]
    submit_label: str = "Submit"
    context: str = ""
    intro: str = ""
