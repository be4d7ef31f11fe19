"""The outbox sender: delivers queued cards through one platform.

Posting goes through the store, not process memory, so a card queued by any
process (``playcaller ingest``, a timer, a click) is delivered once by
whichever sender leases it, and nothing is lost on a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from bot.core.cards import Card
from bot.core.clock import Clock

# RetryLater and Undeliverable live in the core, so adapters outside the
# outbox (publishing) raise the same types; the platforms import them here.
from bot.core.errors import RetryLater as RetryLater
from bot.core.errors import Undeliverable as Undeliverable
from bot.core.later import later_card
from bot.core.storage import JSON, AuditEntry, Effects, LeasedOutboxItem, OutboxItem, Store
from bot.outbox_rooms import ROOM_OPS, RoomItems
from bot.outbox_rooms import OpensRooms as OpensRooms
from bot.side_by_side import side_by_side

log = logging.getLogger(__name__)

# The card an outbox body stands for (see ``Runtime.card_of``).
CardOf = Callable[[JSON], Awaitable[Card]]

# Marks the stored place of a card sent to one person as a copy of a shared card.
DIRECT_COPY = "direct_copy"
# Marks the stored place of a card posted under another card (a mention in a
# crisis room): updated with the card, but not where its thread replies go.
UNDER_ANOTHER = "under_another"
# How many cards' newest update times one sender remembers.
RECENT_UPDATES = 10_000


def shared_places(refs: Sequence[JSON]) -> list[JSON]:
    """Where a card was posted for everyone, and where its thread replies go
    (not the copies sent to one person, nor a copy posted under another card)."""
    return [ref for ref in refs if not ref.get(DIRECT_COPY) and not ref.get(UNDER_ANOTHER)]


def _older_than_copy(update: OutboxItem, ref: JSON) -> bool:
    """True when ``ref`` is a personal copy made at or after ``update``'s state
    (the turn that sent the copy also updated the shared card)."""
    copied = ref.get(DIRECT_COPY)
    return isinstance(copied, str) and datetime.fromisoformat(copied) >= update.created_at


class Delivery(Protocol):
    """A platform's outbound side."""

    platform: str

    async def post(self, destination: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        """Post to a neutral channel; return where it landed (for updates).

        ``delivery_id`` is stable across attempts, so a platform can recognise
        a post that landed although the previous attempt could not tell.
        """

    async def update(self, ref: JSON, card: Card) -> None:
        """Replace a posted card in place."""

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str, attempt: int
    ) -> JSON:
        """Post under the card posted at ``ref`` (in its thread)."""

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        """Send to one person; return where it landed."""


@runtime_checkable
class PreparesBatches(Protocol):
    """A delivery that looks at a leased batch before its items are delivered
    (Slack searches each conversation once for all of the batch's ambiguous
    posts, instead of once per item)."""

    async def prepare(self, batch: Sequence[LeasedOutboxItem]) -> None:
        """Get ready to deliver ``batch``; problems are left to each item."""


class OutboxSender:
    """Leases outbox items for one platform and delivers them."""

    def __init__(
        self,
        store: Store,
        delivery: Delivery,
        clock: Clock,
        owner: str,
        *,
        lease_for: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        missing_ref_delay: timedelta = timedelta(seconds=2),
        parent_patience: timedelta = timedelta(minutes=15),
        error_delay: timedelta = timedelta(seconds=10),
        wake: asyncio.Event | None = None,
        card_of: CardOf | None = None,
    ) -> None:
        self.store = store
        self.card_of = card_of
        self.delivery = delivery
        self.clock = clock
        self.owner = owner
        self.lease_for = lease_for
        self.max_attempts = max_attempts
        self.missing_ref_delay = missing_ref_delay
        self.parent_patience = parent_patience
        self.error_delay = error_delay
        # Set when this process queues a card: :meth:`run` stops idling.
        self.wake = wake
        # Failures per item in this process; paced waits are not failures.
        self._failures: dict[str, int] = {}
        # When the newest delivered update of each recently updated card was
        # queued (a retry can reorder updates). Bounded: the bot updates
        # millions of cards over its life, and only recent ones get reordered.
        self._updated_at: OrderedDict[str, datetime] = OrderedDict()
        # The places an update already reached, by item, while it waits for
        # the rest: a card in several places (a DM to each approver) takes one
        # paced update slot per place, and a retry must not start over.
        self._places_done: dict[str, set[str]] = {}
        self._rooms = RoomItems(store, delivery, clock, self._parent_not_posted, shared_places)

    async def drain(self, max_passes: int = 1000) -> int:
        """Deliver until nothing deliverable is left (or no pass makes progress)."""
        delivered = 0
        for _ in range(max_passes):
            batch = await self.store.lease_outbox(
                self.delivery.platform, self.clock.now(), self.owner, self.lease_for
            )
            if not batch:
                break
            if isinstance(self.delivery, PreparesBatches):
                await self.delivery.prepare(batch)
            progress = await self._deliver_batch(batch)
            delivered += progress
            if not progress:
                break
        return delivered

    async def _deliver_batch(self, batch: Sequence[LeasedOutboxItem]) -> int:
        """Deliver a leased batch in lease order, except that where the
        delivery allows it (``dm_concurrency`` above 1: Slack, whose DMs are
        each their own conversation with its own pacing lane), consecutive
        DMs to different people go out side by side: a crisis pages dozens
        of people at once, and one round trip after another adds up. DMs to
        one person keep their order, and every other item (posts, updates,
        thread replies, copies of shared cards) waits for what came before
        it and goes alone."""
        width = int(getattr(self.delivery, "dm_concurrency", 1))
        delivered = 0
        run: list[LeasedOutboxItem] = []
        for leased in [*batch, None]:
            if leased is not None and leased.item.op == "dm" and width > 1:
                run.append(leased)
                continue
            if run:
                delivered += await self._deliver_dms(run, width)
                run = []
            if leased is not None:
                delivered += await self.deliver(leased)
        return delivered

    async def _deliver_dms(self, run: list[LeasedOutboxItem], width: int) -> int:
        people: dict[str, list[LeasedOutboxItem]] = {}
        for leased in run:
            people.setdefault(leased.item.destination, []).append(leased)
        slots = asyncio.Semaphore(width)

        async def one_person(items: list[LeasedOutboxItem]) -> int:
            delivered = 0
            for leased in items:
                async with slots:
                    delivered += await self.deliver(leased)
            return delivered

        return sum(await side_by_side(one_person(items) for items in people.values()))

    async def deliver(self, leased: LeasedOutboxItem) -> int:
        """Deliver one item; 1 if it went out (or was settled for good).

        Where even its retry or refusal cannot be recorded (the store did not
        answer), the failure is this item's alone: logged, and the item stays
        leased, to be tried again when the lease runs out; the batch goes on."""
        try:
            return await self._deliver(leased)
        except Exception:
            log.exception(
                "outbox item %s: outcome not recorded; retried after its lease", leased.item.id
            )
            return 0

    async def _deliver(self, leased: LeasedOutboxItem) -> int:
        item = leased.item
        try:
            if item.op in ROOM_OPS:
                return await self._room_op(leased)
            card = await self._card(item.body)
            if item.op == "post":
                ref = await self.delivery.post(
                    item.destination, card, delivery_id=item.id, attempt=leased.attempts
                )
                await self._finish(leased, ref)
            elif item.op in ("dm", "copy"):
                ref = await self.delivery.dm(
                    item.destination.removeprefix("person:"),
                    card,
                    delivery_id=item.id,
                    attempt=leased.attempts,
                )
                # A personal copy of a shared card is updated with it (by
                # states newer than the copy), but threads hang under the
                # shared card only.
                copy = {**ref, DIRECT_COPY: item.created_at.isoformat()}
                await self._finish(leased, copy if item.op == "copy" else ref)
            elif item.op == "thread":
                refs = shared_places(
                    await self.store.card_refs(
                        item.platform, item.destination.removeprefix("thread:")
                    )
                )
                if not refs:
                    return await self._retry(leased, self._parent_not_posted(leased))
                if refs[0].get("fallback") and refs[0]["fallback"] == item.card_key:
                    # A card posted into the room that runs in its own thread:
                    # it is there already, as the thread's parent.
                    await self.store.finish_outbox(item.id, leased.token)
                    self._failures.pop(item.id, None)
                    return 1
                ref = await self.delivery.post_in_thread(
                    refs[0], card, delivery_id=item.id, attempt=leased.attempts
                )
                if item.card_key and item.card_key != item.destination.removeprefix("thread:"):
                    # A card of its own posted under another (a mention in a
                    # crisis room) is updated with its card, but it is not
                    # where that card's own thread replies go, even if it
                    # landed before the card did.
                    ref = {**ref, UNDER_ANOTHER: True}
                await self._finish(leased, ref)
            elif item.op == "update":
                assert item.card_key is not None
                refs = await self.store.card_refs(item.platform, item.card_key)
                if not shared_places(refs):
                    return await self._retry(leased, self._parent_not_posted(leased))
                newest = self._updated_at.get(item.card_key)
                if newest is None or newest <= item.created_at:
                    done = self._places_done.setdefault(item.id, set())
                    for ref in refs:
                        place = json.dumps(ref, sort_keys=True, default=str)
                        if place not in done and not _older_than_copy(item, ref):
                            await self.delivery.update(ref, card)
                        done.add(place)
                    self._updated_at[item.card_key] = item.created_at
                    self._updated_at.move_to_end(item.card_key)
                    while len(self._updated_at) > RECENT_UPDATES:
                        self._updated_at.popitem(last=False)
                else:
                    # A newer state of this card went out first (a retry reordered
                    # them): sending this one would show a stale card.
                    log.info("skipped a stale update of %s", item.card_key)
                await self.store.finish_outbox(item.id, leased.token)
            else:
                raise Undeliverable(f"unknown outbox operation {item.op!r}")
        except RetryLater as wait:
            return await self._retry(leased, wait)
        except Undeliverable as error:
            log.warning("outbox item %s undeliverable: %s", item.id, error)
            await self._give_up(leased, "outbox.undeliverable", str(error))
        except Exception as error:
            # An unexpected failure is this item's alone: count it, back off, go on.
            log.exception("outbox item %s failed", item.id)
            return await self._retry(leased, RetryLater(self.error_delay, repr(error)))
        self._failures.pop(item.id, None)
        self._places_done.pop(item.id, None)
        return 1

    async def _card(self, body: JSON) -> Card:
        if self.card_of is not None:
            return await self.card_of(body)
        if later_card(body) is not None:
            raise Undeliverable("a card rendered when sent needs the runtime's renderers")
        return Card.from_json(dict(body))

    async def _room_op(self, leased: LeasedOutboxItem) -> int:
        """Open a room, invite people into one, archive one (see :mod:`bot.outbox_rooms`)."""
        wait = await self._rooms.deliver(leased)
        if wait is not None:
            return await self._retry(leased, wait)
        self._failures.pop(leased.item.id, None)
        return 1

    def _parent_not_posted(self, leased: LeasedOutboxItem) -> RetryLater:
        """The card this item edits or answers is still queued (posts are paced):
        wait without counting a failure, for a while."""
        waited = self.clock.now() - leased.item.created_at
        return RetryLater(
            self.missing_ref_delay, "card not posted yet", paced=waited < self.parent_patience
        )

    async def _give_up(self, leased: LeasedOutboxItem, action: str, error: str) -> None:
        """Record in the audit log that an item will never be delivered, and drop it."""
        item = leased.item
        entry = AuditEntry(
            at=self.clock.now(),
            actor="system",
            action=action,
            subject=item.card_key or item.destination,
            detail={"platform": item.platform, "op": item.op, "error": error},
        )
        await self.store.apply(Effects(audit=(entry,)))
        await self.store.finish_outbox(item.id, leased.token)
        self._places_done.pop(item.id, None)

    async def _finish(self, leased: LeasedOutboxItem, ref: JSON) -> None:
        item = leased.item
        await self.store.finish_outbox(
            item.id, leased.token, (item.card_key, ref) if item.card_key else None
        )

    async def _retry(self, leased: LeasedOutboxItem, wait: RetryLater) -> int:
        item_id = leased.item.id
        if not wait.paced:
            failures = self._failures.get(item_id, 0) + 1
            self._failures[item_id] = failures
            if failures >= self.max_attempts:
                log.error(
                    "outbox item %s dropped after %d failures: %s", item_id, failures, wait.reason
                )
                await self._give_up(leased, "outbox.dropped", wait.reason)
                self._failures.pop(item_id, None)
                return 1
        await self.store.retry_outbox(item_id, leased.token, self.clock.now() + wait.after)
        return 0

    async def run(self, stop: asyncio.Event, idle: float = 0.5) -> None:
        """Deliver until ``stop`` is set, polling the store when idle (and
        at once when :attr:`wake` is set)."""
        while not stop.is_set():
            if self.wake is not None:
                self.wake.clear()  # (before the drain: a card queued during it is not missed)
            try:
                await self.drain()
            except Exception:
                log.exception("outbox sender for %s failed; retrying", self.delivery.platform)
            await self._idle(stop, idle)

    async def _idle(self, stop: asyncio.Event, idle: float) -> None:
        """Until ``stop`` or :attr:`wake` is set, for at most ``idle`` seconds."""
        waits = [asyncio.ensure_future(stop.wait())]
        if self.wake is not None:
            waits.append(asyncio.ensure_future(self.wake.wait()))
        try:
            await asyncio.wait(waits, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
