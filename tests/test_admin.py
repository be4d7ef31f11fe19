"""Linking a channel to a spoke in chat."""

from __future__ import annotations

import json

from bot.core.directory import LINK_KIND
from tests.conftest import Chat

CAREERS = {
    "network": "linkedin",
    "id": "77",
    "text": "Is Acme hiring interns?",
    "created_at": "2026-03-02T08:59:00Z",
    "author": {"handle": "kim"},
}


async def test_an_admin_links_a_channel_and_cards_arrive_there(chat: Chat) -> None:
    out = await chat.run("as ada", "channel new #recruiting", "/playcaller link talent")
    assert "This channel now receives the mention cards of HR & Recruiting." in out
    out = await chat.run("mention " + json.dumps(CAREERS))
    assert "[#1 · #recruiting]" in out
    record = await chat.store.get(LINK_KIND, "console:talent")
    assert record is not None and record.data["channel"] == "#recruiting"
    log = await chat.store.audit_log("spoke:talent")
    assert [(e.actor, e.action) for e in log] == [("ada", "channel.link")]


async def test_relinking_a_channel_moves_it_to_the_new_spoke(chat: Chat) -> None:
    await chat.run(
        "as ada", "channel new #shared", "/playcaller link talent", "/playcaller link comms"
    )
    talent = await chat.store.get(LINK_KIND, "console:talent")
    assert talent is not None and talent.data["channel"] is None
    out = await chat.run("mention " + json.dumps({**CAREERS, "network": "news", "id": "n1"}))
    assert "[#1 · #shared]" in out  # comms cards now arrive in #shared
    out = await chat.run("mention " + json.dumps(CAREERS))
    assert "no channel" not in out and "#shared" not in out.split("\n", 1)[1]


async def test_linking_a_configured_channel_unbinds_its_old_spoke(chat: Chat) -> None:
    out = await chat.run("as ada", "channel #care", "/playcaller link talent")
    assert "This channel now receives the mention cards of HR & Recruiting." in out
    out = await chat.run("mention " + json.dumps(CAREERS))
    assert "[#1 · #care]" in out
    care = await chat.store.get(LINK_KIND, "console:care")
    assert care is not None and care.data["channel"] is None
    out = await chat.run("as sam", "channel #care", "/triage")
    assert "Triage queue: HR & Recruiting" in out


async def test_only_admins_link_and_bad_spokes_are_named(chat: Chat) -> None:
    out = await chat.run("as sam", "channel new #x", "/playcaller link talent")
    assert "Only an admin can link channels." in out
    out = await chat.run("as ada", "/playcaller link nowhere")
    assert "spoke: name one of hub, care, comms, talent" in out
    out = await chat.run("channel @ada", "/playcaller link care")
    assert "channel: run /playcaller link in the channel to link, not in a DM" in out
    assert await chat.store.get(LINK_KIND, "console:talent") is None


async def test_linking_the_hub_says_it_gets_questions(chat: Chat) -> None:
    out = await chat.run("as ada", "channel new #coaches", "/playcaller link hub")
    assert "This channel is now the hub: coaches get questions from employees here." in out
    assert "mention cards" not in out and "'s" not in out.split("link hub")[-1]
