"""/crisis on Teams against the local fake Bot Connector: a typed crisis
command in the hub channel, the incident card, the page in the person's
chat, Acknowledge and Done as Action.Execute, resolve with the summary in the
card's thread; every card valid and within Teams' size."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Loaded
from handlers.crisis.records import KIND, from_record
from tests.fakes import teams_activities as teams
from tests.teams.teams_rig import PEOPLE, TeamsRig, action_data, cards_in, teams_rig, texts

CHANNEL = teams.CHANNEL_ID
PRIYA = teams.user("Priya Raman", "00000000-0000-0000-0000-000000000042")


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[TeamsRig]:
    async with teams_rig(loaded, *store_backend) as opened:
        opened.connector.add_member(
            PRIYA["id"], PRIYA["name"], PRIYA["aadObjectId"], "priya@example.com"
        )
        yield opened


def press(
    rig: TeamsRig,
    card: dict[str, Any],
    title: str,
    user: dict[str, Any],
    activity_id: str,
    **where: Any,
) -> dict[str, Any]:
    verb, data = action_data(card, title)
    return teams.execute_invoke(
        rig.url, verb=verb, data=data, user=user, reply_to_id=activity_id, **where
    )


def latest(rig: TeamsRig, conversation: str, words: str) -> tuple[str, dict[str, Any]]:
    """The newest activity in ``conversation`` whose card shows ``words``, as it is now."""
    for activity in reversed(rig.connector.sent(conversation)):
        cards = cards_in(activity)
        if cards and words in texts(cards[0]):
            current = rig.connector.activity(conversation, str(activity["id"]))
            assert current is not None
            return str(activity["id"]), cards_in(current)[0]
    raise AssertionError(f"no card showing {words!r} in {conversation}")


async def test_declare_page_ack_tick_and_resolve_on_teams(rig: TeamsRig) -> None:
    await rig.post(teams.bot_added_to_team(rig.url, installer=PEOPLE["ada"]))
    await rig.post(teams.channel_message(rig.url, text="link hub", user=PEOPLE["ada"]))
    await rig.post(teams.personal_message(rig.url, text="help", user=PRIYA))
    await rig.settle()
    status, _ = await rig.post(
        teams.channel_message(
            rig.url,
            text="crisis service-outage service=AcmePay status_url=https://status.acme.com "
            "Payments fail **everywhere** <at>everyone</at>",
            user=PEOPLE["maria"],
        )
    )
    assert status in (200, 201)
    await rig.settle()
    card_id, card = latest(rig, CHANNEL, "CR-1 · Customer-facing service outage")
    shown = texts(card)
    assert "1 of 2 acknowledged" in shown and "Checklist 0/8" in shown
    assert "Payments fail **everywhere** <at>everyone</at>" in shown
    # Priya's page is in her chat with the bot, with Acknowledge.
    personal = teams.personal_conversation_id(PRIYA["id"])
    page_id, page = latest(rig, personal, "You are paged: CR-1")
    assert "[Acknowledge]" in texts(page)
    rig.clock.advance(timedelta(minutes=2))
    status, body = await rig.post(press(rig, page, "Acknowledge", PRIYA, page_id))
    assert status == 200
    assert "You acknowledged CR-1" in texts(body["value"])
    await rig.settle()
    _, page = latest(rig, personal, "You are paged: CR-1")
    assert "Acknowledged" in texts(page) and "[Acknowledge]" not in texts(page)
    _, card = latest(rig, CHANNEL, "CR-1 · Customer-facing service outage")
    assert "2 of 2 acknowledged" in texts(card)
    assert "Priya Raman (chat): acknowledged after 2m" in texts(card)
    status, body = await rig.post(
        press(rig, card, "Done", PEOPLE["sam"], card_id, channel_id=CHANNEL, team_id=teams.TEAM_ID)
    )
    assert status == 200 and "Checklist 1/8" in texts(body["value"])
    status, body = await rig.post(
        press(
            rig,
            card,
            "Resolve",
            PEOPLE["maria"],
            card_id,
            channel_id=CHANNEL,
            team_id=teams.TEAM_ID,
        )
    )
    assert status == 200 and "Resolved after 2m" in texts(body["value"])
    await rig.settle()
    assert any("Resolved: CR-1" in texts(c) for c in rig.cards_sent(CHANNEL))
    record = await rig.runtime.store.get(KIND, "CR-1")
    assert record is not None and not from_record(record).open


async def test_holding_statement_through_approval_on_teams(rig: TeamsRig) -> None:
    """Draft statement on the incident card, the coach's approval card in her
    chat with the bot, Approve there, and the incident card updated in place."""
    await rig.post(teams.bot_added_to_team(rig.url, installer=PEOPLE["ada"]))
    await rig.post(teams.channel_message(rig.url, text="link hub", user=PEOPLE["ada"]))
    for person in (PRIYA, PEOPLE["maria"], PEOPLE["sam"]):
        await rig.post(teams.personal_message(rig.url, text="help", user=person))
    await rig.settle()
    status, _ = await rig.post(
        teams.channel_message(
            rig.url,
            text='crisis service-outage service="the *AcmePay* app" '
            "status_url=https://status.acme.com Payments fail <at>everyone</at>",
            user=PRIYA,
        )
    )
    assert status in (200, 201)
    await rig.settle()
    card_id, card = latest(rig, CHANNEL, "CR-1 · Customer-facing service outage")
    assert 'Statement "first" not drafted on @acme' in texts(card)
    status, _ = await rig.post(
        press(
            rig,
            card,
            "Draft statement",
            PEOPLE["sam"],
            card_id,
            channel_id=CHANNEL,
            team_id=teams.TEAM_ID,
        )
    )
    assert status == 200
    await rig.settle()
    maria = teams.personal_conversation_id(PEOPLE["maria"]["id"])
    approval_id, approval = latest(rig, maria, "@acme on X")
    assert "for approval" in texts(approval) and "the *AcmePay* app" in texts(approval)
    _, card = latest(rig, CHANNEL, "CR-1 · Customer-facing service outage")
    assert 'Statement "first" on @acme: awaiting Maria Lopez (Coach)' in texts(card)
    status, _ = await rig.post(
        press(rig, approval, "Approve", PEOPLE["maria"], approval_id, conversation_id=maria)
    )
    assert status == 200
    await rig.runtime.scheduler().tick()
    await rig.settle()
    _, card = latest(rig, CHANNEL, "CR-1 · Customer-facing service outage")
    assert 'Statement "first" on @acme: approved by Maria Lopez' in texts(card)
    rig.validate_everything()
