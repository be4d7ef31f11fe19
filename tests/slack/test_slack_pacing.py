"""Two bot processes on one Redis store pace one Slack channel together."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from bot.app import Loaded, open_runtime
from bot.core.storage import OutboxItem
from bot.intake.feed import parse_mention
from bot.outbox import CardOf, RetryLater
from bot.platforms.slack.delivery import SlackDelivery
from bot.platforms.slack.platform import SlackPlatform, SlackSettings
from bot.store import open_store
from tests.slack.slack_rig import CARE, SECRET, shown_text, slack_rig
from tests.slack.test_slack_platform import MENTION, link_care


async def post_all(delivery: SlackDelivery, items: list[OutboxItem], card_of: CardOf) -> int:
    """Try to post each waiting card once; drop the ones that went out."""
    posted = 0
    for item in list(items):
        try:
            await delivery.post(
                item.destination, await card_of(item.body), delivery_id=item.id, attempt=1
            )
        except RetryLater as wait:
            assert wait.paced  # only pacing holds a card back here
            continue
        items.remove(item)
        posted += 1
    return posted


@pytest.mark.parametrize("store_backend", ["redis"], indirect=True)
async def test_two_instances_on_one_redis_keep_a_channel_to_one_post_a_second(
    store_backend: tuple[str, str], loaded: Loaded
) -> None:
    url, namespace = store_backend
    async with slack_rig(loaded, url, namespace) as first:
        await link_care(first)
        runtime = await open_runtime(
            loaded,
            store=open_store(url, namespace=namespace),
            clock=first.manual_clock,
            platforms=["slack"],
        )
        second = SlackPlatform(
            SlackSettings(
                bot_token="xoxb-test-token",
                signing_secret=SECRET,
                app_token=None,
                api_url=first.fake.api_url,
            ),
            runtime,
        )
        try:
            for n in range(12):
                assert await first.runtime.ingest(
                    parse_mention({**MENTION, "id": f"pace-{n}", "text": f"pace {n}"})
                )
            leased = await first.runtime.store.lease_outbox(
                "slack", first.clock.now(), "test", timedelta(hours=1)
            )
            cards = [lease.item for lease in leased]
            assert len(cards) == 12
            queues = [cards[0::2], cards[1::2]]
            deliveries = [first.platform.delivery, second.delivery]
            assert first.platform.delivery.pacer.budget is not second.delivery.pacer.budget
            sent = [0, 0]
            for _ in range(200):
                if not any(queues):
                    break
                # Both processes try at the same moment, again and again.
                done = await asyncio.gather(
                    *(
                        post_all(d, q, r.card_of)
                        for d, q, r in zip(
                            deliveries, queues, [first.runtime, runtime], strict=True
                        )
                    )
                )
                sent = [s + d for s, d in zip(sent, done, strict=True)]
                first.manual_clock.advance(timedelta(milliseconds=250))
            assert sent == [6, 6]

            # The fake stamps each message with the (shared) clock when it lands.
            stamps = [
                float(m["ts"])
                for m in first.fake.messages[CARE]
                if m["user"] == "U0BOT" and "pace" in shown_text(m)
            ]
            assert len(stamps) == 12
            gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
            # (The fake keeps stamps unique by nudging one 100 us past another.)
            assert min(gaps) >= 0.999
        finally:
            await second.stop()
            await runtime.store.close()
