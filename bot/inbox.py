"""The inbox: inbound requests are stored before they are acknowledged.

A platform verifies a request, admits it (one atomic store write, keyed by
the request's dedupe key and leased to this process), acknowledges it, and
then processes it. If the process dies in between, the entry's lease runs
out and any process's sweeper (this one after a restart, or another one on
the same store) leases it and processes it. The turn's first committed write
completes the entry in the same transaction (see :class:`bot.core.turn.Turn`),
fenced by the lease token, so an entry has at most one committed effect even
when two processes hold it one after the other; a turn with no write
completes it when the handler returns. A redelivery of the same request
(platform retry, double submit, replay) within :data:`REMEMBER_FOR` is
refused at admission.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.router import DELIVERY_KEY_TTL
from bot.core.storage import JSON, AuditEntry, Effects, InboxEntry, LeasedInboxEntry, Store
from bot.side_by_side import side_by_side

log = logging.getLogger(__name__)

# How long an admitted key refuses redeliveries (Slack retries for minutes;
# a captured request can be replayed within its 5-minute signature window).
REMEMBER_FOR = DELIVERY_KEY_TTL
DEFAULT_LEASE = timedelta(seconds=30)
# Entries processed at once by one sweep (after a restart there may be many).
SWEEP_BATCH = 20
# Entries one process handles at once. The rest wait, already durable, so a
# burst cannot flood the store and the event loop with work, and storing the
# next request (before its ack) stays quick.
MAX_HANDLING = 500
# The same for requests handled after their ack (Slack): few at once, so that
# under sustained load the event loop and the store stay free for admissions
# (500 at once put the ack p99 at 3-4 s at 200 requests/s; see
# docs/benchmarks.md). Waiting entries are durable, and handled in order.
HANDLING_AFTER_ACK = 16
# Entries left for the sweeper are reported at most this often, as one line:
# under sustained overload there is one per request, and a line each (written
# to a pipe that fills) stalled the event loop and with it every ack.
LEFT_REPORT_EVERY = timedelta(seconds=10)

Process = Callable[[LeasedInboxEntry], Awaitable[None]]


def handling_from_env(default: int = HANDLING_AFTER_ACK) -> int:
    """``PLAYCALLER_INBOX_HANDLERS`` (default 16): requests acknowledged before
    they are handled (Slack) that one process handles at once."""
    raw = os.environ.get("PLAYCALLER_INBOX_HANDLERS", "").strip()
    if not raw:
        return default
    count = int(raw)
    if count <= 0:
        raise ValueError("PLAYCALLER_INBOX_HANDLERS must be a positive integer")
    return count


class Slots:
    """At most ``size`` holders at once; waiters are served in arrival order,
    recovered entries (the sweeper's) before fresh ones, so that an entry the
    sweeper leased starts well within its lease instead of queueing behind a
    burst of new requests (and being left for the sweeper again)."""

    def __init__(self, size: int) -> None:
        if size <= 0:
            raise ValueError("a handling limit must be positive")
        self.size = size
        self.free = size
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),  # recovered
            deque(),  # fresh
        )

    @property
    def held(self) -> int:
        return self.size - self.free

    @property
    def waiting(self) -> int:
        return sum(len(line) for line in self._waiting)

    async def acquire(self, recovered: bool = False) -> None:
        if self.free > 0 and not self.waiting:
            self.free -= 1
            return
        ticket = asyncio.get_running_loop().create_future()
        line = self._waiting[0 if recovered else 1]
        line.append(ticket)
        try:
            await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled():
                self.release()  # handed a slot just as its waiter was cancelled
            else:
                line.remove(ticket)
            raise

    def release(self) -> None:
        for line in self._waiting:
            while line:
                ticket = line.popleft()
                if not ticket.done():
                    ticket.set_result(None)  # the slot passes straight to it
                    return
        self.free += 1


def lease_from_env() -> timedelta:
    """``PLAYCALLER_INBOX_LEASE_SECONDS`` (default 30): how long an entry's
    holder has before another process may take the entry over."""
    raw = os.environ.get("PLAYCALLER_INBOX_LEASE_SECONDS", "").strip()
    if not raw:
        return DEFAULT_LEASE
    seconds = float(raw)
    if seconds <= 0:
        raise ValueError("PLAYCALLER_INBOX_LEASE_SECONDS must be positive")
    return timedelta(seconds=seconds)


class Inbox:
    """One platform's inbox in one process: admit, process, sweep orphans."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        owner: str,
        platform: str,
        process: Process,
        *,
        lease_for: timedelta | None = None,
        max_attempts: int = 3,
        max_handling: int = MAX_HANDLING,
    ) -> None:
        self.store = store
        self.clock = clock
        self.owner = owner
        self.platform = platform
        self.process = process
        self.lease_for = lease_for or lease_from_env()
        self.max_attempts = max_attempts
        self.slots = Slots(max_handling)
        self._left_unreported = 0
        self._left_reported_at: datetime | None = None

    async def admit(self, key: str | None, body: JSON) -> LeasedInboxEntry | None:
        """Store a verified request before it is acknowledged; None when it is
        a redelivery of one already admitted (acknowledge it, do nothing)."""
        now = self.clock.now()
        entry = InboxEntry(
            key=f"{self.platform}:{key or 'unkeyed:' + uuid.uuid4().hex}",
            platform=self.platform,
            body=body,
            received_at=now,
        )
        token = await self.store.admit_inbox(entry, now, self.owner, self.lease_for, REMEMBER_FOR)
        if token is None:
            log.info("dropped redelivered %s request %s", self.platform, entry.key)
            return None
        return LeasedInboxEntry(entry, token, 1)

    async def handle(
        self,
        leased: LeasedInboxEntry,
        process: Process | None = None,
        *,
        recovered: bool = False,
    ) -> bool:
        """Process one leased entry (with ``process``, else the inbox's own
        function) and complete it. False when it was not handled now (it
        failed, or waited too long): it stays in the inbox for a later try.
        At most ``max_handling`` entries are processed at once; the others
        wait in arrival order, ``recovered`` ones (the sweeper's) first.

        A failure leaves it leased: it is tried again when the lease runs
        out, up to ``max_attempts`` times, then abandoned with an audit entry.
        An entry that waited for a free slot until half its lease was gone is
        left for the sweeper (after the lease) rather than started late.
        """
        started_waiting = self.clock.now()
        await self.slots.acquire(recovered)
        try:
            if self.clock.now() - started_waiting > self.lease_for / 2:
                self._left_for_sweeper()
                return False
            return await self._handle(leased, process)
        finally:
            self.slots.release()

    def _left_for_sweeper(self) -> None:
        self._left_unreported += 1
        now = self.clock.now()
        if self._left_reported_at is None or now - self._left_reported_at >= LEFT_REPORT_EVERY:
            log.warning(
                "%d %s inbox entries waited past half their lease for a free handler; "
                "left for the sweeper (the process is overloaded)",
                self._left_unreported,
                self.platform,
            )
            self._left_unreported = 0
            self._left_reported_at = now

    async def _handle(self, leased: LeasedInboxEntry, process: Process | None) -> bool:
        entry = leased.entry
        if leased.attempts > self.max_attempts:
            log.error("inbox entry %s abandoned after %d attempts", entry.key, leased.attempts - 1)
            detail = {"platform": entry.platform, "attempts": leased.attempts - 1}
            await self.store.apply(
                Effects(
                    audit=(
                        AuditEntry(
                            self.clock.now(), "system", "inbox.abandoned", entry.key, detail
                        ),
                    ),
                    complete_inbox=(entry.key, leased.token),
                )
            )
            return True
        try:
            await (process or self.process)(leased)
        except Exception:
            log.exception("inbox entry %s failed (attempt %d)", entry.key, leased.attempts)
            return False
        # No-op when the turn's write completed it already.
        await self.store.finish_inbox(entry.key, leased.token)
        return True

    async def sweep(self, stop: asyncio.Event | None = None) -> int:
        """Process every entry whose holder let its lease run out (until
        ``stop`` is set); how many."""
        handled = 0
        while stop is None or not stop.is_set():
            batch = await self.store.lease_inbox(
                self.platform,
                self.clock.now(),
                self.owner,
                self.lease_for,
                limit=min(SWEEP_BATCH, self.slots.size),
            )
            if not batch:
                return handled
            log.info("recovering %d %s inbox entries", len(batch), self.platform)
            await side_by_side(self._recover(leased) for leased in batch)
            handled += len(batch)
        return handled

    async def _recover(self, leased: LeasedInboxEntry) -> bool:
        """Handle one swept entry; a failure that escapes its handling (the
        store did not answer while completing or abandoning it) is this
        entry's alone: logged, and the entry stays leased, to be tried again
        when the lease runs out, while the rest of the batch goes on."""
        try:
            return await self.handle(leased, recovered=True)
        except Exception:
            log.exception(
                "inbox entry %s: not completed (attempt %d); retried after its lease",
                leased.entry.key,
                leased.attempts,
            )
            return False

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Sweep on start-up and then every ``poll`` seconds until ``stop``."""
        while not stop.is_set():
            try:
                await self.sweep(stop)
            except Exception:
                log.exception("%s inbox sweep failed; retrying", self.platform)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
