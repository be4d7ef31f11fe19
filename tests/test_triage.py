"""Mention triage end to end through the console platform, on both backends."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

from bot.core.events import Action
from bot.core.model import MentionState
from handlers.triage.records import KIND, from_record
from tests.conftest import START, Chat, open_chat

COMPLAINT = {
    "network": "x",
    "id": "42",
    "text": "@acme charged me twice and support is useless",
    "url": "https://x.com/dana/status/42",
    "created_at": "2026-03-02T08:59:00Z",
    "author": {"handle": "dana", "followers": 900},
}


def mention_line(**changes: object) -> str:
    return "mention " + json.dumps({**COMPLAINT, **changes})


async def stored(chat: Chat, key: str = "x:42") -> object:
    record = await chat.store.get(KIND, key)
    assert record is not None
    return from_record(record)


async def test_mention_card_arrives_in_the_routed_spoke(chat: Chat) -> None:
    out = await chat.run(mention_line())
    assert "[#1 · #care]" in out
    assert "X mention from @dana" in out
    # One headline of state badges, the post, a few facts; ids and rules only in Details.
    assert "  High · 30m left · Unclaimed\n" in out
    assert "  > @acme charged me twice and support is useless" in out
    assert "Author: @dana, 900 followers" in out
    assert "Sentiment: Complaint · urgent" in out
    assert "[Claim] [Open post ↗] [Resolve] · more: [Escalate to coach] [Assign] [Details]" in out
    assert "(Customer Care · received just now · Mon 2 Mar 09:00 UTC)" in out
    assert "unhappy-customers" not in out and "x:42" not in out
    details = await chat.run("click Details #1")
    assert "[only sam sees this]" in details
    assert "Post id: x:42" in details and "Routed by: rule unhappy-customers" in details


async def test_claim_updates_the_card_for_everyone_and_is_audited(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam")
    out = await chat.run("click Claim #1")
    assert "You claimed the mention from @dana" in out
    assert "[#1 · #care (updated)]" in out
    assert "High · 30m left · Claimed by Sam Okafor" in chat.card(1)
    assert (
        "[Draft reply] [Resolve] [Open post ↗] · more: [Release] [Escalate to coach]"
        in chat.card(1)
    )
    mention = await stored(chat)
    assert mention.state is MentionState.CLAIMED and mention.owner == "sam"  # type: ignore[attr-defined]
    log = await chat.store.audit_log("mention:x:42")
    assert [(e.actor, e.action) for e in log] == [
        ("system", "mention.received"),
        ("sam", "mention.claim"),
    ]


async def test_second_responder_is_told_who_holds_it(chat: Chat) -> None:
    await chat.run(mention_line(), "as alex", "/triage", "as sam", "click Claim #1", "as alex")
    out = await chat.run("click Claim #2")
    assert (
        "Already claimed by Sam Okafor. Nothing was changed. The card you clicked was out of date"
        in out
    )
    assert (await stored(chat)).owner == "sam"  # type: ignore[attr-defined]


async def test_concurrent_claims_have_exactly_one_winner(chat: Chat) -> None:
    await chat.run(mention_line())
    session = chat.session

    def click(person: str) -> Action:
        return chat.press(person, "Claim", channel="care", platform_channel="#care")

    start = len(session.transcript)
    await asyncio.gather(
        *(chat.runtime.handle(click(p), session) for p in ("sam", "alex", "maria"))
    )
    said = "\n".join(session.transcript[start:])
    winner = (await stored(chat)).owner  # type: ignore[attr-defined]
    assert winner in {"sam", "alex", "maria"}
    assert said.count("You claimed the mention") == 1
    assert said.count("Already claimed by") == 2
    claims = [e for e in await chat.store.audit_log("mention:x:42") if e.action == "mention.claim"]
    assert [e.actor for e in claims] == [winner]


async def test_a_double_click_with_one_delivery_key_has_one_effect(chat: Chat) -> None:
    await chat.run(mention_line())
    session = chat.session
    click = chat.press("sam", "Claim", channel="care", dedupe_key="click-1")
    await chat.runtime.handle(click, session)
    await chat.runtime.handle(click, session)
    await chat.runtime.handle(replace(click, dedupe_key="click-2"), session)
    await session.settle()
    said = "\n".join(session.transcript)
    assert said.count("You claimed the mention") == 1
    assert said.count("You already own this mention.") == 1
    claims = [e for e in await chat.store.audit_log("mention:x:42") if e.action == "mention.claim"]
    assert len(claims) == 1


async def test_people_without_a_role_are_refused_with_the_role_named(chat: Chat) -> None:
    await chat.run(mention_line())
    assert "Only a responder or coach can claim mentions." in await chat.run(
        "as jo", "click Claim #1"
    )
    out = await chat.run("as stranger@example.org", "click Claim #1")
    assert "Only a responder or coach can claim mentions." in out
    assert "Only a responder or coach can see the triage queue." in await chat.run("/triage")
    assert (await stored(chat)).state is MentionState.OPEN  # type: ignore[attr-defined]


async def test_release_returns_the_mention_to_the_queue(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1")
    assert "Only Sam Okafor or a coach can release" in await chat.run("as alex", "click Release #1")
    out = await chat.run("as sam", "click Release #1")
    assert "back in the Customer Care queue" in out
    assert "High · 30m left · Unclaimed" in chat.card(1)
    assert [t.kind for t in await chat.store.pending_timers("triage.")] == [
        "triage.warn",
        "triage.breach",
    ]


async def test_resolve_through_the_form_closes_everything(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1")
    out = await chat.run("click Resolve #1")
    assert "[form · Resolve mention]" in out
    out = await chat.run('fill outcome=spam note="bot account"', "submit")
    assert "Resolved the mention from @dana as spam." in out
    assert "High · Resolved in 0s" in chat.card(1)
    assert "Outcome: Resolved by Sam Okafor: spam (bot account)" in chat.card(1)
    assert "[Claim]" not in chat.card(1) and "[Release]" not in chat.card(1)
    assert "[Open post ↗] · more: [Details]" in chat.card(1)
    assert await chat.store.pending_timers() == []
    out = await chat.run("as alex", "/triage")
    assert "Nothing is waiting in Customer Care." in out


async def test_a_stale_click_changes_nothing_and_says_so(chat: Chat) -> None:
    await chat.run(mention_line(), "as alex", "/triage", "as sam", "click Resolve #1")
    await chat.run("fill outcome=no_action", "submit")
    out = await chat.run("as alex", "click Claim #2")
    assert "already resolved by Sam Okafor. Nothing was changed." in out
    assert (await stored(chat)).outcome.value == "no_action"  # type: ignore[attr-defined]


async def test_escalate_sends_the_reason_to_the_spoke_coach(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Escalate to coach #1")
    out = await chat.run('fill reason="threatens to go to the press"', "submit")
    assert "[#2 · @maria]" in out
    assert "Escalated to you: Customer Care" in out
    assert (
        "Sam Okafor asks for your help with the mention from @dana: threatens to go to the press"
        in out
    )
    assert "Escalated to Maria Lopez by Sam Okafor: threatens to go to the press" in chat.card(1)
    log = await chat.store.audit_log("mention:x:42")
    assert log[-1].action == "mention.escalate" and log[-1].actor == "sam"


async def test_reminder_at_warn_and_escalation_at_breach(chat: Chat) -> None:
    await chat.run(mention_line())
    out = await chat.run("advance 14m")
    assert "Reminder" not in out
    out = await chat.run("advance 2m")
    assert "[#2 · #care, thread of #1]" in out
    assert "Reminder: the high mention from @dana has waited 15m without an owner." in out
    assert "[Claim]" in out
    out = await chat.run("advance 15m")
    assert "[#3 · @maria]" in out
    assert "Response time breached: Customer Care" in out
    assert "is still unclaimed after 30m (target 30m)" in out
    assert "Escalated to Maria Lopez: response time breached." in chat.card(1)
    # The coach's DM: why it came to her, once; the coach is not offered to escalate.
    dm = chat.card(3)
    assert "As its coach, please claim it or assign it to a responder." in dm
    assert dm.count("response time breached") == 0 and "Breached just now" in dm
    assert "[Claim] [Open post ↗] [Resolve] · more: [Assign] [Details]\n" in dm
    actions = [e.action for e in await chat.store.audit_log("mention:x:42")]
    assert actions == ["mention.received", "mention.reminder", "mention.breach"]
    assert await chat.store.pending_timers() == []


async def test_the_coachs_copy_changes_with_the_card(chat: Chat) -> None:
    await chat.run(mention_line(), "advance 31m")
    assert "Response time breached: Customer Care" in chat.card(3)
    # The coach claims from her DM: her copy and the channel's card both change in place.
    out = await chat.run("advance 1m", "as maria", "click Claim #3")
    assert "[#1 · #care (updated)]" in out and "[#3 · @maria (updated)]" in out
    for number in (1, 3):
        card = chat.card(number)
        assert "Claimed by Maria Lopez" in card, card
        assert "[Claim]" not in card and "[Release]" in card
    # The copy has the Details view on the console (and Slack) too.
    out = await chat.run("click Details #3")
    assert "Post id: x:42" in out and "Routed by: rule unhappy-customers" in out


async def test_threads_stay_under_the_channels_card(chat: Chat) -> None:
    # Sam escalates (a copy to Maria), then releases: the reminder goes to the channel's thread.
    await chat.run(mention_line(), "as sam", "advance 1m", "click Claim #1")
    await chat.run("click Escalate to coach #1", 'fill reason="press"', "submit")
    assert "Escalated to you: Customer Care" in chat.card(2)
    out = await chat.run("advance 1m", "click Release #1")
    assert "[#2 · @maria (updated)]" in out
    assert "Unclaimed" in chat.card(2) and "Claimed by" not in chat.card(2)
    out = await chat.run("advance 14m")
    assert "[#3 · #care, thread of #1]" in out
    assert "Reminder: the high mention from @dana" in out


async def test_claimed_mentions_get_no_reminder(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1")
    out = await chat.run("advance 16m")
    assert "Reminder" not in out


async def test_owner_is_nudged_then_an_idle_claim_is_released(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1")
    out = await chat.run("advance 20m")
    assert "[#2 · @sam]" in out
    assert "You claimed the mention from @dana 20m ago and it is still open." in out
    out = await chat.run("advance 25m")
    assert "Your claim on the mention from @dana was released after 45m without activity" in out
    assert "Your claim on the mention from @dana was released after 45m without activity;" in out
    assert "Back in the queue" in out
    assert "Breached 15m ago · Unclaimed" in chat.card(1)
    log = await chat.store.audit_log("mention:x:42")
    assert [(e.actor, e.action) for e in log][-1] == ("system", "mention.auto_release")


async def test_reclaim_fences_the_old_claims_timers(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1", "advance 10m", "click Release #1")
    await chat.run("as alex", "click Claim #1", "advance 12m")
    # Sam's nudge would have been due at 20m; it was cancelled with his claim.
    out = await chat.run("advance 19m")
    assert "@sam" not in out
    assert "You claimed the mention from @dana 20m ago" in out  # alex's nudge at 10m + 20m


async def test_triage_lists_my_claims_and_the_queue_by_priority(chat: Chat) -> None:
    await chat.run(
        mention_line(),
        mention_line(id="43", text="Thanks Acme, lovely service", author={"handle": "fan"}),
        mention_line(id="44", text="Thinking of suing Acme", author={"handle": "lawyerly"}),
        "as sam",
        "click Claim #1",
    )
    out = await chat.run("/triage")
    assert "[#4 · only sam sees this]" in out
    assert "You hold 1 open claim (first below)." in out
    assert "- Yours: High · 30m left · @dana\n" in out
    assert "Unclaimed in Customer Care (2), least time left first:" in out
    # Each item is its own row with its own Claim button; no internal keys.
    assert out.index("- High · 30m left · @lawyerly [Claim]") < out.index(
        "- Normal · 1h 00m left · @fan [Claim]"
    )
    assert "x:4" not in out
    out = await chat.run("click Claim #4")
    assert "You claimed the mention from @lawyerly" in out
    out = await chat.run("/triage nowhere")
    assert "spoke: unknown spoke 'nowhere'" in out


async def test_timers_survive_a_restart_and_fire_late_once(
    store_backend: tuple[str, str], loaded: object
) -> None:
    url, namespace = store_backend
    first = await open_chat(url, namespace, loaded)  # type: ignore[arg-type]
    await first.run(mention_line())
    await first.store.close()

    second = await open_chat(url, namespace, loaded)  # type: ignore[arg-type]
    try:
        second.session.clock.advance(timedelta(hours=2))
        fired = await second.runtime.scheduler().tick()
        assert fired == 2
        await second.session.settle()
        said = "\n".join(second.session.transcript)
        # The reminder came due after the breach: only the breach is said.
        assert "Reminder" not in said and "breached in" not in said
        assert said.count("Response time breached: Customer Care") == 1
        assert "Breached 1h 30m ago" in said
        assert await second.runtime.scheduler().tick() == 0
        actions = [e.action for e in await second.store.audit_log("mention:x:42")]
        assert actions.count("mention.reminder") == 0 and actions.count("mention.breach") == 1
    finally:
        await second.store.close()


async def test_a_refused_delivery_is_answered_once(chat: Chat) -> None:
    await chat.run(mention_line())
    session = chat.session
    click = chat.press("jo", "Claim", dedupe_key="retried-event")
    await chat.runtime.handle(click, session)
    await chat.runtime.handle(click, session)
    said = "\n".join(session.transcript)
    assert said.count("Only a responder or coach can claim mentions.") == 1


async def test_a_retry_after_a_crash_is_processed_once(chat: Chat) -> None:
    await chat.run(mention_line())
    session = chat.session
    click = chat.press("sam", "Claim", dedupe_key="evt-1")
    # The first delivery died after marking itself in progress, before any work.
    assert await chat.store.put_once(
        "delivery:console:evt-1:busy", timedelta(seconds=45), session.clock.now()
    )
    await chat.runtime.handle(click, session)  # Slack's immediate retry: still in progress
    assert (await stored(chat)).state is MentionState.OPEN  # type: ignore[attr-defined]
    session.clock.advance(timedelta(minutes=1))  # Slack's next retry, a minute later
    await chat.runtime.handle(click, session)
    await chat.runtime.handle(click, session)
    assert (await stored(chat)).owner == "sam"  # type: ignore[attr-defined]
    said = "\n".join(session.transcript)
    assert said.count("You claimed the mention") == 1


async def test_the_breach_escalates_once_even_after_a_human_escalation_and_release(
    chat: Chat,
) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1", "advance 31m")
    await chat.run(
        "click Escalate to coach #1", 'fill reason="need help"', "submit", "click Release #1"
    )
    out = await chat.run("advance 5m")
    assert "Response time breached" not in out
    breaches = [
        e for e in await chat.store.audit_log("mention:x:42") if e.action == "mention.breach"
    ]
    assert len(breaches) == 1


async def test_a_timer_from_an_earlier_claim_does_nothing(chat: Chat) -> None:
    from bot.core.events import TimerFired
    from bot.core.model import SYSTEM

    await chat.run(
        mention_line(), "as sam", "click Claim #1", "click Release #1", "as alex", "click Claim #1"
    )
    stale = TimerFired(
        platform="scheduler",
        actor=SYSTEM,
        received_at=START,
        kind="triage.nudge",
        key="triage.nudge:x:42:old",
        payload={"key": "x:42", "owner": "sam", "claimed_at": START.isoformat()},
        token=0,
    )
    await chat.runtime.handle(stale, chat.session)
    await chat.session.settle()
    assert (await stored(chat)).owner == "alex"  # type: ignore[attr-defined]
    assert not [
        e for e in await chat.store.audit_log("mention:x:42") if e.action == "mention.auto_release"
    ]


async def test_a_spoke_without_a_coach_tells_the_fallback_coach_so(chat: Chat) -> None:
    assert not chat.runtime.settings.spoke("comms").coaches
    news = {**COMPLAINT, "network": "news", "id": "n1", "text": "Acme shares slip"}
    out = await chat.run("mention " + json.dumps(news), "advance 31m")
    assert "Response time breached: PR & Communications" in out
    assert "PR & Communications has no coach of its own, so it comes to you" in out
    assert "You are its coach" not in out


async def test_the_queue_shows_five_rows_then_show_more(chat: Chat) -> None:
    for n in range(7):
        await chat.run(mention_line(id=f"q{n}", author={"handle": f"person{n}"}))
    out = await chat.run("as alex", "/triage")
    assert out.count("[Claim]") == 5 and "[Show more]" in out
    assert "(Showing 1-5 of 7 unclaimed)" in out
    out = await chat.run("click Show more")
    assert out.count("[Claim]") == 2 and "[Show more]" not in out
    assert "(Showing 6-7 of 7 unclaimed)" in out


async def test_every_open_mention_is_reachable_from_the_queue_however_long(chat: Chat) -> None:
    # More than 50 of one priority (the old scan limit) and some of another:
    # paging reaches every one, once, the least time left first on every page.
    neutral = "where can I find the opening hours of the store in town"
    lines = [
        mention_line(id=f"n{n}", text=neutral, author={"handle": f"calm{n}"}) for n in range(70)
    ]
    lines += [mention_line(id=f"h{n}", author={"handle": f"angry{n}"}) for n in range(12)]
    await chat.run(*lines)
    out = await chat.run("as alex", "/triage care")
    assert "Unclaimed in Customer Care (82)" in out
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        rows = [line for line in out.splitlines() if "left · @" in line]
        seen += [row.rsplit("@", 1)[1].split()[0] for row in rows]
        if "[Show more]" not in out:
            break
        out = await chat.run("click Show more")
    assert pages == 17
    assert sorted(seen) == sorted(
        [f"calm{n}" for n in range(70)] + [f"angry{n}" for n in range(12)]
    )
    # High priority has the shorter response time: all twelve come before the rest.
    assert all(handle.startswith("angry") for handle in seen[:12])
    assert "(Showing 81-82 of 82 unclaimed)" in out


async def test_claims_made_while_the_queue_is_open_skip_nothing(chat: Chat) -> None:
    # Sam opens the queue; Alex claims three of the five shown meanwhile.
    # Show more goes on with the sixth, not three further down.
    neutral = "where can I find the opening hours of the store in town"
    await chat.run(
        *[
            mention_line(id=f"q{n}", text=neutral, author={"handle": f"person{n}"})
            for n in range(12)
        ]
    )
    first = await chat.run("as sam", "/triage care")
    shown = [line.rsplit("@", 1)[1].split()[0] for line in first.splitlines() if "left · @" in line]
    assert shown == [f"person{n}" for n in range(5)]
    claimed = await chat.run("as alex", "click Claim #1", "click Claim #2", "click Claim #3")
    assert claimed.count("You claimed the mention from @person") == 3
    more = await chat.run("as sam", "channel #care", "click Show more")
    shown = [line.rsplit("@", 1)[1].split()[0] for line in more.splitlines() if "left · @" in line]
    assert shown == [f"person{n}" for n in range(5, 10)]
