"""Crisis rooms and the triage link in the console, on both backends: the
incident runs in its card's thread; mentions for the affected spokes carry
"Crisis CR-1" while it is open, and high-risk ones are posted into the room."""

from __future__ import annotations

import json

from handlers.triage.records import KIND as MENTION_KIND
from handlers.triage.records import from_record as mention_from_record
from tests.conftest import Chat

DECLARE = (
    "as priya",
    "channel #hub",
    '/crisis service-outage service="the AcmePay app" status_url=https://status.acme.com '
    "AcmePay payments fail for everyone",
)


def mention(number: int, text: str) -> str:
    body = {
        "network": "x",
        "id": str(number),
        "text": text,
        "created_at": "2026-03-02T08:00:00Z",
        "author": {"handle": f"customer{number}"},
    }
    return "mention " + json.dumps(body)


async def test_open_incident_marks_its_spokes_mentions_and_takes_the_risky_ones(
    chat: Chat,
) -> None:
    out = await chat.run(*DECLARE)
    assert "[#1 · #hub]" in out and "the incident runs in its room" in out
    # In the console the room is the card's thread: the card is not posted twice.
    assert out.count("]\nCR-1 · Customer-facing service outage\n") == 1
    # A risky mention for Customer Care (an affected spoke): marked, and also
    # in the room, as the same card.
    out = await chat.run(mention(1, "AcmePay charged me twice, my lawyer will hear about this"))
    assert "[#3 · #hub, thread of #1]" in out and "[#4 · #care]" in out
    assert out.count("High · Crisis CR-1 · ") == 2
    stored = await chat.store.get(MENTION_KIND, "x:1")
    assert stored is not None and mention_from_record(stored).crisis == "CR-1"
    # Claimed in care: the room's copy shows it too.
    out = await chat.run("as sam", "channel #care", "click Claim #4")
    assert "[#4 · #care (updated)]" in out and "[#3 · #hub, thread of #1 (updated)]" in out
    # A calm one: marked, but only in its spoke.
    out = await chat.run(mention(2, "AcmePay app is slow today"))
    assert "Normal · Crisis CR-1 · " in out and "thread of #1" not in out
    # A mention for a spoke the incident does not affect: no marker.
    out = await chat.run(mention(3, "Are you hiring interns this summer?"))
    assert "[#6 · #talent]" in out and "Crisis CR-1" not in out
    # After resolve, new mentions arrive unmarked and stay out of the room;
    # those that arrived during the incident keep it.
    await chat.run("as priya", "channel #hub", "/crisis resolve")
    out = await chat.run(mention(4, "AcmePay charged me twice again, calling my lawyer"))
    assert "Crisis CR-1" not in out and "thread of #1" not in out
    stored = await chat.store.get(MENTION_KIND, "x:1")
    assert stored is not None and mention_from_record(stored).crisis == "CR-1"
    log = await chat.store.audit_log("mention:x:1")
    assert log[0].detail.get("crisis") == "CR-1"


async def test_a_mention_delivered_twice_is_posted_in_the_room_once(chat: Chat) -> None:
    await chat.run(*DECLARE)
    line = mention(1, "AcmePay charged me twice, my lawyer will hear about this")
    first = await chat.run(line)
    again = await chat.run(line)
    assert "thread of #1" in first and "thread of #1" not in again


async def test_room_commands_in_the_console_fall_back_to_the_only_open_incident(
    chat: Chat,
) -> None:
    await chat.run(*DECLARE)
    # The console has no threads to type in: /crisis alone opens the form,
    # and an id-less command acts on the only open incident.
    out = await chat.run("/crisis")
    assert "[form · Declare a crisis]" in out
    out = await chat.run("/crisis note <!channel> @here call the **bridge**")
    assert "Noted on CR-1" in out


async def test_replies_under_a_risky_mention_go_to_its_spoke_not_the_room(chat: Chat) -> None:
    """The room's copy lands first (it jumps the queue), but the mention's own
    thread (its SLA reminder) stays under the card in its spoke's channel."""
    await chat.run(*DECLARE)
    out = await chat.run(mention(1, "AcmePay charged me twice, my lawyer will hear about this"))
    assert "[#3 · #hub, thread of #1]" in out and "[#4 · #care]" in out
    out = await chat.run("advance 20m")
    assert "thread of #4]" in out and "thread of #3]" not in out
