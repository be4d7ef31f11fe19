"""Publishing through the outbox's publish lane, on a real SQLite file and a
real Redis, against the loopback receiver, with an injected clock: one POST
per Idempotency-Key that the receiver accepts, retries with the same key for
up to 24 hours, refusals with the receiver's reason, and every outcome back
to the routers as a PublicationSettled event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import Loaded
from bot.core.clock import ManualClock
from bot.core.publishing import PUBLISH_LANE, SETTLED_TIMER
from tests.conftest import START
from tests.fakes.webhook_receiver import FakeReceiver
from tests.publishing.rig import SECRET, PublishRig, a_publication

KEY = "d-41:2"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def receiver(clock: ManualClock) -> AsyncIterator[FakeReceiver]:
    fake = FakeReceiver(SECRET, now=lambda: clock.now().timestamp())
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def rig(
    loaded: Loaded, store_backend: tuple[str, str], clock: ManualClock, receiver: FakeReceiver
) -> AsyncIterator[PublishRig]:
    url, namespace = store_backend
    opened = await PublishRig.open(loaded, url, namespace, clock, receiver)
    yield opened
    await opened.close()


def keys(receiver: FakeReceiver) -> list[str | None]:
    return [attempt.key for attempt in receiver.attempts]


async def test_the_publish_request_commits_with_the_deciding_write_only(rig: PublishRig) -> None:
    assert await rig.approve(a_publication())
    assert await rig.store.outbox_size(PUBLISH_LANE) == 1
    # A second approver's stale write (the record moved on) queues nothing.
    assert not await rig.approve(a_publication(), expected_version=0)
    # The same round queued again while it waits is the same item.
    assert await rig.approve(a_publication())
    assert await rig.store.outbox_size(PUBLISH_LANE) == 1
    # Chat platforms never see it.
    assert await rig.store.outbox_size("console") == 0


async def test_a_receiver_failing_twice_then_accepting_publishes_once(
    rig: PublishRig, receiver: FakeReceiver, clock: ManualClock
) -> None:
    receiver.fail_next(2, status=503)
    await rig.approve(a_publication())
    assert await rig.settle() == 0
    clock.advance(timedelta(seconds=5))  # the first back-off is 2.5-5 s
    assert await rig.settle() == 0
    assert len(receiver.attempts) == 2
    clock.advance(timedelta(seconds=10))  # the second is 5-10 s
    assert await rig.settle() == 1

    assert keys(receiver) == [KEY, KEY, KEY]
    assert [a.status for a in receiver.attempts] == [503, 503, 200]
    assert len(receiver.published) == 1
    assert receiver.published[0]["text"] == "Hi @jane_doe, the refund is on its way."
    [settled] = await rig.settlements()
    assert settled["state"] == "published"
    assert settled["url"] == "https://social.example/posts/1"
    assert settled["post_id"] == "post-1"
    assert settled["attempts"] == 3
    assert await rig.store.outbox_size(PUBLISH_LANE) == 0
    # The settlement was handled once: its timer is gone, nothing fires again.
    assert await rig.store.pending_timers(SETTLED_TIMER) == []
    clock.advance(timedelta(hours=1))
    await rig.settle()
    assert len(await rig.settlements()) == 1
    [entry] = await rig.store.audit_log(f"publication:{KEY}")
    assert entry.action == "publication.published" and entry.detail["attempts"] == 3


async def test_a_429_is_tried_again_after_its_retry_after(
    rig: PublishRig, receiver: FakeReceiver, clock: ManualClock
) -> None:
    receiver.rate_limit_next(1, retry_after="120")
    await rig.approve(a_publication())
    await rig.settle()
    clock.advance(timedelta(seconds=119))
    await rig.settle()
    assert [a.status for a in receiver.attempts] == [429]
    clock.advance(timedelta(seconds=1))
    await rig.settle()
    assert [a.status for a in receiver.attempts] == [429, 200]
    assert [s["state"] for s in await rig.settlements()] == ["published"]


async def test_a_refusal_fails_with_the_receivers_reason_and_a_retry_round_reuses_the_key(
    rig: PublishRig, receiver: FakeReceiver, clock: ManualClock
) -> None:
    receiver.reject_next(422, "Text exceeds 280 characters for @acme")
    await rig.approve(a_publication())
    assert await rig.settle() == 1
    [failed] = await rig.settlements()
    assert failed["state"] == "failed"
    assert failed["reason"] == "Text exceeds 280 characters for @acme"
    assert failed["attempts"] == 1 and failed["round"] == 0
    assert receiver.published == []
    [entry] = await rig.store.audit_log(f"publication:{KEY}")
    assert entry.action == "publication.failed"
    assert entry.detail["reason"] == "Text exceeds 280 characters for @acme"

    # An authorised retry: a new round, the same Idempotency-Key.
    clock.advance(timedelta(minutes=3))
    assert await rig.approve(a_publication(), round=1)
    assert await rig.settle() == 1
    assert keys(receiver) == [KEY, KEY]
    assert len(receiver.published) == 1
    assert [(s["state"], s["round"]) for s in await rig.settlements()] == [
        ("failed", 0),
        ("published", 1),
    ]


async def test_retrying_stops_after_24_hours_and_the_publication_fails(
    rig: PublishRig, receiver: FakeReceiver, clock: ManualClock
) -> None:
    receiver.fail_next(10_000, status=500)
    await rig.approve(a_publication())
    deadline = START + timedelta(hours=24)
    while clock.now() < deadline:
        assert await rig.settle() == 0
        assert await rig.settlements() == []
        clock.advance(timedelta(minutes=15))  # the longest back-off
    tried = len(receiver.attempts)
    assert await rig.settle() == 1  # the last try, at the deadline
    assert len(receiver.attempts) == tried + 1
    [failed] = await rig.settlements()
    assert failed["state"] == "failed"
    assert failed["reason"] == "no success within 24 hours; last: the receiver answered 500"
    assert failed["attempts"] == len(receiver.attempts)
    assert set(keys(receiver)) == {KEY}
    clock.advance(timedelta(hours=2))
    await rig.settle()
    assert len(receiver.attempts) == tried + 1
    assert await rig.store.outbox_size(PUBLISH_LANE) == 0


async def test_an_answer_lost_after_publishing_is_sent_again_with_the_same_key(
    rig: PublishRig, receiver: FakeReceiver, clock: ManualClock
) -> None:
    receiver.drop_after_publish_next()
    await rig.approve(a_publication())
    assert await rig.settle() == 0
    clock.advance(timedelta(seconds=5))
    assert await rig.settle() == 1
    assert keys(receiver) == [KEY, KEY]
    assert len(receiver.published) == 1 and receiver.repeats == 1
    [settled] = await rig.settlements()
    assert settled["state"] == "published" and settled["url"] == "https://social.example/posts/1"


async def test_two_processes_on_one_store_send_one_post_per_key(
    loaded: Loaded,
    store_backend: tuple[str, str],
    clock: ManualClock,
    receiver: FakeReceiver,
    rig: PublishRig,
) -> None:
    url, namespace = store_backend
    other = await PublishRig.open(loaded, url, namespace, clock, receiver, seed=11)
    try:
        drafts = [a_publication(f"d-{n}", 1) for n in range(20)]
        for publication in drafts:
            assert await rig.approve(publication)
        await asyncio.gather(rig.settle(), other.settle(), rig.settle(), other.settle())
        await asyncio.gather(rig.settle(), other.settle())
    finally:
        await other.close()
    assert sorted(keys(receiver)) == sorted(p.key for p in drafts)
    assert len(receiver.published) == 20 and receiver.repeats == 0
    for publication in drafts:
        [settled] = await rig.settlements(publication.draft_id)
        assert settled["state"] == "published"
