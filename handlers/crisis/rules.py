"""Incident transitions: each returns the next :class:`Incident` (with its
timeline entry) or a :class:`Refusal` whose ``reason`` a template words.

State runs declared -> mitigated -> resolved (a false alarm may go straight
from declared to resolved); a resolved incident changes no more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.accounts import Account
from bot.core.errors import InvalidInput
from bot.core.playbook import Playbook, Severity
from bot.core.ports import StatementRenderer
from handlers.crisis.incident import (
    SYSTEM,
    ChecklistItem,
    Happened,
    HoldingStatement,
    Incident,
    IncidentState,
    Paged,
    TimelineEntry,
    incident_id,
)

MAX_SUMMARY = 300
MAX_NOTE = 2000
MAX_ITEM = 500
MAX_VARIABLE = 200

_NEXT_STATES = {
    IncidentState.DECLARED: (IncidentState.MITIGATED, IncidentState.RESOLVED),
    IncidentState.MITIGATED: (IncidentState.RESOLVED,),
    IncidentState.RESOLVED: (),
}


@dataclass(frozen=True)
class Refusal:
    """Why nothing changed. ``reason`` selects the words in
    ``crisis/refusal.txt``; ``incident`` is the unchanged incident."""

    reason: str
    incident: Incident


def declare(
    number: int,
    playbook: Playbook,
    *,
    summary: str,
    lead: str,
    declared_by: str,
    variables: Mapping[str, str],
    accounts: Mapping[str, Account],
    renderer: StatementRenderer,
    now: datetime,
    severity: Severity | None = None,
) -> Incident:
    """A new incident from ``playbook``.

    Raises :class:`InvalidInput` for an empty summary or an unknown variable,
    and :class:`bot.core.playbook.StatementError` naming every variable a
    holding statement needs and did not get: a statement never goes out with
    a blank in it.
    """
    cleaned = " ".join(summary.split())
    if not cleaned:
        raise InvalidInput("summary", "say in one line what is happening")
    if len(cleaned) > MAX_SUMMARY:
        raise InvalidInput("summary", f"at most {MAX_SUMMARY} characters")
    known = {v.name for v in playbook.variables}
    values: dict[str, str] = {}
    for name, value in variables.items():
        if name not in known:
            offered = ", ".join(sorted(known)) or "none"
            raise InvalidInput(
                f"variables.{name}", f"{playbook.id} has no such variable (it has: {offered})"
            )
        text = " ".join(value.split())
        if not text:
            raise InvalidInput(f"variables.{name}", "must not be empty")
        if len(text) > MAX_VARIABLE:
            raise InvalidInput(f"variables.{name}", f"at most {MAX_VARIABLE} characters")
        values[name] = text
    statements = tuple(
        HoldingStatement(s.id, renderer.render(s, values), s.requires_legal)
        for s in playbook.statements
    )
    affected = playbook.accounts or tuple(accounts)
    spokes = tuple(dict.fromkeys(accounts[a].spoke for a in affected if a in accounts))
    return Incident(
        id=incident_id(number),
        playbook=playbook.id,
        summary=cleaned,
        severity=severity or playbook.severity,
        lead=lead,
        state=IncidentState.DECLARED,
        declared_at=now,
        declared_by=declared_by,
        variables=values,
        accounts=tuple(affected),
        spokes=spokes,
        statements=statements,
        checklist=tuple(ChecklistItem(e.text, e.owner) for e in playbook.checklist),
        timeline=(TimelineEntry(now, declared_by, Happened.DECLARED, playbook.id),),
        publishing_paused=playbook.pause_publishing,
    )


def mitigate(incident: Incident, actor: str, now: datetime) -> Incident | Refusal:
    refusal = _refuse_move(incident, IncidentState.MITIGATED)
    if refusal:
        return refusal
    return incident.evolve(
        TimelineEntry(now, actor, Happened.MITIGATED),
        state=IncidentState.MITIGATED,
        mitigated_at=now,
    )


def resolve(incident: Incident, actor: str, now: datetime) -> Incident | Refusal:
    refusal = _refuse_move(incident, IncidentState.RESOLVED)
    if refusal:
        return refusal
    return incident.evolve(
        TimelineEntry(now, actor, Happened.RESOLVED),
        state=IncidentState.RESOLVED,
        resolved_at=now,
        publishing_paused=False,
    )


def _refuse_move(incident: Incident, to: IncidentState) -> Refusal | None:
    if incident.state is to:
        return Refusal(f"already_{to.value}", incident)
    if to not in _NEXT_STATES[incident.state]:
        return Refusal(f"cannot_{to.value}_from_{incident.state.value}", incident)
    return None


def record_page(
    incident: Incident,
    *,
    person: str,
    page_id: str,
    step: int,
    channels: tuple[str, ...],
    now: datetime,
) -> Incident | Refusal:
    """Record a page that was sent (once per ``page_id``)."""
    if page_id in incident.pages_sent:
        return Refusal("already_paged", incident)
    if not incident.open:
        return Refusal("already_resolved", incident)
    earlier = incident.paged_person(person)
    if earlier is None:
        entry = Paged(person, step, channels, now, now)
        paged = (*incident.paged, entry)
    else:
        merged = tuple(dict.fromkeys((*earlier.channels, *channels)))
        entry = replace(earlier, channels=merged, last_paged_at=now, times=earlier.times + 1)
        paged = tuple(entry if p.person == person else p for p in incident.paged)
    detail = f"{person} step {step} via {', '.join(channels)}"
    return incident.evolve(
        TimelineEntry(now, SYSTEM, Happened.PAGED, detail),
        paged=paged,
        pages_sent=(*incident.pages_sent, page_id),
    )


def record_escalation(incident: Incident, step: int, now: datetime) -> Incident | Refusal:
    """Note on the timeline that escalation step ``step`` fired (once)."""
    marker = f"step {step}"
    if any(e.what is Happened.ESCALATED and e.detail == marker for e in incident.timeline):
        return Refusal("already_escalated", incident)
    return incident.evolve(TimelineEntry(now, SYSTEM, Happened.ESCALATED, marker))


def acknowledge(incident: Incident, person: str, now: datetime) -> Incident | Refusal:
    """``person`` acknowledges their page; a second click changes nothing."""
    paged = incident.paged_person(person)
    if paged is None:
        return Refusal("not_paged", incident)
    if paged.acked_at is not None:
        return Refusal("already_acknowledged", incident)
    if not incident.open:
        return Refusal("already_resolved", incident)
    acked = replace(paged, acked_at=now)
    return incident.evolve(
        TimelineEntry(now, person, Happened.ACKNOWLEDGED),
        paged=tuple(acked if p.person == person else p for p in incident.paged),
    )


def complete_item(incident: Incident, index: int, actor: str, now: datetime) -> Incident | Refusal:
    """Tick checklist item ``index`` (0-based); ticking it again changes nothing."""
    if not 0 <= index < len(incident.checklist):
        return Refusal("no_such_item", incident)
    item = incident.checklist[index]
    if item.done:
        return Refusal("item_already_done", incident)
    if not incident.open:
        return Refusal("already_resolved", incident)
    done = replace(item, done_by=actor, done_at=now)
    checklist = tuple(done if i == index else it for i, it in enumerate(incident.checklist))
    return incident.evolve(
        TimelineEntry(now, actor, Happened.CHECKLIST_DONE, str(index + 1)), checklist=checklist
    )


def add_item(incident: Incident, text: str, actor: str, now: datetime) -> Incident | Refusal:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput("item", "say what needs doing")
    if len(cleaned) > MAX_ITEM:
        raise InvalidInput("item", f"at most {MAX_ITEM} characters")
    if not incident.open:
        return Refusal("already_resolved", incident)
    item = ChecklistItem(cleaned, added_by=actor)
    return incident.evolve(
        TimelineEntry(now, actor, Happened.CHECKLIST_ADDED, cleaned),
        checklist=(*incident.checklist, item),
    )


def set_severity(
    incident: Incident, severity: Severity, actor: str, now: datetime
) -> Incident | Refusal:
    if not incident.open:
        return Refusal("already_resolved", incident)
    if incident.severity is severity:
        return Refusal("same_severity", incident)
    return incident.evolve(
        TimelineEntry(now, actor, Happened.SEVERITY, severity.value), severity=severity
    )


def set_lead(incident: Incident, lead: str, actor: str, now: datetime) -> Incident | Refusal:
    if not incident.open:
        return Refusal("already_resolved", incident)
    if incident.lead == lead:
        return Refusal("same_lead", incident)
    return incident.evolve(TimelineEntry(now, actor, Happened.LEAD, lead), lead=lead)


def add_note(incident: Incident, text: str, actor: str, now: datetime) -> Incident:
    """A note is welcome even after resolution (late findings belong on the record)."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("note", "write what happened")
    if len(cleaned) > MAX_NOTE:
        raise InvalidInput("note", f"at most {MAX_NOTE} characters")
    return incident.evolve(TimelineEntry(now, actor, Happened.NOTE, cleaned))


def pause_publishing(incident: Incident, actor: str, now: datetime) -> Incident | Refusal:
    if not incident.open:
        return Refusal("already_resolved", incident)
    if incident.publishing_paused:
        return Refusal("already_paused", incident)
    return incident.evolve(TimelineEntry(now, actor, Happened.PAUSED), publishing_paused=True)


def resume_publishing(incident: Incident, actor: str, now: datetime) -> Incident | Refusal:
    if not incident.publishing_paused:
        return Refusal("not_paused", incident)
    return incident.evolve(TimelineEntry(now, actor, Happened.RESUMED), publishing_paused=False)


def statement_approved(
    incident: Incident, statement_id: str, actor: str, now: datetime
) -> Incident | Refusal:
    return _statement_event(incident, statement_id, actor, now, Happened.STATEMENT_APPROVED)


def statement_published(
    incident: Incident, statement_id: str, account: str, now: datetime
) -> Incident | Refusal:
    """A holding statement went out on ``account`` (recorded once per account)."""
    detail = f"{statement_id} on {account}"
    if not any(s.id == statement_id for s in incident.statements):
        return Refusal("no_such_statement", incident)
    if any(
        e.what is Happened.STATEMENT_PUBLISHED and e.detail == detail for e in incident.timeline
    ):
        return Refusal("already_published", incident)
    return incident.evolve(TimelineEntry(now, SYSTEM, Happened.STATEMENT_PUBLISHED, detail))


def _statement_event(
    incident: Incident, statement_id: str, actor: str, now: datetime, what: Happened
) -> Incident | Refusal:
    if not any(s.id == statement_id for s in incident.statements):
        return Refusal("no_such_statement", incident)
    if any(e.what is what and e.detail == statement_id for e in incident.timeline):
        return Refusal("already_approved", incident)
    return incident.evolve(TimelineEntry(now, actor, what, statement_id))
