"""Crisis rooms on Slack against the local fake Web API: a channel per
incident (conversations.create / invite / setTopic), its card and commands
inside, later pages invited, a name clash, a create of unknown outcome, and
the thread under the hub card when Slack does not permit a channel."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.core.rooms import room_key
from bot.intake.feed import parse_mention
from handlers.crisis.records import KIND, from_record
from tests.slack.slack_rig import SlackRig

HUB = "C0HUB"
ROOM = "crisis-cr-1-service-outage"
DECLARE = (
    'service-outage service="AcmePay" status_url=https://status.acme.com '
    "AcmePay <!here> <@U0MARIA> *down* <https://evil.example|status>"
)


def shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def rig(slack_crisis: SlackRig) -> SlackRig:
    return slack_crisis


async def command(
    rig: SlackRig, text: str, *, channel: str = HUB, user: str = "U0PRIYA", name: str = "priya"
) -> None:
    await rig.slash(
        text, command="/crisis", user=user, name=name, channel=channel, channel_name="somewhere"
    )


async def declared(rig: SlackRig, text: str = DECLARE) -> None:
    await rig.slash("link hub")
    await command(rig, text)


def incident_cards(rig: SlackRig, channel: str) -> list[dict[str, Any]]:
    return [m for m in rig.posted(channel) if "CR-1 · Customer-facing" in shown(m["blocks"])]


async def test_declare_opens_a_room_with_the_card_the_people_and_a_safe_topic(
    rig: SlackRig,
) -> None:
    await declared(rig)
    room = rig.fake.channel_named(ROOM)
    assert room is not None and room["creator"] == "U0BOT"
    # The lead and everyone paged are in; the bot never invites itself.
    assert set(room["members"]) == {"U0BOT", "U0PRIYA", "U0MARIA"}
    [invite] = rig.fake.calls_to("conversations.invite")
    assert "U0BOT" not in invite.args["users"].split(",")
    # The topic is one line of at most 250, with nothing Slack would read as
    # a broadcast, a mention or a link.
    value = room["topic"]["value"]
    assert len(value) <= 250 and "CR-1" in value
    assert "<" not in value and ">" not in value and "&lt;!here&gt;" in value
    # The incident card is in the room and in the hub, updated in both.
    assert len(incident_cards(rig, room["id"])) == 1
    assert len(incident_cards(rig, HUB)) == 1
    places = await rig.runtime.store.card_refs("slack", room_key("CR-1"))
    assert places == [{"channel": room["id"], "name": ROOM}]
    entries = await rig.runtime.store.audit_log(subject=room_key("CR-1"))
    assert [e.action for e in entries] == ["room.opened"]
    # The declarer is told where the incident runs.
    assert any(f"#{ROOM}" in e for e in rig.ephemerals("U0PRIYA"))

    # Commands typed in the room need no id; /crisis alone shows the card.
    await command(rig, "note Engineering confirms the database is down", channel=room["id"])
    record = await rig.runtime.store.get(KIND, "CR-1")
    assert record is not None
    assert from_record(record).timeline[-1].detail == "Engineering confirms the database is down"
    before = len(rig.fake.calls_to("views.open"))
    await command(rig, "", channel=room["id"])
    assert len(rig.fake.calls_to("views.open")) == before
    assert any("CR-1 · Customer-facing" in e for e in rig.ephemerals("U0PRIYA")[-1:])

    # Ten minutes without Maria: the escalation pages Ada, who is invited too.
    rig.manual_clock.advance(timedelta(minutes=10))
    await rig.runtime.scheduler().tick()
    await rig.settle()
    assert "U0ADA" in room["members"]
    await command(rig, "resolve", channel=room["id"])
    assert any(
        "CR-1 is resolved. The post-incident summary is in its room." in e
        for e in rig.ephemerals("U0PRIYA")
    )
    record = await rig.runtime.store.get(KIND, "CR-1")
    assert record is not None and not from_record(record).open
    assert "Resolved" in shown(
        [u["blocks"] for u in rig.updates() if u["channel"] == room["id"]][-1]
    )
    # The post-incident summary is posted in the room, once, and not in the hub.
    summaries = [m for m in rig.posted() if "Resolved: CR-1" in shown(m["blocks"])]
    assert [m["channel"] for m in summaries] == [room["id"]]
    # One channel, however many calls.
    assert len(rig.fake.calls_to("conversations.create")) == 1


async def test_room_commands_pick_the_rooms_incident_among_several(rig: SlackRig) -> None:
    await declared(rig)
    await command(rig, 'data-incident topic="customer emails" Customer emails exposed')
    first = rig.fake.channel_named(ROOM)
    second = rig.fake.channel_named("crisis-cr-2-data-incident")
    assert first is not None and second is not None
    await command(rig, "severity sev1", channel=second["id"])
    one = await rig.runtime.store.get(KIND, "CR-1")
    two = await rig.runtime.store.get(KIND, "CR-2")
    assert one is not None and two is not None
    assert from_record(two).severity.value == "sev1"
    assert from_record(one).severity.value == "sev2"
    # Outside any room, with two open, the bot asks which.
    await command(rig, "severity sev3")
    assert any("CR-1, CR-2 are open" in e for e in rig.ephemerals("U0PRIYA"))


async def test_a_name_taken_by_someone_else_gets_a_number(rig: SlackRig) -> None:
    rig.fake.add_channel(ROOM, creator="U0SOMEONE")
    await declared(rig)
    room = rig.fake.channel_named(f"{ROOM}-2")
    assert room is not None and room["creator"] == "U0BOT"
    assert len(incident_cards(rig, room["id"])) == 1


async def test_a_create_of_unknown_outcome_is_found_by_name_not_made_twice(
    rig: SlackRig,
) -> None:
    # Slack makes the channel, then the answer is lost.
    rig.fake.fail_connection("conversations.create")
    await declared(rig)
    mine = [c for c in rig.fake.channels.values() if c["creator"] == "U0BOT"]
    assert [c["name"] for c in mine] == [ROOM]
    assert len(rig.fake.calls_to("conversations.create")) == 2
    assert len(incident_cards(rig, mine[0]["id"])) == 1
    assert {"U0PRIYA", "U0MARIA"} <= set(mine[0]["members"])


@pytest.mark.parametrize("error", ["restricted_action", "missing_scope"])
async def test_when_slack_refuses_a_channel_the_incident_runs_in_the_hub_thread(
    rig: SlackRig, error: str
) -> None:
    rig.fake.refuse_create(error)
    await declared(rig)
    assert not [c for c in rig.fake.channels.values() if c["creator"] == "U0BOT"]
    assert not rig.fake.calls_to("conversations.invite")
    # One incident card, in the hub; the room is its thread.
    [card] = incident_cards(rig, HUB)
    assert not card.get("thread_ts")
    [place] = await rig.runtime.store.card_refs("slack", room_key("CR-1"))
    assert place["channel"] == HUB and place["fallback"] == "incident:CR-1"
    parent = rig.fake.message(HUB, str(place["ts"]))
    assert parent is not None and "CR-1 · Customer-facing" in shown(parent["blocks"])
    # A later page brings nobody to invite; the card still updates.
    rig.manual_clock.advance(timedelta(minutes=10))
    await rig.runtime.scheduler().tick()
    await rig.settle()
    assert not rig.fake.calls_to("conversations.invite")
    assert len(incident_cards(rig, HUB)) == 1


async def test_a_risky_mention_for_an_affected_spoke_is_also_posted_in_the_room(
    rig: SlackRig,
) -> None:
    await rig.slash("link care", channel="C0CARE", channel_name="care")
    await declared(rig)
    room = rig.fake.channel_named(ROOM)
    assert room is not None
    risky = {
        "network": "x",
        "id": "m-1",
        "text": "AcmePay took my money twice <!channel>, my lawyer will hear about this",
        "created_at": "2026-03-02T08:00:00Z",
        "author": {"handle": "billing_burned"},
    }
    assert await rig.runtime.ingest(parse_mention(risky))
    assert not await rig.runtime.ingest(parse_mention(risky))  # delivered twice: once
    await rig.runtime.ingest(parse_mention({**risky, "id": "m-2", "text": "AcmePay is slow"}))
    await rig.settle()
    in_room = [m for m in rig.posted(room["id"]) if "@billing_burned" in shown(m["blocks"])]
    in_care = [m for m in rig.posted("C0CARE") if "@billing_burned" in shown(m["blocks"])]
    assert len(in_room) == 1 and len(in_care) == 2
    assert "my lawyer" in shown(in_room[0]["blocks"])
    for message in (*in_room, *in_care):
        assert "Crisis CR-1" in shown(message["blocks"][:3])
    # A top-level post in the room channel, not a thread reply.
    assert not in_room[0].get("thread_ts")
