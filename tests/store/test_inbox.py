"""The inbox part of the Store contract, run against every backend.

An inbox entry is a verified inbound request stored before it is
acknowledged: admission is one atomic write that deduplicates by key and
leases the entry to the admitting process at once; completion is fenced
(alone, or riding on a record write); an entry whose holder died is leased
again when its lease runs out. Time is always injected through ``now``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.storage import AuditEntry, Effects, InboxEntry, Record, Store, Timer
from bot.store.sqlite import SqliteStore

from .conftest import Backend

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
REMEMBER = timedelta(minutes=15)


def entry(key: str = "click:1", platform: str = "slack", **body: object) -> InboxEntry:
    return InboxEntry(key=key, platform=platform, body=body or {"kind": "action"}, received_at=T0)


async def admit(store: Store, item: InboxEntry, now: datetime = T0, owner: str = "a") -> int | None:
    return await store.admit_inbox(item, now, owner, LEASE, REMEMBER)


async def test_admission_leases_the_entry_to_the_admitting_process(store: Store) -> None:
    token = await admit(store, entry(payload={"user": "U1", "n": [1, 2]}))
    assert token is not None and token > 0
    assert await store.inbox_size("slack") == 1
    assert await store.inbox_size() == 1
    assert await store.inbox_size("teams") == 0
    # Held: nobody else can lease it while the lease runs.
    assert (
        await store.lease_inbox("slack", T0 + LEASE - timedelta(microseconds=1), "b", LEASE) == []
    )


async def test_a_redelivery_is_refused_while_waiting_and_after_completion(store: Store) -> None:
    token = await admit(store, entry())
    assert token is not None
    assert await admit(store, entry(), T0 + timedelta(seconds=1), owner="b") is None
    assert await store.finish_inbox("click:1", token)
    assert await store.inbox_size() == 0
    # Completed, but still remembered: a Slack retry or replay has no second effect.
    assert await admit(store, entry(), T0 + REMEMBER - timedelta(seconds=1)) is None
    assert await store.inbox_size() == 0
    # Past the remembered window the key is new again.
    assert await admit(store, entry(), T0 + REMEMBER) is not None


async def test_concurrent_admissions_of_one_key_store_it_once(store: Store) -> None:
    tokens = await asyncio.gather(*(admit(store, entry(), owner=f"p{n}") for n in range(12)))
    assert len([t for t in tokens if t is not None]) == 1
    assert await store.inbox_size() == 1


async def test_an_orphaned_entry_is_leased_again_with_a_new_token(store: Store) -> None:
    first = await admit(store, entry(body_text="hello"))
    assert first is not None
    later = T0 + LEASE
    leased = await store.lease_inbox("slack", later, "b", LEASE)
    assert len(leased) == 1
    got = leased[0]
    assert got.entry == InboxEntry("click:1", "slack", {"body_text": "hello"}, T0)
    assert got.token > first
    assert got.attempts == 2
    # The dead holder's token no longer completes it; the new one does.
    assert not await store.finish_inbox("click:1", first)
    assert await store.lease_inbox("slack", later, "c", LEASE) == []
    assert await store.finish_inbox("click:1", got.token)
    assert await store.lease_inbox("slack", later + 2 * LEASE, "c", LEASE) == []


async def test_leasing_is_per_platform_oldest_lease_first_and_limited(store: Store) -> None:
    for n in range(3):
        assert await admit(store, entry(f"k{n}"), T0 + timedelta(seconds=n)) is not None
    assert await admit(store, entry("t0", platform="teams")) is not None
    leased = await store.lease_inbox("slack", T0 + timedelta(hours=1), "b", LEASE, limit=2)
    assert [e.entry.key for e in leased] == ["k0", "k1"]
    teams = await store.lease_inbox("teams", T0 + timedelta(hours=1), "b", LEASE)
    assert [e.entry.key for e in teams] == ["t0"]
    assert await store.lease_inbox("slack", T0, "b", LEASE, limit=0) == []


async def test_completion_rides_on_a_record_write_atomically(store: Store) -> None:
    token = await admit(store, entry())
    assert token is not None
    claim = Effects(
        audit=(AuditEntry(T0, "sam", "claim", "case:1"),), complete_inbox=("click:1", token)
    )
    written = await store.insert(Record("case", "1", {"owner": "sam"}), claim)
    assert written.ok
    assert await store.inbox_size() == 0
    assert len(await store.audit_log("case:1")) == 1
    # The token is spent: a second write with it is refused, with nothing written.
    again = await store.replace(Record("case", "1", {"owner": "alex"}), 1, claim)
    assert not again.ok
    assert again.record is not None and again.record.data == {"owner": "sam"}
    assert len(await store.audit_log("case:1")) == 1


async def test_a_write_fenced_by_a_lost_inbox_lease_writes_nothing(store: Store) -> None:
    stale = await admit(store, entry())
    assert stale is not None
    (taken,) = await store.lease_inbox("slack", T0 + LEASE, "b", LEASE)
    effects = Effects(
        audit=(AuditEntry(T0, "sam", "claim", "case:1"),),
        timers=(Timer("t", "k", T0),),
        complete_inbox=("click:1", stale),
    )
    written = await store.insert(Record("case", "1", {"owner": "sam"}), effects)
    assert not written.ok and written.record is None
    assert not await store.apply(effects)
    assert await store.get("case", "1") is None
    assert await store.audit_log() == []
    assert await store.pending_timers() == []
    assert await store.inbox_size() == 1
    done = Effects(complete_inbox=("click:1", taken.token))
    assert await store.apply(done)
    assert await store.inbox_size() == 0


async def test_timer_and_inbox_completion_in_one_write(store: Store) -> None:
    await store.apply(Effects(timers=(Timer("t", "k", T0),)))
    (timer,) = await store.lease_timers(T0, "a", LEASE)
    token = await admit(store, entry())
    assert token is not None
    both = Effects(complete_timer=("t", timer.token), complete_inbox=("click:1", token))
    assert await store.apply(both)
    assert await store.pending_timers() == []
    assert await store.inbox_size() == 0


async def test_entries_survive_reopening(store: Store) -> None:
    token = await admit(store, entry(text="kept"))
    assert token is not None
    await store.close()
    await store.open()
    (leased,) = await store.lease_inbox("slack", T0 + LEASE, "after-restart", LEASE)
    assert leased.entry.body == {"text": "kept"}


async def test_concurrent_sweeps_lease_each_orphan_once(backend: Backend) -> None:
    # Two store objects, as two processes have, racing over the same orphans.
    first, second = backend.make(), backend.make()
    await first.open()
    await second.open()
    try:
        for n in range(40):
            assert await admit(first, entry(f"k{n}"), owner="dead") is not None
        later = T0 + LEASE

        async def sweep(store: Store, owner: str) -> list[str]:
            got: list[str] = []
            while batch := await store.lease_inbox("slack", later, owner, LEASE, limit=3):
                got += [leased.entry.key for leased in batch]
            return got

        results = await asyncio.gather(
            *(sweep(store, f"{store is first}-{n}") for n in range(4) for store in (first, second))
        )
        taken = [key for keys in results for key in keys]
        assert sorted(taken) == sorted(f"k{n}" for n in range(40))
    finally:
        await first.close()
        await second.close()


async def test_sqlite_admission_goes_ahead_of_queued_store_calls(tmp_path: Path) -> None:
    """Admissions take a priority lane: an admission made while other store
    calls queue for the connection is stored before them (it waits only for
    the call already running), and the event loop is never blocked meanwhile."""
    store = SqliteStore(tmp_path / "lane.db")
    await store.open()
    other = sqlite3.connect(tmp_path / "lane.db", isolation_level=None)
    finished: list[str] = []

    async def write(n: int) -> None:
        await store.insert(Record("note", f"n{n}", {"n": n}))
        finished.append(f"write {n}")

    async def admission() -> None:
        assert await admit(store, entry()) is not None
        finished.append("admission")

    try:
        other.execute("BEGIN IMMEDIATE")  # another process's long write holds the lock
        writes = [asyncio.create_task(write(n)) for n in range(5)]
        for _ in range(5):
            await asyncio.sleep(0)  # the first write is on the connection thread, waiting
        admitted = asyncio.create_task(admission())
        for _ in range(5):
            await asyncio.sleep(0)  # the loop runs: nothing waits for the lock on it
        assert finished == []
        other.execute("COMMIT")
        await asyncio.gather(*writes, admitted)
        assert finished == ["write 0", "admission", "write 1", "write 2", "write 3", "write 4"]
        assert await store.inbox_size("slack") == 1
        assert await admit(store, entry()) is None  # deduplicated as usual
    finally:
        other.close()
        await store.close()
