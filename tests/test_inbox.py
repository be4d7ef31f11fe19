"""The inbox runner (``bot/inbox.py``) on a real store with an injected clock:
admission, completion, failure and retry, the handling cap, and the sweeper."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.storage import LeasedInboxEntry, Store
from bot.inbox import LEFT_REPORT_EVERY, Inbox, handling_from_env
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


async def test_entries_left_for_the_sweeper_are_reported_in_one_line_per_window(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Under sustained overload every request may be left for the sweeper; a
    log line each (to a pipe that fills) stalled the event loop, so they are
    counted and reported at most once per ``LEFT_REPORT_EVERY``."""
    clock, seen = ManualClock(START), Recorder()
    seen.gate = asyncio.Event()
    box = inbox(store, clock, seen, max_handling=1)
    admitted = [await box.admit(f"click:{n}", {}) for n in range(21)]
    assert all(admitted)
    handling = [asyncio.ensure_future(box.handle(leased)) for leased in admitted if leased]
    await asyncio.sleep(0)  # the first holds the only slot, twenty wait
    clock.advance(LEASE / 2 + timedelta(seconds=1))
    caplog.set_level(logging.WARNING, logger="bot.inbox")
    seen.gate.set()
    assert await asyncio.gather(*handling) == [True] + [False] * 20
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.inbox"]
    assert len(lines) == 1 and lines[0].startswith("1 slack inbox entries waited")
    clock.advance(LEFT_REPORT_EVERY)
    late = await box.admit("click:late", {})
    assert late is not None
    seen.gate.clear()
    blocker = await box.admit("click:blocker", {})
    assert blocker is not None
    holding = asyncio.ensure_future(box.handle(blocker))
    waiting = asyncio.ensure_future(box.handle(late))
    await asyncio.sleep(0)
    clock.advance(LEASE / 2 + timedelta(seconds=1))
    seen.gate.set()
    assert await holding and not await waiting
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.inbox"]
    assert len(lines) == 2 and lines[1].startswith("20 slack inbox entries waited")


async def test_no_more_than_the_limit_are_handled_at_once_and_all_are_handled_once(
    store: Store,
) -> None:
    clock, limit = ManualClock(START), 3
    running, most = 0, 0
    seen: list[str] = []
    release = asyncio.Event()

    async def process(leased: LeasedInboxEntry) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        seen.append(leased.entry.key)
        running -= 1

    box = Inbox(store, clock, "me", "slack", process, lease_for=LEASE, max_handling=limit)
    admitted = [await box.admit(f"click:N{n:02d}", {}) for n in range(20)]
    tasks = [asyncio.ensure_future(box.handle(leased)) for leased in admitted if leased]
    for _ in range(5):
        await asyncio.sleep(0)
    assert running == limit  # the rest wait, already stored
    assert await store.inbox_size() == 20
    release.set()
    assert all(await asyncio.gather(*tasks))
    assert most == limit
    assert seen == [f"slack:click:N{n:02d}" for n in range(20)]  # in arrival order, once each
    assert await store.inbox_size() == 0


async def test_recovered_entries_go_before_fresh_ones_waiting_for_a_slot(store: Store) -> None:
    clock, seen = ManualClock(START), Recorder()
    seen.gate = asyncio.Event()
    box = inbox(store, clock, seen, max_handling=1)
    orphan = await box.admit("click:OLD", {})  # its holder died before handling it
    assert orphan is not None
    clock.advance(LEASE)
    busy = await box.admit("click:BUSY", {})
    fresh = await box.admit("click:NEW", {})
    assert busy is not None and fresh is not None
    holding = asyncio.ensure_future(box.handle(busy))
    waiting = asyncio.ensure_future(box.handle(fresh))
    sweeping = asyncio.ensure_future(box.sweep())
    for _ in range(20):
        await asyncio.sleep(0)
    seen.gate.set()
    assert await holding and await waiting
    assert await sweeping == 1
    assert [key for key, _ in seen.seen] == [
        "slack:click:BUSY",
        "slack:click:OLD",
        "slack:click:NEW",
    ]
    assert await store.inbox_size() == 0


async def test_a_waiter_cancelled_in_line_gives_its_turn_to_the_next(store: Store) -> None:
    clock, seen = ManualClock(START), Recorder()
    seen.gate = asyncio.Event()
    box = inbox(store, clock, seen, max_handling=1)
    first, second, third = [await box.admit(f"click:C{n}", {}) for n in range(3)]
    assert first is not None and second is not None and third is not None
    holding = asyncio.ensure_future(box.handle(first))
    cancelled = asyncio.ensure_future(box.handle(second))
    later = asyncio.ensure_future(box.handle(third))
    await asyncio.sleep(0)
    cancelled.cancel()
    seen.gate.set()
    assert await holding and await later
    assert cancelled.cancelled()
    assert [key for key, _ in seen.seen] == ["slack:click:C0", "slack:click:C2"]
    assert box.slots.free == 1 and box.slots.waiting == 0
    assert await store.inbox_size() == 1  # the cancelled one stays for the sweeper


def test_the_handling_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAYCALLER_INBOX_HANDLERS", raising=False)
    assert handling_from_env() == 16
    monkeypatch.setenv("PLAYCALLER_INBOX_HANDLERS", "4")
    assert handling_from_env() == 4
    monkeypatch.setenv("PLAYCALLER_INBOX_HANDLERS", "0")
    with pytest.raises(ValueError, match="PLAYCALLER_INBOX_HANDLERS must be a positive integer"):
        handling_from_env()


async def test_a_swept_entry_the_store_fails_to_complete_does_not_stop_the_sweep(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The store does not answer while one recovered entry of a swept batch
    is completed: the others are handled and completed in the same sweep, the
    failure is logged once against that entry, and it is handled again (and
    completed) after its lease."""
    clock, seen = ManualClock(START), Recorder()
    box = inbox(store, clock, seen)
    keys = [f"click:S{n}" for n in range(6)]
    for key in keys:
        assert await box.admit(key, {"kind": "action"}) is not None
    clock.advance(LEASE)  # their holder died: all are the sweeper's
    real_finish = store.finish_inbox
    store_down_once = [True]

    async def finish_inbox(key: str, token: int) -> bool:
        if key == "slack:click:S2" and store_down_once[0]:
            store_down_once[0] = False
            raise ConnectionError("store did not answer")
        return await real_finish(key, token)

    monkeypatch.setattr(store, "finish_inbox", finish_inbox)
    caplog.clear()
    assert await box.sweep() == 6
    assert sorted(key for key, _ in seen.seen) == sorted(f"slack:{key}" for key in keys)
    assert await store.inbox_size() == 1  # only the one whose completion failed
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        "inbox entry slack:click:S2: not completed (attempt 2); retried after its lease"
    ]
    assert await box.sweep() == 0  # still leased
    clock.advance(LEASE)
    assert await box.sweep() == 1
    assert [key for key, _ in seen.seen].count("slack:click:S2") == 2
    assert await store.inbox_size() == 0
