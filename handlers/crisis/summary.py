"""The post-incident summary: figures computed from the timeline alone, and
their Markdown (words in ``templates/crisis/summary.md``).

Everything people typed (summary, notes, added checklist items, variables)
is made inert for Markdown here: no heading, link, emphasis, HTML or
broadcast mention can form from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.ports import Templates
from bot.core.text import neutralize
from handlers.crisis.incident import SYSTEM, Happened, Incident, TimelineEntry

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
MAX_TEXT = 2000


@dataclass(frozen=True)
class Acknowledgement:
    person: str
    at: datetime
    after: timedelta  # since the declaration


@dataclass(frozen=True)
class Figures:
    incident: str
    declared_at: datetime
    resolved_at: datetime | None
    duration: timedelta  # to resolution, or to ``now`` while open
    time_to_first_ack: timedelta | None
    time_to_first_statement: timedelta | None
    acknowledgements: tuple[Acknowledgement, ...]
    checklist_done: int
    checklist_total: int
    pages_sent: int
    escalations: int
    notes: int

    @property
    def checklist_percent(self) -> int:
        if not self.checklist_total:
            return 100
        return round(100 * self.checklist_done / self.checklist_total)


def figures(incident: Incident, now: datetime) -> Figures:
    """The summary's figures, from the incident's timeline."""
    timeline = incident.timeline
    declared = _first(timeline, Happened.DECLARED)
    if declared is None:
        raise ValueError(f"{incident.id} has no declaration on its timeline")
    start = declared.at
    resolved = _last(timeline, Happened.RESOLVED)
    acks = []
    seen: set[str] = set()
    for entry in timeline:
        if entry.what is Happened.ACKNOWLEDGED and entry.actor not in seen:
            seen.add(entry.actor)
            acks.append(Acknowledgement(entry.actor, entry.at, entry.at - start))
    # (Recorded when approvals told the incident; dated when it went out.)
    first_statement = min(
        (e for e in timeline if e.what is Happened.STATEMENT_PUBLISHED),
        key=lambda e: e.at,
        default=None,
    )
    done = {e.detail for e in timeline if e.what is Happened.CHECKLIST_DONE}
    end = resolved.at if resolved else now
    return Figures(
        incident=incident.id,
        declared_at=start,
        resolved_at=resolved.at if resolved else None,
        duration=end - start,
        time_to_first_ack=next((a.after for a in acks if not _declarer(incident, a)), None),
        time_to_first_statement=first_statement.at - start if first_statement else None,
        acknowledgements=tuple(acks),
        checklist_done=len(done),
        checklist_total=len(incident.checklist),
        pages_sent=sum(1 for e in timeline if e.what is Happened.PAGED),
        escalations=sum(1 for e in timeline if e.what is Happened.ESCALATED),
        notes=sum(1 for e in timeline if e.what is Happened.NOTE),
    )


def _declarer(incident: Incident, ack: Acknowledgement) -> bool:
    """The declarer's own page counts as acknowledged as they declare; it says
    nothing about how fast the people paged answered."""
    return ack.person == incident.declared_by and not ack.after


def _first(timeline: tuple[TimelineEntry, ...], what: Happened) -> TimelineEntry | None:
    return next((e for e in timeline if e.what is what), None)


def _last(timeline: tuple[TimelineEntry, ...], what: Happened) -> TimelineEntry | None:
    return next((e for e in reversed(timeline) if e.what is what), None)


def inert_markdown(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line, shown literally by any Markdown renderer."""
    flat = neutralize(" ".join(text.split()), limit)
    escaped = _MARKDOWN.sub(r"\\\1", flat)
    return escaped.replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;")


def render_markdown(
    incident: Incident,
    *,
    title: str,
    names: Mapping[str, str],
    templates: Templates,
    now: datetime,
) -> str:
    """The post-incident summary as Markdown."""
    numbers = figures(incident, now)

    def who(person: str) -> str:
        if person == SYSTEM:
            return "Playcaller"
        return inert_markdown(names.get(person, person), 100)

    entries = [
        {
            "at": entry.at,
            "after": entry.at - numbers.declared_at,
            "who": who(entry.actor),
            "what": entry.what.value,
            "detail": inert_markdown(_detail(entry, names)),
        }
        for entry in incident.timeline
    ]
    return templates.render(
        "crisis/summary.md",
        incident=incident.id,
        title=inert_markdown(title, 150),
        summary=inert_markdown(incident.summary, 300),
        severity=incident.severity.value,
        state=incident.state.value,
        lead=who(incident.lead),
        figures=numbers,
        acks=[
            {"who": who(a.person), "at": a.at, "after": a.after} for a in numbers.acknowledgements
        ],
        unacknowledged=[who(p.person) for p in incident.paged if p.acked_at is None],
        checklist=[
            {
                "text": inert_markdown(item.text, 500),
                "done": item.done,
                "by": who(item.done_by) if item.done_by else "",
                "at": item.done_at,
            }
            for item in incident.checklist
        ],
        timeline=entries,
    )


def _detail(entry: TimelineEntry, names: Mapping[str, str]) -> str:
    if entry.what is Happened.LEAD:
        return names.get(entry.detail, entry.detail)
    if entry.what is Happened.PAGED:
        person, _, rest = entry.detail.partition(" ")
        return f"{names.get(person, person)} {rest}"
    return entry.detail
