"""The scheduler fires a leased batch with a bounded pool of tasks, and each
timer still fires exactly once with two schedulers on one store."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.events import TimerFired
from bot.core.storage import AuditEntry, Effects, Timer
from bot.scheduler import Scheduler
from bot.store import open_store
from tests.conftest import START

PATIENCE = 30  # a hang guard only


async def test_two_pooled_schedulers_fire_every_timer_once_and_keep_the_bound(
    store_backend: tuple[str, str],
) -> None:
    url, namespace = store_backend
    stores = [open_store(url, namespace=namespace) for _ in range(2)]
    for store in stores:
        await store.open()
    clock = ManualClock(START)
    fired: list[str] = []
    in_flight = {"now": 0, "most": 0}
    full = asyncio.Event()
    release = asyncio.Event()

    def runner(index: int) -> Scheduler:
        store = stores[index]

        async def run(event: TimerFired) -> None:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
            if in_flight["now"] >= 6:  # both pools full: 3 each
                full.set()
            await release.wait()
            entry = AuditEntry(clock.now(), "system", "fired", event.key)
            if await store.apply(Effects(audit=(entry,), complete_timer=(event.key, event.token))):
                fired.append(event.key)
            in_flight["now"] -= 1

        return Scheduler(store, clock, run, f"owner-{index}", batch=10, concurrency=3)

    try:
        due = START + timedelta(minutes=1)
        keys = [f"pool:{n:02d}" for n in range(40)]
        await stores[0].apply(Effects(timers=tuple(Timer(k, "pool.test", due) for k in keys)))
        clock.advance(timedelta(minutes=1))
        ticks = asyncio.gather(runner(0).tick(), runner(1).tick())
        await asyncio.wait_for(full.wait(), PATIENCE)
        assert in_flight["now"] == 6
        release.set()
        counts = await asyncio.wait_for(ticks, PATIENCE)
        assert sum(counts) == 40
        assert sorted(fired) == keys  # each once
        assert in_flight["most"] == 6
        assert await stores[0].pending_timers("pool:") == []
    finally:
        for store in stores:
            await store.close()


async def test_a_pool_of_one_fires_in_due_order(store_backend: tuple[str, str]) -> None:
    url, namespace = store_backend
    store = open_store(url, namespace=namespace)
    await store.open()
    clock = ManualClock(START)
    order: list[str] = []

    async def run(event: TimerFired) -> None:
        order.append(event.key)
        await store.apply(Effects(complete_timer=(event.key, event.token)))

    try:
        timers = tuple(
            Timer(f"order:{n}", "pool.test", START + timedelta(seconds=10 - n)) for n in range(5)
        )
        await store.apply(Effects(timers=timers))
        clock.advance(timedelta(minutes=1))
        assert await Scheduler(store, clock, run, "solo", concurrency=1).tick() == 5
        assert order == [f"order:{n}" for n in reversed(range(5))]
    finally:
        await store.close()


async def test_a_timer_that_fails_outside_its_handler_does_not_stop_the_pool(
    store_backend: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The store fails while one timer of a pooled batch is being abandoned:
    the others fire, the failure is logged once, and the timer is abandoned
    on the next try after its lease."""
    url, namespace = store_backend
    store = open_store(url, namespace=namespace)
    await store.open()
    clock = ManualClock(START)
    fired: list[str] = []

    async def run(event: TimerFired) -> None:
        if event.key == "flaky":
            raise RuntimeError("handler bug")
        if await store.apply(Effects(complete_timer=(event.key, event.token))):
            fired.append(event.key)

    real_apply = store.apply
    store_down_once = [True]

    async def apply(effects: Effects) -> bool:
        if store_down_once[0] and any(e.action == "timer.abandoned" for e in effects.audit):
            store_down_once[0] = False
            raise ConnectionError("store did not answer")
        return await real_apply(effects)

    monkeypatch.setattr(store, "apply", apply)
    scheduler = Scheduler(store, clock, run, "pool", max_attempts=1, concurrency=4)
    try:
        late = [f"late:{n}" for n in range(8)]
        await store.apply(
            Effects(
                timers=(
                    Timer("flaky", "pool.test", START + timedelta(minutes=1)),
                    *(Timer(key, "pool.test", START + timedelta(minutes=2)) for key in late),
                )
            )
        )
        clock.advance(timedelta(minutes=1))
        assert await scheduler.tick() == 1  # the handler failed: left leased
        clock.advance(timedelta(minutes=1, seconds=1))  # its lease is over; the rest are due
        caplog.clear()
        assert await scheduler.tick() == 9
        assert sorted(fired) == late
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert [r.getMessage() for r in failures] == [
            "timer flaky abandoned after 1 attempts",
            "timer flaky failed (attempt 2)",
        ]
        assert await store.pending_timers("flaky") != []
        clock.advance(timedelta(minutes=1, seconds=1))
        assert await scheduler.tick() == 1
        assert await store.pending_timers("") == []
        abandoned = [e for e in await store.audit_log() if e.action == "timer.abandoned"]
        assert [(e.subject, e.detail) for e in abandoned] == [("flaky", {"kind": "pool.test"})]
    finally:
        await store.close()
