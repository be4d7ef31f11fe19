"""Concurrent calls on one store object share hand-offs (SQLite) or round trips
(Redis): each caller still gets its own outcome, writes queued together with
reads run first, and cancellation leaves the other callers alone.

Runs against every backend (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.core.storage import Effects, Record, Store, Timer
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

from .conftest import REDIS_URL, Backend

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def case(key: str, **data: Any) -> Record:
    return Record("case", key, data, tags=frozenset({"state:open"}))


async def _until_taken(store: Store) -> None:
    """Yield until the calls queued on ``store`` were taken by a batch."""
    assert isinstance(store, SqliteStore | RedisStore)
    for _ in range(1000):
        if not store._queue:
            return
        await asyncio.sleep(0)
    raise AssertionError("queued calls were never sent")


async def test_concurrent_calls_get_their_own_outcomes(store: Store) -> None:
    await store.insert(case("a", n=1))
    await store.insert(case("b", n=1))
    first_a, duplicate, replaced_b, stale_a, missing, b1 = await asyncio.gather(
        store.get("case", "a"),
        store.insert(case("a", n=2)),  # duplicate
        store.replace(case("b", n=2), expected_version=1),
        store.replace(case("a", n=3), expected_version=7),  # stale
        store.get("case", "missing"),
        store.get("case", "b"),
    )
    assert first_a is not None
    assert first_a.data == {"n": 1}
    assert not duplicate.ok
    assert duplicate.record == first_a
    assert replaced_b.ok
    assert replaced_b.record is not None
    assert replaced_b.record.version == 2
    assert not stale_a.ok
    assert stale_a.record == first_a
    assert missing is None
    # A read queued together with a write runs after it.
    assert b1 == replaced_b.record
    assert [r.key for r in await store.find("case", "state:open")] == ["a", "b"]


async def test_reads_queued_behind_a_claim_see_it(store: Store) -> None:
    """The first call goes out at once; calls made meanwhile wait for the next
    batch, whose writes run before its reads."""
    await store.insert(case("1", owner=None))
    first = await store.get("case", "1")
    assert first is not None

    async def claim(who: str) -> tuple[str, bool, Any]:
        current = await store.get("case", "1")
        assert current is not None
        if current.data["owner"] is not None:
            return who, False, current.data["owner"]
        written = await store.replace(case("1", owner=who), current.version)
        assert written.record is not None
        return who, written.ok, written.record.data["owner"]

    outcomes = await asyncio.gather(*(claim(f"p{n}") for n in range(10)))
    winners = [who for who, ok, _ in outcomes if ok]
    assert winners == ["p0"]
    assert {owner for _, _, owner in outcomes} == {"p0"}
    final = await store.get("case", "1")
    assert final is not None
    assert final.version == 2


async def test_a_call_cancelled_before_it_is_sent_never_runs(store: Store) -> None:
    await store.insert(case("1", n=1))
    leader = asyncio.ensure_future(store.get("case", "1"))
    await asyncio.sleep(0)  # the leader's call is on its way; the next one queues
    queued = asyncio.ensure_future(store.insert(case("2", n=1)))
    await asyncio.sleep(0)
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert (await leader) is not None
    assert await store.get("case", "2") is None
    assert (await store.insert(case("3", n=1))).ok


async def test_cancelling_a_batch_leader_leaves_the_others_alone(store: Store) -> None:
    await store.insert(case("1", n=1))
    first = asyncio.ensure_future(store.get("case", "1"))
    await asyncio.sleep(0)
    # Queued behind the first call: the first of these leads their batch.
    leader = asyncio.ensure_future(store.insert(case("2", n=1)))
    others = [asyncio.ensure_future(store.insert(case(f"o{n}", n=n))) for n in range(3)]
    reader = asyncio.ensure_future(store.get("case", "1"))
    await first
    await _until_taken(store)
    leader.cancel()
    written = await asyncio.gather(*others)
    assert all(w.ok for w in written)
    assert (await reader) is not None
    # The cancelled leader's write had been sent with its batch: it happened.
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await store.get("case", "2") is not None
    assert (await store.insert(case("after", n=1))).ok


async def test_one_failing_call_does_not_fail_its_batch(store: Store, backend: Backend) -> None:
    await store.insert(case("good", n=1))
    failing: Any
    if backend.name == "sqlite":
        # A timer whose payload is not JSON: leasing it fails on the connection
        # thread, inside its transaction.
        assert isinstance(store, SqliteStore)
        await store.apply(Effects(timers=(Timer("t", "k", T0),)))
        raw = sqlite3.connect(store.path)
        try:
            raw.execute("UPDATE timers SET payload = 'not json'")
            raw.commit()
        finally:
            raw.close()
        failing = store.lease_timers(T0, "me", timedelta(minutes=1))
    else:
        # A record whose tag-key list is not JSON: its write script fails.
        assert isinstance(store, RedisStore)
        await store.insert(case("bad", n=1))
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            await client.hset(f"{store.key_prefix}rec:case:bad", "tk", "not json")
        finally:
            await client.aclose()
        failing = store.replace(case("bad", n=2), expected_version=1)
    blocker = asyncio.ensure_future(store.get("case", "good"))
    await asyncio.sleep(0)
    results = await asyncio.gather(
        store.replace(case("good", n=2), expected_version=1),
        failing,
        store.get("case", "good"),
        return_exceptions=True,
    )
    await blocker
    good, bad, read = results
    assert not isinstance(good, BaseException)
    assert good.ok
    assert isinstance(bad, Exception)
    assert not isinstance(read, BaseException)
    assert read is not None
    assert read.version == 2


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["redis"], indirect=True)
async def test_redis_batch_reloads_lost_scripts(backend: Backend) -> None:
    store = backend.make()
    await store.open()
    try:
        await store.insert(case("seed", n=0))
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            await client.script_flush()
        finally:
            await client.aclose()
        blocker = asyncio.ensure_future(store.get("case", "seed"))
        await asyncio.sleep(0)
        written = await asyncio.gather(*(store.insert(case(f"k{n}", n=n)) for n in range(4)))
        await blocker
        assert all(w.ok for w in written)
        assert len(await store.find("case", "state:open")) == 5
    finally:
        await store.close()
