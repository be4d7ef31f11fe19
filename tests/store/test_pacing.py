"""The pacing budget: one contract for the in-memory budget (SQLite, one
process) and the Redis one (shared by every process on the store)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.core.ports import PacingBudget
from bot.store.pacing import LocalPacing, RedisPacing, pacing_for
from tests.conftest import START
from tests.store.conftest import Backend

SECOND = timedelta(seconds=1)


async def test_a_lane_is_taken_for_its_spacing(backend: Backend) -> None:
    store = backend.make()
    await store.open()
    try:
        budget = pacing_for(store)
        assert isinstance(budget, RedisPacing if backend.name == "redis" else LocalPacing)
        assert await budget.reserve("post:C1", SECOND, START) == timedelta(0)
        assert await budget.reserve("post:C1", SECOND, START + 0.4 * SECOND) == 0.6 * SECOND
        # Refused reservations take nothing: the lane still opens on time.
        assert await budget.reserve("post:C1", SECOND, START + SECOND) == timedelta(0)
        # Lanes are independent.
        assert await budget.reserve("post:C2", SECOND, START + SECOND) == timedelta(0)
        assert await budget.reserve("update", 1.2 * SECOND, START) == timedelta(0)
    finally:
        await store.close()


async def test_hold_closes_a_lane_and_never_shortens_it(backend: Backend) -> None:
    store = backend.make()
    await store.open()
    try:
        budget = pacing_for(store)
        await budget.hold("update", START + 30 * SECOND, START)
        assert await budget.reserve("update", SECOND, START + 10 * SECOND) == 20 * SECOND
        await budget.hold("update", START + 5 * SECOND, START + 10 * SECOND)
        assert await budget.reserve("update", SECOND, START + 29 * SECOND) == SECOND
        assert await budget.reserve("update", SECOND, START + 30 * SECOND) == timedelta(0)
    finally:
        await store.close()


async def test_concurrent_takers_get_a_lane_once(backend: Backend) -> None:
    """Redis: two processes' budgets (two store connections) share the lane;
    in memory, one process's concurrent tasks do."""
    first, second = backend.make(), backend.make()
    await first.open()
    await second.open()
    try:
        budgets: list[PacingBudget]
        if backend.name == "redis":
            budgets = [pacing_for(first), pacing_for(second)]
        else:
            shared = pacing_for(first)
            budgets = [shared, shared]
        answers = await asyncio.gather(
            *(budgets[n % 2].reserve("post:C1", SECOND, START) for n in range(20))
        )
        assert answers.count(timedelta(0)) == 1
        assert all(wait == SECOND for wait in answers if wait)
    finally:
        await first.close()
        await second.close()
