"""``GET /metrics`` of a serve that publishes: the publish lane's depth and
the age of its oldest item, like the chat outbox's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiohttp.test_utils import TestServer

from bot.app import Loaded
from bot.core.clock import ManualClock
from bot.publishing import PublishLane
from bot.web import create_app
from tests.conftest import START
from tests.fakes.webhook_receiver import FakeReceiver
from tests.ops.ops_rig import IDLE_POLL, scrape, value
from tests.publishing.rig import SECRET, PublishRig, a_publication


async def test_the_publish_lane_has_depth_and_age_metrics(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> None:
    url, namespace = store_backend
    clock = ManualClock(START)
    receiver = FakeReceiver(SECRET, now=lambda: clock.now().timestamp())
    await receiver.start()
    receiver.fail_next(5)
    rig = await PublishRig.open(loaded, url, namespace, clock, receiver)
    lane = PublishLane(rig.publisher)
    server = TestServer(
        create_app(rig.runtime, [], poll_seconds=IDLE_POLL, lanes=[lane]), host="127.0.0.1"
    )
    await server.start_server()
    try:
        _, samples = await scrape(server)
        assert value(samples, "playcaller_outbox_items", platform="publish") == 0
        assert await rig.approve(a_publication())
        clock.advance(timedelta(minutes=10))
        _, samples = await scrape(server)
        assert value(samples, "playcaller_outbox_items", platform="publish") == 1
        assert value(samples, "playcaller_outbox_oldest_age_seconds", platform="publish") == 600
    finally:
        await server.close()  # closes the store
        await rig.publisher.close()
        await receiver.close()
