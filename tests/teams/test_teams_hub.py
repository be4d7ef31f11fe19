"""A question handed to the coaches reaches the Teams hub, or the asker is told it has not.

The hub channel is configured but has never sent the bot anything: the card
goes through the service URL of a conversation the bot knows. When Teams
refuses it (the bot is not in the hub's team yet) the card waits in the outbox,
the asker hears "not posted yet", ``/ask report`` shows it, and it is posted
once the bot is added to that team.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Loaded
from bot.platforms.teams.delivery import WAIT_FOR_TEAM_LONGEST
from bot.platforms.teams.directory import CONVERSATION_KIND
from tests.fakes import teams_activities as teams
from tests.teams.teams_rig import PEOPLE, TeamsRig, action_data, cards_in, teams_rig, texts

HUB = "19:0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d@thread.tacv2"
HUB_TEAM = "19:5f4e3d2c1b0a4f9e8d7c6b5a4f3e2d1c@thread.tacv2"
QUESTION = "can I wear the company hoodie in my dating profile photos?"


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[TeamsRig]:
    channels = loaded.settings.channels
    settings = dataclasses.replace(
        loaded.settings, channels={**channels, "hub": {**channels.get("hub", {}), "teams": HUB}}
    )
    async with teams_rig(dataclasses.replace(loaded, settings=settings), *store_backend) as opened:
        yield opened


def personal(rig: TeamsRig, person: str) -> str:
    return teams.personal_conversation_id(PEOPLE[person]["id"])


async def ask(rig: TeamsRig) -> tuple[str, dict[str, Any]]:
    """Jo asks in a personal chat; the answer card's activity id and content."""
    status, _ = await rig.post(teams.personal_message(rig.url, text=QUESTION, user=PEOPLE["jo"]))
    assert status in (200, 201)
    activity = [a for a in rig.connector.sent(personal(rig, "jo")) if cards_in(a)][-1]
    return str(activity["id"]), cards_in(activity)[0]


async def ask_a_coach(rig: TeamsRig, activity_id: str, card: dict[str, Any]) -> str:
    """Press Ask a coach; what Jo sees in the invoke's answer."""
    verb, data = action_data(card, "Ask a coach")
    status, body = await rig.post(
        teams.execute_invoke(
            rig.url,
            verb=verb,
            data=data,
            user=PEOPLE["jo"],
            reply_to_id=activity_id,
            conversation_id=personal(rig, "jo"),
        )
    )
    assert status == 200
    value = body["value"]
    return value if isinstance(value, str) else texts(value)


def hub_cards(rig: TeamsRig) -> list[str]:
    return [texts(card) for card in rig.cards_sent(HUB)]


async def drain(rig: TeamsRig) -> None:
    await rig.runtime.sender(rig.platform.delivery).drain()


async def test_the_hub_card_reaches_a_channel_that_has_not_spoken_yet(rig: TeamsRig) -> None:
    activity_id, card = await ask(rig)
    said = await ask_a_coach(rig, activity_id, card)
    assert "I've queued your question for the coaches" in said
    await rig.settle()
    [posted] = hub_cards(rig)
    assert "Question from Jo Martin" in posted and QUESTION in posted
    # The conversation the service URL came from is found by its type tag.
    [conversation] = await rig.runtime.store.find(CONVERSATION_KIND, "type:personal")
    assert conversation.key == personal(rig, "jo")
    said = await ask_a_coach(rig, activity_id, card)
    assert "Your question has reached the coaches" in said
    assert len(hub_cards(rig)) == 1


async def test_an_unreachable_hub_is_pending_not_done_and_delivered_later(rig: TeamsRig) -> None:
    rig.connector.block_writes(HUB, style="bot_not_in_conversation")
    activity_id, card = await ask(rig)
    said = await ask_a_coach(rig, activity_id, card)
    assert "I've queued your question for the coaches" in said and "passed" not in said
    for _ in range(3):  # several tries, never given up
        await drain(rig)
        rig.clock.advance(WAIT_FOR_TEAM_LONGEST)
    refused = [c for c in rig.connector.calls_to("send") if c.conversation_id == HUB]
    assert len(refused) == 3 and all(c.status == 403 for c in refused)
    assert hub_cards(rig) == []
    assert await rig.runtime.store.outbox_size("teams") == 1
    actions = [e.action for e in await rig.runtime.store.audit_log()]
    assert "outbox.undeliverable" not in actions and "outbox.dropped" not in actions

    said = await ask_a_coach(rig, activity_id, card)
    assert "still on its way to the coaches: it has not been posted in the hub yet" in said

    # A coach's report shows it as not delivered.
    status, _ = await rig.post(
        teams.personal_message(rig.url, text="ask report", user=PEOPLE["maria"])
    )
    assert status in (200, 201)
    [report] = [
        t for t in map(texts, rig.cards_sent(personal(rig, "maria"))) if "Not answered" in t
    ]
    assert "Jo Martin · handed_off (not in the hub yet: waiting to be delivered)" in report

    # The bot is added to the hub's team: the card goes out on its next try.
    rig.connector.unblock_writes(HUB)
    status, _ = await rig.post(
        teams.bot_added_to_team(rig.url, installer=PEOPLE["ada"], team_id=HUB_TEAM, channel_id=HUB)
    )
    assert status in (200, 201)
    rig.clock.advance(WAIT_FOR_TEAM_LONGEST)
    await rig.settle()
    [posted] = hub_cards(rig)
    assert "Question from Jo Martin" in posted
    said = await ask_a_coach(rig, activity_id, card)
    assert "Your question has reached the coaches" in said
    assert len(hub_cards(rig)) == 1


async def test_a_hub_post_given_up_for_good_is_queued_again_on_the_next_click(
    rig: TeamsRig,
) -> None:
    activity_id, card = await ask(rig)
    # A refusal that waiting does not fix: the outbox gives up and audits it.
    rig.connector.block_writes(HUB, style="conversation_blocked")
    await ask_a_coach(rig, activity_id, card)
    await drain(rig)
    assert await rig.runtime.store.outbox_size("teams") == 0
    actions = [e.action for e in await rig.runtime.store.audit_log()]
    assert "outbox.undeliverable" in actions
    rig.connector.unblock_writes(HUB)
    said = await ask_a_coach(rig, activity_id, card)
    assert "The first attempt to reach the coaches failed" in said
    await rig.settle()
    assert len(hub_cards(rig)) == 1
