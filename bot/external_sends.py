"""External sends: outbox lanes whose items go to systems outside chat
(publications now, pages next), each through an :class:`ExternalLane`.

The sender is the chat outbox's lease loop with two differences that matter
for a send that must happen exactly once:

* It gives up by **time**, not by a count of failures: a lane's items are
  retried (connection errors, timeouts, 429 with its ``Retry-After``, 5xx)
  until ``give_up_after`` has passed since the item was queued. The time
  comes from the stored item and the attempt count from its stored leases,
  so a restart neither resets the limit nor the back-off.
* The outcome is written **with** the item's completion: one fenced store
  write removes the item and applies the lane's settlement effects (the
  timer that brings the outcome to the routers, an audit entry). A process
  that dies after the receiver accepted but before that write leaves the item
  leased; when its lease runs out, any process sends it again with the same
  key, the receiver answers the repeat without acting twice, and that
  attempt settles it. A sender whose lease was lost (it took too long and
  another process has the item) writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.errors import RetryLater, Undeliverable
from bot.core.ports import ExternalLane, SendOutcome
from bot.core.storage import JSON, LeasedOutboxItem, Store
from bot.side_by_side import side_by_side

log = logging.getLogger(__name__)


class ExternalSender:
    """Leases one lane's outbox items and sends each through the lane."""

    def __init__(
        self,
        store: Store,
        lane: ExternalLane,
        clock: Clock,
        owner: str,
        *,
        error_delay: timedelta = timedelta(seconds=30),
        concurrency: int = 8,
    ) -> None:
        self.store = store
        self.lane = lane
        self.clock = clock
        self.owner = owner
        self.error_delay = error_delay
        self.concurrency = concurrency

    async def drain(self, max_passes: int = 1000) -> int:
        """Send until nothing sendable is left; return how many settled."""
        settled = 0
        for _ in range(max_passes):
            # Lease no more than can be sent at once, so no leased item waits
            # for a slot while its lease runs out (another process would then
            # send it as well).
            batch = await self.store.lease_outbox(
                self.lane.lane,
                self.clock.now(),
                self.owner,
                self.lane.lease_for,
                limit=self.concurrency,
            )
            if not batch:
                break
            # Items are independent and each is leased: send them at once (the
            # receiver is one system; it gets at most ``concurrency``).
            # A retried item waits until its not_before, so each pass leases
            # other items: the loop ends when nothing is sendable now.
            settled += sum(await side_by_side(self.deliver(leased) for leased in batch))
        return settled

    async def deliver(self, leased: LeasedOutboxItem) -> int:
        """Try one item once; 1 if it settled (accepted or failed for good).

        Where its outcome cannot be recorded (the store did not answer), the
        failure is this item's alone: logged, and the item stays leased; when
        the lease runs out it is sent again with the same key (the receiver
        answers a repeat without acting twice) and the rest of the pass goes on."""
        try:
            return await self._deliver(leased)
        except Exception:
            log.exception(
                "%s item %s: outcome not recorded; retried after its lease",
                self.lane.lane,
                leased.item.id,
            )
            return 0

    async def _deliver(self, leased: LeasedOutboxItem) -> int:
        item = leased.item
        try:
            detail = await self.lane.send(item, attempt=leased.attempts)
        except RetryLater as wait:
            return await self._again(leased, wait.after, wait.reason)
        except Undeliverable as refusal:
            reason = getattr(refusal, "reason", None)
            log.warning("%s item %s refused: %s", self.lane.lane, item.id, refusal)
            return await self._settle(
                leased, False, {}, reason if isinstance(reason, str) else str(refusal)
            )
        except Exception as error:
            # A failure of ours (a bug, a bad body) is retried like the
            # receiver's, within the same time limit, and logged.
            log.exception("%s item %s failed", self.lane.lane, item.id)
            return await self._again(leased, self.error_delay, f"an error on our side ({error!r})")
        return await self._settle(leased, True, detail, "")

    def deadline(self, leased: LeasedOutboxItem) -> datetime:
        """When retrying ``leased`` stops."""
        return leased.item.created_at + self.lane.give_up_after

    async def _again(self, leased: LeasedOutboxItem, wait: timedelta, reason: str) -> int:
        now = self.clock.now()
        deadline = self.deadline(leased)
        if now >= deadline:
            hours = self.lane.give_up_after.total_seconds() / 3600
            log.error(
                "%s item %s gave up after %g h: %s", self.lane.lane, leased.item.id, hours, reason
            )
            return await self._settle(
                leased,
                False,
                {},
                f"no success within {hours:g} hour{'' if hours == 1 else 's'}; last: {reason}",
            )
        # The last try happens at the deadline, not after it.
        await self.store.retry_outbox(leased.item.id, leased.token, min(now + wait, deadline))
        return 0

    async def _settle(self, leased: LeasedOutboxItem, ok: bool, detail: JSON, reason: str) -> int:
        outcome = SendOutcome(
            ok=ok, attempts=leased.attempts, at=self.clock.now(), detail=detail, reason=reason
        )
        effects = self.lane.settled(leased.item, outcome)
        if not await self.store.finish_outbox(leased.item.id, leased.token, effects=effects):
            # Another process leased it after our lease ran out; it settles it.
            log.warning("%s item %s: lease lost before settling", self.lane.lane, leased.item.id)
            return 0
        return 1

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Send until ``stop`` is set, polling the store when idle."""
        while not stop.is_set():
            try:
                await self.drain()
            except Exception:
                log.exception("%s sender failed; retrying", self.lane.lane)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle)
