"""The post-incident summary as a card, posted under the incident card on
resolve; ``playcaller postmortem`` writes the same figures as Markdown."""

from __future__ import annotations

from bot.core.cards import Badge, BlockStyle, Card, Field, TextBlock, Tone
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.text import format_duration
from handlers.crisis.cards import person_name
from handlers.crisis.incident import Incident
from handlers.crisis.summary import figures


def summary_key(incident: Incident) -> str:
    """The summary card's key: its room is archived only once it is out."""
    return f"crisis-summary:{incident.id}"


def summary_card(
    incident: Incident, *, title: str, settings: Settings, templates: Templates
) -> Card:
    assert incident.resolved_at is not None
    numbers = figures(incident, incident.resolved_at)
    acks = [
        templates.render(
            "crisis/summary_ack.txt",
            name=person_name(settings, a.person),
            after=format_duration(a.after),
        )
        for a in numbers.acknowledgements
        # (The declarer's own page counts as acknowledged as they declare.)
        if not (a.person == incident.declared_by and not a.after)
    ]
    never = [person_name(settings, p.person) for p in incident.paged if p.acked_at is None]
    first_ack = (
        format_duration(numbers.time_to_first_ack)
        if numbers.time_to_first_ack is not None
        else "nobody acknowledged"
    )
    return Card(
        title=templates.render("crisis/summary_title.txt", title=title),
        badges=(Badge(f"Resolved after {format_duration(numbers.duration)}", Tone.GOOD),),
        blocks=(
            TextBlock(
                templates.render(
                    "crisis/summary_text.txt",
                    acks=acks,
                    never=", ".join(never),
                    incident=incident.id,
                    first_statement=format_duration(numbers.time_to_first_statement)
                    if numbers.time_to_first_statement is not None
                    else "",
                )
            ),
            TextBlock(
                templates.render("crisis/summary_hint.txt", incident=incident.id),
                style=BlockStyle.SUBTLE,
            ),
        ),
        fields=(
            Field("Duration", format_duration(numbers.duration)),
            Field("First acknowledgement", first_ack),
            Field(
                "Checklist",
                f"{numbers.checklist_done} of {numbers.checklist_total} "
                f"({numbers.checklist_percent}%)",
            ),
            Field("Pages sent", f"{numbers.pages_sent}, {numbers.escalations} escalation step(s)"),
        ),
        at=incident.resolved_at,
        card_key=summary_key(incident),
    )
