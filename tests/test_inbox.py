"""The inbox runner (``bot/inbox.py``) on a real store with an injected clock:
admission, completion, failure and retry, the handling cap, and the sweeper."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.storage import LeasedInboxEntry, Store
from bot.inbox import Inbox
from bot.store import open_store
from tests.conftest import START

LEASE = timedelta(seconds=30)


@pytest.fixture
async def store(store_backend: tuple[str, str]) -> AsyncIterator[Store]:
    opened = open_store(store_backend[0], namespace=store_backend[1])
    await opened.open()
    yield opened
    await opened.close()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, leased: LeasedInboxEntry) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("handler bug")
        self.seen.append((leased.entry.key, leased.token))


def inbox(store: Store, clock: ManualClock, process: Recorder, **options: int) -> Inbox:
    return Inbox(store, clock, "me", "slack", process, lease_for=LEASE, **options)


async def test_an_admitted_request_is_handled_once_and_redeliveries_are_dropped(
    store: Store,
) -> None:
    clock, seen = ManualClock(START), Recorder()
    box = inbox(store, clock, seen)
    leased = await box.admit("click:T1", {"kind": "action"})
    assert leased is not None and leased.entry.key == "slack:click:T1"
    assert await box.admit("click:T1", {"kind": "action"}) is None
    assert await box.handle(leased)
    assert seen.seen == [("slack:click:T1", leased.token)]
    assert await store.inbox_size() == 0


async def test_a_failing_entry_is_retried_after_its_lease_then_abandoned(store: Store) -> None:
    clock, seen = ManualClock(START), Recorder()
    seen.fail = True
    box = inbox(store, clock, seen, max_attempts=2)
    leased = await box.admit("click:T2", {"kind": "action"})
    assert leased is not None
    assert not await box.handle(leased)
    assert await box.sweep() == 0  # still leased
    clock.advance(LEASE)
    assert await box.sweep() == 1  # second attempt, fails again
    assert await store.inbox_size() == 1
    clock.advance(LEASE)
    assert await box.sweep() == 1  # over the limit: given up, and audited
    assert await store.inbox_size() == 0
    [abandoned] = await store.audit_log("slack:click:T2")
    assert abandoned.action == "inbox.abandoned"
    assert abandoned.detail == {"platform": "slack", "attempts": 2}


async def test_an_entry_that_waited_too_long_for_a_slot_is_left_for_the_sweeper(
    store: Store,
) -> None:
    clock, seen = ManualClock(START), Recorder()
    seen.gate = asyncio.Event()
    box = inbox(store, clock, seen, max_handling=1)
    first = await box.admit("click:A", {})
    second = await box.admit("click:B", {})
    assert first is not None and second is not None
    running = asyncio.ensure_future(box.handle(first))
    waiting = asyncio.ensure_future(box.handle(second))
    await asyncio.sleep(0)  # both started: one holds the only slot, one waits
    clock.advance(LEASE / 2 + timedelta(seconds=1))
    seen.gate.set()
    assert await running
    assert not await waiting  # not started late with half its lease gone
    assert seen.seen == [("slack:click:A", first.token)]
    assert await store.inbox_size() == 1
    clock.advance(LEASE)
    assert await box.sweep() == 1
    assert [key for key, _ in seen.seen] == ["slack:click:A", "slack:click:B"]
    assert await store.inbox_size() == 0
