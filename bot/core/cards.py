"""The neutral Card and Form that every platform renders.

Structure lives here in typed code; words come from templates. All text is
plain: each platform renderer neutralizes and escapes it, so no text, ours or
the social web's, can ping a channel, fake a link or break a card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ButtonStyle(StrEnum):
    """Button emphasis; platforms map what they support."""

    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """A button: ``action_id`` routes it, ``value`` says on what.

    A button with a ``url`` is a link: it opens the URL and sends nothing
    (``action_id`` is then :data:`LINK_ACTION`)."""

    label: str
    action_id: str
    value: str = ""
    style: ButtonStyle = ButtonStyle.DEFAULT
    url: str = ""


LINK_ACTION = "link"
# A card's Details view where a platform cannot show it in place (Slack, the
# console): a button with this action and the card's key as its value.
DETAILS_ACTION = "card.details"


def link(label: str, url: str) -> Button:
    """A button that opens ``url`` (a plain http(s) link, checked by the caller)."""
    return Button(label, LINK_ACTION, url=url)


@dataclass(frozen=True)
class Field:
    """A labelled fact shown in a grid."""

    label: str
    value: str


class Tone(StrEnum):
    """What a note means to the person reading it; platforms colour it."""

    NEUTRAL = "neutral"
    GOOD = "good"
    WARNING = "warning"
    ATTENTION = "attention"
    ACCENT = "accent"


@dataclass(frozen=True)
class Badge:
    """A short state word in the headline (priority, time left, owner), coloured by tone."""

    text: str
    tone: Tone = Tone.NEUTRAL


class BlockStyle(StrEnum):
    """How much weight a paragraph gets."""

    BODY = "body"
    SUBTLE = "subtle"  # small print: what was asked, a hint
    PROMINENT = "prominent"  # the one thing to read: an answer
    HEADING = "heading"  # names a group of what follows
    SOURCE = "source"  # where something comes from, shown like a link


@dataclass(frozen=True)
class TextBlock:
    """A paragraph. ``quote`` marks text quoted from outside (the social web),
    always shown literally; ``tone`` colours a short note."""

    text: str
    quote: bool = False
    tone: Tone = Tone.NEUTRAL
    style: BlockStyle = BlockStyle.BODY


@dataclass(frozen=True)
class Row:
    """One item of a list card (a queue): a line of ours, a literal snippet of
    social text, and the item's own button."""

    text: str
    snippet: str = ""
    button: Button | None = None


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

    The grammar (docs/cards.md): ``title`` is the headline and ``badges``
    its coloured state words; ``blocks`` the content; ``fields`` two to four
    key facts; ``buttons`` at most three primary actions, the rest in
    ``overflow``; ``details`` (internal ids, rule names) only shown when the
    Details view is opened; ``rows`` the items of a list card. ``context`` is
    the small print at the bottom, followed by ``at`` in the viewer's local
    time. ``card_key`` identifies a card that is updated in place (for
    example ``mention:x:123``).
    """

    title: str
    blocks: tuple[TextBlock, ...] = ()
    fields: tuple[Field, ...] = ()
    buttons: tuple[Button, ...] = ()
    context: str = ""
    card_key: str | None = None
    badges: tuple[Badge, ...] = ()
    overflow: tuple[Button, ...] = ()
    details: tuple[Field, ...] = ()
    rows: tuple[Row, ...] = ()
    at: datetime | None = None

    def actions(self) -> tuple[Button, ...]:
        """Every button a person can press on the card, wherever it is shown
        (primary, per row, overflow, and Details where it needs a round trip)."""
        found = [*self.buttons, *(r.button for r in self.rows if r.button), *self.overflow]
        if self.details and self.card_key:
            found.append(Button("Details", DETAILS_ACTION, self.card_key))
        return tuple(b for b in found if not b.url)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (for the outbox).

        Written out by hand; it returns exactly what ``dataclasses.asdict``
        did (same keys in field order, nested tuples as tuples, the
        :class:`ButtonStyle` member), at a tenth of the cost.
        """
        return {
            "title": self.title,
            "blocks": tuple(
                {"text": b.text, "quote": b.quote, "tone": b.tone, "style": b.style}
                for b in self.blocks
            ),
            "fields": tuple({"label": f.label, "value": f.value} for f in self.fields),
            "buttons": tuple(_button_json(b) for b in self.buttons),
            "context": self.context,
            "card_key": self.card_key,
            "badges": tuple({"text": b.text, "tone": b.tone} for b in self.badges),
            "overflow": tuple(_button_json(b) for b in self.overflow),
            "details": tuple({"label": f.label, "value": f.value} for f in self.details),
            "at": self.at.isoformat() if self.at else None,
            "rows": tuple(
                {
                    "text": r.text,
                    "snippet": r.snippet,
                    "button": _button_json(r.button) if r.button else None,
                }
                for r in self.rows
            ),
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Card:
        """Inverse of :meth:`to_json`."""
        return Card(
            title=data["title"],
            blocks=tuple(
                TextBlock(
                    b["text"],
                    b.get("quote", False),
                    Tone(b.get("tone", "neutral")),
                    BlockStyle(b.get("style", "body")),
                )
                for b in data.get("blocks", ())
            ),
            fields=tuple(Field(**f) for f in data.get("fields", ())),
            buttons=tuple(_button(b) for b in data.get("buttons", ())),
            context=data.get("context", ""),
            card_key=data.get("card_key"),
            badges=tuple(
                Badge(b["text"], Tone(b.get("tone", "neutral"))) for b in data.get("badges", ())
            ),
            overflow=tuple(_button(b) for b in data.get("overflow", ())),
            at=datetime.fromisoformat(data["at"]) if data.get("at") else None,
            details=tuple(Field(**f) for f in data.get("details", ())),
            rows=tuple(
                Row(
                    r["text"],
                    r.get("snippet", ""),
                    _button(r["button"]) if r.get("button") else None,
                )
                for r in data.get("rows", ())
            ),
        )


def _button_json(b: Button) -> dict[str, Any]:
    return {
        "label": b.label,
        "action_id": b.action_id,
        "value": b.value,
        "style": b.style,
        "url": b.url,
    }


def _button(data: dict[str, Any]) -> Button:
    return Button(
        label=data["label"],
        action_id=data["action_id"],
        value=data.get("value", ""),
        style=ButtonStyle(data.get("style", "default")),
        url=data.get("url", ""),
    )


@dataclass(frozen=True)
class Form:
    """A form (Slack modal, Teams card with inputs, console prompt).

    ``context`` comes back untouched in :class:`FormSubmitted` (for example
    the mention key the form is about). ``return_to`` names the card the form
    was opened from (a card key), for platforms where Cancel must put that
    card back (Teams turns the clicked card into the form).
    """

    form_id: str
    title: str
    inputs: tuple[Input, ...]
    submit_label: str = "Submit"
    context: str = ""
    intro: str = ""
    return_to: str = ""

    def problems(self, values: dict[str, str]) -> dict[str, str]:
        """What is wrong with submitted ``values``, by input id: a required
        input left empty, or a choice the form does not offer."""
        found: dict[str, str] = {}
        for item in self.inputs:
            value = values.get(item.id, "").strip()
            offered = [c.value for c in item.choices]
            if item.required and not value:
                found[item.id] = f"{item.label} is required."
            elif item.kind is InputKind.CHOICE and value and value not in offered:
                found[item.id] = f"{item.label}: choose one of {', '.join(offered)}."
        return found

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (carried in a Teams form's submit data)."""
        return {
            "form_id": self.form_id,
            "title": self.title,
            "inputs": [
                {
                    "id": i.id,
                    "label": i.label,
                    "kind": i.kind.value,
                    "required": i.required,
                    "choices": [[c.value, c.label] for c in i.choices],
                    "placeholder": i.placeholder,
                    "max_length": i.max_length,
                }
                for i in self.inputs
            ],
            "submit_label": self.submit_label,
            "context": self.context,
            "intro": self.intro,
            "return_to": self.return_to,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Form:
        """Inverse of :meth:`to_json` (initial values are not carried)."""
        return Form(
            form_id=str(data["form_id"]),
            title=str(data.get("title", "")),
            inputs=tuple(
                Input(
                    id=str(i["id"]),
                    label=str(i.get("label", i["id"])),
                    kind=InputKind(i.get("kind", "text")),
                    required=bool(i.get("required", False)),
                    choices=tuple(Choice(str(v), str(lbl)) for v, lbl in i.get("choices", ())),
                    placeholder=str(i.get("placeholder", "")),
                    max_length=int(i.get("max_length", 2000)),
                )
                for i in data.get("inputs", ())
            ),
            submit_label=str(data.get("submit_label", "Submit")),
            context=str(data.get("context", "")),
            intro=str(data.get("intro", "")),
            return_to=str(data.get("return_to", "")),
        )


def refresh_action(card_key: str) -> str:
    """The action that shows ``card_key``'s card again to one person
    (``mention:x:1`` -> ``mention.refresh``); its handler owns the card."""
    return card_key.partition(":")[0] + ".refresh"
