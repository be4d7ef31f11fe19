"""Update reminders: while an incident is open, its lead is reminded every
``update_every`` (from the playbook) to post an update. Reminder ``n`` is
recorded as ``update:<n>`` among the incident's sent ids, in the same write
that queues it, so it goes out once; after an outage the missed ones collapse
into the latest (:func:`handlers.crisis.escalation.reminder_due`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core.cards import Badge, BlockStyle, Card, TextBlock, Tone
from bot.core.playbook import Playbook
from bot.core.text import format_duration
from bot.core.turn import INTERACTIVE, Turn
from handlers.crisis.escalation import reminder_due
from handlers.crisis.incident import Incident

PREFIX = "update:"


def with_due_reminder(playbook: Playbook, incident: Incident, now: datetime) -> Incident:
    """``incident`` with the reminder due now recorded, if one is."""
    if not incident.open:
        return incident
    number = reminder_due(incident.declared_at, playbook.update_every, incident.pages_sent, now)
    if number is None:
        return incident
    return replace(incident, pages_sent=(*incident.pages_sent, f"{PREFIX}{number}"))


def next_reminder(playbook: Playbook, incident: Incident) -> datetime | None:
    """When the next reminder falls due, or None (no reminders, or resolved)."""
    every = playbook.update_every
    if every is None or not incident.open:
        return None
    sent = [int(s.removeprefix(PREFIX)) for s in incident.pages_sent if s.startswith(PREFIX)]
    return incident.declared_at + every * (max(sent, default=0) + 1)


def send_reminders(turn: Turn, before: Incident, after: Incident, title: str) -> None:
    """DM the lead for each reminder ``after`` recorded."""
    for sent in after.pages_sent:
        if not sent.startswith(PREFIX) or sent in before.pages_sent:
            continue
        open_for = format_duration(turn.now() - after.declared_at)
        turn.dm(
            after.lead,
            Card(
                title=turn.render("crisis/reminder_title.txt", title=title),
                badges=(Badge(f"Open for {open_for}", Tone.WARNING),),
                blocks=(
                    TextBlock(
                        turn.render("crisis/reminder.txt", incident=after.id, open_for=open_for)
                    ),
                    TextBlock(after.summary, style=BlockStyle.PROMINENT),
                ),
                context=after.id,
                at=after.declared_at,
            ),
            priority=INTERACTIVE,
        )
        turn.audit("incident.update_reminder", f"incident:{after.id}", lead=after.lead)
