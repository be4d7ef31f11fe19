"""Neutral cards to terminal output, as pure functions.

Two renderings of the same neutralized content: plain lines (the transcript
that ``expect`` reads, no wrapping) and a rich panel (what a person sees).
Rich is given ``Text`` objects only, so markup in social text is inert.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.core.cards import ButtonStyle, Card, Form, InputKind
from bot.core.text import neutralize, single_line

TITLE_LIMIT = 150
BLOCK_LIMIT = 3000
FIELD_LABEL_LIMIT = 50
FIELD_VALUE_LIMIT = 300
BUTTON_LIMIT = 75
CONTEXT_LIMIT = 300


@dataclass(frozen=True)
class SafeCard:
    """A card whose every string is neutralized for display."""

    title: str
    blocks: tuple[tuple[str, bool], ...]
    fields: tuple[tuple[str, str], ...]
    buttons: tuple[tuple[str, ButtonStyle], ...]
    context: str


def make_safe(card: Card) -> SafeCard:
    """Neutralize and bound every piece of ``card``."""
    return SafeCard(
        title=single_line(card.title, TITLE_LIMIT) if card.title else "",
        blocks=tuple((neutralize(b.text, BLOCK_LIMIT), b.quote) for b in card.blocks),
        fields=tuple(
            (single_line(f.label, FIELD_LABEL_LIMIT), single_line(f.value, FIELD_VALUE_LIMIT))
            for f in card.fields
        ),
        buttons=tuple((single_line(b.label, BUTTON_LIMIT), b.style) for b in card.buttons),
        context=single_line(card.context, CONTEXT_LIMIT) if card.context else "",
    )


def heading(number: int | None, place: str, updated: bool = False) -> str:
    """``#3 · #care (updated)``."""
    parts = [f"#{number}" if number is not None else "", place]
    text = " · ".join(p for p in parts if p)
    return f"{text} (updated)" if updated else text


def plain_lines(card: Card, number: int | None, place: str, updated: bool = False) -> list[str]:
    """The transcript form of a card."""
    safe = make_safe(card)
    lines = [f"[{heading(number, place, updated)}]"]
    if safe.title:
        lines.append(safe.title)
    for text, quote in safe.blocks:
        prefix = "  > " if quote else "  "
        lines.extend(prefix + line for line in text.split("\n"))
    lines.extend(f"  {label}: {value}" for label, value in safe.fields)
    if safe.buttons:
        lines.append("  " + " ".join(f"[{label}]" for label, _ in safe.buttons))
    if safe.context:
        lines.append(f"  ({safe.context})")
    return lines


_STYLE = {
    ButtonStyle.PRIMARY: "bold green",
    ButtonStyle.DANGER: "bold red",
    ButtonStyle.DEFAULT: "bold",
}


def rich_card(card: Card, number: int | None, place: str, updated: bool = False) -> Panel:
    """The panel a person sees in the terminal."""
    safe = make_safe(card)
    parts: list[Text | Table] = []
    for text, quote in safe.blocks:
        parts.append(Text(text, style="italic cyan" if quote else ""))
    if safe.fields:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        for label, value in safe.fields:
            grid.add_row(Text(label), Text(value))
        parts.append(grid)
    if safe.buttons:
        row = Text()
        for label, style in safe.buttons:
            row.append(f"[{label}]", style=_STYLE[style])
            row.append(" ")
        parts.append(row)
    if safe.context:
        parts.append(Text(safe.context, style="dim"))
    return Panel(
        Group(*parts),
        title=Text(safe.title or "Playcaller", style="bold"),
        # Bracketed like the transcript, so what expect reads is what is on screen.
        subtitle=Text(f"[{heading(number, place, updated)}]", style="dim"),
        subtitle_align="right",
        title_align="left",
        border_style="yellow" if updated else "blue",
    )


def form_lines(form: Form) -> list[str]:
    """How a form is shown: one line per input, with the id to ``fill``."""
    lines = [f"[form · {single_line(form.title, TITLE_LIMIT)}]"]
    if form.intro:
        lines.append("  " + single_line(form.intro, BLOCK_LIMIT))
    for item in form.inputs:
        need = "required" if item.required else "optional"
        detail = ""
        if item.kind is InputKind.CHOICE:
            detail = " one of: " + " | ".join(c.value for c in item.choices)
        default = f" (default {item.initial})" if item.initial else ""
        lines.append(f"  {item.id}: {single_line(item.label, 100)} [{need}]{detail}{default}")
    lines.append(f"  fill FIELD=VALUE ..., then submit ({single_line(form.submit_label, 30)})")
    return lines
