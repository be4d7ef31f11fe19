"""A crisis room's life on Slack against the local fake Web API: after a
create of unknown outcome only a channel this room made is taken as its own;
the incident card links to the room; the room is archived once the
post-incident summary is in it (conversations.archive through the outbox)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from bot.core.rooms import room_key, room_marker
from bot.platforms.slack.rooms import _made_by
from tests.conftest import START
from tests.crisis.test_rooms_slack import HUB, ROOM, command, declared, incident_cards, rig, shown
from tests.slack.slack_rig import SlackRig

__all__ = ["rig"]  # the fixture, shared with the room tests

LINK = "https://slack.com/app_redirect?channel="


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (element["text"]["text"], element.get("url", ""))
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    ]


async def opened(rig: SlackRig) -> dict[str, Any]:
    """Declare CR-1 and let the room's opening reach the incident card."""
    await declared(rig)
    await rig.runtime.scheduler().tick()
    await rig.settle()
    room = rig.fake.channel_named(ROOM)
    assert room is not None
    return room


async def test_an_old_channel_of_the_bots_with_the_rooms_name_is_not_reused(
    rig: SlackRig,
) -> None:
    # A room the bot made long ago (an earlier CR-1, another deployment), still open.
    old = rig.fake.add_channel(ROOM, creator="U0BOT")
    rig.fake.fail_connection("conversations.create")  # and this create's answer is lost
    await declared(rig)
    room = rig.fake.channel_named(f"{ROOM}-2")
    assert room is not None and room["creator"] == "U0BOT"
    # People read a description; the marker that says which item made it ends it.
    assert re.fullmatch(
        r"Crisis room for CR-1 · playcaller-room:[0-9a-f]{32}", room["purpose"]["value"]
    )
    assert rig.fake.channels[old]["members"] == ["U0BOT"]
    assert incident_cards(rig, old) == []
    assert len(incident_cards(rig, room["id"])) == 1
    [place] = await rig.runtime.store.card_refs("slack", room_key("CR-1"))
    assert place == {"channel": room["id"], "name": f"{ROOM}-2"}


async def test_a_fresh_channel_another_room_marked_is_not_taken_either(rig: SlackRig) -> None:
    rig.fake.add_channel(
        ROOM, creator="U0BOT", created=int(START.timestamp()), purpose="playcaller-room:other"
    )
    await declared(rig)
    room = rig.fake.channel_named(f"{ROOM}-2")
    assert room is not None and len(incident_cards(rig, room["id"])) == 1


@pytest.mark.parametrize(
    ("purpose", "ours"),
    [
        ("Crisis room for CR-1 · playcaller-room:ab12", True),
        ("playcaller-room:ab12", True),  # a room made before the purpose was readable
        ("Crisis room for CR-1 · playcaller-room:ff99", False),
        ("playcaller-room:ab12 · renamed by someone", False),
    ],
)
def test_a_room_is_recognised_by_the_marker_ending_its_purpose(purpose: str, ours: bool) -> None:
    channel = {"creator": "U0BOT", "created": 0, "purpose": {"value": purpose}}
    assert _made_by(channel, "U0BOT", room_marker("ab12"), START) is ours


async def test_the_incident_card_links_to_its_room_by_the_channel_id(rig: SlackRig) -> None:
    room = await opened(rig)
    for channel in (HUB, room["id"]):
        card = [u for u in rig.updates() if u["channel"] == channel][-1]
        assert (f"Room: #{ROOM}", LINK + room["id"]) in buttons(card)
    # Cards from before the room opened have no such link; the hub card is one card.
    assert len(incident_cards(rig, HUB)) == 1
    assert not any("Room:" in shown(m["blocks"]) for m in incident_cards(rig, HUB))


async def test_resolving_archives_the_room_after_the_summary_is_posted(rig: SlackRig) -> None:
    room = await opened(rig)
    await command(rig, "resolve", channel=room["id"])
    summaries = [m for m in rig.posted(room["id"]) if "Resolved: CR-1" in shown(m["blocks"])]
    assert len(summaries) == 1
    assert room["is_archived"] is True
    # What the room saw, in order: the summary and the resolved incident card
    # (updates are paced) both went in before the archive.
    seen = [
        (c.method, c.args)
        for c in rig.fake.calls
        if c.args.get("channel") == room["id"] and not c.rate_limited
        if c.method in ("chat.postMessage", "chat.update", "conversations.archive")
    ]
    methods = [method for method, _ in seen]
    assert methods[-1] == "conversations.archive"
    assert methods.count("conversations.archive") == 1
    summary_at = next(i for i, (m, a) in enumerate(seen) if a is summaries[0])
    last_card = [args for method, args in seen if method == "chat.update"][-1]
    assert summary_at < methods.index("chat.update", summary_at) < len(seen) - 1
    assert "CR-1 · Customer-facing" in shown(last_card["blocks"])
    assert "Resolved" in shown(last_card["blocks"])
    assert "crisis.resolve" not in shown(last_card["blocks"])
    entries = await rig.runtime.store.audit_log(subject=room_key("CR-1"))
    assert [e.action for e in entries] == ["room.opened", "room.archived"]
    everything = await rig.runtime.store.audit_log()
    assert [e for e in everything if e.action == "outbox.undeliverable"] == []
    # The resolved card still links to the (archived, readable) room.
    card = [u for u in rig.updates() if u["channel"] == HUB][-1]
    assert (f"Room: #{ROOM}", LINK + room["id"]) in buttons(card)


async def test_an_incident_resolved_before_its_room_opened_leaves_no_channel(
    rig: SlackRig,
) -> None:
    rig.fake.rate_limit("conversations.create", times=1000, retry_after=30)
    with pytest.raises(AssertionError, match="did not drain"):
        await declared(rig)  # the room waits: Slack holds the create back
    # Resolved while the room still waits; the limit is lifted after.
    await command(rig, "CR-1 resolve")
    rig.fake.reset_faults()
    await rig.settle()
    await rig.runtime.scheduler().tick()
    await rig.settle()
    assert rig.fake.channel_named(ROOM) is None
    assert [c for c in rig.fake.calls_to("conversations.create") if not c.rate_limited] == []
    # The summary reaches people under the incident card in the hub.
    [summary] = [m for m in rig.posted(HUB) if "Resolved: CR-1" in shown(m["blocks"])]
    [place] = await rig.runtime.store.card_refs("slack", room_key("CR-1"))
    assert place["fallback"] == "incident:CR-1" and summary["thread_ts"] == place["ts"]
    parent = rig.fake.message(HUB, str(place["ts"]))
    assert parent is not None and "CR-1 · Customer-facing" in shown(parent["blocks"])
    everything = await rig.runtime.store.audit_log()
    assert [e for e in everything if e.action == "outbox.undeliverable"] == []
    assert await rig.runtime.store.outbox_size("slack") == 0


async def test_a_room_the_bot_was_removed_from_stays_and_the_refusal_is_audited(
    rig: SlackRig,
) -> None:
    room = await opened(rig)
    room["members"].remove("U0BOT")  # someone removed the bot from the room
    await command(rig, "resolve", channel=room["id"])
    assert room["is_archived"] is False
    [refused] = [
        e
        for e in await rig.runtime.store.audit_log(subject=room_key("CR-1"))
        if e.action == "outbox.undeliverable"
    ]
    assert refused.detail["op"] == "archive" and "not_in_channel" in refused.detail["error"]
    assert await rig.runtime.store.outbox_size("slack") == 0


async def test_a_room_archived_already_is_no_error(rig: SlackRig) -> None:
    room = await opened(rig)
    await command(rig, "resolve", channel=room["id"])
    [place] = await rig.runtime.store.card_refs("slack", room_key("CR-1"))
    await rig.platform.delivery.archive(place)  # again: Slack says already_archived
    assert [c.args["channel"] for c in rig.fake.calls_to("conversations.archive")] == [
        room["id"],
        room["id"],
    ]
    assert room["is_archived"] is True


async def test_archiving_can_be_turned_off(rig: SlackRig) -> None:
    settings = rig.runtime.settings
    rooms = replace(settings.crisis_rooms, archive_on_resolve=False)
    rig.runtime.settings = replace(settings, crisis_rooms=rooms)
    room = await opened(rig)
    await command(rig, "resolve", channel=room["id"])
    assert [m for m in rig.posted(room["id"]) if "Resolved: CR-1" in shown(m["blocks"])]
    assert room["is_archived"] is False
    assert not rig.fake.calls_to("conversations.archive")
