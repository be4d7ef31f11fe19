"""The Store contract, run against every backend (see ``conftest.py``).

Time is always injected through ``now``; no test sleeps.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.storage import (
    AuditEntry,
    Effects,
    OutboxItem,
    Record,
    Store,
    Timer,
)
from bot.store import open_store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

from . import race_workers
from .conftest import Backend

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
LEASE = timedelta(minutes=5)
HOUR = timedelta(hours=1)
SPAWN = multiprocessing.get_context("spawn")


def audit(action: str, subject: str = "case:1", actor: str = "alice", **detail: Any) -> AuditEntry:
    return AuditEntry(at=T0, actor=actor, action=action, subject=subject, detail=detail)


def outbox(
    item_id: str,
    *,
    platform: str = "slack",
    priority: int = 1,
    not_before: datetime | None = None,
    card_key: str | None = None,
    created_at: datetime = T0,
) -> OutboxItem:
    return OutboxItem(
        id=item_id,
        platform=platform,
        op="post",
        destination="hub",
        body={"text": item_id},
        created_at=created_at,
        card_key=card_key,
        priority=priority,
        not_before=not_before,
    )


def case(key: str = "1", *tags: str, **data: Any) -> Record:
    return Record("case", key, data, tags=frozenset(tags))


async def assert_no_effects(store: Store) -> None:
    assert await store.audit_log() == []
    assert await store.pending_timers() == []
    assert await store.outbox_size() == 0


# -- lifecycle and URLs ------------------------------------------------------


async def test_open_is_idempotent_and_ping(store: Store) -> None:
    await store.open()
    assert await store.ping()


async def test_closed_store_does_not_answer(backend: Backend) -> None:
    fresh = backend.make()
    assert not await fresh.ping()
    await fresh.open()
    await fresh.close()
    await fresh.close()
    assert not await fresh.ping()


def test_open_store_picks_backend_by_scheme(tmp_path: Any) -> None:
    relative = open_store("sqlite:///data/bot.db")
    assert isinstance(relative, SqliteStore)
    assert str(relative.path) == "data/bot.db"
    absolute = open_store(f"sqlite:///{tmp_path}/bot.db")
    assert isinstance(absolute, SqliteStore)
    assert absolute.path == tmp_path / "bot.db"
    redis_store = open_store("redis://localhost:6379/0", namespace="ns")
    assert isinstance(redis_store, RedisStore)
    assert redis_store.key_prefix == "{ns}:"
    assert isinstance(open_store("rediss://localhost:6380/1"), RedisStore)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://user:secret@db/bot", "'postgres'"),
        ("memory", "(none)"),
        ("sqlite://host/x.db", "sqlite:///"),
        ("sqlite:///", "no database path"),
    ],
)
def test_open_store_rejects_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        open_store(url)
    assert "secret" not in str(err.value)


def test_redis_namespace_must_not_break_the_hash_tag() -> None:
    with pytest.raises(ValueError, match="namespace"):
        RedisStore("redis://localhost", namespace="a}b")


async def test_sqlite_creates_parent_directory(tmp_path: Any) -> None:
    target = tmp_path / "deep" / "er" / "bot.db"
    created = open_store(f"sqlite:///{target}")
    await created.open()
    try:
        assert await created.ping()
    finally:
        await created.close()
    assert target.exists()


# -- records -----------------------------------------------------------------


async def test_insert_then_get(store: Store) -> None:
    written = await store.insert(case("1", "state:open", "spoke:care", title="Outage", n=1))
    assert written.ok
    assert written.record == Record(
        "case", "1", {"title": "Outage", "n": 1}, 1, frozenset({"state:open", "spoke:care"})
    )
    assert await store.get("case", "1") == written.record
    assert await store.get("case", "2") is None
    assert await store.get("other", "1") is None


async def test_keys_with_separators_do_not_collide(store: Store) -> None:
    assert (await store.insert(Record("a:b", "c", {"which": 1}, tags=frozenset({"x:y"})))).ok
    assert (await store.insert(Record("a", "b:c", {"which": 2}, tags=frozenset({"y"})))).ok
    first = await store.get("a:b", "c")
    second = await store.get("a", "b:c")
    assert first is not None
    assert first.data == {"which": 1}
    assert second is not None
    assert second.data == {"which": 2}
    assert [r.key for r in await store.find("a:b", "x:y")] == ["c"]
    assert await store.find("a", "b:x:y") == []


async def test_unicode_and_nested_data_round_trip(store: Store) -> None:
    data = {"title": "Störung 🚨", "nested": {"list": [1, 2.5, None, True]}, "at": T0}
    written = await store.insert(Record("case", "ü", data, tags=frozenset({"état:ouvert"})))
    expected = {**data, "at": T0.isoformat()}
    assert written.record is not None
    assert written.record.data == expected
    stored = await store.get("case", "ü")
    assert stored is not None
    assert stored.data == expected
    assert [r.key for r in await store.find("case", "état:ouvert")] == ["ü"]


async def test_replace_is_compare_and_set(store: Store) -> None:
    await store.insert(case("1", owner=None))
    won = await store.replace(case("1", owner="alice"), expected_version=1)
    assert won.ok
    assert won.record is not None
    assert won.record.version == 2
    lost = await store.replace(case("1", owner="bob"), expected_version=1)
    assert not lost.ok
    assert lost.record == won.record
    current = await store.get("case", "1")
    assert current == won.record
    assert (await store.replace(case("1", owner="carol"), expected_version=2)).ok


async def test_replace_absent_record(store: Store) -> None:
    lost = await store.replace(case("1", x=1), expected_version=3)
    assert lost == lost.__class__(False, None)
    assert await store.get("case", "1") is None
    created = await store.replace(case("1", x=1), expected_version=0)
    assert created.ok
    assert created.record is not None
    assert created.record.version == 1


async def test_insert_duplicate_returns_existing_without_effects(store: Store) -> None:
    first = await store.insert(case("1", title="first"))
    duplicate = await store.insert(
        case("1", title="second"),
        Effects(
            audit=(audit("create"),),
            timers=(Timer("t1", "remind", T0),),
            outbox=(outbox("m1"),),
        ),
    )
    assert not duplicate.ok
    assert duplicate.record == first.record
    await assert_no_effects(store)


async def test_effects_commit_with_the_write_and_not_without(store: Store) -> None:
    effects = Effects(
        audit=(audit("create"),),
        timers=(Timer("case:1:sla", "sla", T0 + MIN, {"case": "1"}),),
        outbox=(outbox("m1"),),
    )
    assert (await store.insert(case("1", state="open"), effects)).ok
    assert [e.action for e in await store.audit_log()] == ["create"]
    assert [t.key for t in await store.pending_timers()] == ["case:1:sla"]
    assert await store.outbox_size("slack") == 1

    stale = await store.replace(
        case("1", state="closed"),
        expected_version=0,
        effects=Effects(
            audit=(audit("close"),),
            timers=(Timer("case:1:other", "sla", T0),),
            cancel_timers=("case:1:sla",),
            outbox=(outbox("m2"),),
        ),
    )
    assert not stale.ok
    assert [e.action for e in await store.audit_log()] == ["create"]
    assert [t.key for t in await store.pending_timers()] == ["case:1:sla"]
    assert await store.outbox_size() == 1


async def test_find_pages_with_offset_and_counts_tagged(store: Store) -> None:
    for key in "abcdefg":
        await store.insert(case(key, "state:open"))
    await store.insert(case("x", "state:closed"))
    await store.insert(Record("ticket", "t", {}, tags=frozenset({"state:open"})))
    assert await store.count_tagged("case", "state:open") == 7
    assert await store.count_tagged("case", "state:closed") == 1
    assert await store.count_tagged("case", "state:none") == 0
    pages = [
        [r.key for r in await store.find("case", "state:open", limit=3, offset=start)]
        for start in (0, 3, 6, 9)
    ]
    assert pages == [["a", "b", "c"], ["d", "e", "f"], ["g"], []]

    await store.replace(case("b", "state:closed"), expected_version=1)
    assert await store.count_tagged("case", "state:open") == 6
    assert await store.count_tagged("case", "state:closed") == 2
    assert [r.key for r in await store.find("case", "state:open", limit=2, offset=1)] == ["c", "d"]
    await store.delete("case", "c", expected_version=1)
    assert await store.count_tagged("case", "state:open") == 5


async def test_find_by_tag_oldest_insert_first(store: Store) -> None:
    await store.insert(case("a", "state:open", "spoke:care"))
    await store.insert(case("b", "state:open"))
    await store.insert(case("c", "state:closed"))
    await store.insert(Record("ticket", "z", {}, tags=frozenset({"state:open"})))
    assert [r.key for r in await store.find("case", "state:open")] == ["a", "b"]
    assert [r.key for r in await store.find("case", "state:open", limit=1)] == ["a"]
    assert await store.find("case", "state:open", limit=0) == []

    await store.replace(case("a", "state:closed", note="updated"), expected_version=1)
    assert [r.key for r in await store.find("case", "state:open")] == ["b"]
    assert await store.find("case", "spoke:care") == []
    closed = await store.find("case", "state:closed")
    assert [(r.key, r.version) for r in closed] == [("a", 2), ("c", 1)]
    assert closed[0].data == {"note": "updated"}
    assert await store.find("case", "nope") == []


async def test_concurrent_claims_have_one_winner(store: Store) -> None:
    await store.insert(case("1", owner=None))
    first, second = await asyncio.gather(store.get("case", "1"), store.get("case", "1"))
    assert first is not None
    assert second is not None
    assert first.version == second.version == 1
    results = await asyncio.gather(
        store.replace(case("1", owner="alice"), first.version),
        store.replace(case("1", owner="bob"), second.version),
    )
    winners = [r for r in results if r.ok]
    losers = [r for r in results if not r.ok]
    assert len(winners) == 1
    assert len(losers) == 1
    assert winners[0].record is not None
    assert losers[0].record == winners[0].record
    assert losers[0].record.data["owner"] in {"alice", "bob"}


# -- idempotency keys --------------------------------------------------------


async def test_put_once_within_ttl_and_after_expiry(store: Store) -> None:
    ttl = timedelta(hours=1)
    assert await store.put_once("event:1", ttl, T0)
    assert not await store.put_once("event:1", ttl, T0)
    assert not await store.put_once("event:1", ttl, T0 + ttl - timedelta(microseconds=1))
    assert await store.put_once("event:2", ttl, T0)
    assert await store.put_once("event:1", ttl, T0 + ttl)
    assert not await store.put_once("event:1", ttl, T0 + ttl + MIN)
    assert await store.put_once("event:1", ttl, T0 + 2 * ttl)


async def test_remembered_reads_a_key_without_setting_it(store: Store) -> None:
    ttl = timedelta(minutes=15)
    assert not await store.remembered("event:9", T0)
    assert await store.put_once("event:9", ttl, T0)
    assert await store.remembered("event:9", T0 + ttl - MIN)
    assert not await store.remembered("event:9", T0 + ttl)
    assert not await store.remembered("event:10", T0)
    assert await store.put_once("event:10", ttl, T0)


async def test_forget_allows_a_redo(store: Store) -> None:
    assert await store.put_once("event:1", timedelta(hours=1), T0)
    await store.forget("event:1")
    await store.forget("never-set")
    assert await store.put_once("event:1", timedelta(hours=1), T0)


async def test_rejects_naive_datetimes_and_bad_durations(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.put_once("k", MIN, datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="ttl"):
        await store.put_once("k", timedelta(0), T0)
    with pytest.raises(ValueError, match="lease_for"):
        await store.lease_timers(T0, "w", timedelta(seconds=-1))
    with pytest.raises(ValueError, match="naive"):
        await store.apply(Effects(timers=(Timer("t", "k", datetime(2030, 1, 1)),)))
    with pytest.raises(ValueError, match="priority"):
        await store.apply(Effects(outbox=(outbox("m", priority=10**6),)))
    await assert_no_effects(store)


# -- timers ------------------------------------------------------------------


async def test_schedule_replace_and_cancel_timers(store: Store) -> None:
    assert await store.apply(
        Effects(
            timers=(
                Timer("b", "remind", T0 + 2 * MIN, {"n": 1}),
                Timer("a", "remind", T0 + 3 * MIN),
                Timer("c", "sla", T0 + MIN, {"at": T0}),
            )
        )
    )
    assert await store.apply(Effects(timers=(Timer("a", "escalate", T0, {"n": 2}),)))
    pending = await store.pending_timers()
    assert pending == [
        Timer("a", "escalate", T0, {"n": 2}),
        Timer("c", "sla", T0 + MIN, {"at": T0.isoformat()}),
        Timer("b", "remind", T0 + 2 * MIN, {"n": 1}),
    ]
    assert await store.apply(Effects(cancel_timers=("c", "missing")))
    assert [t.key for t in await store.pending_timers()] == ["a", "b"]
    assert await store.apply(Effects())


async def test_lease_only_due_timers(store: Store) -> None:
    await store.apply(
        Effects(
            timers=(
                Timer("later", "k", T0 + MIN),
                Timer("now", "k", T0),
                Timer("earlier", "k", T0 - MIN, {"x": 1}),
            )
        )
    )
    leased = await store.lease_timers(T0, "w1", LEASE)
    assert [lt.timer.key for lt in leased] == ["earlier", "now"]
    assert leased[0].timer == Timer("earlier", "k", T0 - MIN, {"x": 1})
    assert [lt.attempts for lt in leased] == [1, 1]
    assert leased[0].token < leased[1].token
    assert await store.lease_timers(T0, "w2", LEASE) == []
    assert await store.lease_timers(T0, "w2", LEASE, limit=0) == []


async def test_lease_limit(store: Store) -> None:
    await store.apply(Effects(timers=tuple(Timer(f"t{i}", "k", T0) for i in range(5))))
    assert len(await store.lease_timers(T0, "w", LEASE, limit=2)) == 2
    assert len(await store.lease_timers(T0, "w", LEASE, limit=10)) == 3


async def test_expired_lease_is_leased_again_with_new_token(store: Store) -> None:
    await store.apply(Effects(timers=(Timer("t", "k", T0),)))
    (first,) = await store.lease_timers(T0, "w1", LEASE)
    assert await store.lease_timers(T0 + LEASE - timedelta(microseconds=1), "w2", LEASE) == []
    (second,) = await store.lease_timers(T0 + LEASE, "w2", LEASE)
    assert second.timer == first.timer
    assert second.token > first.token
    assert second.attempts == 2
    assert not await store.complete_timer("t", first.token)
    assert await store.pending_timers() == [first.timer]
    assert await store.complete_timer("t", second.token)
    assert not await store.complete_timer("t", second.token)
    assert await store.pending_timers() == []


async def test_complete_timer_needs_the_lease(store: Store) -> None:
    await store.apply(Effects(timers=(Timer("t", "k", T0),)))
    assert not await store.complete_timer("t", 1)
    assert not await store.complete_timer("missing", 1)
    (leased,) = await store.lease_timers(T0, "w", LEASE)
    assert not await store.complete_timer("t", leased.token + 1)
    # A lease that ran out but was not taken over still completes.
    assert await store.complete_timer("t", leased.token)


async def test_rescheduling_a_leased_timer_drops_the_lease(store: Store) -> None:
    await store.apply(Effects(timers=(Timer("t", "k", T0),)))
    (leased,) = await store.lease_timers(T0, "w", LEASE)
    await store.apply(Effects(timers=(Timer("t", "k", T0 + MIN),)))
    assert not await store.complete_timer("t", leased.token)
    (again,) = await store.lease_timers(T0 + MIN, "w", LEASE)
    assert again.attempts == 1
    assert again.timer.due_at == T0 + MIN


async def test_complete_timer_effect_is_fenced(store: Store) -> None:
    await store.insert(case("1", state="open"))
    await store.apply(Effects(timers=(Timer("case:1:sla", "sla", T0),)))
    (stale,) = await store.lease_timers(T0, "w1", LEASE)
    (fresh,) = await store.lease_timers(T0 + LEASE, "w2", LEASE)

    rejected = await store.replace(
        case("1", state="breached"),
        expected_version=1,
        effects=Effects(
            audit=(audit("sla-breach"),),
            outbox=(outbox("m1"),),
            complete_timer=("case:1:sla", stale.token),
        ),
    )
    assert not rejected.ok
    assert rejected.record is not None
    assert rejected.record.data == {"state": "open"}
    assert rejected.record.version == 1
    assert await store.audit_log() == []
    assert await store.outbox_size() == 0
    assert [t.key for t in await store.pending_timers()] == ["case:1:sla"]

    inserted = await store.insert(case("2"), Effects(complete_timer=("case:1:sla", stale.token)))
    assert inserted == inserted.__class__(False, None)
    assert await store.get("case", "2") is None
    assert not await store.apply(
        Effects(audit=(audit("x"),), complete_timer=("case:1:sla", stale.token))
    )
    assert await store.audit_log() == []

    accepted = await store.replace(
        case("1", state="breached"),
        expected_version=1,
        effects=Effects(
            audit=(audit("sla-breach"),),
            complete_timer=("case:1:sla", fresh.token),
        ),
    )
    assert accepted.ok
    assert await store.pending_timers() == []
    assert [e.action for e in await store.audit_log()] == ["sla-breach"]
    assert not await store.apply(Effects(complete_timer=("case:1:sla", fresh.token)))


async def test_complete_and_reschedule_in_one_write(store: Store) -> None:
    await store.apply(Effects(timers=(Timer("remind", "k", T0, {"n": 1}),)))
    (leased,) = await store.lease_timers(T0, "w", LEASE)
    assert await store.apply(
        Effects(
            timers=(Timer("remind", "k", T0 + 10 * MIN, {"n": 2}),),
            complete_timer=("remind", leased.token),
        )
    )
    assert await store.pending_timers() == [Timer("remind", "k", T0 + 10 * MIN, {"n": 2})]
    assert await store.next_timer_due() == T0 + 10 * MIN
    (next_run,) = await store.lease_timers(T0 + 10 * MIN, "w", LEASE)
    assert next_run.attempts == 1


async def test_pending_timers_by_prefix(store: Store) -> None:
    await store.apply(
        Effects(
            timers=(
                Timer("case:10:sla", "sla", T0 + 2 * MIN),
                Timer("case:1:sla", "sla", T0 + 3 * MIN),
                Timer("case:1:remind", "remind", T0 + MIN),
                Timer("digest", "digest", T0),
            )
        )
    )
    assert [t.key for t in await store.pending_timers("case:1:")] == [
        "case:1:remind",
        "case:1:sla",
    ]
    assert [t.key for t in await store.pending_timers("case:1")] == [
        "case:1:remind",
        "case:10:sla",
        "case:1:sla",
    ]
    assert len(await store.pending_timers()) == 4
    assert await store.pending_timers("zzz") == []


async def test_next_timer_due(store: Store) -> None:
    assert await store.next_timer_due() is None
    await store.apply(Effects(timers=(Timer("b", "k", T0 + 10 * MIN), Timer("a", "k", T0))))
    assert await store.next_timer_due() == T0
    (leased,) = await store.lease_timers(T0, "w", LEASE)
    # While "a" is leased it can next be leased when its lease runs out.
    assert await store.next_timer_due() == T0 + LEASE
    await store.complete_timer("a", leased.token)
    assert await store.next_timer_due() == T0 + 10 * MIN


async def test_timer_fires_late_but_once_after_restart(store: Store, backend: Backend) -> None:
    await store.apply(Effects(timers=(Timer("case:1:sla", "sla", T0 + MIN, {"case": "1"}),)))
    await store.close()

    restarted = backend.make()
    await restarted.open()
    try:
        assert await restarted.lease_timers(T0, "w", LEASE) == []
        late = T0 + timedelta(hours=3)
        (fired,) = await restarted.lease_timers(late, "w", LEASE)
        assert fired.timer == Timer("case:1:sla", "sla", T0 + MIN, {"case": "1"})
        assert await restarted.complete_timer("case:1:sla", fired.token)
        assert await restarted.lease_timers(late, "w", LEASE) == []
        assert await restarted.lease_timers(late + timedelta(days=1), "w", LEASE) == []
    finally:
        await restarted.close()


# -- outbox ------------------------------------------------------------------


async def test_outbox_priority_then_fifo(store: Store) -> None:
    await store.apply(Effects(outbox=(outbox("a", priority=1), outbox("b", priority=0))))
    await store.apply(
        Effects(
            outbox=(
                outbox("c", priority=2),
                outbox("d", priority=0, card_key="card-d"),
                outbox("e", priority=1),
            )
        )
    )
    leased = await store.lease_outbox("slack", T0, "sender", LEASE)
    assert [lo.item.id for lo in leased] == ["b", "d", "a", "e", "c"]
    assert leased[1].item == outbox("d", priority=0, card_key="card-d")
    assert leased[0].item.card_key is None
    assert all(lo.attempts == 1 for lo in leased)
    assert len({lo.token for lo in leased}) == 5


async def test_outbox_respects_not_before_and_limit(store: Store) -> None:
    await store.apply(
        Effects(
            outbox=(
                outbox("later", priority=0, not_before=T0 + 10 * MIN),
                outbox("now1"),
                outbox("now2"),
            )
        )
    )
    assert [lo.item.id for lo in await store.lease_outbox("slack", T0, "s", HOUR, limit=1)] == [
        "now1"
    ]
    assert [lo.item.id for lo in await store.lease_outbox("slack", T0, "s", HOUR)] == ["now2"]
    assert await store.lease_outbox("slack", T0 + 9 * MIN, "s", HOUR) == []
    (later,) = await store.lease_outbox("slack", T0 + 10 * MIN, "s", HOUR)
    assert later.item == outbox("later", priority=0, not_before=T0 + 10 * MIN)


async def test_outbox_lease_finish_and_retry(store: Store) -> None:
    await store.apply(Effects(outbox=(outbox("m1", card_key="case:1"),)))
    (first,) = await store.lease_outbox("slack", T0, "s1", LEASE)
    assert await store.lease_outbox("slack", T0 + MIN, "s2", LEASE) == []
    assert not await store.finish_outbox("m1", first.token + 1)
    assert not await store.retry_outbox("m1", first.token + 1, T0)

    assert await store.retry_outbox("m1", first.token, T0 + 5 * MIN)
    assert not await store.finish_outbox("m1", first.token)
    assert await store.outbox_size() == 1
    assert await store.lease_outbox("slack", T0 + MIN, "s1", LEASE) == []

    (second,) = await store.lease_outbox("slack", T0 + 5 * MIN, "s1", LEASE)
    assert second.attempts == 2
    assert second.token > first.token
    assert second.item.not_before == T0 + 5 * MIN
    assert await store.finish_outbox("m1", second.token, ("case:1", {"channel": "C1", "ts": "1"}))
    assert not await store.finish_outbox("m1", second.token)
    assert await store.outbox_size() == 0
    assert await store.card_refs("slack", "case:1") == [{"channel": "C1", "ts": "1"}]
    assert await store.card_refs("teams", "case:1") == []


async def test_outbox_expired_lease_is_taken_over(store: Store) -> None:
    await store.apply(Effects(outbox=(outbox("m1"),)))
    (first,) = await store.lease_outbox("slack", T0, "s1", LEASE)
    (second,) = await store.lease_outbox("slack", T0 + LEASE, "s2", LEASE)
    assert second.attempts == 2
    assert not await store.finish_outbox("m1", first.token, ("k", {"ts": "dup"}))
    assert await store.finish_outbox("m1", second.token, ("k", {"ts": "1"}))
    assert await store.card_refs("slack", "k") == [{"ts": "1"}]


async def test_card_refs_accumulate_per_post(store: Store) -> None:
    await store.apply(Effects(outbox=(outbox("m1"), outbox("m2"))))
    leased = await store.lease_outbox("slack", T0, "s", LEASE)
    for n, lo in enumerate(leased):
        assert await store.finish_outbox(lo.item.id, lo.token, ("case:1", {"post": n}))
    assert await store.card_refs("slack", "case:1") == [{"post": 0}, {"post": 1}]


async def test_outbox_platforms_are_separate(store: Store) -> None:
    await store.apply(
        Effects(
            outbox=(
                outbox("s1"),
                outbox("t1", platform="teams"),
                outbox("s2"),
                outbox("s1"),  # same id again: enqueued once
            )
        )
    )
    assert await store.outbox_size() == 3
    assert await store.outbox_size("slack") == 2
    assert await store.outbox_size("teams") == 1
    assert await store.outbox_size("console") == 0
    assert [lo.item.id for lo in await store.lease_outbox("teams", T0, "s", LEASE)] == ["t1"]
    assert await store.outbox_size("teams") == 1
    slack = await store.lease_outbox("slack", T0, "s", LEASE)
    assert [lo.item.id for lo in slack] == ["s1", "s2"]
    assert await store.finish_outbox("s1", slack[0].token)
    assert await store.outbox_size() == 2
    assert await store.outbox_size("slack") == 1


# -- audit -------------------------------------------------------------------


async def test_audit_log_order_and_subject_filter(store: Store) -> None:
    await store.insert(case("1"), Effects(audit=(audit("create", "case:1", n=1),)))
    await store.insert(
        case("2"), Effects(audit=(audit("create", "case:2"), audit("assign", "case:2")))
    )
    await store.apply(Effects(audit=(audit("close", "case:1", actor="bob"),)))
    everything = await store.audit_log()
    assert [(e.subject, e.action) for e in everything] == [
        ("case:1", "create"),
        ("case:2", "create"),
        ("case:2", "assign"),
        ("case:1", "close"),
    ]
    assert everything[0] == AuditEntry(T0, "alice", "create", "case:1", {"n": 1})
    case1 = await store.audit_log("case:1")
    assert [(e.actor, e.action) for e in case1] == [("alice", "create"), ("bob", "close")]
    assert [e.action for e in await store.audit_log(limit=2)] == ["create", "create"]
    assert [e.action for e in await store.audit_log("case:2", limit=1)] == ["create"]
    assert await store.audit_log("case:3") == []
    assert await store.audit_log(limit=0) == []


# -- two processes -----------------------------------------------------------


def _spawn(target: Any, backend: Backend, args: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Run workers in spawned processes, start them together, collect results.

    Each ``args`` tuple starts with the worker's id; results are keyed by it.
    """
    start = SPAWN.Event()
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=target, args=(backend.url, backend.namespace, *a, start, results))
        for a in args
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            message = results.get(timeout=30)
            assert message[0] == "ready", message
        start.set()
        done = [results.get(timeout=30) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()
    errors = [m for m in done if m[0] != "done"]
    assert not errors, errors
    return {m[1]: m[2] for m in done}


@pytest.mark.timeout(30)
async def test_two_processes_race_for_one_claim(store: Store, backend: Backend) -> None:
    await store.insert(Record(race_workers.CLAIM_KIND, race_workers.CLAIM_KEY, {"owner": None}))
    barrier = SPAWN.Barrier(2)
    attempts = await asyncio.to_thread(
        _spawn, race_workers.claim_worker, backend, [("w1", 25, barrier), ("w2", 25, barrier)]
    )
    outcomes = [(worker, *o) for worker, result in attempts.items() for o in result]
    assert len(outcomes) == 50
    assert {o[2] for o in outcomes} == {1}, "every attempt should have read version 1"
    wins = [o for o in outcomes if o[3]]
    assert len(wins) == 1
    winner, attempt, _, _, _ = wins[0]
    assert all(o[4] == winner for o in outcomes), "losers must see the winner's claim"
    final = await store.get(race_workers.CLAIM_KIND, race_workers.CLAIM_KEY)
    assert final is not None
    assert final.version == 2
    assert final.data == {"owner": winner, "attempt": attempt}
    claims = await store.audit_log(race_workers.SUBJECT)
    assert [(e.actor, e.action, e.detail) for e in claims] == [
        (winner, "claim", {"attempt": attempt})
    ]
    assert len(await store.audit_log()) == 1


@pytest.mark.timeout(30)
async def test_two_processes_complete_each_timer_once(store: Store, backend: Backend) -> None:
    keys = [f"timer:{n:03d}" for n in range(200)]
    await store.apply(
        Effects(timers=tuple(Timer(key, "k", T0 - n * MIN) for n, key in enumerate(keys)))
    )
    now = (T0 + MIN).isoformat()
    results = await asyncio.to_thread(
        _spawn, race_workers.timer_worker, backend, [("w1", now), ("w2", now)]
    )
    leased = [key for worker_leased, _ in results.values() for key in worker_leased]
    completed = [key for _, worker_completed in results.values() for key in worker_completed]
    assert set(results) == {"w1", "w2"}
    assert sorted(leased) == keys
    assert sorted(completed) == keys
    assert await store.pending_timers() == []
