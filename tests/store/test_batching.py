"""Concurrent calls on one store object share work: on SQLite every queued call
goes to the connection thread in one hand-off (writes first, then reads); on
Redis queued record reads go out in one round trip. Each caller still gets its
own outcome, and cancellation leaves the other callers alone.

Runs against every backend (see ``conftest.py``) unless marked otherwise.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bot.core.storage import AuditEntry, Effects, InboxEntry, Record, Store, Timer
from bot.store.batches import Batches
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.runner import Job, run_group, transaction

from .conftest import REDIS_URL, Backend

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
redis_only = pytest.mark.parametrize("backend", ["redis"], indirect=True)


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


async def test_concurrent_calls_get_their_own_outcomes(store: Store, backend: Backend) -> None:
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
    assert b1 is not None
    if backend.name == "sqlite":
        # Queued together with a write, the read ran after it.
        assert b1 == replaced_b.record
    else:
        assert b1.version in (1, 2)
    assert [r.key for r in await store.find("case", "state:open")] == ["a", "b"]


async def test_reads_of_one_record_share_a_batch(store: Store) -> None:
    await store.insert(case("1", n=1))
    await store.insert(case("2", n=2))
    reads = await asyncio.gather(
        *(store.get("case", key) for key in ("1", "2", "1", "2", "1", "nope", "2"))
    )
    assert [None if r is None else r.data["n"] for r in reads] == [1, 2, 1, 2, 1, None, 2]
    # Each caller gets its own record (no shared, mutable data).
    firsts = [r for r in reads if r is not None and r.key == "1"]
    assert firsts[0] == firsts[1]
    assert firsts[0].data is not firsts[1].data


async def test_reads_queued_behind_a_claim_see_it(store: Store) -> None:
    """The first call goes out at once; reads made meanwhile wait for the next
    batch, which goes out after the first claimer's write."""
    await store.insert(case("1", owner=None))

    async def claim(who: str) -> tuple[str, bool, Any]:
        current = await store.get("case", "1")
        assert current is not None
        if current.data["owner"] is not None:
            return who, False, current.data["owner"]
        written = await store.replace(case("1", owner=who), current.version)
        assert written.record is not None
        return who, written.ok, written.record.data["owner"]

    outcomes = await asyncio.gather(*(claim(f"p{n}") for n in range(10)))
    assert [who for who, ok, _ in outcomes if ok] == ["p0"]
    assert {owner for _, _, owner in outcomes} == {"p0"}
    final = await store.get("case", "1")
    assert final is not None
    assert final.version == 2


@sqlite_only
async def test_sqlite_call_cancelled_before_it_is_taken_never_runs(store: Store) -> None:
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


@redis_only
async def test_redis_read_cancelled_before_it_is_sent(store: Store) -> None:
    await store.insert(case("1", n=1))
    leader = asyncio.ensure_future(store.get("case", "1"))
    await asyncio.sleep(0)
    queued = asyncio.ensure_future(store.get("case", "1"))
    await asyncio.sleep(0)
    assert isinstance(store, RedisStore)
    assert len(store._queue) == 1
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert store._queue == []
    assert (await leader) is not None
    assert (await store.get("case", "1")) is not None


async def test_cancelling_a_batch_leader_leaves_the_others_alone(
    store: Store, backend: Backend
) -> None:
    for n in range(4):
        await store.insert(case(str(n), n=n))
    first = asyncio.ensure_future(store.get("case", "0"))
    await asyncio.sleep(0)
    # Queued behind the first call: the first of these leads their batch.
    leader = asyncio.ensure_future(store.get("case", "1"))
    others = [asyncio.ensure_future(store.get("case", key)) for key in ("2", "3", "1")]
    writer = None
    if backend.name == "sqlite":
        writer = asyncio.ensure_future(store.insert(case("new", n=9)))
    await first
    await _until_taken(store)
    leader.cancel()
    found = await asyncio.gather(*others)
    assert [r.data["n"] if r else None for r in found] == [2, 3, 1]
    if writer is not None:
        assert (await writer).ok
        assert await store.get("case", "new") is not None
    with pytest.raises(asyncio.CancelledError):
        await leader
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
        expected: type[Exception] = ValueError
    else:
        # A record key that holds a string: its HMGET fails with WRONGTYPE.
        assert isinstance(store, RedisStore)
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            await client.set(f"{store.key_prefix}rec:case:bad", "not a hash")
        finally:
            await client.aclose()
        failing = store.get("case", "bad")
        expected = ResponseError
    blocker = asyncio.ensure_future(store.get("case", "good"))
    await asyncio.sleep(0)
    results: tuple[Any, ...] = await asyncio.gather(
        store.get("case", "good"), failing, store.get("case", "good"), return_exceptions=True
    )
    before, bad, after = results
    await blocker
    assert isinstance(bad, expected)
    assert isinstance(before, Record)
    assert isinstance(after, Record)
    assert before.data == after.data == {"n": 1}


@redis_only
async def test_redis_admissions_take_their_own_lane(store: Store) -> None:
    """Inbox admissions (which an acknowledgement waits for) never wait for the
    shared connection pool: with every pooled connection taken by other work
    they still go through, on the lane's own connection, batched."""
    assert isinstance(store, RedisStore)
    pool = store._pool
    assert pool is not None
    taken = [await pool.get_connection() for _ in range(pool.max_connections)]
    try:
        now = datetime(2030, 1, 1, tzinfo=UTC)
        entries = [InboxEntry(f"slack:click:{n}", "slack", {"n": n}, now) for n in range(30)]
        tokens = await asyncio.gather(
            *(
                store.admit_inbox(e, now, "me", timedelta(seconds=30), timedelta(minutes=15))
                for e in entries
            )
        )
        assert all(tokens) and len(set(tokens)) == 30
        again = await store.admit_inbox(
            entries[0], now, "me", timedelta(seconds=30), timedelta(minutes=15)
        )
        assert again is None  # deduplicated as usual
    finally:
        for connection in taken:
            await pool.release(connection)
    assert await store.inbox_size("slack") == 30


async def test_concurrent_writes_commit_together_each_with_its_own_outcome(
    store: Store, backend: Backend
) -> None:
    """Group commit: writes made at once go out together (one SQLite
    transaction, one Redis pipeline), yet each compare-and-set is decided on
    its own, and what a caller was told is what another store object sees."""
    await store.insert(case("contested", owner=None))
    for n in range(20):
        await store.insert(case(f"r{n}", n=0))
    at = datetime(2030, 1, 1, tzinfo=UTC)
    claims = [
        store.replace(case("contested", owner=f"p{n}"), 1, Effects(audit=(_entry(f"p{n}", at),)))
        for n in range(10)
    ]
    updates = [
        store.replace(case(f"r{n}", n=n), 1, Effects(audit=(_entry(f"u{n}", at),)))
        for n in range(20)
    ]
    written = await asyncio.gather(*claims, *updates)
    won = [w for w in written[:10] if w.ok]
    assert len(won) == 1
    assert won[0].record is not None
    winner = won[0].record.data["owner"]
    # Each loser is told who won, from the refused write itself.
    assert all(w.record is not None and w.record.data["owner"] == winner for w in written[:10])
    assert all(w.ok for w in written[10:])
    other = backend.make()
    await other.open()
    try:
        contested = await other.get("case", "contested")
        assert contested is not None
        assert (contested.version, contested.data["owner"]) == (2, winner)
        for n in range(20):
            record = await other.get("case", f"r{n}")
            assert record is not None
            assert (record.version, record.data["n"]) == (2, n)
        actors = [e.actor for e in await other.audit_log("case:contested")]
        assert actors == [winner]
        assert len(await other.audit_log("case:r7")) == 1
    finally:
        await other.close()


def _entry(actor: str, at: datetime) -> AuditEntry:
    subject = "case:contested" if actor.startswith("p") else f"case:r{actor[1:]}"
    return AuditEntry(at=at, actor=actor, action="case.change", subject=subject)


@sqlite_only
async def test_sqlite_a_failing_write_in_a_group_leaves_the_others_committed(
    store: Store,
) -> None:
    assert isinstance(store, SqliteStore)
    await store.apply(Effects(timers=(Timer("t", "k", T0),)))
    raw = sqlite3.connect(store.path)
    try:
        raw.execute("UPDATE timers SET payload = 'not json'")
        raw.commit()
    finally:
        raw.close()
    blocker = asyncio.ensure_future(store.get("case", "none"))
    await asyncio.sleep(0)  # the next calls queue behind it and go out as one group
    results: tuple[Any, ...] = await asyncio.gather(
        store.insert(case("before", n=1)),
        store.lease_timers(T0, "me", timedelta(minutes=1)),
        store.insert(case("after", n=1)),
        return_exceptions=True,
    )
    await blocker
    before, bad, after = results
    assert isinstance(bad, ValueError)
    assert before.ok and after.ok
    assert await store.get("case", "before") is not None
    assert await store.get("case", "after") is not None
    # The failed lease rolled back to its savepoint: the timer is not leased.
    raw = sqlite3.connect(store.path)
    try:
        rows = raw.execute("SELECT key, lease_owner, attempts FROM timers").fetchall()
    finally:
        raw.close()
    assert rows == [("t", None, 0)]


def test_sqlite_group_rolled_back_under_a_job_fails_the_jobs_before_it(tmp_path: Path) -> None:
    """If SQLite rolls a group's transaction back (an I/O error, a full disk),
    the writes before it were never committed: their callers get the error,
    and the jobs after it commit one by one."""
    conn = sqlite3.connect(tmp_path / "group.db", isolation_level=None)
    conn.execute("CREATE TABLE t (n INTEGER)")

    def insert(n: int) -> Job[int]:
        return lambda c: transaction(
            c, lambda c: c.execute("INSERT INTO t VALUES (?)", (n,)).rowcount
        )

    def disaster(c: sqlite3.Connection) -> None:
        c.execute("ROLLBACK")  # what SQLite does to the whole transaction on SQLITE_FULL
        raise sqlite3.OperationalError("database or disk is full")

    outcomes = run_group(conn, [insert(1), insert(2), disaster, insert(3)])
    assert [ok for ok, _ in outcomes] == [False, False, False, True]
    assert all(isinstance(value, sqlite3.OperationalError) for _, value in outcomes[:3])
    assert [row[0] for row in conn.execute("SELECT n FROM t")] == [3]
    conn.close()


async def test_calls_queued_behind_a_failed_batch_still_go_out() -> None:
    """A batch that fails as a whole (its calls get the error) does not stop
    the calls queued meanwhile from going out in the next batch."""
    sent: list[list[str]] = []
    futures: dict[str, asyncio.Future[str]] = {}
    gates = {"first": asyncio.Event(), "doomed": asyncio.Event()}
    doomed_taken = asyncio.Event()

    async def send(batch: list[str]) -> None:
        sent.append(batch)
        if batch[0] == "doomed":
            doomed_taken.set()
        if batch[0] in gates:
            await gates[batch[0]].wait()
        if batch[0] == "doomed":
            for call in batch:
                futures[call].set_exception(ConnectionError("lost"))
            raise ConnectionError("lost")
        for call in batch:
            futures[call].set_result(call.upper())

    batches: Batches[str] = Batches(send)
    loop = asyncio.get_running_loop()

    def call(name: str) -> asyncio.Future[str]:
        futures[name] = loop.create_future()
        return asyncio.ensure_future(batches.submit(name, futures[name]))

    first = call("first")
    await asyncio.sleep(0)
    doomed = call("doomed")
    await asyncio.sleep(0)
    gates["first"].set()
    assert await first == "FIRST"
    await doomed_taken.wait()  # the drain task has taken it
    later = call("later")  # queued while the doomed batch is on its way
    await asyncio.sleep(0)
    gates["doomed"].set()
    with pytest.raises(ConnectionError):
        await doomed
    assert await asyncio.wait_for(later, 5) == "LATER"
    assert sent == [["first"], ["doomed"], ["later"]]
