"""Crisis rooms on Teams against the local fake Bot Connector: the incident
runs in its card's thread in the hub channel (creating channels needs Graph).
Commands typed in that thread act on its incident, with several open."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Loaded
from bot.core.rooms import room_key
from bot.intake.feed import parse_mention
from handlers.crisis.records import KIND, from_record
from tests.fakes import teams_activities as teams
from tests.teams.teams_rig import PEOPLE, TeamsRig, cards_in, teams_rig, texts

CHANNEL = teams.CHANNEL_ID


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[TeamsRig]:
    async with teams_rig(loaded, *store_backend) as opened:
        yield opened


def card_activity(rig: TeamsRig, words: str) -> str:
    found = [
        str(a["id"])
        for a in rig.connector.sent(CHANNEL)
        if cards_in(a) and words in texts(cards_in(a)[0])
    ]
    assert len(found) == 1, f"{len(found)} cards show {words!r}"
    return found[0]


async def test_the_incident_runs_in_its_cards_thread(rig: TeamsRig) -> None:
    await rig.post(teams.bot_added_to_team(rig.url, installer=PEOPLE["ada"]))
    await rig.post(teams.channel_message(rig.url, text="link hub", user=PEOPLE["ada"]))
    await rig.settle()
    for text in (
        "crisis service-outage service=AcmePay status_url=https://status.acme.com AcmePay down",
        'crisis data-incident topic="customer emails" Customer emails exposed',
    ):
        await rig.post(teams.channel_message(rig.url, text=text, user=PEOPLE["maria"]))
        await rig.settle()
    # One card per incident in the channel: the room is its thread, not a copy.
    first = card_activity(rig, "CR-1 · Customer-facing service outage")
    second = card_activity(rig, "CR-2 ·")
    [place] = await rig.runtime.store.card_refs("teams", room_key("CR-2"))
    assert place["activity_id"] == second and place["fallback"] == "incident:CR-2"

    # In CR-2's thread, with two incidents open, a command needs no id.
    await rig.post(
        teams.channel_message(
            rig.url, text="crisis severity sev1", user=PEOPLE["maria"], thread_root_id=second
        )
    )
    await rig.settle()
    one = await rig.runtime.store.get(KIND, "CR-1")
    two = await rig.runtime.store.get(KIND, "CR-2")
    assert one is not None and two is not None
    assert from_record(two).severity.value == "sev1"
    assert from_record(one).severity.value == "sev2"
    # "crisis" alone in CR-1's thread shows CR-1's card, not the declare form.
    status, _ = await rig.post(
        teams.channel_message(rig.url, text="crisis", user=PEOPLE["maria"], thread_root_id=first)
    )
    assert status in (200, 201)
    await rig.settle()
    # (Teams has no ephemeral messages: a private answer goes to Maria's chat.)
    personal = teams.personal_conversation_id(PEOPLE["maria"]["id"])
    replies = [texts(c) for a in rig.connector.sent(personal) for c in cards_in(a)]
    assert replies and "CR-1 · Customer-facing service outage" in replies[-1]
    assert not any("Declare a crisis" in r for r in replies)
    # Outside a thread, with two open, the bot asks which.
    await rig.post(
        teams.channel_message(rig.url, text="crisis severity sev3", user=PEOPLE["maria"])
    )
    await rig.settle()
    two_now = await rig.runtime.store.get(KIND, "CR-2")
    assert two_now is not None and from_record(two_now).severity.value == "sev1"


async def test_a_risky_mention_lands_in_the_incident_thread_with_its_marker(
    rig: TeamsRig,
) -> None:
    care = "19:care-channel@thread.tacv2"
    await rig.post(teams.bot_added_to_team(rig.url, installer=PEOPLE["ada"]))
    await rig.post(teams.channel_message(rig.url, text="link hub", user=PEOPLE["ada"]))
    await rig.post(
        teams.channel_message(rig.url, text="link care", user=PEOPLE["ada"], channel_id=care)
    )
    await rig.settle()
    await rig.post(
        teams.channel_message(
            rig.url,
            text="crisis service-outage service=AcmePay status_url=https://status.acme.com down",
            user=PEOPLE["maria"],
        )
    )
    await rig.settle()
    root = card_activity(rig, "CR-1 · Customer-facing service outage")
    risky = {
        "network": "x",
        "id": "t-1",
        "text": "AcmePay took my money twice **again**, my lawyer will hear about this",
        "created_at": "2026-03-02T08:00:00Z",
        "author": {"handle": "billing_burned"},
    }
    assert await rig.runtime.ingest(parse_mention(risky))
    await rig.settle()
    in_thread = [
        texts(c)
        for a in rig.connector.sent(f"{CHANNEL};messageid={root}")
        for c in cards_in(a)
        if "@billing_burned" in texts(c)
    ]
    in_care = [texts(c) for c in rig.cards_sent(care) if "@billing_burned" in texts(c)]
    assert len(in_thread) == 1 and len(in_care) == 1
    for shown in (*in_thread, *in_care):
        assert "Crisis CR-1" in shown and "**again**" in shown
