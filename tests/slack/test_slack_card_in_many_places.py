"""One card in several places on Slack (the approval card DM'd to the coach and
then to the backups under one key): each update reaches every place, although
Slack's update pace lets only one ``chat.update`` through at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import Loaded
from bot.core.cards import Card
from bot.core.storage import Effects, OutboxItem
from tests.conftest import START
from tests.fakes import slack_requests as slack
from tests.slack.slack_rig import SECRET, SlackRig, shown_text, slack_rig

KEY = "approval:d-1"


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    async with slack_rig(loaded, *store_backend) as opened:
        yield opened


def item(op: str, destination: str, title: str, seconds: int) -> OutboxItem:
    return OutboxItem(
        id=f"{op}-{destination}-{seconds}",
        platform="slack",
        op=op,
        destination=destination,
        body=Card(title=title, card_key=KEY).to_json(),
        created_at=START + timedelta(seconds=seconds),
        card_key=KEY,
        priority=0,
    )


async def test_an_update_reaches_every_dm_of_the_card(rig: SlackRig) -> None:
    store = rig.runtime.store
    await store.apply(
        Effects(
            outbox=(
                item("dm", "person:maria", "Reply for approval", 0),
                item("dm", "person:alex", "Reply for approval", 1),
                item("dm", "person:sam", "Reply for approval", 2),
            )
        )
    )
    await rig.settle()
    assert len(rig.posted()) == 3
    await store.apply(Effects(outbox=(item("update", "", "Approved by Maria Lopez", 3),)))
    await rig.settle()
    updated = rig.updates()
    # One chat.update per place: none skipped, none repeated.
    in_dms = [
        str(message["ts"])
        for channel, messages in rig.fake.messages.items()
        if channel.startswith("D")
        for message in messages
    ]
    assert len(in_dms) == 3
    assert sorted(str(u["ts"]) for u in updated) == sorted(in_dms)
    assert all("Approved by Maria Lopez" in shown_text(u) for u in updated)


async def test_someone_who_just_used_the_bot_is_dmed_without_an_email_lookup(
    rig: SlackRig,
) -> None:
    """A verified request says who the person is on Slack: a page to them a
    moment later costs no users.lookupByEmail (Tier 3: 50 a minute)."""
    status, _ = await rig.send(
        slack.slash_command(
            SECRET,
            command="/playcaller",
            text="help",
            user_id="U0MARIA",
            user_name="maria",
            channel_id="C0HUB",
            channel_name="hub",
        )
    )
    assert status == 200
    await rig.settle()
    await rig.runtime.store.apply(Effects(outbox=(item("dm", "person:maria", "You are paged", 5),)))
    await rig.settle()
    [page] = [p for p in rig.posted() if "You are paged" in shown_text(p)]
    assert str(page["channel"]).startswith("D")
    assert rig.fake.calls_to("users.lookupByEmail") == []
