"""The Store port: a small, domain-shaped, atomic persistence contract.

Every backend (SQLite, Redis) implements :class:`Store` and passes the same
contract suite (``tests/store/test_contract.py``). Nothing that matters lives
in process memory: records, idempotency keys, timers, the outbox and the audit
log are all here, so several bot processes can share one store and a restart
loses nothing.

Atomicity model: each write takes an :class:`Effects` bundle (audit entries,
timers to schedule or cancel, outbox messages, counter increments, the fenced
completion of the timer or inbox entry that caused the write). A backend
applies the record change and its effects in one transaction, or none of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

JSON = Mapping[str, Any]


@dataclass(frozen=True)
class Record:
    """A versioned document. ``version`` is 0 before the first insert.

    ``tags`` are exact-match index entries (``"state:open"``, ``"spoke:care"``)
    that :meth:`Store.find` can query; they are replaced on every write.
    """

    kind: str
    key: str
    data: JSON
    version: int = 0
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log: who did what to which subject."""

    at: datetime
    actor: str
    action: str
    subject: str
    detail: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class Timer:
    """A durable timer. ``key`` is unique: scheduling an existing key replaces it."""

    key: str
    kind: str
    due_at: datetime
    payload: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class LeasedTimer:
    """A due timer leased to one process. ``token`` fences its completion."""

    timer: Timer
    token: int
    attempts: int


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting to be delivered by one platform.

    ``op`` is ``post`` (a card to a channel), ``update`` (replace the card
    posted earlier under ``card_key``), ``thread`` (a reply under it), ``dm``
    (a card to one person) or ``copy`` (one person's copy of a shared card).
    ``destination`` is neutral: a spoke id, ``hub``, or ``person:<id>``.
    Lower ``priority`` goes first: human actions (0) before bulk posts (2).
    """

    id: str
    platform: str
    op: str
    destination: str
    body: JSON
    created_at: datetime
    card_key: str | None = None
    priority: int = 1
    not_before: datetime | None = None


@dataclass(frozen=True)
class LeasedOutboxItem:
    """An outbox item leased to one sender; ``token`` fences finishing it."""

    item: OutboxItem
    token: int
    attempts: int


@dataclass(frozen=True)
class InboxEntry:
    """A verified inbound request, stored before it is acknowledged.

    ``key`` is its dedupe key (a Slack trigger or event id, a Teams activity
    id): the same request delivered again within the remembered window is
    not stored twice. ``body`` is what the platform needs to handle it later,
    in any process.
    """

    key: str
    platform: str
    body: JSON
    received_at: datetime


@dataclass(frozen=True)
class LeasedInboxEntry:
    """An inbox entry leased to one process; ``token`` fences completing it."""

    entry: InboxEntry
    token: int
    attempts: int


@dataclass(frozen=True)
class Backlog:
    """Outbox items waiting for one platform: how many, and the oldest's creation time."""

    items: int
    oldest: datetime


@dataclass(frozen=True)
class Effects:
    """Side effects committed atomically with a write (or on their own)."""

    audit: tuple[AuditEntry, ...] = ()
    timers: tuple[Timer, ...] = ()
    cancel_timers: tuple[str, ...] = ()
    outbox: tuple[OutboxItem, ...] = ()
    complete_timer: tuple[str, int] | None = None
    complete_inbox: tuple[str, int] | None = None
    # (counter, amount) added with the write: counted exactly when it commits.
    counts: tuple[tuple[str, int], ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.audit
            or self.counts
            or self.timers
            or self.cancel_timers
            or self.outbox
            or self.complete_timer is not None
            or self.complete_inbox is not None
        )

    def merge(self, other: Effects) -> Effects:
        """Both bundles, this one's entries first."""
        if self.complete_timer and other.complete_timer:
            raise ValueError("only one timer completion per write")
        if self.complete_inbox and other.complete_inbox:
            raise ValueError("only one inbox completion per write")
        return Effects(
            audit=self.audit + other.audit,
            timers=self.timers + other.timers,
            cancel_timers=self.cancel_timers + other.cancel_timers,
            outbox=self.outbox + other.outbox,
            complete_timer=self.complete_timer or other.complete_timer,
            complete_inbox=self.complete_inbox or other.complete_inbox,
            counts=self.counts + other.counts,
        )


NO_EFFECTS = Effects()


@dataclass(frozen=True)
class Written:
    """Result of a compare-and-set write.

    ``ok`` is True when the write (and its effects) were committed; ``record``
    is then the stored record with its new version. When ``ok`` is False
    nothing was written and ``record`` is the current record (None if absent),
    so a loser learns, for example, who holds a claim.
    """

    ok: bool
    record: Record | None


class Store(Protocol):
    """Atomic persistence for every feature. See the module docstring."""

    async def open(self) -> None:
        """Connect and create the schema if needed. Idempotent."""

    async def close(self) -> None:
        """Release connections."""

    async def ping(self) -> bool:
        """True when the backend answers."""

    async def insert(self, record: Record, effects: Effects = NO_EFFECTS) -> Written:
        """Create ``record`` at version 1 with its effects.

        If ``(kind, key)`` exists, nothing is written and the result carries
        the existing record. A stale ``effects.complete_timer`` or
        ``effects.complete_inbox`` token also rejects the whole write
        (``ok=False``, ``record`` = current or None).
        """

    async def insert_many(self, items: Sequence[tuple[Record, Effects]]) -> list[bool]:
        """:meth:`insert` for each ``(record, effects)``, in order, in one call:
        True where the record was created with its effects, False where its
        ``(kind, key)`` already existed (also earlier in ``items``): nothing of
        that item is written. SQLite commits the whole batch in one
        transaction; Redis sends it in one pipeline, each item atomic. Effects
        may not complete a timer (ValueError)."""

    async def insert_each(self, items: Sequence[tuple[Record, Effects]]) -> list[bool | Exception]:
        """:meth:`insert_many`, except that an item which cannot be written
        (its data cannot be encoded, the backend refuses it) is answered with
        its error while the others are written: one bad item costs only
        itself. Effects may not complete a timer (ValueError, nothing written)."""

    async def replace(
        self, record: Record, expected_version: int, effects: Effects = NO_EFFECTS
    ) -> Written:
        """Compare-and-set: store ``record`` at ``expected_version + 1`` if the
        stored version equals ``expected_version``; otherwise write nothing."""

    async def delete(
        self, kind: str, key: str, expected_version: int, effects: Effects = NO_EFFECTS
    ) -> Written:
        """Compare-and-set delete: remove the record (and its tags) with its
        effects if the stored version equals ``expected_version``. Otherwise, or
        when ``effects.complete_timer`` is stale, nothing is written and
        ``record`` is the current record (None if absent). On success
        ``record`` is None; a later insert of the key starts at version 1."""

    async def get(self, kind: str, key: str) -> Record | None:
        """The current record or None."""

    async def find(
        self, kind: str, tag: str, limit: int = 200, offset: int = 0, after: str | None = None
    ) -> list[Record]:
        """Records of ``kind`` carrying ``tag``, oldest insert first, after
        skipping the first ``offset`` of them; with ``after`` (the key of a
        record of ``kind``), only records inserted after that one, whether or
        not it still carries ``tag`` (a cursor that others' changes do not move)."""

    async def count_tagged(self, kind: str, tag: str) -> int:
        """How many records of ``kind`` carry ``tag``."""

    async def apply(self, effects: Effects) -> bool:
        """Commit effects without a record change. False (nothing written)
        when ``effects.complete_timer`` or ``effects.complete_inbox`` names a
        lease that is no longer held."""

    async def put_once(self, key: str, ttl: timedelta, now: datetime) -> bool:
        """Set an idempotency key. True the first time within ``ttl``."""

    async def remembered(self, key: str, now: datetime) -> bool:
        """True when an idempotency key is set and unexpired at ``now`` (no change)."""

    async def forget(self, key: str) -> None:
        """Delete an idempotency key (so a failed first delivery can be redone)."""

    async def lease_timers(
        self, now: datetime, owner: str, lease_for: timedelta, limit: int = 100
    ) -> list[LeasedTimer]:
        """Lease timers due at ``now`` that are unleased or whose lease expired.

        Two processes calling this concurrently never receive the same timer
        under a live lease. Tokens are unique and increasing.
        """

    async def complete_timer(self, key: str, token: int) -> bool:
        """Delete a leased timer if ``token`` still holds its lease."""

    async def pending_timers(self, prefix: str = "") -> list[Timer]:
        """Scheduled timers whose key starts with ``prefix``, soonest first."""

    async def next_timer_due(self) -> datetime | None:
        """When the soonest timer is due, or None."""

    async def timers_due(self, at: datetime) -> int:
        """How many timers are due at ``at`` (due time not after it), leased or not."""

    async def lease_outbox(
        self, platform: str, now: datetime, owner: str, lease_for: timedelta, limit: int = 50
    ) -> list[LeasedOutboxItem]:
        """Lease deliverable items for ``platform`` (``not_before`` passed,
        unleased or lease expired), by priority, then creation order."""

    async def finish_outbox(
        self,
        item_id: str,
        token: int,
        card_ref: tuple[str, JSON] | None = None,
        effects: Effects = NO_EFFECTS,
    ) -> bool:
        """Remove a delivered item; if ``card_ref`` is ``(card_key, ref)``,
        remember where the card was posted for later updates. ``effects``
        (an external send's settlement: its timer, its audit entry) commit in
        the same transaction. False, with nothing written, when the lease was
        lost. ``effects`` may not complete a timer or inbox entry (ValueError)."""

    async def retry_outbox(self, item_id: str, token: int, not_before: datetime) -> bool:
        """Release a leased item to be tried again at ``not_before`` (a
        cancelled item is removed instead; True all the same)."""

    async def cancel_outbox(self, item_id: str) -> bool:
        """Withdraw a waiting item (an external send still retrying); False when
        there is none (sent, settled, or never queued). An item nobody holds is
        removed at once. An item leased to a sender may have its POST in flight,
        so it is only marked: the holder's ``finish_outbox`` still records what
        really happened (published or failed), its ``retry_outbox`` removes the
        item instead of releasing it, and a lease that ran out (the holder died)
        is never leased again: the next ``lease_outbox`` removes it."""

    async def outbox_size(self, platform: str | None = None) -> int:
        """Items waiting (leased or not)."""

    async def outbox_backlog(self) -> dict[str, Backlog]:
        """For each platform with items waiting (leased or not): how many, and
        when the oldest of them was created. Platforms with none are absent."""

    async def card_refs(self, platform: str, card_key: str) -> list[JSON]:
        """Where a card was posted on ``platform`` (one entry per post)."""

    async def outbox_waiting_for(
        self,
        platform: str,
        card_keys: Sequence[str],
        destinations: Sequence[str],
        ops: Sequence[str] = (),
    ) -> bool:
        """Whether an item waits (leased or not) on ``platform`` for one of
        ``card_keys`` or to one of ``destinations``; only items of ``ops``
        where it is not empty."""

    async def admit_inbox(
        self,
        entry: InboxEntry,
        now: datetime,
        owner: str,
        lease_for: timedelta,
        remember_for: timedelta,
    ) -> int | None:
        """Store ``entry`` leased to ``owner`` and return its fencing token.

        One atomic write. None (nothing written) when an entry with the same
        key was admitted within ``remember_for`` before ``now``, whether it is
        still waiting or already completed: a redelivery has one effect.
        """

    async def lease_inbox(
        self, platform: str, now: datetime, owner: str, lease_for: timedelta, limit: int = 50
    ) -> list[LeasedInboxEntry]:
        """Lease entries of ``platform`` whose lease expired at ``now`` (their
        holder died or gave up), oldest lease first. Tokens are unique and
        increasing; two processes never hold one entry under a live lease."""

    async def finish_inbox(self, key: str, token: int) -> bool:
        """Delete a completed entry if ``token`` still holds its lease."""

    async def inbox_size(self, platform: str | None = None) -> int:
        """Entries waiting (leased or not)."""

    async def audit_log(self, subject: str | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Audit entries, oldest first, optionally for one subject."""

    async def add_counts(self, counts: Mapping[str, int]) -> None:
        """Add each amount to its named counter (absent counters start at 0),
        all in one atomic step. Counters only grow: amounts are not negative."""

    async def counts(self, prefix: str = "") -> dict[str, int]:
        """Counters whose name starts with ``prefix``."""

    async def drop_counts(self, names: Sequence[str]) -> None:
        """Delete named counters (unknown names are ignored): rate windows
        drop their old buckets so the counters stay few."""


class EffectsBuffer:
    """A turn's effects until its next write: one :class:`Effects` per write."""

    __slots__ = ("audit", "cancel_timers", "counts", "outbox", "timers")

    def __init__(self) -> None:
        self.audit: list[AuditEntry] = []
        self.timers: list[Timer] = []
        self.cancel_timers: list[str] = []
        self.outbox: list[OutboxItem] = []
        self.counts: list[tuple[str, int]] = []

    def effects(
        self, complete_timer: tuple[str, int] | None, complete_inbox: tuple[str, int] | None
    ) -> Effects:
        """The buffered effects, with the completions the write carries."""
        return Effects(
            audit=tuple(self.audit),
            timers=tuple(self.timers),
            cancel_timers=tuple(self.cancel_timers),
            outbox=tuple(self.outbox),
            complete_timer=complete_timer,
            complete_inbox=complete_inbox,
            counts=tuple(self.counts),
        )
