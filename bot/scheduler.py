"""Fires durable timers: leases the due ones and runs their handlers.

A timer's completion is committed in the same transaction as its handler's
effects (fenced by the lease token), so it fires exactly once even with
several processes on one store; a crash before completion fires it again,
late but once, after the lease expires.

A leased batch is fired by a bounded pool of tasks: a timer's handler mostly
waits on the store (a round trip to Redis, SQLite's connection thread), so
one process keeps several in flight. Timers of one batch are independent
(each is fenced by its own token; handlers that share a record already
compare-and-set against another process), so their order within the batch
does not matter. A timer's failure is its own: it is logged once, the
pool goes on with the others, and the timer fires again when its lease runs
out (up to ``max_attempts``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.events import TimerFired
from bot.core.model import SYSTEM
from bot.core.storage import AuditEntry, Effects, LeasedTimer, Store
from bot.side_by_side import side_by_side

log = logging.getLogger(__name__)

RunEvent = Callable[[TimerFired], Awaitable[None]]


class Scheduler:
    """Runs due timers through ``run_event`` (the dispatcher)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        run_event: RunEvent,
        owner: str,
        *,
        lease_for: timedelta = timedelta(seconds=60),
        max_attempts: int = 5,
        batch: int = 100,
        concurrency: int = 4,
    ) -> None:
        self.store = store
        self.clock = clock
        self.run_event = run_event
        self.owner = owner
        self.lease_for = lease_for
        self.max_attempts = max_attempts
        self.batch = batch
        self.concurrency = max(1, concurrency)

    async def tick(self) -> int:
        """Fire every timer due now; return how many ran."""
        fired = 0
        while True:
            batch = await self.store.lease_timers(
                self.clock.now(), self.owner, self.lease_for, self.batch
            )
            if not batch:
                return fired
            await self._fire_all(batch)
            fired += len(batch)

    async def _fire_all(self, batch: list[LeasedTimer]) -> None:
        if self.concurrency == 1 or len(batch) == 1:
            for leased in batch:
                await self._fire_alone(leased)
            return
        pending = iter(batch)

        async def worker() -> None:
            for leased in pending:  # (shared: each timer is taken by one worker)
                await self._fire_alone(leased)

        await side_by_side(worker() for _ in range(min(self.concurrency, len(batch))))

    async def _fire_alone(self, leased: LeasedTimer) -> None:
        """Fire one timer; a failure (its handler's, or the store's while
        abandoning it) is logged and left leased: it fires again when the
        lease runs out, and the rest of the batch goes on."""
        try:
            await self._fire(leased)
        except Exception:
            log.exception("timer %s failed (attempt %d)", leased.timer.key, leased.attempts)

    async def _fire(self, leased: LeasedTimer) -> None:
        timer = leased.timer
        if leased.attempts > self.max_attempts:
            log.error("timer %s abandoned after %d attempts", timer.key, leased.attempts - 1)
            await self.store.apply(
                Effects(
                    audit=(
                        AuditEntry(
                            self.clock.now(),
                            "system",
                            "timer.abandoned",
                            timer.key,
                            {"kind": timer.kind},
                        ),
                    ),
                    complete_timer=(timer.key, leased.token),
                )
            )
            return
        event = TimerFired(
            platform="scheduler",
            actor=SYSTEM,
            received_at=self.clock.now(),
            kind=timer.kind,
            key=timer.key,
            payload=dict(timer.payload),
            token=leased.token,
            attempts=leased.attempts,
        )
        await self.run_event(event)

    async def run(self, stop: asyncio.Event, poll: float = 1.0) -> None:
        """Fire timers until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
