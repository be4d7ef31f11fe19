"""Releasing intake stream entries (``RedisIntakeStream.intake_release``) on
a real Redis: a consumer whose batch the store refused uncounts only the
deliveries it still owns, never an entry another consumer claimed meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store import open_store
from bot.store.redis import RedisStore
from handlers.triage.records import KIND
from tests.conftest import REDIS_URL

GROUP = "playcaller-intake"


@pytest.fixture
async def store(redis_namespace: str) -> AsyncIterator[RedisStore]:
    opened = open_store(REDIS_URL, namespace=redis_namespace)
    assert isinstance(opened, RedisStore)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def owners(store: RedisStore) -> dict[str, tuple[str, int]]:
    """Each pending entry's owner and delivery count, as Redis holds them."""
    rows = await store._redis().xpending_range(
        store.key_prefix + "intake", GROUP, min="-", max="+", count=100
    )
    return {r["message_id"]: (r["consumer"], int(r["times_delivered"])) for r in rows}


async def test_a_release_uncounts_only_the_entries_this_consumer_still_owns(
    store: RedisStore,
) -> None:
    items = [(f"x:s-{n}", f'{{"n": {n}}}') for n in range(3)]
    assert await store.intake_enqueue(KIND, items, 1) == [True, True, True]
    await store.intake_group(GROUP)
    mine = await store.intake_read(GROUP, "a", 10, None)
    assert [e.deliveries for e in mine] == [1, 1, 1]
    first, taken, done = mine
    # While a's batch hangs, b takes one entry over and admits another.
    _, claimed = await store.intake_claim(GROUP, "b", 0, 1, taken.id)
    assert [(e.id, e.deliveries) for e in claimed] == [(taken.id, 2)]
    await store.intake_ack(GROUP, [done])

    assert await store.intake_release(GROUP, "a", mine) == 1
    assert await owners(store) == {first.id: ("a", 0), taken.id: ("b", 2)}
    # Claimed again, a's entry counts the delivery as the first one.
    _, again = await store.intake_claim(GROUP, "a", 0, 1, first.id)
    assert [(e.id, e.deliveries) for e in again] == [(first.id, 1)]
    assert await owners(store) == {first.id: ("a", 1), taken.id: ("b", 2)}
    assert await store.intake_release(GROUP, "a", []) == 0
