"""Neutral cards to terminal output, as pure functions.

Two renderings of the same neutralized content: plain lines (the transcript
that ``expect`` reads, no wrapping) and a rich panel (what a person sees).
Rich is given ``Text`` objects only, so markup in social text is inert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.core.cards import BlockStyle, Button, ButtonStyle, Card, Form, InputKind, Tone
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
    badges: tuple[tuple[str, Tone], ...]
    blocks: tuple[tuple[str, bool, Tone, BlockStyle], ...]
    fields: tuple[tuple[str, str], ...]
    rows: tuple[tuple[str, str, str], ...]
    buttons: tuple[tuple[str, ButtonStyle], ...]
    more: tuple[str, ...]
    context: str


def _label(button: Button) -> str:
    label = single_line(button.label, BUTTON_LIMIT)
    return f"{label} ↗" if button.url else label


def local_time(at: datetime, zone: str) -> str:
    """``Mon 2 Mar 09:00 CET`` in the configured time zone."""
    tz = UTC if zone == "UTC" else ZoneInfo(zone)
    return at.astimezone(tz).strftime("%a %-d %b %H:%M %Z")


def make_safe(card: Card, zone: str = "UTC") -> SafeCard:
    """Neutralize and bound every piece of ``card``."""
    context = " · ".join(
        part
        for part in (
            single_line(card.context, CONTEXT_LIMIT) if card.context else "",
            local_time(card.at, zone) if card.at else "",
        )
        if part
    )
    more = [_label(b) for b in card.overflow]
    if card.details and card.card_key:
        more.append("Details")
    return SafeCard(
        title=single_line(card.title, TITLE_LIMIT) if card.title else "",
        badges=tuple((single_line(b.text, FIELD_LABEL_LIMIT), b.tone) for b in card.badges),
        blocks=tuple(
            (neutralize(b.text, BLOCK_LIMIT), b.quote, b.tone, b.style) for b in card.blocks
        ),
        fields=tuple(
            (single_line(f.label, FIELD_LABEL_LIMIT), single_line(f.value, FIELD_VALUE_LIMIT))
            for f in card.fields
        ),
        rows=tuple(
            (
                single_line(r.text, FIELD_VALUE_LIMIT),
                single_line(r.snippet, FIELD_VALUE_LIMIT),
                _label(r.button) if r.button else "",
            )
            for r in card.rows
        ),
        buttons=tuple((_label(b), b.style) for b in card.buttons),
        more=tuple(more),
        context=context,
    )


def heading(number: int | None, place: str, updated: bool = False) -> str:
    """``#3 · #care (updated)``."""
    parts = [f"#{number}" if number is not None else "", place]
    text = " · ".join(p for p in parts if p)
    return f"{text} (updated)" if updated else text


def plain_lines(
    card: Card, number: int | None, place: str, updated: bool = False, zone: str = "UTC"
) -> list[str]:
    """The transcript form of a card."""
    safe = make_safe(card, zone)
    lines = [f"[{heading(number, place, updated)}]"]
    if safe.title:
        lines.append(safe.title)
    if safe.badges:
        lines.append("  " + " · ".join(text for text, _ in safe.badges))
    for text, quote, tone, style in safe.blocks:
        prefix = "  > " if quote else "  ! " if tone is Tone.ATTENTION else "  "
        if style is BlockStyle.HEADING:
            lines.append("")
        lines.extend(prefix + line for line in text.split("\n"))
    lines.extend(f"  {label}: {value}" for label, value in safe.fields)
    for text, snippet, button in safe.rows:
        lines.append(f"  - {text}" + (f" [{button}]" if button else ""))
        if snippet:
            lines.append(f"    > {snippet}")
    actions = " ".join(f"[{label}]" for label, _ in safe.buttons)
    if safe.more:
        actions += " · more: " + " ".join(f"[{label}]" for label in safe.more)
    if actions:
        lines.append("  " + actions.removeprefix(" · "))
    if safe.context:
        lines.append(f"  ({safe.context})")
    return lines


_STYLE = {
    ButtonStyle.PRIMARY: "bold green",
    ButtonStyle.DANGER: "bold red",
    ButtonStyle.DEFAULT: "bold",
}


_STYLE_LOOK = {
    BlockStyle.SUBTLE: "dim",
    BlockStyle.PROMINENT: "bold",
    BlockStyle.HEADING: "bold blue",
    BlockStyle.SOURCE: "underline blue",
}
_TONE = {
    Tone.GOOD: "bold green",
    Tone.WARNING: "bold yellow",
    Tone.ATTENTION: "bold red",
    Tone.ACCENT: "bold blue",
    Tone.NEUTRAL: "bold",
}


def rich_card(
    card: Card, number: int | None, place: str, updated: bool = False, zone: str = "UTC"
) -> Panel:
    """The panel a person sees in the terminal."""
    safe = make_safe(card, zone)
    parts: list[Text | Table] = []
    if safe.badges:
        line = Text()
        for text, tone in safe.badges:
            if line:
                line.append("  ·  ", style="dim")
            line.append(text, style=_TONE[tone])
        parts.append(line)
    for text, quote, tone, weight in safe.blocks:
        look = "italic cyan" if quote else _TONE[tone] if tone is not Tone.NEUTRAL else ""
        parts.append(Text(text, style=look or _STYLE_LOOK.get(weight, "")))
    if safe.fields:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        for label, value in safe.fields:
            grid.add_row(Text(label), Text(value))
        parts.append(grid)
    for text, snippet, button in safe.rows:
        item = Text("• " + text, style="bold")
        if button:
            item.append(f"  [ {button} ]", style=_STYLE[ButtonStyle.PRIMARY])
        parts.append(item)
        if snippet:
            parts.append(Text("  " + snippet, style="italic cyan"))
    if safe.buttons or safe.more:
        row = Text()
        for label, emphasis in safe.buttons:
            row.append(f"[{label}]", style=_STYLE[emphasis])
            row.append(" ")
        if safe.more:
            row.append(" more: " + " ".join(f"[{label}]" for label in safe.more), style="dim")
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
