"""PagerDuty Events API v2 against the local fake: one alert per incident,
429 and 5xx retried later, invalid events refused with PagerDuty's reasons."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.errors import ConfigError, RetryLater, Undeliverable
from bot.core.paging import PageAction
from bot.paging import PagerDutyPager, PagerDutySettings
from bot.paging.http import PageRejected
from tests.conftest import START
from tests.fakes.pagerduty_events import FakePagerDuty
from tests.paging.conftest import a_page

KEY = "R0123456789abcdef0123456789abcde"


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    fake = FakePagerDuty(KEY)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def pager(pagerduty: FakePagerDuty) -> AsyncIterator[PagerDutyPager]:
    settings = PagerDutySettings.from_env(
        {"PAGERDUTY_ROUTING_KEY": KEY, "PAGERDUTY_EVENTS_URL": pagerduty.url}
    )
    assert settings is not None
    adapter = PagerDutyPager(settings, ManualClock(START), rng=random.Random(1))
    yield adapter
    await adapter.close()


async def test_trigger_acknowledge_resolve_keep_one_alert(
    pager: PagerDutyPager, pagerduty: FakePagerDuty
) -> None:
    sent = await pager.send(a_page(key="CR-42:trigger", recipient=None), attempt=1)
    assert sent.reference == "CR-42"
    event = pagerduty.events[0]
    assert event["dedup_key"] == "CR-42" and event["event_action"] == "trigger"
    assert event["payload"]["severity"] == "critical"
    assert event["payload"]["summary"] == "CR-42 (sev1): AcmePay app down for card payments"
    assert event["payload"]["custom_details"]["room"] == "https://acme.slack.com/archives/C42"
    await pager.send(a_page(key="CR-42:trigger", recipient=None), attempt=2)
    await pager.send(a_page(PageAction.ACKNOWLEDGE, key="CR-42:acknowledge"), attempt=1)
    assert len(pagerduty.alerts) == 1 and pagerduty.alerts[0].status == "acknowledged"
    assert pagerduty.events[-1] == {
        "routing_key": KEY,
        "event_action": "acknowledge",
        "dedup_key": "CR-42",
    }
    await pager.send(a_page(PageAction.RESOLVE, key="CR-42:resolve"), attempt=1)
    assert pagerduty.alerts[0].status == "resolved" and len(pagerduty.alerts) == 1


async def test_429_and_500_are_retried_and_the_key_keeps_one_incident(
    pager: PagerDutyPager, pagerduty: FakePagerDuty
) -> None:
    pagerduty.rate_limit_next()
    pagerduty.fail_next(status=503)
    with pytest.raises(RetryLater) as limited:
        await pager.send(a_page(recipient=None), attempt=1)
    assert limited.value.paced and "429" in limited.value.reason
    with pytest.raises(RetryLater) as failed:
        await pager.send(a_page(recipient=None), attempt=2)
    assert not failed.value.paced and "503" in failed.value.reason
    assert timedelta(0) < failed.value.after <= timedelta(seconds=10)
    await pager.send(a_page(recipient=None), attempt=3)
    await pager.send(a_page(recipient=None), attempt=4)  # a retry after a lost answer
    assert pagerduty.statuses == [429, 503, 202, 202]
    assert len(pagerduty.alerts) == 1 and pagerduty.alerts[0].triggers == 2


async def test_an_invalid_event_is_undeliverable_with_pagerdutys_reason(
    pagerduty: FakePagerDuty,
) -> None:
    adapter = PagerDutyPager(
        PagerDutySettings("Rwrongwrongwrongwrongwrongwrong00", pagerduty.url), ManualClock(START)
    )
    try:
        with pytest.raises(PageRejected) as caught:
            await adapter.send(a_page(recipient=None), attempt=1)
    finally:
        await adapter.close()
    assert isinstance(caught.value, Undeliverable)
    assert caught.value.status == 400
    assert "Event object is invalid: 'routing_key' is invalid" in str(caught.value)


async def test_an_unreachable_endpoint_is_retried() -> None:
    adapter = PagerDutyPager(
        PagerDutySettings(KEY, "http://127.0.0.1:9/v2/enqueue"), ManualClock(START)
    )
    try:
        with pytest.raises(RetryLater, match="could not reach PagerDuty"):
            await adapter.send(a_page(recipient=None), attempt=1)
    finally:
        await adapter.close()


def test_settings_from_the_environment() -> None:
    assert PagerDutySettings.from_env({}) is None
    settings = PagerDutySettings.from_env({"PAGERDUTY_ROUTING_KEY": KEY})
    assert settings is not None and settings.url == "https://events.pagerduty.com/v2/enqueue"
    assert KEY not in repr(settings)
    with pytest.raises(ConfigError) as caught:
        PagerDutySettings.from_env(
            {"PAGERDUTY_ROUTING_KEY": "short", "PAGERDUTY_EVENTS_URL": "ftp://x"}
        )
    text = str(caught.value)
    assert "PAGERDUTY_ROUTING_KEY must be the integration key" in text
    assert "PAGERDUTY_EVENTS_URL must be an http(s) URL" in text
