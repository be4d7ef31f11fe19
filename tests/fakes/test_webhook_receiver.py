"""The fake publishing receiver checks requests as a real one must (tested with hand-made
requests, not through the publisher)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.fakes.webhook_receiver import FakeReceiver

SECRET = "whsec-test-0123456789abcdef"
NOW = 1_772_442_000


def signed(
    body: bytes, *, key: str | None = "d-1:1", at: int = NOW, secret: str = SECRET
) -> dict[str, str]:
    mac = hmac.new(secret.encode(), f"v1:{at}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Playcaller-Timestamp": str(at), "X-Playcaller-Signature": f"v1={mac}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    fake = FakeReceiver(SECRET, now=lambda: NOW)
    await fake.start()
    yield fake
    await fake.close()


async def post(
    receiver: FakeReceiver, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(receiver.url, data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.json()


async def test_publishes_a_key_once_and_repeats_the_answer(receiver: FakeReceiver) -> None:
    body = json.dumps({"id": "d-1", "text": "Thanks!"}).encode()
    first = await post(receiver, body, signed(body))
    again = await post(receiver, body, signed(body))
    other = await post(receiver, body, signed(body, key="d-1:2"))
    assert first == again == (200, {"url": "https://social.example/posts/1", "id": "post-1"})
    assert other == (200, {"url": "https://social.example/posts/2", "id": "post-2"})
    assert len(receiver.published) == 2 and receiver.repeats == 1


async def test_refuses_bad_signatures_stale_times_and_missing_keys(receiver: FakeReceiver) -> None:
    body = b'{"id":"d-1"}'
    assert await post(receiver, body, signed(body, secret="x" * 20)) == (
        401,
        {"error": "bad signature"},
    )
    assert await post(receiver, body + b" ", signed(body)) == (401, {"error": "bad signature"})
    assert await post(receiver, body, signed(body, at=NOW - 301)) == (
        401,
        {"error": "stale or missing timestamp"},
    )
    assert await post(receiver, body, signed(body, key=None)) == (
        400,
        {"error": "Idempotency-Key is required"},
    )
    assert receiver.published == []


async def test_faults_come_before_publishing(receiver: FakeReceiver) -> None:
    body = b'{"id":"d-1"}'
    receiver.fail_next(1)
    receiver.rate_limit_next(1, retry_after="7")
    receiver.reject_next(422, "Text too long")
    assert await post(receiver, body, signed(body)) == (500, {"error": "internal error"})
    assert await post(receiver, body, signed(body)) == (429, {"error": "slow down"})
    assert await post(receiver, body, signed(body)) == (422, {"error": "Text too long"})
    assert receiver.published == []
    assert (await post(receiver, body, signed(body)))[0] == 200
    assert [a.status for a in receiver.attempts] == [500, 429, 422, 200]
