"""Counters that ride on a write, and ``Store.insert_each``, on every backend.

Counting with the write makes a count exactly once per committed write: a
refused insert (a duplicate, a redelivered intake entry) counts nothing, and
no crash can fall between the write and its count.
"""

from __future__ import annotations

import pytest

from bot.core.storage import Effects, Record, Store
from tests.store.test_contract import audit, case
from tests.store.test_insert_many import item


def counted(key: str, *counts: tuple[str, int], text: str = "t") -> tuple[Record, Effects]:
    record, effects = item(key, title=text)
    return record, Effects(audit=effects.audit, outbox=effects.outbox, counts=counts)


async def test_counts_commit_with_a_write_and_not_with_a_refused_one(store: Store) -> None:
    assert (await store.insert(case("1"), Effects(counts=(("seen", 1), ("seen", 2))))).ok
    assert await store.counts("seen") == {"seen": 3}
    # A duplicate insert and a lost compare-and-set count nothing.
    assert not (await store.insert(case("1"), Effects(counts=(("seen", 5),)))).ok
    assert not (await store.replace(case("1"), 7, Effects(counts=(("seen", 5),)))).ok
    assert (await store.replace(case("1"), 1, Effects(counts=(("seen", 1),)))).ok
    assert await store.apply(Effects(counts=(("other", 4),)))
    assert await store.counts() == {"other": 4, "seen": 4}
    with pytest.raises(ValueError, match="cannot go down"):
        await store.insert(case("2"), Effects(audit=(audit("x"),), counts=(("seen", -1),)))
    assert await store.get("case", "2") is None
    assert await store.counts("seen") == {"seen": 4}


async def test_a_batch_counts_only_the_records_it_created(store: Store) -> None:
    first = [counted("1", ("arrivals", 1)), counted("2", ("arrivals", 1), ("topic", 1))]
    assert await store.insert_many(first) == [True, True]
    again = [*first, counted("3", ("arrivals", 1)), counted("3", ("arrivals", 1))]
    assert await store.insert_many(again) == [False, False, True, False]
    assert await store.counts() == {"arrivals": 3, "topic": 1}


async def test_insert_each_answers_a_bad_item_alone(store: Store) -> None:
    assert (await store.insert(*counted("0", ("arrivals", 1)))).ok
    batch = [
        counted("0", ("arrivals", 1)),  # exists already
        counted("1", ("arrivals", 1)),
        # Half an emoji (a lone surrogate): no backend can store this text.
        counted("2", ("arrivals", 1), text="broken \ud83d"),
        counted("3", ("arrivals", 1)),
        counted("3", ("arrivals", 1)),  # twice in the batch
    ]
    answers = await store.insert_each(batch)
    assert answers[:2] == [False, True]
    assert isinstance(answers[2], UnicodeEncodeError)
    assert answers[3:] == [True, False]
    assert await store.get("case", "2") is None
    assert sorted(r.key for r in await store.find("case", "state:open")) == ["0", "1", "3"]
    assert await store.counts() == {"arrivals": 3}
    assert await store.outbox_size("slack") == 3
    assert sorted(e.subject for e in await store.audit_log()) == ["case:0", "case:1", "case:3"]


async def test_insert_each_refuses_a_timer_completion_and_takes_an_empty_batch(
    store: Store,
) -> None:
    assert await store.insert_each([]) == []
    record, _ = item("1")
    with pytest.raises(ValueError, match="timer"):
        await store.insert_each([item("2"), (record, Effects(complete_timer=("t", 1)))])
    assert await store.get("case", "2") is None
