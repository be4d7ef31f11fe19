"""A post whose answer was lost is found, not sent twice: in a busy channel,
in a thread, after a restart, and for many items at once within the
look-up budget."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Loaded
from bot.core.settings import SpikePolicy, SurgePolicy
from bot.intake.feed import parse_mention
from bot.platforms.slack.delivery import SlackDelivery
from bot.store.pacing import pacing_for
from tests.slack.slack_rig import CARE, SlackRig, slack_rig
from tests.slack.test_slack_platform import MENTION, click, link_care, post_mention, ts_of


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    async with slack_rig(loaded, *store_backend) as opened:
        yield opened


def restart(rig: SlackRig) -> None:
    """A new process: the delivery forgets everything it knew in memory."""
    old = rig.platform.delivery
    rig.platform.delivery = SlackDelivery(
        old.client,
        old.store,
        old.settings,
        old.people,
        old.clock,
        pacing_for(rig.runtime.store),
    )


def cards_with(rig: SlackRig, delivery_id: str) -> list[dict[str, Any]]:
    """Every message in the fake that carries this delivery id, threads included."""
    return [
        m
        for messages in rig.fake.messages.values()
        for m in messages
        if (m.get("metadata") or {}).get("event_payload", {}).get("delivery_id") == delivery_id
    ]


def delivery_id_of(message: dict[str, Any]) -> str:
    return str(message["metadata"]["event_payload"]["delivery_id"])


@pytest.mark.parametrize("restarted", [False, True], ids=["same-process", "after-restart"])
async def test_a_lost_post_in_a_busy_channel_is_found_not_doubled(
    rig: SlackRig, restarted: bool
) -> None:
    await link_care(rig)
    rig.fake.fail_connection("chat.postMessage", times=1)
    assert await rig.runtime.ingest(parse_mention(MENTION))
    await rig.runtime.sender(rig.platform.delivery).drain()
    [lost] = [m for m in rig.fake.messages[CARE] if "dana" in str(m.get("text"))]
    # The channel is busy: 250 newer messages bury the card (the old look-up
    # read only the newest 50).
    for n in range(250):
        rig.manual_clock.advance(timedelta(milliseconds=100))
        rig.fake.add_message(CARE, f"chatter {n}", user="U0ALEX")
    if restarted:
        restart(rig)
    await rig.settle()

    assert len(cards_with(rig, delivery_id_of(lost))) == 1
    history = rig.fake.calls_to("conversations.history")
    # One look-up, read to the end: two pages of at most 200.
    assert len(history) == 2
    assert "cursor" not in history[0].args and history[1].args["cursor"]
    for call in history:
        assert float(call.args["oldest"]) <= float(lost["ts"]) <= float(call.args["latest"])
    # The found card is the one later edits go to.
    card = {"channel": CARE, "text": lost["text"], "blocks": lost["blocks"]}
    await rig.send(click(rig, card, "Claim", "U0SAM"))
    await rig.settle()
    assert rig.updates()[-1]["ts"] == lost["ts"]


@pytest.mark.parametrize("restarted", [False, True], ids=["same-process", "after-restart"])
async def test_a_lost_thread_reply_is_found_in_the_thread(rig: SlackRig, restarted: bool) -> None:
    await link_care(rig)
    card = await post_mention(rig)
    parent = ts_of(rig, card)
    rig.manual_clock.advance(timedelta(minutes=15))  # a high mention's SLA warning
    assert await rig.runtime.scheduler().tick() == 1
    rig.fake.fail_connection("chat.postMessage", times=1)
    await rig.runtime.sender(rig.platform.delivery).drain()

    def reminders() -> list[dict[str, Any]]:
        return [
            m
            for m in rig.fake.messages[CARE]
            if m.get("thread_ts") == parent and m["ts"] != parent and m["user"] == "U0BOT"
        ]

    [lost] = reminders()
    for n in range(80):
        rig.manual_clock.advance(timedelta(milliseconds=100))
        rig.fake.add_message(CARE, f"on it {n}", user="U0ALEX", thread_ts=parent)
    if restarted:
        restart(rig)
    await rig.settle()

    assert reminders() == [lost]
    replies = rig.fake.calls_to("conversations.replies")
    assert replies and all(call.args["ts"] == parent for call in replies)
    assert all(
        float(call.args["oldest"]) <= float(lost["ts"]) <= float(call.args["latest"])
        for call in replies
    )


async def test_many_ambiguous_posts_after_a_restart_cost_a_few_look_ups(rig: SlackRig) -> None:
    await link_care(rig)
    # 200 cards to one channel, not a surge or a spike alert: this is about posts.
    rig.runtime.settings = dataclasses.replace(
        rig.runtime.settings,
        surge_default=SurgePolicy(threshold=10_000),
        surge={},
        spikes=SpikePolicy(min_count=10_000),
    )
    for n in range(200):
        assert await rig.runtime.ingest(
            parse_mention({**MENTION, "id": f"burst-{n}", "text": f"burst {n}"})
        )
    store = rig.runtime.store
    # A process leased every card, posted each (one a second), and was killed
    # before it could record a single answer.
    leased = await store.lease_outbox(
        "slack", rig.clock.now(), "killed-process", timedelta(seconds=60), limit=500
    )
    assert len(leased) == 200
    landed: dict[str, str] = {}
    for n, item in enumerate(leased):
        message = rig.fake.add_message(
            CARE,
            f"card {n}",
            user="U0BOT",
            bot_id="B0BOT",
            metadata={
                "event_type": "playcaller_card",
                "event_payload": {"delivery_id": item.item.id},
            },
        )
        landed[item.item.id] = message["ts"]
        if n % 2:
            rig.fake.add_message(CARE, f"chatter {n}", user="U0ALEX")
        rig.manual_clock.advance(timedelta(seconds=1))
    rig.manual_clock.advance(timedelta(seconds=60))  # the killed process's leases expire
    posts_before = len(rig.fake.calls_to("chat.postMessage"))

    restart(rig)
    await rig.settle()

    assert len(rig.fake.calls_to("chat.postMessage")) == posts_before  # nothing sent twice
    assert await store.outbox_size("slack") == 0
    for item in leased:
        assert item.item.card_key is not None
        assert await store.card_refs("slack", item.item.card_key) == [
            {"channel": CARE, "ts": landed[item.item.id]}
        ]
    # Four leased batches of 50, one search of the channel: 300 messages in
    # two pages of 200 (it was one history call per item: 200).
    assert len(rig.fake.calls_to("conversations.history")) == 2


async def test_a_rate_limited_look_up_waits_and_still_posts_once(rig: SlackRig) -> None:
    await link_care(rig)
    rig.fake.fail_connection("chat.postMessage", times=1)
    rig.fake.rate_limit("conversations.history", times=1, retry_after=3)
    assert await rig.runtime.ingest(parse_mention(MENTION))
    await rig.settle()

    [card] = [m for m in rig.fake.messages[CARE] if "dana" in str(m.get("text"))]
    assert len(cards_with(rig, delivery_id_of(card))) == 1
    history = rig.fake.calls_to("conversations.history")
    assert [call.rate_limited for call in history] == [True, False]
    assert await rig.runtime.store.outbox_size("slack") == 0


async def test_a_search_cut_short_by_a_rate_limit_goes_on_from_where_it_stopped(
    rig: SlackRig,
) -> None:
    await link_care(rig)
    rig.fake.fail_connection("chat.postMessage", times=1)
    assert await rig.runtime.ingest(parse_mention(MENTION))
    await rig.runtime.sender(rig.platform.delivery).drain()
    [lost] = [m for m in rig.fake.messages[CARE] if "dana" in str(m.get("text"))]
    for n in range(450):  # three pages of history after the card, one a second
        rig.manual_clock.advance(timedelta(seconds=1))
        rig.fake.add_message(CARE, f"chatter {n}", user="U0ALEX")
    restart(rig)
    # The first page is answered, the second is refused with Retry-After.
    rig.fake.rate_limit("conversations.history", times=1, retry_after=5, after=1)
    await rig.settle()

    assert len(cards_with(rig, delivery_id_of(lost))) == 1
    history = rig.fake.calls_to("conversations.history")
    assert [call.rate_limited for call in history[:2]] == [False, True]
    first_page = min(float(m["ts"]) for m in rig.fake.messages[CARE][-200:])
    # Later reads cover what is new since, then go on below the first page
    # rather than reading the whole window again.
    resumed = [call for call in history[2:] if "cursor" not in call.args]
    assert float(resumed[-1].args["latest"]) == first_page
    assert float(resumed[-1].args["oldest"]) == float(history[0].args["oldest"])
    assert all(float(call.args["oldest"]) >= first_page - 120 for call in resumed[:-1])
