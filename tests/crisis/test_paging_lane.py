"""Pages beyond chat: PagerDuty and e-mail through the outbox's page lane,
against the local fakes, on both backends."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Loaded, open_runtime
from bot.core.paging import PAGE_LANE
from bot.paging import PageLane, PagerDutyPager, PagerDutySettings, SmtpPager, SmtpSettings
from bot.store import open_store
from tests.conftest import Chat, open_chat, writable_guidelines
from tests.fakes.pagerduty_events import FakePagerDuty
from tests.fakes.smtp_server import FakeSmtp

KEY = "R0123456789abcdef0123456789abcde"
DECLARE = (
    "as priya",
    "channel #hub",
    "/crisis service-outage service=AcmePay status_url=https://status.acme.com Payments fail",
)


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    fake = FakePagerDuty(KEY)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSmtp]:
    fake = FakeSmtp()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def paging_chat(
    store_backend: tuple[str, str],
    loaded: Loaded,
    tmp_path: Path,
    pagerduty: FakePagerDuty,
    smtp: FakeSmtp,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Chat]:
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", KEY)
    monkeypatch.setenv("PAGERDUTY_EVENTS_URL", pagerduty.url)
    monkeypatch.setenv("PLAYCALLER_SMTP_URL", f"smtp://127.0.0.1:{smtp.port}")
    monkeypatch.setenv("PLAYCALLER_SMTP_FROM", "crisis@acme.example")
    url, namespace = store_backend
    chat = await open_chat(
        url, namespace, writable_guidelines(loaded, tmp_path / "g"), person="priya"
    )
    yield chat
    await chat.store.close()


def lane(chat: Chat, pagerduty: FakePagerDuty) -> PageLane:
    settings = PagerDutySettings(KEY, pagerduty.url)
    smtp = SmtpSettings.from_env()
    assert smtp is not None
    clock = chat.session.clock
    return PageLane(
        {
            "pagerduty": PagerDutyPager(settings, clock, rng=random.Random(1)),
            "email": SmtpPager(smtp, rng=random.Random(1)),
        }
    )


async def test_declare_ack_resolve_keep_one_pagerduty_alert_and_mail_each_person(
    paging_chat: Chat, pagerduty: FakePagerDuty, smtp: FakeSmtp
) -> None:
    chat = paging_chat
    await chat.run(*DECLARE)
    pages = lane(chat, pagerduty)
    sender = chat.runtime.external_sender(pages)
    # PagerDuty is busy at first: the trigger is retried, not lost or doubled.
    pagerduty.rate_limit_next(1)
    pagerduty.fail_next(1, status=500)
    await sender.drain()
    for _ in range(3):
        chat.session.clock.advance(timedelta(seconds=40))
        await sender.drain()
    assert await chat.store.outbox_size(PAGE_LANE) == 0
    assert [(e["event_action"], e["dedup_key"]) for e in pagerduty.events] == [("trigger", "CR-1")]
    assert pagerduty.statuses == [429, 500, 202] and len(pagerduty.alerts) == 1
    # Maria is paged by e-mail too (Priya declared it: she is not paged).
    assert [m["To"] for m in smtp.messages] == ["Maria Lopez <maria@example.com>"]
    assert smtp.messages[0]["Subject"].startswith("[CR-1] SEV2 crisis: Payments fail")
    await chat.run("as maria", "click Acknowledge #2")
    await chat.run("as priya", "/crisis resolve")
    await sender.drain()
    assert [e["event_action"] for e in pagerduty.events] == ["trigger", "acknowledge", "resolve"]
    assert pagerduty.alerts[0].status == "resolved"
    sent = [e for e in await chat.store.audit_log("incident:CR-1") if e.action == "page.sent"]
    assert sorted(e.detail["channel"] for e in sent) == [
        "email",
        "pagerduty",
        "pagerduty",
        "pagerduty",
    ]
    assert "Maria Lopez (chat, e-mail)" in chat.card(1)
    await pages.close()


async def test_two_processes_send_each_page_once(
    paging_chat: Chat,
    pagerduty: FakePagerDuty,
    smtp: FakeSmtp,
    loaded: Loaded,
    store_backend: tuple[str, str],
) -> None:
    chat = paging_chat
    await chat.run(*DECLARE)
    url, namespace = store_backend
    other_store = open_store(url, namespace=namespace)
    other = await open_runtime(
        loaded, store=other_store, clock=chat.session.clock, platforms=["console"]
    )
    try:
        first, second = lane(chat, pagerduty), lane(chat, pagerduty)
        await asyncio.gather(
            chat.runtime.external_sender(first).drain(), other.external_sender(second).drain()
        )
        await first.close()
        await second.close()
    finally:
        await other_store.close()
    assert [e["event_action"] for e in pagerduty.events] == ["trigger"]
    assert len(smtp.messages) == 1
