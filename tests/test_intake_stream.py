"""The intake stream (Redis) in one process: consumers driven step by step.

Several consumers here are several runtimes on one namespace, each with its
own store connection, as several ``serve`` processes would be. A min-idle of
zero stands in for "the other consumer has been silent long enough", so no
test waits for time to pass. ``serve`` processes over loopback, killed with
SIGKILL, are in ``tests/test_intake_stream_serve.py``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.intake.feed import IncomingMention, parse_mention
from bot.intake.stream import (
    GROUP,
    StreamConsumer,
    StreamSettings,
    document,
    enqueue,
    stream_of,
    watch_stream,
)
from bot.runtime import Runtime
from bot.store import open_store
from bot.store.redis import RedisStore
from handlers.triage.records import KIND, from_record
from tests.conftest import REDIS_URL, START

IDLE_NOW = StreamSettings(batch=10, claim_idle=timedelta(0), max_deliveries=3)


@pytest.fixture
async def namespace(redis_namespace: str) -> str:
    return redis_namespace


class Rig:
    def __init__(self, loaded: Loaded, namespace: str) -> None:
        self.loaded = loaded
        self.namespace = namespace
        self.clock = ManualClock(START)
        self.runtimes: list[Runtime] = []

    async def runtime(self) -> Runtime:
        runtime = await open_runtime(
            self.loaded,
            store=open_store(REDIS_URL, namespace=self.namespace),
            clock=self.clock,
            platforms=["console"],
        )
        self.runtimes.append(runtime)
        return runtime

    async def consumer(self, settings: StreamSettings = IDLE_NOW) -> StreamConsumer:
        runtime = await self.runtime()
        stream = stream_of(runtime)
        assert stream is not None
        return StreamConsumer(runtime, stream, settings)

    async def close(self) -> None:
        for runtime in self.runtimes:
            await runtime.store.close()


@pytest.fixture
async def rig(loaded: Loaded, namespace: str) -> AsyncIterator[Rig]:
    made = Rig(loaded, namespace)
    try:
        yield made
    finally:
        await made.close()


def incoming(n: int, **changes: Any) -> IncomingMention:
    item: dict[str, Any] = {
        "network": "x",
        "id": f"s-{n}",
        "text": f"@acme order {n} arrived broken",
        "created_at": "2026-03-02T08:59:00Z",
        # High reach: a card of its own even once the spoke is in a surge.
        "author": {"handle": f"user{n}", "followers": 50_000},
    }
    item.update(changes)
    return parse_mention(item)


async def received(store: Any, n: int) -> list[str]:
    """Who admitted mention ``n``: one ``mention.received`` entry per admission."""
    return [
        e.action
        for e in await store.audit_log(f"mention:x:s-{n}")
        if e.action == "mention.received"
    ]


async def mention_cards(store: RedisStore) -> list[str]:
    """The card keys of the mention cards queued in the outbox (one per post)."""
    client = store._redis()
    cards = []
    async for key in client.scan_iter(match=f"{store.key_prefix}ob:*", count=1000):
        op, card = await client.hmget(key, ["op", "card"])
        if op == "post" and card.startswith("mention:"):
            cards.append(card)
    return cards


def test_a_mention_survives_the_trip_through_the_stream_unchanged() -> None:
    full = parse_mention(
        {
            "network": "mastodon",
            "id": 17,
            "text": "hi @acme",
            "created_at": "2026-03-02T09:00:00+02:00",
            "author": {"handle": "ann", "name": "Ann", "followers": 3, "bot": True},
            "url": "https://example.social/@ann/17",
            "lang": "EN",
            "in_reply_to": 16,
            "tags": ["a"],
        }
    )
    assert parse_mention(document(full)) == full
    bare = incoming(1)
    assert parse_mention(document(bare)) == bare


async def test_accepting_answers_duplicates_before_and_after_admission(rig: Rig) -> None:
    consumer = await rig.consumer()
    stream = consumer.stream
    first = await enqueue(stream, [incoming(1), incoming(2), incoming(1)], rig.clock.now())
    assert first == [True, True, False]
    assert await enqueue(stream, [incoming(2)], rig.clock.now()) == [False]
    # Accepted, not admitted: the mention is not in the store yet.
    assert await consumer.runtime.store.get(KIND, "x:s-1") is None
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.lag) == (2, 2)

    rig.clock.advance(timedelta(minutes=3))
    assert await consumer.step() == 2
    record = await consumer.runtime.store.get(KIND, "x:s-1")
    assert record is not None
    # The SLA runs from when /intake accepted it, not from admission.
    assert from_record(record).received_at == START
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.pending, state.lag) == (0, 0, 0)
    assert await enqueue(stream, [incoming(1), incoming(3)], rig.clock.now()) == [False, True]


async def test_two_consumers_share_the_work_and_admit_each_mention_once(rig: Rig) -> None:
    one, two = await rig.consumer(), await rig.consumer()
    await enqueue(one.stream, [incoming(n) for n in range(45)], rig.clock.now())
    handled = [0, 0]
    while True:
        first, second = await one.step(), await two.step()
        if not first + second:
            break
        handled[0] += first
        handled[1] += second
    assert sum(handled) == 45
    assert min(handled) >= 10, handled  # both took batches
    store = one.runtime.store
    for n in range(45):
        assert await received(store, n) == ["mention.received"], n
    cards = await mention_cards(one.runtime.store)  # type: ignore[arg-type]
    assert sorted(cards) == sorted(f"mention:x:s-{n}" for n in range(45))
    assert (await one.stream.intake_state(GROUP)).entries == 0


async def test_a_consumer_that_died_after_admitting_leaves_nothing_twice(rig: Rig) -> None:
    dead, alive = await rig.consumer(), await rig.consumer()
    await enqueue(dead.stream, [incoming(n) for n in range(6)], rig.clock.now())
    await dead.stream.intake_group(GROUP)
    # The dead consumer read six, admitted the first four, and was killed
    # before acknowledging anything.
    read = await dead.stream.intake_read(GROUP, dead.name, 10, None)
    assert len(read) == 6
    await dead.runtime.ingest_batch([parse_mention(document(incoming(n))) for n in range(4)])
    assert (await alive.stream.intake_state(GROUP)).pending == 6

    assert await alive.step() == 6  # XAUTOCLAIM: idle long enough (min-idle 0 here)
    store = alive.runtime.store
    for n in range(6):
        assert await received(store, n) == ["mention.received"], n
    cards = await mention_cards(alive.runtime.store)  # type: ignore[arg-type]
    assert sorted(cards) == sorted(f"mention:x:s-{n}" for n in range(6))
    state = await alive.stream.intake_state(GROUP)
    assert (state.entries, state.pending, state.dead) == (0, 0, 0)


async def test_a_poison_entry_ends_in_the_dead_letter_stream_with_a_log_line(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    consumer = await rig.consumer()
    stream = consumer.stream
    # An entry no version of Playcaller can read (written by hand, or by a
    # bug), among good ones: the good ones are admitted, the bad one is tried
    # max_deliveries times and then set aside, never dropped silently.
    await stream.intake_enqueue(KIND, [("x:bad", '{"network": "x"}')], 1)
    await enqueue(stream, [incoming(1), incoming(2)], rig.clock.now())
    caplog.set_level(logging.WARNING, logger="bot.intake.stream")
    for _ in range(IDLE_NOW.max_deliveries - 1):
        await consumer.step()
        assert (await stream.intake_state(GROUP)).dead == 0
    assert await consumer.runtime.store.get(KIND, "x:s-1") is not None
    # Its last delivery fails it into the dead-letter stream at once (not a
    # claim-idle later).
    await consumer.step()
    state = await stream.intake_state(GROUP)
    assert (state.entries, state.pending, state.dead) == (0, 0, 1)
    [dead] = await consumer.runtime.store.intake_dead_letters()  # type: ignore[attr-defined]
    assert dead["m"] == '{"network": "x"}'
    assert dead["deliveries"] == str(IDLE_NOW.max_deliveries)
    assert "moved to the dead-letter stream" in caplog.text
    assert "unreadable (id:" in caplog.text
    watch_stream(consumer.runtime.metrics, stream)
    body, _ = await consumer.runtime.metrics.exposition()
    assert b"playcaller_intake_stream_dead_letters 1.0" in body
    assert b"playcaller_intake_stream_pending 0.0" in body
