"""The domain model shared by every feature and platform."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """What a person may do. Everyone without a role is an employee."""

    ADMIN = "admin"
    COACH = "coach"
    RESPONDER = "responder"
    CRISIS_LEAD = "crisis_lead"
    LEGAL = "legal"
    EMPLOYEE = "employee"


class Priority(StrEnum):
    """Mention priority; each has its own SLA thresholds."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most pressing."""
        return list(Priority).index(self)


@dataclass(frozen=True)
class Spoke:
    """A team that engages day to day (or the hub itself)."""

    id: str
    name: str
    coaches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Person:
    """Someone the config knows, with roles and spokes."""

    id: str
    name: str
    email: str
    roles: frozenset[Role] = frozenset()
    spokes: tuple[str, ...] = ()
    platform_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Actor:
    """Who did something, as established by the platform's verified envelope.

    ``person_id`` is the config id when the platform user maps to a person;
    otherwise the platform's own id prefixed by the platform (an unknown
    person is treated as an employee).
    """

    person_id: str
    name: str
    roles: frozenset[Role] = frozenset()
    spokes: tuple[str, ...] = ()
    platform: str = "console"
    platform_user_id: str = ""
    known: bool = True
    # What the permission table grants these roles (bot.core.permissions);
    # strings so the model does not depend on the table.
    permissions: frozenset[str] = frozenset()

    def has(self, *roles: Role) -> bool:
        """True when the actor holds any of ``roles``."""
        return any(role in self.roles for role in roles)

    def may(self, permission: str) -> bool:
        """True when the permission table lets the actor do ``permission``."""
        return permission in self.permissions


SYSTEM = Actor(person_id="system", name="Playcaller", roles=frozenset({Role.ADMIN}))


class MentionState(StrEnum):
    """Where a mention is in its life."""

    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"


class Outcome(StrEnum):
    """How a mention was resolved."""

    REPLIED = "replied"
    NO_ACTION = "no_action"
    SPAM = "spam"

    @property
    def label(self) -> str:
        return {"replied": "replied", "no_action": "no action needed", "spam": "spam"}[self.value]


@dataclass(frozen=True)
class Author:
    """The person or account behind a mention."""

    handle: str
    name: str | None = None
    followers: int | None = None
    verified: bool = False


@dataclass(frozen=True)
class Sentiment:
    """Lexicon sentiment: VADER's ``compound`` in [-1, 1], the label shown
    (``positive``, ``neutral``, ``negative``; never positive for a complaint),
    and whether the post is a complaint and needs a fast human response."""

    compound: float
    label: str
    complaint: bool = False
    urgent: bool = False


@dataclass(frozen=True)
class Enrichment:
    """What intake learned about a mention."""

    sentiment: Sentiment
    brands: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    priority: Priority = Priority.NORMAL
    spoke: str = "hub"
    rule: str | None = None


@dataclass(frozen=True)
class Escalation:
    """A mention handed to the spoke's coach."""

    by: str
    at: datetime
    reason: str
    to: tuple[str, ...]


@dataclass(frozen=True)
class ReplyState:
    """Where the reply drafted for a mention is; the approvals feature sets it,
    the mention card shows it. ``state`` is a draft state (``pending``,
    ``approved``, ``published``); ``rule`` names the rule that let it go out
    without approval."""

    draft_id: str
    state: str
    drafted_by: str
    approved_by: tuple[str, ...] = ()
    at: datetime | None = None
    url: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Mention:
    """A post from the social web, its enrichment and its triage state."""

    network: str
    external_id: str
    text: str
    created_at: datetime
    author: Author
    received_at: datetime
    enrichment: Enrichment
    url: str | None = None
    lang: str | None = None
    in_reply_to: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    state: MentionState = MentionState.OPEN
    owner: str | None = None
    claimed_at: datetime | None = None
    last_activity_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    outcome: Outcome | None = None
    note: str | None = None
    escalation: Escalation | None = None
    breached_at: datetime | None = None
    # The surge ("<spoke>:<n>") whose live card stands in for this mention's
    # own card; None when the mention was posted as a card of its own.
    surge: str | None = None
    reply: ReplyState | None = None
    # The open crisis incident (``CR-42``) affecting the mention's spoke when
    # it arrived: its card carries the marker for good.
    crisis: str | None = None
    version: int = 0

    @property
    def key(self) -> str:
        """The dedupe key: the same network and id are the same mention."""
        return mention_key(self.network, self.external_id)

    def evolve(self, **changes: Any) -> Mention:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


def mention_key(network: str, external_id: str) -> str:
    """``network:id`` as used in records, cards and timers."""
    return f"{network}:{external_id}"
