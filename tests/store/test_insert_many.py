"""``Store.insert_many``: a batch of inserts in one call, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.storage import Effects, Record, Store, Timer
from tests.store.test_contract import T0, audit, case, outbox


def item(key: str, *, title: str = "t") -> tuple[Record, Effects]:
    record = Record("case", key, {"title": title}, tags=frozenset({"state:open", f"n:{key}"}))
    effects = Effects(
        audit=(audit("create", subject=f"case:{key}"),),
        timers=(Timer(f"case:{key}:sla", "sla", T0),),
        outbox=(outbox(f"m{key}"),),
    )
    return record, effects


async def test_a_batch_stores_each_new_record_with_its_effects(store: Store) -> None:
    assert await store.insert_many([item("1"), item("2"), item("3")]) == [True, True, True]
    assert [r.key for r in await store.find("case", "state:open")] == ["1", "2", "3"]
    assert [r.key for r in await store.find("case", "n:2")] == ["2"]
    stored = await store.get("case", "2")
    assert stored is not None and stored.version == 1 and stored.data == {"title": "t"}
    assert await store.outbox_size("slack") == 3
    assert len(await store.pending_timers("case:")) == 3
    assert sorted(e.subject for e in await store.audit_log()) == ["case:1", "case:2", "case:3"]


async def test_duplicates_write_nothing_also_within_the_batch(store: Store) -> None:
    assert (await store.insert(*item("1", title="first"))).ok
    batch = [item("1", title="again"), item("2"), item("2", title="twice")]
    assert await store.insert_many(batch) == [False, True, False]
    first, second = await store.get("case", "1"), await store.get("case", "2")
    assert first is not None and first.data == {"title": "first"}
    assert second is not None and second.data == {"title": "t"}
    assert await store.outbox_size("slack") == 2
    assert len(await store.audit_log()) == 2
    # Re-sending the whole batch stores nothing more.
    assert await store.insert_many(batch) == [False, False, False]
    assert await store.outbox_size("slack") == 2


async def test_an_empty_batch_is_a_no_op(store: Store) -> None:
    assert await store.insert_many([]) == []


async def test_a_batch_may_not_complete_a_timer(store: Store) -> None:
    record, _ = item("1")
    with pytest.raises(ValueError, match="timer"):
        await store.insert_many([(record, Effects(complete_timer=("t", 1)))])
    assert await store.get("case", "1") is None


async def test_a_large_batch_keeps_item_order_and_skips_repeats_anywhere_in_it(
    store: Store,
) -> None:
    assert (await store.insert(*item("old", title="stored before"))).ok
    keys = [f"k{n:03d}" for n in range(450)]
    keys[300] = keys[10]  # a repeat far from its first occurrence
    keys[420] = "old"
    assert await store.insert_many([item(key, title=f"at {n}") for n, key in enumerate(keys)]) == [
        n not in (300, 420) for n in range(450)
    ]
    first = await store.get("case", keys[10])
    assert first is not None and first.data == {"title": "at 10"}
    new_keys = [key for n, key in enumerate(keys) if n not in (300, 420)]
    assert [r.key for r in await store.find("case", "state:open", limit=500)] == ["old", *new_keys]
    assert [r.key for r in await store.find("case", f"n:{keys[10]}")] == [keys[10]]
    leased = await store.lease_outbox("slack", T0, "worker", timedelta(minutes=1), limit=500)
    assert [lease.item.id for lease in leased] == ["mold", *(f"m{key}" for key in new_keys)]
    timers = await store.pending_timers("case:")
    assert sorted(t.key for t in timers) == sorted(f"case:{key}:sla" for key in ["old", *new_keys])
    entries = await store.audit_log(limit=1000)
    assert [e.subject for e in entries] == [f"case:{key}" for key in ["old", *new_keys]]


async def test_effects_apply_item_by_item_when_an_item_cancels_a_timer(store: Store) -> None:
    shared = Timer("shared:sla", "sla", T0)
    scheduling = (case("1", "state:open"), Effects(timers=(shared,)))
    cancelling = (case("2", "state:open"), Effects(cancel_timers=("shared:sla",)))
    assert await store.insert_many([scheduling, cancelling]) == [True, True]
    assert await store.pending_timers("shared:") == []
    later = (case("3", "state:open"), Effects(timers=(shared,)))
    again = (case("4", "state:open"), Effects(cancel_timers=("shared:sla",)))
    assert await store.insert_many([again, later]) == [True, True]
    assert [t.key for t in await store.pending_timers("shared:")] == ["shared:sla"]
