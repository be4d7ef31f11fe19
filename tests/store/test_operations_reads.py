"""The Store contract's reads for operations (``/metrics``): outbox age, due
timers and counters, on every backend (see ``conftest.py``).

Time is always injected; no test sleeps.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.storage import Backlog, Effects, OutboxItem, Store, Timer

from .conftest import Backend

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def item(item_id: str, platform: str, created_at: datetime, priority: int = 1) -> OutboxItem:
    return OutboxItem(
        id=item_id,
        platform=platform,
        op="post",
        destination="hub",
        body={"text": item_id},
        created_at=created_at,
        priority=priority,
    )


async def test_outbox_backlog_per_platform_whatever_the_priority(store: Store) -> None:
    assert await store.outbox_backlog() == {}
    await store.apply(
        Effects(
            outbox=(
                item("urgent-new", "slack", T0, priority=0),
                item("bulk-old", "slack", T0 - 7 * MIN, priority=2),
                item("teams-one", "teams", T0 - 30 * MIN),
            )
        )
    )
    assert await store.outbox_backlog() == {
        "slack": Backlog(2, T0 - 7 * MIN),
        "teams": Backlog(1, T0 - 30 * MIN),
    }


async def test_a_leased_item_still_waits_and_a_finished_one_does_not(store: Store) -> None:
    await store.apply(
        Effects(outbox=(item("old", "slack", T0 - 5 * MIN), item("new", "slack", T0 - MIN)))
    )
    [leased] = await store.lease_outbox("slack", T0, "worker", MIN, limit=1)
    assert leased.item.id == "old"
    assert await store.outbox_backlog() == {"slack": Backlog(2, T0 - 5 * MIN)}
    assert await store.retry_outbox("old", leased.token, T0 + MIN)
    assert await store.outbox_backlog() == {"slack": Backlog(2, T0 - 5 * MIN)}
    [again] = await store.lease_outbox("slack", T0 + MIN, "worker", MIN, limit=1)
    assert again.item.id == "old"
    assert await store.finish_outbox("old", again.token)
    assert await store.outbox_backlog() == {"slack": Backlog(1, T0 - MIN)}


async def test_timers_due_counts_leased_and_unleased_up_to_the_moment(store: Store) -> None:
    assert await store.timers_due(T0) == 0
    await store.apply(
        Effects(
            timers=(
                Timer("a", "k", T0 - 10 * MIN),
                Timer("b", "k", T0 - MIN),
                Timer("c", "k", T0),
                Timer("d", "k", T0 + MIN),
            )
        )
    )
    assert await store.timers_due(T0) == 3
    assert await store.timers_due(T0 - MIN) == 2
    assert await store.timers_due(T0 - 20 * MIN) == 0
    leased = await store.lease_timers(T0, "worker", MIN)
    assert len(leased) == 3
    assert await store.timers_due(T0) == 3  # leased, not yet completed
    first = next(t for t in leased if t.timer.key == "a")
    assert await store.complete_timer("a", first.token)
    assert await store.timers_due(T0) == 2
    # Rescheduling a key replaces its due time.
    await store.apply(Effects(timers=(Timer("b", "k", T0 + HOUR),)))
    assert await store.timers_due(T0) == 1


async def test_counts_add_up_and_filter_by_prefix(store: Store) -> None:
    assert await store.counts() == {}
    await store.add_counts({"intake.stored": 2, "intake.refused": 1, "other": 5})
    await store.add_counts({"intake.stored": 3, "intake.duplicate": 0})
    assert await store.counts("intake.") == {
        "intake.stored": 5,
        "intake.refused": 1,
        "intake.duplicate": 0,
    }
    assert (await store.counts())["other"] == 5
    await store.add_counts({})
    assert (await store.counts("intake."))["intake.stored"] == 5


async def test_dropped_counts_are_gone_and_start_again_at_zero(store: Store) -> None:
    await store.add_counts({"surge.arrivals:care:1": 4, "surge.arrivals:care:2": 3, "x": 1})
    await store.drop_counts(["surge.arrivals:care:1", "never-set"])
    await store.drop_counts([])
    assert await store.counts("surge.") == {"surge.arrivals:care:2": 3}
    await store.add_counts({"surge.arrivals:care:1": 2})
    assert await store.counts("surge.arrivals:care:1") == {"surge.arrivals:care:1": 2}
    assert (await store.counts())["x"] == 1


async def test_counts_from_many_writers_are_not_lost(backend: Backend) -> None:
    stores = [backend.make() for _ in range(4)]
    for opened in stores:
        await opened.open()
    try:
        await asyncio.gather(
            *(
                s.add_counts({"intake.stored": 1, "intake.refused": 2})
                for s in stores
                for _ in range(25)
            )
        )
        assert await stores[0].counts("intake.") == {"intake.stored": 100, "intake.refused": 200}
    finally:
        for opened in stores:
            await opened.close()


async def test_counts_survive_a_restart(backend: Backend) -> None:
    first = backend.make()
    await first.open()
    await first.add_counts({"intake.stored": 7})
    await first.close()
    again = backend.make()
    await again.open()
    try:
        assert await again.counts("intake.") == {"intake.stored": 7}
    finally:
        await again.close()


async def test_negative_amounts_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match=r"intake\.stored"):
        await store.add_counts({"intake.stored": -1})
    assert await store.counts() == {}
