"""The external-send machinery is not publishing-specific: a second lane
(pages, as the crisis feature will add them) rides the same outbox and
sender, beside the publish lane on one store, with its own time limit, and
its settlement reaches a plain ``@router.timer`` route."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import Loaded
from bot.core.clock import ManualClock
from bot.core.events import TimerFired
from bot.core.paging import Page, PageAction
from bot.core.playbook import Severity
from bot.core.ports import SendOutcome
from bot.core.router import Dispatcher, Router
from bot.core.storage import JSON, Effects, OutboxItem, Timer
from bot.core.turn import Turn
from bot.paging import PageWebhookSettings, WebhookPager
from tests.conftest import START
from tests.fakes.webhook_receiver import FakeReceiver
from tests.publishing.rig import SECRET, PublishRig, a_publication
from tests.publishing.rig import router as publishing_router

PAGE_LANE = "page"
pages_router = Router("pages-test")
seen: list[dict[str, object]] = []


@pages_router.timer("page.settled")
async def page_settled(turn: Turn, event: TimerFired) -> None:
    seen.append(event.payload)
    turn.audit("test.page_settled", f"page:{event.payload['key']}")


class PageLane:
    """A lane as the crisis feature would write it: body in, Pager out."""

    lane = PAGE_LANE
    give_up_after = timedelta(hours=1)
    lease_for = timedelta(seconds=60)

    def __init__(self, pager: WebhookPager) -> None:
        self.pager = pager

    @staticmethod
    def item(page: Page) -> OutboxItem:
        body = {"key": page.key, "incident": page.incident, "summary": page.summary}
        return OutboxItem(f"page:{page.key}", PAGE_LANE, "page", "pager", body, page.created_at)

    async def send(self, item: OutboxItem, *, attempt: int) -> JSON:
        body = item.body
        page = Page(
            key=body["key"],
            incident=body["incident"],
            action=PageAction.TRIGGER,
            severity=Severity.SEV1,
            summary=body["summary"],
            text="You are paged.",
            created_at=item.created_at,
        )
        sent = await self.pager.send(page, attempt=attempt)
        return {"reference": sent.reference}

    def settled(self, item: OutboxItem, outcome: SendOutcome) -> Effects:
        payload = {"key": item.body["key"], "ok": outcome.ok, "reason": outcome.reason}
        return Effects(
            timers=(Timer(f"page.settled:{item.id}", "page.settled", outcome.at, payload),)
        )


@pytest.fixture
async def rig(
    loaded: Loaded, store_backend: tuple[str, str], tmp_path: object
) -> AsyncIterator[tuple[PublishRig, FakeReceiver, ManualClock]]:
    clock = ManualClock(START)
    receiver = FakeReceiver(SECRET, now=lambda: clock.now().timestamp())
    await receiver.start()
    url, namespace = store_backend
    opened = await PublishRig.open(loaded, url, namespace, clock, receiver)
    opened.runtime.dispatcher = Dispatcher([publishing_router, pages_router])
    seen.clear()
    yield opened, receiver, clock
    await opened.close()
    await receiver.close()


async def test_a_page_lane_and_the_publish_lane_share_the_outbox_and_the_sender(
    rig: tuple[PublishRig, FakeReceiver, ManualClock],
) -> None:
    publishing, receiver, clock = rig
    settings = PageWebhookSettings.from_env(
        {"PLAYCALLER_PAGE_WEBHOOK_URL": receiver.url, "PLAYCALLER_PAGE_WEBHOOK_SECRET": SECRET}
    )
    assert settings is not None
    pager = WebhookPager(settings, clock, rng=random.Random(3))
    pages = publishing.runtime.external_sender(PageLane(pager))
    try:
        page = Page(
            "CR-7:lee:s1:r0:webhook",
            "CR-7",
            PageAction.TRIGGER,
            Severity.SEV1,
            "App down",
            "You are paged.",
            START,
        )
        await publishing.store.apply(Effects(outbox=(PageLane.item(page),)))
        await publishing.approve(a_publication())
        # Each sender leases only its own lane.
        receiver.fail_next(1)
        assert await pages.drain() == 0
        assert [a.key for a in receiver.attempts] == ["CR-7:lee:s1:r0:webhook"]
        assert await publishing.settle() == 1
        assert await publishing.store.outbox_size(PAGE_LANE) == 1
        clock.advance(timedelta(seconds=5))
        assert await pages.drain() == 1
        await publishing.scheduler.tick()
        assert seen == [{"key": "CR-7:lee:s1:r0:webhook", "ok": True, "reason": ""}]
        assert [s["state"] for s in await publishing.settlements()] == ["published"]
        assert [a.key for a in receiver.attempts] == [
            "CR-7:lee:s1:r0:webhook",
            "d-41:2",
            "CR-7:lee:s1:r0:webhook",
        ]

        # The page lane's own time limit: an hour, not a day.
        late = Page(
            "CR-7:kim:s1:r0:webhook",
            "CR-7",
            PageAction.TRIGGER,
            Severity.SEV1,
            "App down",
            "You are paged.",
            clock.now(),
        )
        await publishing.store.apply(Effects(outbox=(PageLane.item(late),)))
        receiver.fail_next(1000)
        for _ in range(4):
            assert await pages.drain() == 0
            clock.advance(timedelta(minutes=15))
        assert await pages.drain() == 1
        await publishing.scheduler.tick()
        assert seen[-1]["ok"] is False
        assert str(seen[-1]["reason"]).startswith("no success within 1 hour; last: ")
    finally:
        await pager.close()
