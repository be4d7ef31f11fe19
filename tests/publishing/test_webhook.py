"""The publishing webhook over real HTTP on loopback: the signed request, and what each answer
of the receiver becomes (published, retry later with the same key, refused with its reason)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.core.accounts import Account, Network
from bot.core.clock import ManualClock
from bot.core.errors import ConfigError, RetryLater, Undeliverable
from bot.core.publishing import Publication, Published, ReplyTarget
from bot.outbox import RetryLater as OutboxRetryLater
from bot.outbox import Undeliverable as OutboxUndeliverable
from bot.publishing import PublishRejected, WebhookPublisher, WebhookSettings, build_request
from bot.webhooks import BACKOFF_CAP, backoff
from tests.conftest import START
from tests.fakes.webhook_receiver import FakeReceiver

SECRET = "whsec-test-0123456789abcdef"
ACCOUNT = Account("acme-x", Network.X, "@acme", "care")


def publication(
    text: str = "Hi @jane_doe, the refund is on its way.", version: int = 2
) -> Publication:
    return Publication(
        draft_id="d-41",
        version=version,
        account=ACCOUNT,
        text=text,
        drafted_by="sam",
        approved_by=("maria",),
        approved_at=datetime(2026, 3, 2, 14, 2, 7, tzinfo=UTC),
        in_reply_to=ReplyTarget("x", "1798", "https://x.com/jane_doe/status/1798"),
    )


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
async def publisher(receiver: FakeReceiver, clock: ManualClock) -> AsyncIterator[WebhookPublisher]:
    settings = WebhookSettings(receiver.url, SECRET, timeout=timedelta(seconds=0.5))
    client = WebhookPublisher(settings, clock, rng=random.Random(1))
    yield client
    await client.close()


def test_request_body_and_headers_are_exactly_the_contract() -> None:
    request = build_request(publication(), secret=SECRET, now=START)
    assert list(json.loads(request.body)) == [
        "id",
        "account",
        "in_reply_to",
        "text",
        "drafted_by",
        "approved_by",
        "approved_at",
    ]
    assert json.loads(request.body) == {
        "id": "d-41",
        "account": {"id": "acme-x", "network": "x", "handle": "@acme"},
        "in_reply_to": {"network": "x", "id": "1798", "url": "https://x.com/jane_doe/status/1798"},
        "text": "Hi @jane_doe, the refund is on its way.",
        "drafted_by": "sam",
        "approved_by": ["maria"],
        "approved_at": "2026-03-02T14:02:07Z",
    }
    timestamp = str(int(START.timestamp()))
    digest = hmac.new(SECRET.encode(), f"v1:{timestamp}:".encode() + request.body, hashlib.sha256)
    assert request.headers["Idempotency-Key"] == "d-41:2"
    assert request.headers["X-Playcaller-Timestamp"] == timestamp
    assert request.headers["X-Playcaller-Signature"] == "v1=" + digest.hexdigest()
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"


def test_a_new_post_has_no_reply_target_and_bytes_repeat_exactly() -> None:
    post = Publication("d-7", 1, ACCOUNT, "Spring sale 🌷", "maria", ("lee", "priya"), START)
    first = build_request(post, secret=SECRET, now=START)
    again = build_request(post, secret=SECRET, now=START + timedelta(hours=3))
    assert json.loads(first.body)["in_reply_to"] is None
    assert first.body == again.body  # the same publication is the same bytes on every attempt
    assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"] == "d-7:1"
    assert first.headers["X-Playcaller-Signature"] != again.headers["X-Playcaller-Signature"]


def test_hostile_text_travels_as_data() -> None:
    text = 'Sorry! "<!channel>" </script>\n\u202e{{ x }} \\u0000 \x00 😷'
    request = build_request(publication(text), secret=SECRET, now=START)
    assert json.loads(request.body)["text"] == text


async def test_published_once_with_where_it_landed(
    publisher: WebhookPublisher, receiver: FakeReceiver
) -> None:
    result = await publisher.publish(publication(), attempt=1)
    assert result == Published(url="https://social.example/posts/1", id="post-1")
    assert [p["text"] for p in receiver.published] == ["Hi @jane_doe, the refund is on its way."]
    assert [a.key for a in receiver.attempts] == ["d-41:2"]


async def test_fails_twice_then_succeeds_publishes_once(
    publisher: WebhookPublisher, receiver: FakeReceiver, clock: ManualClock
) -> None:
    receiver.fail_next(2, status=503)
    waits = []
    for attempt in (1, 2):
        with pytest.raises(RetryLater) as caught:
            await publisher.publish(publication(), attempt=attempt)
        assert "503" in caught.value.reason and not caught.value.paced
        waits.append(caught.value.after)
        clock.advance(caught.value.after)
    result = await publisher.publish(publication(), attempt=3)
    assert result.url == "https://social.example/posts/1"
    assert len(receiver.published) == 1
    assert [(a.key, a.status) for a in receiver.attempts] == [
        ("d-41:2", 503),
        ("d-41:2", 503),
        ("d-41:2", 200),
    ]
    assert timedelta(seconds=2.5) <= waits[0] <= timedelta(seconds=5)
    assert timedelta(seconds=5) <= waits[1] <= timedelta(seconds=10)


async def test_answer_lost_after_publishing_is_retried_with_the_same_key(
    publisher: WebhookPublisher, receiver: FakeReceiver
) -> None:
    receiver.drop_after_publish_next()
    with pytest.raises(RetryLater):
        await publisher.publish(publication(), attempt=1)
    result = await publisher.publish(publication(), attempt=2)
    assert result == Published(url="https://social.example/posts/1", id="post-1")
    assert len(receiver.published) == 1 and receiver.repeats == 1


async def test_rate_limit_waits_for_retry_after_without_counting_as_failure(
    publisher: WebhookPublisher, receiver: FakeReceiver
) -> None:
    receiver.rate_limit_next(retry_after="42")
    with pytest.raises(RetryLater) as caught:
        await publisher.publish(publication(), attempt=1)
    assert caught.value.after == timedelta(seconds=42) and caught.value.paced
    assert receiver.published == []


async def test_rate_limit_with_an_http_date(
    publisher: WebhookPublisher, receiver: FakeReceiver
) -> None:
    receiver.rate_limit_next(retry_after="Mon, 02 Mar 2026 09:02:00 GMT")  # START is 09:00
    with pytest.raises(RetryLater) as caught:
        await publisher.publish(publication(), attempt=1)
    assert caught.value.after == timedelta(minutes=2)


async def test_timeout_is_retried(publisher: WebhookPublisher, receiver: FakeReceiver) -> None:
    receiver.hang_next()
    with pytest.raises(RetryLater) as caught:
        await publisher.publish(publication(), attempt=1)
    assert caught.value.reason == "no answer within 0.5s"
    assert receiver.published == []


async def test_unreachable_receiver_is_retried(clock: ManualClock) -> None:
    fake = FakeReceiver(SECRET)
    await fake.start()
    url = fake.url
    await fake.close()  # nothing listens on the port any more
    client = WebhookPublisher(WebhookSettings(url, SECRET), clock, rng=random.Random(1))
    try:
        with pytest.raises(RetryLater) as caught:
            await client.publish(publication(), attempt=1)
    finally:
        await client.close()
    assert caught.value.reason.startswith("could not reach the receiver")


async def test_refusal_carries_the_receivers_reason(
    publisher: WebhookPublisher, receiver: FakeReceiver
) -> None:
    receiver.reject_next(422, "Text exceeds 280 characters")
    with pytest.raises(PublishRejected) as caught:
        await publisher.publish(publication(), attempt=1)
    assert (caught.value.status, caught.value.reason) == (422, "Text exceeds 280 characters")
    assert str(caught.value) == (
        "the publishing system refused it (422): Text exceeds 280 characters"
    )
    assert isinstance(caught.value, OutboxUndeliverable)  # the outbox's own type
    assert receiver.published == []


async def test_hostile_reason_is_flattened_and_cut(
    publisher: WebhookPublisher, receiver: FakeReceiver
) -> None:
    receiver.reject_next(400, "bad\n\n<!channel>\u202e" + "x" * 1000)
    with pytest.raises(PublishRejected) as caught:
        await publisher.publish(publication(), attempt=1)
    assert caught.value.reason.startswith("bad <!channel> xxx")
    assert len(caught.value.reason) == 300 and "\n" not in caught.value.reason


async def test_wrong_secret_is_refused_by_the_receiver(
    receiver: FakeReceiver, clock: ManualClock
) -> None:
    client = WebhookPublisher(WebhookSettings(receiver.url, "not-the-shared-secret"), clock)
    try:
        with pytest.raises(PublishRejected) as caught:
            await client.publish(publication(), attempt=1)
    finally:
        await client.close()
    assert (caught.value.status, caught.value.reason) == (401, "bad signature")
    assert receiver.published == []


async def test_a_replayed_old_request_is_refused(
    publisher: WebhookPublisher, receiver: FakeReceiver, clock: ManualClock
) -> None:
    request = build_request(publication(), secret=SECRET, now=clock.now())
    clock.advance(timedelta(minutes=5, seconds=1))
    async with (
        aiohttp.ClientSession() as session,
        session.post(receiver.url, data=request.body, headers=request.headers) as answer,
    ):
        assert answer.status == 401
        assert await answer.json() == {"error": "stale or missing timestamp"}
    assert receiver.published == []


def test_answers_become_outcomes(clock: ManualClock) -> None:
    client = WebhookPublisher(WebhookSettings("http://127.0.0.1:9/", SECRET), clock)
    assert client.outcome(204, b"", None, attempt=1) == Published()
    assert client.outcome(200, b"not json", None, attempt=1) == Published()
    hostile = json.dumps({"url": "javascript:alert(1)", "id": {"x": 1}}).encode()
    assert client.outcome(201, hostile, None, attempt=1) == Published()
    assert client.outcome(200, b'{"id": 17}', None, attempt=1) == Published(id="17")
    with pytest.raises(RetryLater):
        client.outcome(408, b"", None, attempt=1)
    with pytest.raises(RetryLater):
        client.outcome(500, b"", None, attempt=1)
    with pytest.raises(PublishRejected) as moved:
        client.outcome(301, b"", None, attempt=1)
    assert moved.value.reason == "status 301"
    with pytest.raises(PublishRejected) as text:
        client.outcome(403, b"Account suspended", None, attempt=1)
    assert text.value.reason == "Account suspended"
    with pytest.raises(RetryLater) as no_header:
        client.outcome(429, b"", None, attempt=3)
    assert no_header.value.paced and timedelta(seconds=10) <= no_header.value.after <= timedelta(
        seconds=20
    )


def test_backoff_doubles_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(5)
    for attempt in range(1, 12):
        ceiling = min(BACKOFF_CAP, timedelta(seconds=5) * 2 ** (attempt - 1))
        wait = backoff(attempt, rng)
        assert ceiling / 2 <= wait <= ceiling
    assert len({backoff(4, rng) for _ in range(20)}) > 1  # jittered, not in lock-step
    assert backoff(10_000, rng) <= BACKOFF_CAP


def test_the_errors_are_the_outboxs() -> None:
    assert RetryLater is OutboxRetryLater and Undeliverable is OutboxUndeliverable


def test_settings_from_the_environment() -> None:
    assert WebhookSettings.from_env({}) is None  # no URL: manual publishing
    settings = WebhookSettings.from_env(
        {
            "PLAYCALLER_PUBLISH_URL": "https://hooks.acme.example/publish",
            "PLAYCALLER_PUBLISH_SECRET": SECRET,
        }
    )
    assert settings is not None and settings.url == "https://hooks.acme.example/publish"
    assert SECRET not in repr(settings)
    with pytest.raises(ConfigError) as missing:
        WebhookSettings.from_env({"PLAYCALLER_PUBLISH_URL": "ftp://acme.example"})
    assert [p.message for p in missing.value.problems] == [
        "PLAYCALLER_PUBLISH_URL must be an http(s) URL",
        "PLAYCALLER_PUBLISH_SECRET must be set (at least 16 characters) when PLAYCALLER_PUBLISH_URL is",
    ]
