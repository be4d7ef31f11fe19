"""The Store contract for deleting records, run against every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.storage import AuditEntry, Effects, Record, Store, Timer

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def gone(key: str) -> AuditEntry:
    return AuditEntry(at=T0, actor="system", action="q.deleted", subject=f"q:{key}")


async def test_delete_is_compare_and_set_and_takes_its_tags(store: Store) -> None:
    first = await store.insert(Record("q", "a", {"n": 1}, tags=frozenset({"old", "x"})))
    await store.insert(Record("q", "b", {"n": 2}, tags=frozenset({"old"})))
    assert first.ok and first.record is not None
    changed = await store.replace(Record("q", "a", {"n": 3}, tags=frozenset({"old"})), 1)
    stale = await store.delete("q", "a", 1, Effects(audit=(gone("a"),)))
    assert not stale.ok
    assert stale.record == changed.record  # the loser learns the current record
    done = await store.delete("q", "a", 2, Effects(audit=(gone("a"),)))
    assert done.ok and done.record is None
    assert await store.get("q", "a") is None
    assert [r.key for r in await store.find("q", "old")] == ["b"]
    assert await store.find("q", "x") == []
    assert [e.action for e in await store.audit_log("q:a")] == ["q.deleted"]


async def test_deleting_an_absent_record_writes_nothing(store: Store) -> None:
    refused = await store.delete("q", "nobody", 1, Effects(audit=(gone("nobody"),)))
    assert not refused.ok and refused.record is None
    assert await store.audit_log() == []


async def test_a_deleted_key_can_be_inserted_again_at_version_1(store: Store) -> None:
    await store.insert(Record("q", "a", {"n": 1}, tags=frozenset({"t"})))
    assert (await store.delete("q", "a", 1)).ok
    again = await store.insert(Record("q", "a", {"n": 2}, tags=frozenset({"t"})))
    assert again.ok and again.record is not None and again.record.version == 1
    assert [r.data for r in await store.find("q", "t")] == [{"n": 2}]


async def test_a_stale_timer_completion_refuses_the_delete(store: Store) -> None:
    await store.insert(Record("q", "a", {"n": 1}))
    await store.apply(Effects(timers=(Timer("clean", "clean", T0),)))
    [leased] = await store.lease_timers(T0, "one", LEASE)
    [again] = await store.lease_timers(T0 + LEASE * 2, "two", LEASE)  # the lease moved on
    stale = Effects(audit=(gone("a"),), complete_timer=("clean", leased.token))
    refused = await store.delete("q", "a", 1, stale)
    assert not refused.ok and refused.record is not None
    assert await store.get("q", "a") is not None
    current = Effects(audit=(gone("a"),), complete_timer=("clean", again.token))
    assert (await store.delete("q", "a", 1, current)).ok
    assert await store.pending_timers("clean") == []
    assert [e.action for e in await store.audit_log()] == ["q.deleted"]
