"""The intake stream's faults in one process: redelivery and poison entries.

Arrival counters (surge mode and spike alerts) are written with each
mention's insert, so a batch admitted again after its consumer died counts
each mention once; an entry that fails admission is left out of its batch and
retried alone until its last delivery moves it to the dead-letter stream.
Consumers are driven step by step as in ``tests/test_intake_stream.py``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from redis.exceptions import ReadOnlyError

from bot.app import Loaded
from bot.core.settings import SpikePolicy
from bot.core.storage import Store
from bot.intake.feed import parse_mention
from bot.intake.stream import GROUP, StreamConsumer, StreamSettings, document, enqueue, watch_stream
from bot.store.redis import RedisStore
from handlers.surge import spikes, window
from handlers.triage.records import KIND
from tests.test_intake_stream import Rig, incoming, received


@pytest.fixture
async def rig(loaded: Loaded, namespace: str) -> AsyncIterator[Rig]:
    made = Rig(loaded, namespace)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def namespace(redis_namespace: str) -> str:
    return redis_namespace


async def arrivals(store: Store) -> int:
    """Mentions the spokes' arrival counters hold (topics are counted apart)."""
    counts = await store.counts(window.ARRIVALS)
    return sum(v for name, v in counts.items() if not name.startswith(window.ARRIVALS + "topic."))


async def admitted(consumer: StreamConsumer) -> float:
    """``playcaller_intake_stream_admitted_total`` as ``/metrics`` shows it."""
    body, _ = await consumer.runtime.metrics.exposition()
    found = re.search(rb"^playcaller_intake_stream_admitted_total ([0-9.e+]+)$", body, re.M)
    return float(found.group(1)) if found else 0.0


async def test_a_batch_redelivered_after_its_consumer_died_is_counted_once(rig: Rig) -> None:
    dead, alive = await rig.consumer(), await rig.consumer()
    await enqueue(dead.stream, [incoming(n) for n in range(6)], rig.clock.now())
    await dead.stream.intake_group(GROUP)
    # The dead consumer read six, admitted four, and died before acknowledging.
    assert len(await dead.stream.intake_read(GROUP, dead.name, 10, None)) == 6
    await dead.runtime.ingest_batch([parse_mention(document(incoming(n))) for n in range(4)])
    store = alive.runtime.store
    assert await arrivals(store) == 4

    assert await alive.step() == 6  # taken over and admitted again
    assert await arrivals(store) == 6
    for n in range(6):
        assert await received(store, n) == ["mention.received"], n
    # A duplicate sent again by a listening tool counts nothing either.
    assert await alive.runtime.ingest_batch([incoming(0), incoming(5)]) == [False, False]
    assert await arrivals(store) == 6


async def test_one_poison_entry_costs_only_itself(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    settings = StreamSettings(batch=500, claim_idle=timedelta(0), max_deliveries=5)
    consumer = await rig.consumer(settings)
    stream, store = consumer.stream, consumer.runtime.store
    good = [incoming(n) for n in range(499)]
    await enqueue(stream, [*good[:250], incoming(999), *good[250:]], rig.clock.now())
    # The poison one: its mention's key holds something that is not a record
    # (written by hand, or by a bug), so the store refuses to admit it.
    assert isinstance(store, RedisStore)
    await store._redis().set(store._record_key(KIND, "x:s-999"), "not a record")
    caplog.set_level(logging.WARNING, logger="bot.intake.stream")

    assert await consumer.step() == 500
    # The 499 good ones were admitted once, in the first delivery, and acknowledged.
    assert await arrivals(store) == 499
    for n in (0, 249, 250, 498):
        assert await received(store, n) == ["mention.received"], n
    assert await store.count_tagged(KIND, "state:open") == 499
    assert await admitted(consumer) == 499
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.pending, state.dead) == (1, 1, 0)
    assert "one by one" not in caplog.text

    for delivery in range(2, 5):
        assert await consumer.step() == 1  # only the poison one is tried again
        assert (await stream.intake_state(GROUP)).dead == 0, delivery
    assert await consumer.step() == 1
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.pending, state.dead) == (0, 0, 1)
    assert await arrivals(store) == 499
    assert await admitted(consumer) == 499
    [dead] = await store.intake_dead_letters()
    assert dead["deliveries"] == "5"
    assert dead["reason"].startswith("failed admission (ResponseError: WRONGTYPE")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage().split(": ")[0] for r in errors] == [
        f"intake stream entry {dead['id']} moved to the dead-letter stream"
    ]
    watch_stream(consumer.runtime.metrics, stream)
    body, _ = await consumer.runtime.metrics.exposition()
    assert b"playcaller_intake_stream_dead_letters 1.0" in body


async def test_an_entry_that_breaks_its_whole_batch_is_found_by_halving(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fault outside any one mention's insert (here: surge mode's topic scan
    # meets a text it cannot take) breaks the batch as a whole.
    real = spikes.topics_in

    def topics_in(text: str, policy: SpikePolicy) -> list[str]:
        if "order 13 " in text:
            raise RuntimeError("the topic scan broke on this text")
        return real(text, policy)

    monkeypatch.setattr(spikes, "topics_in", topics_in)
    settings = StreamSettings(batch=40, claim_idle=timedelta(0), max_deliveries=2)
    consumer = await rig.consumer(settings)
    stream, store = consumer.stream, consumer.runtime.store
    await enqueue(stream, [incoming(n) for n in range(40)], rig.clock.now())
    caplog.set_level(logging.WARNING, logger="bot.intake.stream")

    assert await consumer.step() == 40
    assert await arrivals(store) == 39
    assert await admitted(consumer) == 39
    for n in (0, 12, 14, 39):
        assert await received(store, n) == ["mention.received"], n
    assert await received(store, 13) == []
    assert (await stream.intake_state(GROUP)).pending == 1
    assert await consumer.step() == 1
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.dead) == (0, 1)
    [dead] = await store.intake_dead_letters()  # type: ignore[attr-defined]
    assert dead["reason"].startswith("failed admission (RuntimeError: the topic scan broke")
    assert await arrivals(store) == 39


@pytest.mark.parametrize("fault", ["WRONGTYPE", "DataError"])
async def test_a_redis_error_one_entry_raises_for_its_batch_costs_only_that_entry(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    # One entry makes the store call fail as a whole with an error Redis (or
    # its client) gives every time, not an outage: a command on a key of the
    # wrong type, or a value the client cannot send. Real Redis answers it.
    settings = StreamSettings(batch=20, claim_idle=timedelta(0), max_deliveries=3)
    consumer = await rig.consumer(settings)
    stream, store = consumer.stream, consumer.runtime.store
    assert isinstance(store, RedisStore)
    await enqueue(stream, [incoming(n) for n in range(20)], rig.clock.now())
    wrong_type = store.key_prefix + "not-a-hash"
    await store._redis().set(wrong_type, "a string")
    real = store.insert_each
    calls: list[int] = []

    async def insert_each(items: Any) -> list[bool | Exception]:
        calls.append(len(items))
        if any(record.key == "x:s-7" for record, _ in items):
            if fault == "WRONGTYPE":
                await store._redis().hget(wrong_type, "field")
            else:
                await store._redis().set(wrong_type, None)  # type: ignore[arg-type]
        return await real(items)

    monkeypatch.setattr(store, "insert_each", insert_each)
    caplog.set_level(logging.WARNING, logger="bot.intake.stream")

    assert await consumer.step() == 20
    # The 19 others were admitted once, in the first delivery, and acknowledged.
    assert await arrivals(store) == 19
    assert await admitted(consumer) == 19
    for n in range(20):
        assert await received(store, n) == ([] if n == 7 else ["mention.received"]), n
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.pending, state.dead) == (1, 1, 0)
    assert calls[0] == 20 and len(calls) > 1  # halved down to the entry at fault

    assert await consumer.step() == 1
    assert (await stream.intake_state(GROUP)).dead == 0
    assert await consumer.step() == 1  # its third delivery, the limit
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.pending, state.dead) == (0, 0, 1)
    [dead] = await store.intake_dead_letters()
    assert dead["deliveries"] == "3"
    kind = "ResponseError: WRONGTYPE" if fault == "WRONGTYPE" else "DataError: "
    assert dead["reason"].startswith(f"failed admission ({kind}")
    assert await arrivals(store) == 19
    assert await admitted(consumer) == 19
    assert "the store is unavailable" not in caplog.text
    assert await consumer.step() == 0


@pytest.mark.parametrize("refusal", ["raised", "answered per item"])
async def test_a_store_wide_outage_longer_than_the_dead_letter_limit_loses_nothing(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    # A replica failover: every write meets READONLY, for more deliveries than
    # an entry may fail on its own. Raised by the store call, or answered for
    # each item of the pipeline (as Redis does for each script call).
    settings = StreamSettings(batch=20, claim_idle=timedelta(0), max_deliveries=3)
    consumer = await rig.consumer(settings)
    stream, store = consumer.stream, consumer.runtime.store
    await enqueue(stream, [incoming(n) for n in range(20)], rig.clock.now())
    real = store.insert_each
    calls: list[int] = []
    outage = 7

    async def insert_each(items: Any) -> list[bool | Exception]:
        calls.append(len(items))
        if len(calls) <= outage:
            error = ReadOnlyError("You can't write against a read only replica.")
            if refusal == "raised":
                raise error
            return [error for _ in items]
        return await real(items)

    monkeypatch.setattr(store, "insert_each", insert_each)
    caplog.set_level(logging.WARNING, logger="bot.intake.stream")

    for delivery in range(outage):
        assert await consumer.step() == 20, delivery
        state = await stream.intake_state(GROUP)
        assert (state.entries, state.pending, state.dead) == (20, 20, 0), delivery
    assert await arrivals(store) == 0
    # The batch was tried whole each time: no halving into single retries.
    assert calls == [20] * outage
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == outage
    assert all("left pending: the store is unavailable" in w for w in warnings)

    assert await consumer.step() == 20  # the store is back
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.pending, state.dead) == (0, 0, 0)
    assert await store.intake_dead_letters() == []  # type: ignore[attr-defined]
    assert await arrivals(store) == 20
    for n in range(20):
        assert await received(store, n) == ["mention.received"], n
    assert await admitted(consumer) == 20
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
