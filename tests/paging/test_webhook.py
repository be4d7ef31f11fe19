"""The signed page webhook against the local receiver that checks signatures
the README's way: signed, keyed, retried with the same key."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from bot.core.clock import ManualClock
from bot.core.errors import ConfigError, RetryLater
from bot.paging import PageWebhookSettings, WebhookPager
from bot.paging.http import PageRejected
from tests.conftest import START
from tests.fakes.webhook_receiver import FakeReceiver
from tests.paging.conftest import a_page

SECRET = "page-secret-0123456789abcdef"


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    fake = FakeReceiver(SECRET, now=START.timestamp)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def pager(receiver: FakeReceiver) -> AsyncIterator[WebhookPager]:
    settings = PageWebhookSettings.from_env(
        {"PLAYCALLER_PAGE_WEBHOOK_URL": receiver.url, "PLAYCALLER_PAGE_WEBHOOK_SECRET": SECRET}
    )
    assert settings is not None
    adapter = WebhookPager(settings, ManualClock(START), rng=random.Random(3))
    yield adapter
    await adapter.close()


async def test_a_page_is_signed_and_carries_its_key(
    pager: WebhookPager, receiver: FakeReceiver
) -> None:
    sent = await pager.send(a_page(summary="Down <!channel>"), attempt=1)
    assert sent.reference == "post-1"
    assert receiver.published == [
        {
            "id": "CR-42:lee:s1:r0:email",
            "incident": "CR-42",
            "action": "trigger",
            "severity": "sev1",
            "summary": "Down <!channel>",
            "text": "You are paged for CR-42 as legal.\nAcknowledge in the crisis room.",
            "playbook": "service-outage",
            "recipient": {"id": "lee", "name": "Lee Novak", "email": "lee@example.com"},
            "room_url": "https://acme.slack.com/archives/C42",
            "created_at": "2026-03-02T09:00:00+00:00",
        }
    ]
    assert receiver.attempts[0].key == "CR-42:lee:s1:r0:email"


async def test_failures_retry_with_the_same_key_and_page_once(
    pager: WebhookPager, receiver: FakeReceiver
) -> None:
    receiver.fail_next(1, 502)
    receiver.rate_limit_next(1, retry_after="7")
    with pytest.raises(RetryLater, match="502"):
        await pager.send(a_page(), attempt=1)
    with pytest.raises(RetryLater) as limited:
        await pager.send(a_page(), attempt=2)
    assert limited.value.paced and limited.value.after.total_seconds() == 7
    await pager.send(a_page(), attempt=3)
    await pager.send(a_page(), attempt=4)
    assert [a.key for a in receiver.attempts] == ["CR-42:lee:s1:r0:email"] * 4
    assert len(receiver.published) == 1 and receiver.repeats == 1


async def test_a_refusal_is_undeliverable_with_the_receivers_reason(
    pager: WebhookPager, receiver: FakeReceiver
) -> None:
    receiver.reject_next(422, "unknown recipient lee")
    with pytest.raises(PageRejected, match=r"refused the page \(422\): unknown recipient lee"):
        await pager.send(a_page(), attempt=1)


async def test_a_wrong_secret_is_refused_by_the_receiver(receiver: FakeReceiver) -> None:
    adapter = WebhookPager(
        PageWebhookSettings(receiver.url, "another-secret-entirely"), ManualClock(START)
    )
    try:
        with pytest.raises(PageRejected, match="401"):
            await adapter.send(a_page(), attempt=1)
    finally:
        await adapter.close()
    assert receiver.published == []


def test_settings_need_a_secret() -> None:
    assert PageWebhookSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="PLAYCALLER_PAGE_WEBHOOK_SECRET must be set"):
        PageWebhookSettings.from_env({"PLAYCALLER_PAGE_WEBHOOK_URL": "https://pages.acme.com"})
    settings = PageWebhookSettings.from_env(
        {
            "PLAYCALLER_PAGE_WEBHOOK_URL": "https://pages.acme.com",
            "PLAYCALLER_PAGE_WEBHOOK_SECRET": SECRET,
        }
    )
    assert settings is not None and SECRET not in repr(settings)
