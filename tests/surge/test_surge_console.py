"""Surge mode in the console, on SQLite and Redis: the sample surge feed
(40 mentions for Customer Care at once) through the bot as a user sees it."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from bot.core.events import Action
from bot.core.model import MentionState
from handlers.surge.records import CLAIM_KIND
from handlers.surge.records import KIND as SURGE
from handlers.triage.records import KIND as MENTION
from handlers.triage.records import from_record
from tests.conftest import START, Chat

SURGE_CARD = "surge:care:1"


async def mentions(chat: Chat) -> list[object]:
    found = await chat.store.find(MENTION, "spoke:care", limit=1000)
    return [from_record(r) for r in found]


async def test_a_burst_gets_one_surge_card_and_the_standouts_still_come_singly(
    chat: Chat,
) -> None:
    shown = await chat.run("ingest surge.jsonl")
    assert "(ingested 40 mentions, 0 duplicates dropped, 0 refused)" in shown
    # Twenty fit the spoke's allowance (more than 20 in 5 minutes is a surge);
    # of the twenty after them only the high-reach and the legal-risk one get cards.
    assert shown.count("Surge in Customer Care") == 1
    assert shown.count("X mention from @") == 22
    assert "X mention from @bigvoice" in shown and "X mention from @locked_out" in shown
    assert "X mention from @late_0" not in shown
    # Every mention is stored, open and in the care queue; SLA timers run for each.
    stored = await mentions(chat)
    assert len(stored) == 40
    in_surge = [m for m in stored if m.surge == "care:1"]  # type: ignore[attr-defined]
    assert len(in_surge) == 18
    timers = await chat.store.pending_timers("")
    for mention in in_surge:
        assert any(t.payload.get("key") == mention.key for t in timers)  # type: ignore[attr-defined]
    queue = await chat.run("as alex", "/triage care")
    assert "Unclaimed in Customer Care (40)" in queue


async def test_the_surge_card_is_updated_in_place_with_groups(chat: Chat) -> None:
    await chat.run("ingest surge.jsonl")
    shown = await chat.run("advance 10s")
    assert "[#1 · #care (updated)]" in shown
    assert "Surge in Customer Care" in shown and "X mention from" not in shown
    assert "20 mentions since the surge began, 40 in the last 5m." in shown
    assert "Mentions per minute, last 15 min: ▁▁▁▁▁▁▁▁▁▁▁▁▁▁█" in shown
    assert "6 alike · 6 open · 100% negative" in shown
    assert "[Claim cluster]" in shown
    # Nothing changed in the next ten seconds but the clock: the card is not sent again.
    again = await chat.run("advance 10s")
    assert "(updated)" not in again


async def test_claim_cluster_takes_every_open_member_once(chat: Chat) -> None:
    await chat.run("ingest surge.jsonl", "advance 10s", "as sam")
    done = await chat.run("click Claim cluster")
    assert "You claimed 6 mentions of the group like" in done
    owned = [m for m in await mentions(chat) if m.owner == "sam"]  # type: ignore[attr-defined]
    assert len(owned) == 6
    assert all(m.state is MentionState.CLAIMED for m in owned)  # type: ignore[attr-defined]
    audit = await chat.store.audit_log()
    assert [e.actor for e in audit if e.action == "surge.cluster.claim"] == ["sam"]
    claims = [e for e in audit if e.action == "mention.claim"]
    assert len(claims) == 6 and {e.actor for e in claims} == {"sam"}
    # Alex clicks the same group on the card as it still shows (not refreshed yet).
    refused = await chat.run("as alex", "click Claim cluster #1")
    assert "Sam Okafor already claimed that group." in refused
    assert len([m for m in await mentions(chat) if m.owner == "alex"]) == 0  # type: ignore[attr-defined]
    updated = await chat.run("advance 10s")
    assert "claimed by Sam Okafor" in updated


async def test_two_responders_claiming_one_cluster_at_once_split_nothing(chat: Chat) -> None:
    await chat.run("ingest surge.jsonl", "advance 10s")
    sam, alex = chat.press("sam", "Claim cluster"), chat.press("alex", "Claim cluster")
    assert sam.value == alex.value
    await asyncio.gather(
        chat.runtime.handle(sam, chat.session), chat.runtime.handle(alex, chat.session)
    )
    claims = await chat.store.find(CLAIM_KIND, "surge:care:1")
    assert len(claims) == 1
    winner = claims[0].data["owner"]
    members = claims[0].data["members"]
    owners = {
        m.owner  # type: ignore[attr-defined]
        for m in await mentions(chat)
        if m.key in members  # type: ignore[attr-defined]
    }
    assert owners == {winner}
    audit = await chat.store.audit_log()
    assert len([e for e in audit if e.action == "surge.cluster.claim"]) == 1
    assert len([e for e in audit if e.action == "mention.claim"]) == len(members)
    loser = "alex" if winner == "sam" else "sam"
    name = "Sam Okafor" if winner == "sam" else "Alex Chen"
    assert f"{name} already claimed that group." in "\n".join(chat.session.transcript)
    assert loser


async def test_the_surge_ends_with_a_summary_and_cards_come_singly_again(chat: Chat) -> None:
    await chat.run("ingest surge.jsonl", "advance 10s")
    quiet = await chat.run("advance 14m")
    assert "Surge in Customer Care ended" not in quiet
    ended = await chat.run("advance 2m")
    assert "Surge in Customer Care ended" in ended
    assert (
        "The surge in Customer Care ended after 15m: 20 mentions, at most 40 in 5m; "
        "18 still open (in /triage). Cards are posted one by one again." in ended
    )
    state = await chat.store.get(SURGE, "care")
    assert state is not None and state.data["surging"] is False
    assert [e.action for e in await chat.store.audit_log(SURGE_CARD)] == [
        "surge.start",
        "surge.end",
    ]
    # After the surge, a new mention gets its own card again.
    single = await chat.run(
        'mention {"network": "x", "id": "after-1", "text": "@acme thanks, it works again",'
        ' "created_at": "2026-03-02T09:20:00Z", "author": {"handle": "calm_carl"}}'
    )
    assert "X mention from @calm_carl" in single
    # The refresh timer is gone: nothing keeps firing.
    assert not await chat.store.pending_timers("surge.refresh")


async def test_a_stale_cluster_click_after_the_end_is_refused(chat: Chat) -> None:
    await chat.run("ingest surge.jsonl", "advance 10s")
    click = chat.press("sam", "Claim cluster")
    await chat.run("advance 20m")
    chat.session.clock.advance(timedelta(0))
    await chat.runtime.handle(
        Action(
            platform="console",
            actor=click.actor,
            received_at=START,
            action_id=click.action_id,
            value=click.value,
            card_key=click.card_key,
        ),
        chat.session,
    )
    assert "That surge has ended; open /triage for its mentions." in "\n".join(
        chat.session.transcript
    )
    assert not await chat.store.find(CLAIM_KIND, "surge:care:1")


HOSTILE = (
    "<!channel> @here **FREE** refund for everyone affected [claim it](https://evil.example) "
    "<https://evil.example|acme.com/refund> \u202egnp.exe"
)


async def test_hostile_text_in_a_group_example_is_inert_on_every_renderer(chat: Chat) -> None:
    from bot.platforms.slack import render as slack
    from bot.platforms.teams import render as teams
    from tests.slack.slack_rig import assert_valid_message, shown_text

    lines = [
        "mention "
        + json.dumps(
            {
                "network": "x",
                "id": f"h-{n}",
                "text": HOSTILE if n >= 20 else f"@acme order {n} is late",
                "created_at": "2026-03-02T08:59:00Z",
                "author": {"handle": f"spammer{n}", "followers": 5},
            }
        )
        for n in range(30)
    ]
    await chat.run(*lines, "advance 10s")
    card = next(s.card for s in chat.session.shown.values() if s.card.card_key == SURGE_CARD)
    examples = [row.snippet for row in card.rows]
    assert any("FREE" in e for e in examples)
    message = slack.message(card)
    assert_valid_message(message)
    # Valid Block Kit with no mrkdwn: "<!channel>", "**" and the fake link
    # are shown as typed (rich text does not read them); "@here" is defused.
    seen = shown_text(message)
    assert "<!channel> ＠here **FREE**" in seen and "@here" not in seen
    assert "\u202e" not in seen
    adaptive = json.dumps(teams.adaptive_card(card), ensure_ascii=False)
    assert "@here" not in adaptive and "\u202e" not in adaptive
    assert "evil.example" not in str([b.url for b in card.buttons])
    console = chat.card(1)
    assert "@here" not in console and "\u202e" not in console


async def test_show_10_more_and_open_in_triage(chat: Chat) -> None:
    topics = [
        "the acme app will not open on my phone",
        "my acme card was charged twice this morning",
        "where is the acme store on main street",
        "acme delivery driver left my parcel in the rain",
        "cannot reset my acme password since yesterday",
        "acme support chat keeps disconnecting me",
        "the acme website shows the wrong opening hours",
        "acme rewards points vanished from my account",
    ]
    lines = [
        "mention "
        + json.dumps(
            {
                "network": "x",
                "id": f"m-{n}",
                "text": f"{topics[n % len(topics)]} ({n})",
                "created_at": "2026-03-02T08:59:00Z",
                "author": {"handle": f"person{n}", "followers": 5},
            }
        )
        for n in range(40)
    ]
    await chat.run(*lines, "advance 10s", "as alex")
    more = await chat.run("click Show 10 more")
    # Two of the eight wordings are negative (high priority: cards of their
    # own), so the surge has six groups: five on the card, the sixth here.
    assert "· only alex sees this]" in more
    assert "More similar mentions in Customer Care" in more
    assert "Groups 6 to 6 of 6" in more
    assert more.count("[Claim cluster]") == 1
    queue = await chat.run("click Open in /triage")
    assert "Unclaimed in Customer Care (40)" in queue


async def test_later_members_of_a_claimed_group_follow_and_a_release_sticks(chat: Chat) -> None:
    await chat.run("ingest surge.jsonl", "advance 10s", "as sam", "click Claim cluster")
    [claim] = await chat.store.find(CLAIM_KIND, "surge:care:1")
    example = (await chat.store.get("mention", claim.data["members"][0])).data["text"]  # type: ignore[union-attr]
    more = [
        "mention "
        + json.dumps(
            {
                "network": "x",
                "id": f"later-{n}",
                "text": example,
                "created_at": "2026-03-02T09:00:00Z",
                "author": {"handle": f"later{n}", "followers": 5},
            }
        )
        for n in range(3)
    ]
    await chat.run(*more, "advance 10s")
    later = [from_record(r) for r in await chat.store.find(MENTION, "surge:care:1", limit=500)]
    followed = [m for m in later if m.external_id.startswith("later-")]
    assert len(followed) == 3 and {m.owner for m in followed} == {"sam"}
    follow = [e for e in await chat.store.audit_log() if e.action == "surge.cluster.follow"]
    assert [(e.actor, e.detail["members"]) for e in follow] == [("sam", 3)]
    # Sam gives one back; the next refreshes leave it in the queue.
    released = followed[0]
    await chat.runtime.handle(
        Action(
            platform="console",
            actor=chat.runtime.settings.actor_for(chat.runtime.settings.people["sam"], "console"),
            received_at=START,
            action_id="triage.release",
            value=f"{released.key}|{released.version}",
        ),
        chat.session,
    )
    await chat.run("advance 30s")
    record = await chat.store.get(MENTION, released.key)
    assert record is not None and from_record(record).owner is None
