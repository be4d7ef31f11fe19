"""Slack end to end: signed requests in, Block Kit out, against a local fake Web API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Loaded
from bot.intake.feed import parse_mention
from handlers.triage.records import KIND, from_record
from tests.fakes import slack_requests as slack
from tests.slack.slack_rig import (
    CARE,
    SECRET,
    SlackRig,
    assert_no_mrkdwn_but_dates,
    shown_text,
    slack_rig,
)

MENTION = {
    "network": "x",
    "id": "42",
    "text": "@acme charged me twice and support is useless",
    "created_at": "2026-03-02T08:59:00Z",
    "url": "https://x.com/dana/status/42",
    "author": {"handle": "dana", "followers": 900},
}


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    async with slack_rig(loaded, *store_backend) as opened:
        yield opened


async def link_care(rig: SlackRig) -> None:
    await rig.slash("link care", channel=CARE, channel_name="care")


async def post_mention(rig: SlackRig, **changes: Any) -> dict[str, Any]:
    assert await rig.runtime.ingest(parse_mention({**MENTION, **changes}))
    await rig.settle()
    return rig.posted(CARE)[-1]


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == label:
                return dict(element)
    raise AssertionError(f"no button {label!r}")


def ts_of(rig: SlackRig, message: dict[str, Any]) -> str:
    stored = rig.fake.messages[message["channel"]]
    header = message["blocks"][0]["text"]  # a card keeps its headline through updates
    return str(next(m["ts"] for m in stored if (m.get("blocks") or [{}])[0].get("text") == header))


def click(
    rig: SlackRig, message: dict[str, Any], label: str, user: str, **extra: Any
) -> tuple[bytes, dict[str, str]]:
    element = button(message, label)
    return slack.block_action(
        SECRET,
        user_id=user,
        action_id=element["action_id"],
        value=element["value"],
        channel_id=message["channel"],
        message_ts=ts_of(rig, message),
        **extra,
    )


async def test_url_verification_echoes_the_challenge(rig: SlackRig) -> None:
    status, body = await rig.send(slack.url_verification(SECRET, "abc123"))
    assert status == 200
    assert json.loads(body) == {"challenge": "abc123"}


@pytest.mark.parametrize("fault", ["wrong secret", "stale timestamp", "body altered"])
async def test_bad_signatures_are_refused_and_nothing_happens(rig: SlackRig, fault: str) -> None:
    if fault == "wrong secret":
        request = slack.slash_command(
            "not-the-secret",
            text="link care",
            command="/playcaller",
            user_id="U0ADA",
            user_name="ada",
            channel_id=CARE,
            channel_name="care",
        )
    elif fault == "stale timestamp":
        request = slack.slash_command(
            SECRET,
            text="link care",
            command="/playcaller",
            user_id="U0ADA",
            user_name="ada",
            channel_id=CARE,
            channel_name="care",
            timestamp=int(time.time()) - 301,
        )
    else:
        body, headers = slack.slash_command(
            SECRET,
            text="link care",
            command="/playcaller",
            user_id="U0ADA",
            user_name="ada",
            channel_id=CARE,
            channel_name="care",
        )
        request = (body.replace(b"link+care", b"link+comms"), headers)
    status, _ = await rig.send(request)
    assert status == 401
    await rig.platform.idle()
    assert [c.method for c in rig.fake.calls if c.method != "auth.test"] == []
    assert await rig.runtime.store.audit_log() == []


async def test_link_then_a_mention_card_arrives_as_valid_block_kit(rig: SlackRig) -> None:
    await link_care(rig)
    assert (
        "This channel now receives the mention cards of Customer Care."
        in rig.posted(CARE)[0]["text"]
    )
    card = await post_mention(rig)
    assert card["metadata"]["event_type"] == "playcaller_card"
    text = json.dumps(card["blocks"])
    assert "X mention from @dana" in text
    assert "30m left" in text and "Unclaimed" in text
    [actions] = [b for b in card["blocks"] if b["type"] == "actions"]
    assert [e.get("text", {}).get("text") for e in actions["elements"]] == [
        "Claim",
        "Open post",
        "Resolve",
        None,
    ]
    assert actions["elements"][1]["url"] == "https://x.com/dana/status/42"
    overflow = actions["elements"][3]
    assert overflow["type"] == "overflow"
    assert [o["text"]["text"] for o in overflow["options"]] == [
        "Escalate to coach",
        "Assign",
        "Details",
    ]
    rig.validate_everything_sent()


async def test_two_users_click_claim_at_once(rig: SlackRig) -> None:
    await link_care(rig)
    card = await post_mention(rig)
    results = await asyncio.gather(
        rig.send(click(rig, card, "Claim", "U0SAM")), rig.send(click(rig, card, "Claim", "U0ALEX"))
    )
    assert [status for status, _ in results] == [200, 200]
    await rig.settle()
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None
    owner = from_record(record).owner
    assert owner in {"sam", "alex"}
    loser, winner_name = ("U0ALEX", "Sam Okafor") if owner == "sam" else ("U0SAM", "Alex Chen")
    assert any(
        f"Already claimed by {winner_name}. Nothing was changed." in t
        for t in rig.ephemerals(loser)
    )
    updates = rig.updates()
    assert updates and f"Claimed by {winner_name}" in json.dumps(updates[-1]["blocks"])
    assert updates[-1]["ts"] == ts_of(rig, card)
    rig.validate_everything_sent()


async def test_a_retried_click_and_a_double_click_have_one_effect(rig: SlackRig) -> None:
    await link_care(rig)
    card = await post_mention(rig)
    same_click = click(rig, card, "Claim", "U0SAM")
    for _ in range(3):  # one delivery, retried
        assert (await rig.send(same_click))[0] == 200
    assert (await rig.send(click(rig, card, "Claim", "U0SAM")))[0] == 200  # a second click
    await rig.settle()
    claims = [
        e for e in await rig.runtime.store.audit_log("mention:x:42") if e.action == "mention.claim"
    ]
    assert len(claims) == 1
    said = rig.ephemerals("U0SAM")
    assert sum("You claimed the mention" in t for t in said) == 1
    assert sum("You already own this mention." in t for t in said) == 1


async def test_a_bad_submission_is_answered_in_the_modal_and_changes_nothing(
    rig: SlackRig,
) -> None:
    await link_care(rig)
    card = await post_mention(rig)
    await rig.send(click(rig, card, "Resolve", "U0SAM"))
    await rig.settle()
    [opened] = rig.fake.calls_to("views.open")
    view = opened.args["view"]
    [note] = [b for b in view["blocks"] if b.get("block_id") == "note"]
    # Slack adds "(optional)" to an optional input's label itself.
    assert note["optional"] is True and note["label"]["text"] == "Note"
    before = len(rig.fake.calls)
    status, body = await rig.send(
        slack.view_submission(
            SECRET,
            user_id="U0SAM",
            callback_id="triage.resolve",
            private_metadata=view["private_metadata"],
            blocks=view["blocks"],
            values={
                "outcome": {
                    "value": {
                        "type": "static_select",
                        "selected_option": {"value": "maybe"},
                    }
                },
                "note": {"value": {"type": "plain_text_input", "value": ""}},
            },
        )
    )
    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {"outcome": "Choose one of replied, no_action, spam."},
    }
    await rig.settle()
    assert len(rig.fake.calls) == before  # nothing posted, to anyone
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None and from_record(record).outcome is None


async def test_resolve_opens_a_modal_and_its_submission_resolves(rig: SlackRig) -> None:
    await link_care(rig)
    card = await post_mention(rig)
    await rig.send(click(rig, card, "Resolve", "U0SAM"))
    await rig.settle()
    [opened] = rig.fake.calls_to("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "triage.resolve"
    rig.validate_everything_sent()
    status, _ = await rig.send(
        slack.view_submission(
            SECRET,
            user_id="U0SAM",
            callback_id="triage.resolve",
            private_metadata=view["private_metadata"],
            values={
                "outcome": {
                    "value": {
                        "type": "static_select",
                        "selected_option": {
                            "value": "spam",
                            "text": {"type": "plain_text", "text": "spam"},
                        },
                    }
                },
                "note": {"value": {"type": "plain_text_input", "value": "a bot"}},
            },
        )
    )
    assert status == 200
    await rig.settle()
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None and from_record(record).outcome is not None
    assert "Resolved by Sam Okafor: spam (a bot)" in json.dumps(rig.updates()[-1]["blocks"])
    assert any("Resolved the mention from @dana as spam." in t for t in rig.ephemerals("U0SAM"))


async def test_hostile_text_is_inert_in_block_kit(rig: SlackRig) -> None:
    await link_care(rig)
    card = await post_mention(
        rig,
        text="<!channel> <!here> @everyone <@U0ADA> <https://evil.example|yourbank.com> "
        "[yourbank.com](https://evil.example) \u202egnp.exe\u200b " + "x" * 40_000,
        author={"handle": "evil", "name": "<!subteam^S1|@admins> *Support*"},
        url="javascript:alert(1)",
    )
    payload = json.dumps(card)
    # Everything social is literal: rich_text elements and plain_text, never mrkdwn.
    assert_no_mrkdwn_but_dates(card["blocks"])
    quote = next(
        b
        for b in card["blocks"]
        if b["type"] == "rich_text" and b["elements"][0]["type"] == "rich_text_quote"
    )
    shown = quote["elements"][0]["elements"][0]["text"]
    assert shown.startswith("<!channel> <!here> \uff20everyone <@U0ADA> <https://evil.example|")
    assert "*Support*" in payload and "@everyone" not in payload
    assert "\\u202e" not in payload and "\\u200b" not in payload
    assert "more characters]" in payload
    assert "javascript:" not in payload
    rig.validate_everything_sent()


async def test_a_rate_limit_storm_is_paced_without_loss(rig: SlackRig) -> None:
    await link_care(rig)
    rig.fake.rate_limit("chat.postMessage", times=6, retry_after=2)
    for n in range(10):
        assert await rig.runtime.ingest(
            parse_mention({**MENTION, "id": f"storm-{n}", "text": f"storm {n}"})
        )
    await rig.settle()
    cards = [m for m in rig.posted(CARE) if "storm" in shown_text(m)]
    assert [m["metadata"]["event_payload"]["delivery_id"] for m in cards] == list(
        dict.fromkeys(m["metadata"]["event_payload"]["delivery_id"] for m in cards)
    )
    assert len(cards) == 10
    assert sum(c.rate_limited for c in rig.fake.calls_to("chat.postMessage")) == 6
    # Paced and rate-limited retries are not ambiguous: no history look-ups.
    assert rig.fake.calls_to("conversations.history") == []
    assert await rig.runtime.store.outbox_size("slack") == 0


async def test_an_ambiguous_post_is_not_posted_twice(rig: SlackRig) -> None:
    await link_care(rig)
    rig.fake.fail_connection("chat.postMessage", times=1)
    assert await rig.runtime.ingest(parse_mention(MENTION))
    await rig.settle()
    landed = [m for m in rig.fake.messages[CARE] if "dana" in shown_text(m)]
    assert len(landed) == 1
    assert rig.fake.calls_to("conversations.history")
    # The card is still updatable: its landing was found and remembered.
    await rig.send(
        click(
            rig,
            {"channel": CARE, "text": landed[0]["text"], "blocks": landed[0]["blocks"]},
            "Claim",
            "U0SAM",
        )
    )
    await rig.settle()
    assert rig.updates()[-1]["ts"] == landed[0]["ts"]


async def test_a_retried_event_has_one_effect_and_help_lists_roles(rig: SlackRig) -> None:
    event = slack.app_mention("U0MARIA", "<@U0BOT> help", CARE)
    event_id = slack.new_event_id()
    for retry in (None, 1, 2):
        status, _ = await rig.send(
            slack.event(
                SECRET,
                event=event,
                event_id=event_id,
                retry_num=retry,
                retry_reason="http_timeout" if retry else None,
            )
        )
        assert status == 200
    await rig.settle()
    answers = rig.ephemerals("U0MARIA")
    assert len(answers) == 1
    assert "For coaches" in answers[0] and "Coach" in answers[0]
    assert "/triage [spoke]" in answers[0]


async def test_a_direct_message_gets_usage_and_strangers_are_employees(rig: SlackRig) -> None:
    await rig.send(
        slack.event(SECRET, event=slack.direct_message("U0STRANGER", "what can you do?"))
    )
    await rig.settle()
    [answer] = rig.ephemerals("U0STRANGER")
    assert "You have no triage role" in answer
    await link_care(rig)
    card = await post_mention(rig)
    await rig.send(click(rig, card, "Claim", "U0STRANGER"))
    await rig.settle()
    assert "Only a responder or coach can claim mentions." in rig.ephemerals("U0STRANGER")[-1]


async def test_enterprise_grid_payloads_work(rig: SlackRig) -> None:
    rig.fake.add_user("W0GRIDSAM", "sam.grid", "sam@example.com", team_id="T0OTHER")
    await link_care(rig)
    card = await post_mention(rig)
    await rig.send(
        click(rig, card, "Claim", "W0GRIDSAM", enterprise_id="E0ACME", team_id="T0OTHER")
    )
    await rig.settle()
    record = await rig.runtime.store.get(KIND, "x:42")
    assert record is not None and from_record(record).owner == "sam"


async def test_triage_command_lists_the_queue(rig: SlackRig) -> None:
    await link_care(rig)
    await post_mention(rig)
    await rig.slash(
        "", command="/triage", user="U0ALEX", name="alex", channel=CARE, channel_name="care"
    )
    [queue] = rig.ephemerals("U0ALEX")
    assert "Triage queue: Customer Care" in queue
    rig.validate_everything_sent()


async def test_serve_mounts_slack_next_to_health(loaded: Loaded, tmp_path: Any) -> None:
    import aiohttp
    from aiohttp.test_utils import TestServer

    from bot.app import open_runtime
    from bot.core.clock import SystemClock
    from bot.platforms.slack.platform import SlackPlatform, SlackSettings
    from bot.store import open_store
    from bot.web import create_app
    from tests.fakes.slack_api import FakeSlack

    async with FakeSlack() as fake:
        runtime = await open_runtime(
            loaded,
            store=open_store(f"sqlite:///{tmp_path}/s.db"),
            clock=SystemClock(),
            platforms=["slack"],
        )
        settings = SlackSettings.from_env(
            {
                "SLACK_BOT_TOKEN": "xoxb-test-token",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
            }
        )
        assert (
            settings is not None and "xoxb" not in repr(settings) and SECRET not in repr(settings)
        )
        server = TestServer(
            create_app(runtime, [SlackPlatform(settings, runtime)], poll_seconds=0.05),
            host="127.0.0.1",
        )
        await server.start_server()
        try:
            body, headers = slack.url_verification(SECRET, "xyz")
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    server.make_url("/slack/events"), data=body, headers=headers
                ) as response:
                    assert response.status == 200 and (await response.json()) == {
                        "challenge": "xyz"
                    }
                async with http.get(server.make_url("/healthz")) as response:
                    assert response.status == 200
        finally:
            await server.close()


def test_slack_needs_a_secret_or_an_app_token() -> None:
    from bot.core.errors import ConfigError
    from bot.platforms.slack.platform import SlackSettings

    assert SlackSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})


async def test_the_sla_reminder_is_a_reply_in_the_cards_thread(rig: SlackRig) -> None:
    from datetime import timedelta

    await link_care(rig)
    card = await post_mention(rig)
    rig.manual_clock.advance(timedelta(minutes=16))
    assert await rig.runtime.scheduler().tick() == 1
    await rig.settle()
    [reminder] = [m for m in rig.posted(CARE) if "Reminder" in shown_text(m)]
    assert reminder["thread_ts"] == ts_of(rig, card)


async def test_ask_answers_with_its_source_in_slack(rig: SlackRig) -> None:
    await rig.slash(
        "a reporter just DMed me on linkedin, what now?",
        command="/ask",
        user="U0JO",
        name="jo",
        channel="D0JO",
        channel_name="directmessage",
    )
    [answer] = rig.ephemerals("U0JO")
    assert "From the guidelines: When a journalist contacts you" in answer
    blocks = json.dumps([c.args for c in rig.fake.calls_to("chat.postEphemeral")])
    assert "press-enquiries.md, last reviewed 2026-08-02" in blocks


async def test_open_post_is_a_link_and_more_is_an_overflow_menu(rig: SlackRig) -> None:
    await link_care(rig)
    card = await post_mention(rig)
    link = button(card, "Open post")
    assert link["url"] == "https://x.com/dana/status/42" and "value" not in link
    before = len(rig.fake.calls)
    status, _ = await rig.send(
        slack.block_action(
            SECRET,
            user_id="U0SAM",
            action_id=link["action_id"],
            value="",
            channel_id=card["channel"],
            message_ts=ts_of(rig, card),
        )
    )
    assert status == 200
    await rig.settle()
    assert len(rig.fake.calls) == before  # the browser opened the post; the bot does nothing
    # Details from the overflow menu: privately, with the ids kept off the card.
    [actions] = [b for b in card["blocks"] if b["type"] == "actions"]
    overflow = next(e for e in actions["elements"] if e["type"] == "overflow")
    details = next(o for o in overflow["options"] if o["text"]["text"] == "Details")
    status, _ = await rig.send(
        slack.block_action(
            SECRET,
            user_id="U0SAM",
            action_id=overflow["action_id"],
            value="",
            channel_id=card["channel"],
            message_ts=ts_of(rig, card),
            selected_option=details,
        )
    )
    assert status == 200
    await rig.settle()
    [said] = rig.ephemerals("U0SAM")
    assert "Post id" in said and "x:42" in said and "rule unhappy-customers" in said
    assert "x:42" not in shown_text(card)  # ids only in button values, never shown


async def test_half_an_emoji_in_a_question_is_answered_with_u_fffd(rig: SlackRig) -> None:
    """A DM whose text holds a lone surrogate as a JSON escape (legal JSON the
    inbox cannot store) is acknowledged and answered, the half shown as U+FFFD."""
    request = slack.event(SECRET, event=slack.direct_message("U0ADA", "what can you do? \ud83d"))
    assert b"\\ud83d" in request[0]
    status, _ = await rig.send(request)
    assert status == 200
    await rig.settle()
    [answer] = rig.ephemerals("U0ADA")
    assert "You asked: what can you do? \ufffd" in answer
