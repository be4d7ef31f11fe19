"""The incident: one declared crisis, as stored and as every card shows it.

Pure data. Every change goes through :mod:`handlers.crisis.rules`, which
returns a new :class:`Incident` (with its timeline entry) or a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.core.playbook import Severity, Target

_ID = re.compile(r"^CR-([1-9][0-9]{0,8})$")
SYSTEM = "playcaller"  # the actor of what the bot does on its own (escalations)


def incident_id(number: int) -> str:
    """``CR-<n>``: short enough to say on a call and type in a command."""
    if number < 1:
        raise ValueError("incident numbers start at 1")
    return f"CR-{number}"


def parse_incident_id(text: str) -> int | None:
    """The number in ``CR-42`` (any case), or ``None`` when it is no incident id."""
    match = _ID.match(text.strip().upper())
    return int(match.group(1)) if match else None


class IncidentState(StrEnum):
    DECLARED = "declared"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class Happened(StrEnum):
    """What a timeline entry records."""

    DECLARED = "declared"
    PAGED = "paged"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    CHECKLIST_DONE = "checklist_done"
    CHECKLIST_ADDED = "checklist_added"
    STATEMENT_APPROVED = "statement_approved"
    STATEMENT_PUBLISHED = "statement_published"
    SEVERITY = "severity"
    LEAD = "lead"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    NOTE = "note"
    PAUSED = "paused"
    RESUMED = "resumed"


@dataclass(frozen=True)
class TimelineEntry:
    """One event: when, who (a person id, or :data:`SYSTEM`), what, and its
    detail (a note's text, the new severity, a checklist item's number)."""

    at: datetime
    actor: str
    what: Happened
    detail: str = ""


@dataclass(frozen=True)
class Paged:
    """Someone the incident paged: over which channels, when, and their ack."""

    person: str
    step: int  # the escalation step that first paged them (0: the playbook's page list)
    channels: tuple[str, ...]
    paged_at: datetime
    last_paged_at: datetime
    times: int = 1
    acked_at: datetime | None = None


@dataclass(frozen=True)
class ChecklistItem:
    text: str
    owner: Target | None = None
    added_by: str | None = None  # None: from the playbook
    done_by: str | None = None
    done_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class HoldingStatement:
    """A holding statement rendered with the incident's variables at declare time."""

    id: str
    text: str
    requires_legal: bool = False


@dataclass(frozen=True)
class StatementPost:
    """A holding statement drafted as a new post on one account: the draft in
    the approval workflow and its state as approvals last told us."""

    statement: str
    account: str
    draft_id: str
    round: int  # 1 for the first draft on this account, +1 after one was rejected
    state: str  # the draft's state (pending, approved, published, failed, rejected, ...)
    author: str
    waiting_for: tuple[str, ...] = ()  # the current step's approvers, while pending
    step: str = ""
    by: str | None = None  # who made the latest decision
    at: datetime | None = None
    url: str | None = None
    failure: str = ""


@dataclass(frozen=True)
class HeldPost:
    """A scheduled post the incident's publishing pause holds."""

    draft_id: str
    account: str
    author: str
    publish_at: datetime | None


@dataclass(frozen=True)
class Incident:
    id: str
    playbook: str
    summary: str
    severity: Severity
    lead: str
    state: IncidentState
    declared_at: datetime
    declared_by: str
    variables: dict[str, str] = field(default_factory=dict)
    accounts: tuple[str, ...] = ()
    spokes: tuple[str, ...] = ()
    statements: tuple[HoldingStatement, ...] = ()
    paged: tuple[Paged, ...] = ()
    pages_sent: tuple[str, ...] = ()  # ids of every page sent (escalation reads them)
    checklist: tuple[ChecklistItem, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    publishing_paused: bool = False
    statement_posts: tuple[StatementPost, ...] = ()
    held_posts: tuple[HeldPost, ...] = ()
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    # The incident's room channel where a platform made one (Slack): its id
    # and name, for the link on the card.
    room_channel: str = ""
    room_name: str = ""
    version: int = 0  # the store version it was read at (0: not stored yet)

    @property
    def open(self) -> bool:
        return self.state is not IncidentState.RESOLVED

    def paged_person(self, person: str) -> Paged | None:
        return next((p for p in self.paged if p.person == person), None)

    def acks(self) -> dict[str, datetime]:
        """Who acknowledged, and when."""
        return {p.person: p.acked_at for p in self.paged if p.acked_at is not None}

    def evolve(self, entry: TimelineEntry, **changes: Any) -> Incident:
        """A copy with ``changes`` and ``entry`` appended to the timeline."""
        return replace(self, timeline=(*self.timeline, entry), **changes)
