"""The validated configuration as plain, immutable domain data.

``bot.config`` reads ``playcaller.yaml`` into these; core and handlers only
ever see this shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.accounts import Account, ApprovalSettings
from bot.core.model import Actor, Person, Priority, Role, Spoke
from bot.core.permissions import DEFAULT_PERMISSIONS, Permission, granted


@dataclass(frozen=True)
class SlaPolicy:
    """Response-time thresholds for one priority."""

    warn: timedelta
    breach: timedelta


@dataclass(frozen=True)
class RoutingRule:
    """Send matching mentions to a spoke with a priority.

    Every condition given must hold (an empty condition matches anything);
    within one condition, any listed value matches.
    """

    name: str
    spoke: str
    priority: Priority | None = None
    keywords: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()


@dataclass(frozen=True)
class TriageTimings:
    """Owner nudges and automatic release of idle claims."""

    nudge_owner_after: timedelta = timedelta(minutes=20)
    release_idle_after: timedelta = timedelta(minutes=45)


@dataclass(frozen=True)
class SurgePolicy:
    """When a spoke's channel gets one live surge card instead of a card per mention.

    A surge starts when more than ``threshold`` mentions arrive within
    ``window`` and ends once the rate has stayed at or under it for
    ``calm_after``. In a surge, mentions from authors with at least ``reach``
    followers are still posted one by one (as are risk-flagged ones and those
    of ``single_priorities``: narrow it where a routing rule makes every
    negative mention high, or a storm of complaints would stay one by one).
    The surge card is updated at most every ``update_every``.
    """

    threshold: int = 20
    window: timedelta = timedelta(minutes=5)
    calm_after: timedelta = timedelta(minutes=10)
    reach: int = 10_000
    update_every: timedelta = timedelta(seconds=10)
    single_priorities: tuple[Priority, ...] = (Priority.URGENT, Priority.HIGH)


@dataclass(frozen=True)
class SpikePolicy:
    """Alerts to the hub when a spoke's or a topic's rate jumps.

    A spike is at least ``min_count`` mentions within ``window`` and more than
    ``factor`` times the baseline (an exponentially weighted moving average of
    the rate per ``window``, weight ``smoothing`` for the newest); past
    ``leads_factor`` the crisis leads are told directly too. ``topics`` are
    keyword sets (any word, whole words, any case).
    """

    factor: float = 3.0
    leads_factor: float = 6.0
    min_count: int = 30
    window: timedelta = timedelta(minutes=15)
    smoothing: float = 0.3
    topics: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CrisisRooms:
    """Where an incident runs: a Slack channel named from ``name`` (with
    ``{incident}``, ``{playbook}``, ``{severity}``, ``{summary}``) unless
    ``slack_channels`` is off; on Teams, and where Slack refuses, the thread
    under the incident's card in the hub channel."""

    slack_channels: bool = True
    name: str = "crisis-{incident}-{playbook}"
    private: bool = False
    # A room channel is archived once the incident's summary is posted in it.
    archive_on_resolve: bool = True


@dataclass(frozen=True)
class Retention:
    """How long stored records are kept after their last activity."""

    questions: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class Settings:
    """Everything the bot knows about the organisation."""

    hub: Spoke
    spokes: dict[str, Spoke]
    people: dict[str, Person]
    rules: tuple[RoutingRule, ...]
    sla: dict[Priority, SlaPolicy]
    brands: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    risk_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    approvals: ApprovalSettings = field(default_factory=ApprovalSettings)
    default_spoke: str = "hub"
    default_priority: Priority = Priority.NORMAL
    triage: TriageTimings = TriageTimings()
    retention: Retention = Retention()
    channels: dict[str, dict[str, str]] = field(default_factory=dict)
    # Where a platform does not tell the viewer's own time zone (the console).
    timezone: str = "UTC"
    platforms: tuple[str, ...] = ()  # where cards go; empty: decided at start-up
    # Approved posts go out through the publishing webhook (the outbox's
    # publish lane); False: the author posts by hand and marks them as sent.
    publish_webhook: bool = False
    permissions: dict[Permission, tuple[Role, ...]] = field(
        default_factory=lambda: dict(DEFAULT_PERMISSIONS)
    )
    # Per spoke (and hub) id; a spoke not listed uses ``surge_default``.
    surge: dict[str, SurgePolicy] = field(default_factory=dict)
    surge_default: SurgePolicy = SurgePolicy()
    spikes: SpikePolicy = SpikePolicy()
    crisis_rooms: CrisisRooms = CrisisRooms()

    def spoke(self, spoke_id: str) -> Spoke:
        """The spoke (or the hub) with this id."""
        if spoke_id == self.hub.id:
            return self.hub
        return self.spokes[spoke_id]

    def surge_policy(self, spoke_id: str) -> SurgePolicy:
        """The surge thresholds of a spoke (or the hub)."""
        return self.surge.get(spoke_id, self.surge_default)

    def all_spokes(self) -> list[Spoke]:
        """The hub first, then spokes in config order."""
        return [self.hub, *self.spokes.values()]

    def coaches_for(self, spoke_id: str) -> tuple[str, ...]:
        """The spoke's coaches, else the hub's, else every coach in the organisation."""
        spoke = self.spoke(spoke_id) if self.has_spoke(spoke_id) else self.hub
        everyone = tuple(p.id for p in self.people.values() if Role.COACH in p.roles)
        return spoke.coaches or self.hub.coaches or everyone

    def has_spoke(self, spoke_id: str) -> bool:
        return spoke_id == self.hub.id or spoke_id in self.spokes

    def person_by_email(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        return next((p for p in self.people.values() if p.email.lower() == wanted), None)

    def person_by_platform_id(self, platform: str, user_id: str) -> Person | None:
        return next(
            (p for p in self.people.values() if p.platform_ids.get(platform) == user_id), None
        )

    def actor_for(self, person: Person, platform: str, platform_user_id: str = "") -> Actor:
        """The actor for a known person."""
        return Actor(
            person_id=person.id,
            name=person.name,
            roles=person.roles,
            spokes=person.spokes,
            platform=platform,
            platform_user_id=platform_user_id or person.id,
            permissions=frozenset(granted(self.permissions, person.roles or {Role.EMPLOYEE})),
        )

    def unknown_actor(self, platform: str, platform_user_id: str, name: str) -> Actor:
        """An actor the config does not know: an employee with no role."""
        return Actor(
            person_id=f"{platform}:{platform_user_id}",
            name=name or platform_user_id,
            roles=frozenset({Role.EMPLOYEE}),
            platform=platform,
            platform_user_id=platform_user_id,
            known=False,
            permissions=frozenset(granted(self.permissions, {Role.EMPLOYEE})),
        )

    def channel_spoke(self, platform: str, platform_channel: str) -> str | None:
        """Which spoke a platform channel is configured for."""
        for spoke_id, by_platform in self.channels.items():
            if by_platform.get(platform) == platform_channel:
                return spoke_id
        return None
