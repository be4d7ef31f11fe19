"""The fake PagerDuty endpoint behaves as PagerDuty documents (tested with raw HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.fakes.pagerduty_events import FakePagerDuty

KEY = "R0123456789abcdef0123456789abcde"


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    fake = FakePagerDuty(KEY)
    await fake.start()
    yield fake
    await fake.close()


async def send(fake: FakePagerDuty, event: object) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.post(fake.url, json=event) as answer:
        return answer.status, await answer.json(content_type=None) if answer.status in (
            202,
            400,
            429,
        ) else {}


def trigger(key: str = "CR-1") -> dict[str, object]:
    return {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {"summary": "Outage", "source": "playcaller", "severity": "error"},
    }


async def test_dedup_ack_resolve_and_reopen(pagerduty: FakePagerDuty) -> None:
    assert await send(pagerduty, trigger()) == (
        202,
        {"status": "success", "message": "Event processed", "dedup_key": "CR-1"},
    )
    await send(pagerduty, trigger())
    assert len(pagerduty.alerts) == 1 and pagerduty.alerts[0].triggers == 2
    await send(pagerduty, {"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "CR-1"})
    assert pagerduty.alerts[0].status == "acknowledged"
    await send(pagerduty, {"routing_key": KEY, "event_action": "resolve", "dedup_key": "CR-1"})
    assert pagerduty.alerts[0].status == "resolved" and pagerduty.open_alert("CR-1") is None
    # acknowledge after resolve is dropped; a new trigger opens a new alert
    await send(pagerduty, {"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "CR-1"})
    assert pagerduty.alerts[0].log == ["trigger", "trigger", "acknowledge", "resolve"]
    await send(pagerduty, trigger())
    assert len(pagerduty.alerts) == 2


async def test_invalid_events_get_400_with_the_reasons(pagerduty: FakePagerDuty) -> None:
    status, body = await send(
        pagerduty,
        {"routing_key": "wrong", "event_action": "trigger", "dedup_key": "x" * 256, "payload": {}},
    )
    assert status == 400 and body["status"] == "invalid event"
    errors = body["errors"]
    assert isinstance(errors, list)
    assert "'routing_key' is invalid" in errors
    assert "'dedup_key' is too long (maximum is 255 characters)" in errors
    assert "'payload.summary' is missing or blank" in errors
    assert pagerduty.events == [] and pagerduty.alerts == []


async def test_faults_are_answered_before_anything_is_applied(pagerduty: FakePagerDuty) -> None:
    pagerduty.rate_limit_next()
    pagerduty.fail_next()
    assert (await send(pagerduty, trigger()))[0] == 429
    assert (await send(pagerduty, trigger()))[0] == 500
    assert pagerduty.alerts == []
    assert (await send(pagerduty, trigger()))[0] == 202
    assert pagerduty.statuses == [429, 500, 202]
