"""DMs to different people go out side by side where the platform allows it
(a crisis pages dozens of people at once), and a sender idling between polls
is woken when its process queues a card."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Loaded, open_runtime
from bot.core.cards import Card
from bot.core.clock import ManualClock
from bot.core.events import Command
from bot.core.storage import JSON, Effects, OutboxItem, Store
from bot.outbox import OutboxSender, RetryLater
from bot.runtime import SilentResponder
from bot.store import open_store
from tests.conftest import START

# A hang guard only: every wait below ends as soon as the awaited step happens.
PATIENCE = 30


class GatedDMs:
    """A delivery that holds each DM until the test lets them go, so how many
    are in flight at once can be seen."""

    platform = "console"

    def __init__(self, width: int, hold_at: int) -> None:
        self.dm_concurrency = width
        self.hold_at = hold_at
        self.in_flight = 0
        self.most = 0
        self.events: list[str] = []
        self.full = asyncio.Event()
        self.release = asyncio.Event()

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        self.events.append(f"start {card.title}")
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        if self.in_flight >= self.hold_at:
            self.full.set()
        await self.release.wait()
        self.in_flight -= 1
        self.events.append(f"end {card.title}")
        return {"place": person_id}

    async def post(self, destination: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        self.events.append(f"post {card.title} with {self.in_flight} DMs in flight")
        return {"place": destination}

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str, attempt: int
    ) -> JSON:
        raise AssertionError("no threads here")

    async def update(self, ref: JSON, card: Card) -> None:
        raise AssertionError("no updates here")


def item(op: str, destination: str, title: str, seconds: int) -> OutboxItem:
    return OutboxItem(
        id=f"{op}-{title}",
        platform="console",
        op=op,
        destination=destination,
        body=Card(title=title).to_json(),
        created_at=START + timedelta(seconds=seconds),
        priority=0,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'lanes.db'}")
    await opened.open()
    yield opened
    await opened.close()


async def test_dms_to_different_people_go_out_side_by_side_within_the_width(
    store: Store,
) -> None:
    delivery = GatedDMs(width=3, hold_at=3)
    sender = OutboxSender(store, delivery, ManualClock(START + timedelta(minutes=1)), "test")
    await store.apply(
        Effects(
            outbox=(
                item("dm", "person:ann", "ann 1", 0),
                item("dm", "person:bob", "bob", 1),
                item("dm", "person:ann", "ann 2", 2),
                item("dm", "person:cy", "cy", 3),
                item("dm", "person:dee", "dee", 4),
                item("post", "hub", "card", 5),
            )
        )
    )
    draining = asyncio.create_task(sender.drain())
    await asyncio.wait_for(delivery.full.wait(), PATIENCE)
    # Three people's first DMs are in flight together; ann's second waits for her first.
    assert sorted(delivery.events) == ["start ann 1", "start bob", "start cy"]
    delivery.release.set()
    assert await asyncio.wait_for(draining, PATIENCE) == 6
    assert delivery.most == 3
    assert delivery.events.index("end ann 1") < delivery.events.index("start ann 2")
    # The channel post keeps its place after the DMs queued before it.
    assert delivery.events[-1] == "post card with 0 DMs in flight"
    assert await store.outbox_size() == 0


async def test_a_delivery_without_a_width_gets_one_dm_at_a_time(store: Store) -> None:
    delivery = GatedDMs(width=1, hold_at=2)
    delivery.release.set()
    sender = OutboxSender(store, delivery, ManualClock(START + timedelta(minutes=1)), "test")
    await store.apply(
        Effects(outbox=tuple(item("dm", f"person:p{n}", f"p{n}", n) for n in range(4)))
    )
    delivered = await sender.drain()
    assert delivered == 4
    assert delivery.most == 1
    assert delivery.events == [f"{what} p{n}" for n in range(4) for what in ("start", "end")]


async def test_an_idle_sender_is_woken_by_a_card_its_process_queued(
    tmp_path: Path, loaded: Loaded
) -> None:
    clock = ManualClock(START)
    runtime = await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{tmp_path / 'wake.db'}"),
        clock=clock,
        platforms=["console"],
    )
    delivery = GatedDMs(width=1, hold_at=1)
    delivery.release.set()
    sender = runtime.sender(delivery)
    stop = asyncio.Event()
    # Polling once an hour: only the wake-up can deliver the page in time.
    running = asyncio.create_task(sender.run(stop, idle=3600))
    try:
        priya = runtime.settings.actor_for(runtime.settings.people["priya"], "console")
        declare = Command(
            platform="console",
            actor=priya,
            received_at=clock.now(),
            platform_channel="#hub",
            name="crisis",
            text="service-outage service=App status_url=https://status.acme.com App is down",
        )
        await runtime.handle(declare, SilentResponder())
        await asyncio.wait_for(delivery.full.wait(), PATIENCE)
        # The incident card went to the hub, then Maria's page, an hour before the poll.
        assert delivery.events[0].startswith("post CR-1 · Customer-facing service outage")
        assert delivery.events[1].startswith("start You are paged: CR-1")
    finally:
        stop.set()
        await asyncio.wait_for(running, PATIENCE)
        await runtime.store.close()


class RefusesOneDM(GatedDMs):
    """Slack says "later" to one person's DM; everyone else's goes out."""

    def __init__(self, refused: str) -> None:
        super().__init__(width=8, hold_at=99)
        self.release.set()
        self.refused = refused

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        if person_id == self.refused and attempt == 1:
            raise RetryLater(timedelta(seconds=5), "ratelimited")
        return await super().dm(person_id, card, delivery_id=delivery_id, attempt=attempt)


async def test_a_dm_whose_retry_cannot_be_recorded_leaves_the_others_delivered(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The store fails while one page of a side-by-side run is put back for
    later: the other people's pages go out, the failure
    is logged once, and the page is sent when its lease runs out."""
    clock = ManualClock(START + timedelta(minutes=1))
    delivery = RefusesOneDM(refused="bob")
    sender = OutboxSender(store, delivery, clock, "test", lease_for=timedelta(seconds=60))
    real_retry = store.retry_outbox

    async def retry_outbox(item_id: str, token: str, not_before: datetime) -> bool:
        if item_id == "dm-bob 1":
            raise ConnectionError("store did not answer")
        return await real_retry(item_id, token, not_before)

    monkeypatch.setattr(store, "retry_outbox", retry_outbox)
    await store.apply(
        Effects(
            outbox=(
                item("dm", "person:ann", "ann", 0),
                item("dm", "person:bob", "bob 1", 1),
                item("dm", "person:bob", "bob 2", 2),
                item("dm", "person:cy", "cy", 3),
                item("post", "hub", "card", 4),
            )
        )
    )
    assert await sender.drain() == 3
    assert sorted(e for e in delivery.events if not e.startswith("start")) == [
        "end ann",
        "end cy",
        "post card with 0 DMs in flight",
    ]
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == ["outbox item dm-bob 1: outcome not recorded; retried after its lease"]
    assert await store.outbox_size() == 2
    assert await sender.drain() == 0  # still leased (and bob's next page waits for it)
    clock.advance(timedelta(seconds=61))
    assert await sender.drain() == 2
    assert [e for e in delivery.events if e.startswith("end bob")] == ["end bob 1", "end bob 2"]
    assert await store.outbox_size() == 0
