"""Teams end to end: real activity JSON in, Adaptive Cards out, against a fake Bot Connector."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Loaded
from bot.intake.feed import parse_mention
from bot.platforms.teams.platform import TeamsSettings
from handlers.triage.records import KIND, from_record
from tests.fakes import teams_activities as teams
from tests.teams.teams_rig import PEOPLE, TeamsRig, action_data, cards_in, teams_rig, texts

CHANNEL = teams.CHANNEL_ID
MENTION = {
    "network": "x",
    "id": "42",
    "text": "@acme charged me twice and support is useless",
    "created_at": "2026-03-02T08:59:00Z",
    "author": {"handle": "dana", "followers": 900},
}


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[TeamsRig]:
    async with teams_rig(loaded, *store_backend) as opened:
        yield opened


async def install_and_link(rig: TeamsRig) -> None:
    status, _ = await rig.post(teams.bot_added_to_team(rig.url, installer=PEOPLE["ada"]))
    assert status in (200, 201)
    status, _ = await rig.post(teams.channel_message(rig.url, text="link care", user=PEOPLE["ada"]))
    assert status in (200, 201)
    await rig.settle()


async def card_in_channel(rig: TeamsRig, **changes: Any) -> tuple[str, dict[str, Any]]:
    assert await rig.runtime.ingest(parse_mention({**MENTION, **changes}))
    await rig.settle()
    activity = [
        a
        for a in rig.connector.sent(CHANNEL)
        if cards_in(a) and "mention from" in texts(cards_in(a)[0])
    ][-1]
    key = f"x:{changes.get('id', MENTION['id'])}"
    [ref] = await rig.runtime.store.card_refs("teams", f"mention:{key}")
    activity_id = str(ref["activity_id"])
    assert rig.connector.activity(CHANNEL, activity_id) is not None
    return activity_id, cards_in(activity)[0]


def press(
    rig: TeamsRig, card: dict[str, Any], title: str, person: str, activity_id: str, **extra: Any
) -> dict[str, Any]:
    verb, data = action_data(card, title)
    return teams.execute_invoke(
        rig.url,
        verb=verb,
        data={**data, **extra},
        user=PEOPLE[person],
        reply_to_id=activity_id,
        channel_id=CHANNEL,
        team_id=teams.TEAM_ID,
    )


async def test_install_link_and_a_card_arrives_in_the_channel(rig: TeamsRig) -> None:
    await install_and_link(rig)
    replies = [texts(c) for a in rig.connector.sent() for c in cards_in(a)]
    assert any(
        "This channel now receives the mention cards of Customer Care." in t for t in replies
    )
    _, card = await card_in_channel(rig)
    shown = texts(card)
    assert "X mention from @dana" in shown
    assert "30m left" in shown and "Unclaimed" in shown
    assert "[Claim]" in shown and "[Resolve]" in shown and "[Escalate to coach]" in shown
    claim = next(n for n in card["body"] if n["type"] == "ActionSet")["actions"][0]
    assert claim["type"] == "Action.Execute" and claim["fallback"]["type"] == "Action.Submit"


async def test_two_people_press_claim_at_once(rig: TeamsRig) -> None:
    await install_and_link(rig)
    activity_id, card = await card_in_channel(rig)
    (s1, b1), (s2, b2) = await asyncio.gather(
        rig.post(press(rig, card, "Claim", "sam", activity_id)),
        rig.post(press(rig, card, "Claim", "alex", activity_id)),
    )
    assert s1 == s2 == 200
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None
    owner = from_record(record).owner
    assert owner in {"sam", "alex"}
    winner = "Sam Okafor" if owner == "sam" else "Alex Chen"
    answers = {"sam": b1, "alex": b2}
    loser = "alex" if owner == "sam" else "sam"
    loser_view = json.dumps(answers[loser])
    assert f"Already claimed by {winner}. Nothing was changed." in loser_view
    await rig.settle()
    current = rig.connector.activity(CHANNEL, activity_id)
    assert current is not None and f"Claimed by {winner}" in texts(cards_in(current)[0])


async def test_action_submit_fallback_path_claims_too(rig: TeamsRig) -> None:
    await install_and_link(rig)
    activity_id, card = await card_in_channel(rig)
    _, data = action_data(card, "Claim")
    status, _ = await rig.post(
        teams.submit_message(
            rig.url,
            value=data,
            user=PEOPLE["sam"],
            reply_to_id=activity_id,
            channel_id=CHANNEL,
            team_id=teams.TEAM_ID,
        )
    )
    assert status in (200, 201)
    await rig.settle()
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None and from_record(record).owner == "sam"
    current = rig.connector.activity(CHANNEL, activity_id)
    assert current is not None and "Claimed by Sam Okafor" in texts(cards_in(current)[0])


async def test_a_resent_activity_has_one_effect(rig: TeamsRig) -> None:
    await install_and_link(rig)
    activity_id, card = await card_in_channel(rig)
    activity = press(rig, card, "Claim", "sam", activity_id)
    for _ in range(3):
        assert (await rig.post(activity))[0] == 200
    claims = [
        e for e in await rig.runtime.store.audit_log("mention:x:42") if e.action == "mention.claim"
    ]
    assert len(claims) == 1


async def test_resolve_through_a_form_on_the_card(rig: TeamsRig) -> None:
    await install_and_link(rig)
    activity_id, card = await card_in_channel(rig)
    status, body = await rig.post(press(rig, card, "Resolve", "sam", activity_id))
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    form = body["value"]
    assert "Resolve mention" in texts(form)
    verb, data = action_data(form, "Resolve")
    status, body = await rig.post(
        teams.execute_invoke(
            rig.url,
            verb=verb,
            data={**data, "in_outcome": "spam", "in_note": "a bot"},
            user=PEOPLE["sam"],
            reply_to_id=activity_id,
            channel_id=CHANNEL,
            team_id=teams.TEAM_ID,
        )
    )
    assert status == 200
    assert "Resolved by Sam Okafor: spam (a bot)" in texts(body["value"])
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None and from_record(record).outcome is not None


async def test_a_form_missing_a_required_field_gets_an_error_not_a_crash(rig: TeamsRig) -> None:
    await install_and_link(rig)
    activity_id, card = await card_in_channel(rig)
    _, body = await rig.post(press(rig, card, "Resolve", "sam", activity_id))
    _, data = action_data(body["value"], "Resolve")
    status, _ = await rig.post(
        teams.submit_message(
            rig.url,
            value={**data, "in_note": "x"},
            user=PEOPLE["sam"],
            reply_to_id=activity_id,
            channel_id=CHANNEL,
            team_id=teams.TEAM_ID,
        )
    )
    assert status in (200, 201)
    replies = [texts(c) for a in rig.connector.sent() for c in cards_in(a)]
    assert any("outcome: choose one of replied, no_action, spam" in t for t in replies)
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None and from_record(record).outcome is None


async def test_hostile_text_is_inert_in_adaptive_cards(rig: TeamsRig) -> None:
    await install_and_link(rig)
    _, card = await card_in_channel(
        rig,
        text="<at>Everyone</at> @everyone [yourbank.com](https://evil.example) **URGENT** \u202egnp.exe\u200b "
        + "x" * 40_000,
        author={"handle": "evil", "name": "<at>Ada Byrne</at>"},
        url="javascript:alert(1)",
    )
    # No markdown anywhere: every text is a TextRun, but for the one TextBlock
    # whose only words are the client's own DATE/TIME of when it arrived.
    for node in _walk(card):
        if node.get("type") == "TextBlock":
            assert re.fullmatch(
                r"\{\{DATE\([0-9T:-]+Z, SHORT\)\}\} \{\{TIME\([0-9T:-]+Z\)\}\}", node["text"]
            )
    dumped = json.dumps(card, ensure_ascii=False)
    assert "@everyone" not in dumped and "\u202e" not in dumped and "\u200b" not in dumped
    assert "javascript:" not in dumped
    assert "more characters]" in dumped
    assert "msteams" not in card  # no mention entities


async def test_a_429_burst_is_paced_without_loss(rig: TeamsRig) -> None:
    await install_and_link(rig)
    rig.connector.throttle(6, retry_after=1)
    for n in range(10):
        assert await rig.runtime.ingest(
            parse_mention({**MENTION, "id": f"burst-{n}", "text": f"burst {n}"})
        )
    await rig.settle()
    posted = [texts(c) for c in rig.cards_sent(CHANNEL) if "burst" in texts(c)]
    assert len(posted) == 10
    assert sorted(posted) == sorted(set(posted))
    assert sum(1 for c in rig.connector.calls if c.status == 429) == 6


async def test_a_blocked_person_is_recorded_not_retried(rig: TeamsRig) -> None:
    await install_and_link(rig)
    status, _ = await rig.post(teams.personal_message(rig.url, text="help", user=PEOPLE["maria"]))
    assert status in (200, 201)
    personal = teams.personal_conversation_id(PEOPLE["maria"]["id"])
    rig.connector.block_writes(personal, style="message_writes_blocked")
    await rig.runtime.ingest(parse_mention(MENTION))
    await rig.settle()
    rig.clock.advance(__import__("datetime").timedelta(minutes=31))
    await rig.runtime.scheduler().tick()
    await rig.settle()
    log = await rig.runtime.store.audit_log()
    assert any(
        e.action == "outbox.undeliverable" and "MessageWritesBlocked" in json.dumps(dict(e.detail))
        for e in log
    )
    blocked = [c for c in rig.connector.calls if c.status == 403]
    assert len(blocked) == 1


async def test_breach_escalation_dms_the_coach(rig: TeamsRig) -> None:
    await install_and_link(rig)
    await rig.post(teams.personal_message(rig.url, text="help", user=PEOPLE["maria"]))
    await rig.runtime.ingest(parse_mention(MENTION))
    await rig.settle()
    rig.clock.advance(__import__("datetime").timedelta(minutes=31))
    await rig.runtime.scheduler().tick()
    await rig.settle()
    personal = teams.personal_conversation_id(PEOPLE["maria"]["id"])
    assert any(
        "Response time breached: Customer Care" in texts(c) for c in rig.cards_sent(personal)
    )


async def test_help_in_a_personal_chat_and_strangers_are_employees(rig: TeamsRig) -> None:
    await rig.post(teams.personal_message(rig.url, text="help", user=PEOPLE["jo"]))
    await rig.post(teams.personal_message(rig.url, text="triage", user=PEOPLE["stranger"]))
    replies = [texts(c) for a in rig.connector.sent() for c in cards_in(a)]
    assert any("You have no triage role" in t for t in replies)
    assert any("Only a responder or coach can see the triage queue." in t for t in replies)


async def test_malformed_activities_are_rejected_with_the_field(rig: TeamsRig) -> None:
    status, body = await rig.post({"type": "message", "text": "hi"})
    assert status == 400 and "serviceUrl" in json.dumps(body)
    activity = teams.personal_message(rig.url, text="help", user=PEOPLE["jo"])
    status, body = await rig.post({**activity, "conversation": "not-an-object"})
    assert status == 400 and "conversation" in json.dumps(body)
    status, body = await rig.post({**activity, "from": {"name": "no id"}})
    assert status == 400 and "from.id" in json.dumps(body)


def test_mention_entities_without_text_leave_the_words_alone() -> None:
    from bot.platforms.teams.inbound import message_text

    activity = {
        "text": "help me",
        "entities": [{"type": "mention", "mentioned": {"id": "28:bot"}, "text": ""}],
    }
    assert message_text(activity, "28:bot") == ("help me", True)
    other = {
        "text": "<at>Sam</at> can you look?",
        "entities": [{"type": "mention", "mentioned": {"id": "29:sam"}, "text": "<at>Sam</at>"}],
    }
    assert message_text(other, "28:bot") == ("<at>Sam</at> can you look?", False)


async def test_anonymous_requests_are_refused_when_credentials_are_configured(
    loaded: Loaded, tmp_path: Any
) -> None:
    settings = TeamsSettings("11111111-2222-3333-4444-555555555555", "secret", "tenant-1")
    async with teams_rig(loaded, f"sqlite:///{tmp_path}/t.db", "playcaller", settings) as rig:
        status, _ = await rig.post(teams.personal_message(rig.url, text="help", user=PEOPLE["sam"]))
        assert status == 401
        assert rig.connector.calls == []
        assert await rig.runtime.store.audit_log() == []


def test_teams_settings_come_from_the_environment() -> None:
    from bot.core.errors import ConfigError

    assert TeamsSettings.from_env({}) is None
    anonymous = TeamsSettings.from_env({"PLAYCALLER_TEAMS_ANONYMOUS": "1"})
    assert anonymous is not None and anonymous.anonymous
    with pytest.raises(ConfigError, match="MICROSOFT_APP_PASSWORD"):
        TeamsSettings.from_env({"MICROSOFT_APP_ID": "x"})
    full = TeamsSettings.from_env(
        {
            "MICROSOFT_APP_ID": "a",
            "MICROSOFT_APP_PASSWORD": "pw-secret",
            "MICROSOFT_APP_TENANT_ID": "t",
        }
    )
    assert full is not None and "pw-secret" not in repr(full)


def _walk(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for value in node.values():
            out += _walk(value)
    elif isinstance(node, list):
        for value in node:
            out += _walk(value)
    return out


async def test_the_sla_reminder_is_a_reply_in_the_cards_thread(rig: TeamsRig) -> None:
    from datetime import timedelta

    await install_and_link(rig)
    activity_id, _ = await card_in_channel(rig)
    rig.clock.advance(timedelta(minutes=16))
    assert await rig.runtime.scheduler().tick() == 1
    await rig.settle()
    thread = f"{CHANNEL};messageid={activity_id}"
    sent = [c for c in rig.connector.calls_to("send") if c.ok and c.conversation_id == thread]
    assert len(sent) == 1
    assert "Reminder: the high mention from @dana" in texts(cards_in(sent[0].body)[0])


async def test_ask_answers_with_its_source_in_teams(rig: TeamsRig) -> None:
    status, _ = await rig.post(
        teams.personal_message(
            rig.url, text="a reporter just DMed me on linkedin, what now?", user=PEOPLE["jo"]
        )
    )
    assert status in (200, 201)
    replies = [texts(c) for a in rig.connector.sent() for c in cards_in(a)]
    assert any("From the guidelines: When a journalist contacts you" in t for t in replies)
    assert any("press-enquiries.md, last reviewed 2026-08-02" in t for t in replies)


async def test_triage_in_a_channel_answers_privately_in_the_personal_chat(rig: TeamsRig) -> None:
    await install_and_link(rig)
    await card_in_channel(rig)
    before = len(rig.connector.sent(CHANNEL))
    status, _ = await rig.post(teams.channel_message(rig.url, text="triage", user=PEOPLE["sam"]))
    assert status in (200, 201)
    await rig.settle()
    # Nothing new in the channel (or its threads): the queue is Sam's alone.
    assert len(rig.connector.sent(CHANNEL)) == before
    personal = teams.personal_conversation_id(PEOPLE["sam"]["id"])
    [queue] = [c for c in rig.cards_sent(personal) if "Triage queue" in texts(c)]
    assert "High · 30m left · @dana" in texts(queue)
    claims = [a for a in _walk(queue) if a.get("type") == "Action.Execute"]
    assert [a["title"] for a in claims] == ["Claim"]


async def test_a_form_shows_its_errors_in_place_and_cancel_restores_the_card(
    rig: TeamsRig,
) -> None:
    await install_and_link(rig)
    activity_id, card = await card_in_channel(rig)
    _, body = await rig.post(press(rig, card, "Resolve", "sam", activity_id))
    form = body["value"]
    assert "[Resolve]" in texts(form) and "[Cancel]" in texts(form)
    before = len(rig.connector.sent())
    # No outcome chosen: the same form comes back with the error by its input.
    _, body = await rig.post(press(rig, form, "Resolve", "sam", activity_id, in_note="later"))
    again = body["value"]
    inputs = [n.get("id") for n in _walk(again) if str(n.get("type", "")).startswith("Input.")]
    errors = [
        n["inlines"][0]["text"]
        for n in _walk(again)
        if n.get("type") == "RichTextBlock" and n["inlines"][0].get("color") == "Attention"
    ]
    assert errors == ["Outcome is required."]
    order = [n.get("id") or n.get("type") for n in again["body"]]
    assert order.index("in_outcome") + 1 == order.index("RichTextBlock", order.index("in_outcome"))
    assert inputs == ["in_outcome", "in_note"]
    assert next(n for n in _walk(again) if n.get("id") == "in_note")["value"] == "later"
    await rig.settle()
    assert len(rig.connector.sent()) == before  # nothing said in the channel
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None and from_record(record).outcome is None
    # Cancel puts the mention card back for Sam.
    _, body = await rig.post(press(rig, again, "Cancel", "sam", activity_id))
    restored = body["value"]
    assert "X mention from @dana" in texts(restored) and "[Claim]" in texts(restored)
    cancel = next(n for n in _walk(form) if n.get("title") == "Cancel")
    assert cancel["associatedInputs"] == "None"
    assert cancel["fallback"]["associatedInputs"] == "None"


async def test_a_success_note_is_green_and_a_refusal_red(rig: TeamsRig) -> None:
    await install_and_link(rig)
    activity_id, card = await card_in_channel(rig)
    _, won = await rig.post(press(rig, card, "Claim", "sam", activity_id))
    _, lost = await rig.post(press(rig, card, "Claim", "alex", activity_id))
    note = won["value"]["body"][0]["inlines"][0]
    assert note["text"].startswith("You claimed the mention from @dana")
    assert note["color"] == "Good"
    note = lost["value"]["body"][0]["inlines"][0]
    assert note["text"].startswith("Already claimed by Sam Okafor. Nothing was changed.")
    assert note["color"] == "Attention"


async def test_half_an_emoji_in_a_question_is_answered_with_u_fffd_in_teams(
    rig: TeamsRig,
) -> None:
    """A message whose text holds a lone surrogate as a JSON escape (legal
    JSON the inbox cannot store) is answered, the half shown as U+FFFD."""
    status, _ = await rig.post(
        teams.personal_message(rig.url, text="what now? \ud83d", user=PEOPLE["jo"])
    )
    assert status in (200, 201)
    replies = [texts(c) for a in rig.connector.sent() for c in cards_in(a)]
    assert ["You asked: what now? \ufffd" in t for t in replies] == [True]


async def test_half_an_emoji_in_a_senders_name_is_answered_and_remembered_with_u_fffd(
    rig: TeamsRig,
) -> None:
    """A 1:1 message from a sender whose name holds a lone surrogate: the
    person gets the answer, and the directory holds the name with U+FFFD."""
    jo = {**PEOPLE["jo"], "name": "Jo \ud83d"}
    status, _ = await rig.post(teams.personal_message(rig.url, text="what now?", user=jo))
    assert status in (200, 201)
    replies = [texts(c) for a in rig.connector.sent() for c in cards_in(a)]
    assert ["You asked: what now?" in t for t in replies] == [True]
    remembered = await rig.platform.directory.user(jo["id"])
    assert remembered is not None
    assert remembered["name"] == "Jo \ufffd"
