"""Socket Mode: the same handlers, driven over a local websocket with Slack's envelopes."""

from __future__ import annotations

import json

from bot.app import Loaded
from bot.intake.feed import parse_mention
from handlers.triage.records import KIND, from_record
from tests.conftest import SCHEMAS
from tests.fakes import slack_requests as slack
from tests.slack.slack_rig import CARE, SECRET, slack_rig

FIXTURES = json.loads((SCHEMAS / "slack/fixtures/socket_mode_envelopes.json").read_text())


async def test_commands_actions_and_retried_events_over_socket_mode(
    loaded: Loaded, tmp_path: object
) -> None:
    async with slack_rig(
        loaded, f"sqlite:///{tmp_path}/socket.db", "playcaller", app_token="xapp-test-token"
    ) as rig:
        await rig.platform.start()
        await rig.fake.wait_connected()

        link = slack.to_envelope(
            slack.slash_command(
                SECRET,
                command="/playcaller",
                text="link care",
                user_id="U0ADA",
                user_name="ada",
                channel_id=CARE,
                channel_name="care",
            )
        )
        await rig.fake.send_envelope(link)
        ack = await rig.fake.wait_ack(link["envelope_id"])
        assert ack["envelope_id"] == link["envelope_id"]
        await rig.settle()
        assert (
            "This channel now receives the mention cards of Customer Care."
            in rig.posted(CARE)[0]["text"]
        )

        assert await rig.runtime.ingest(
            parse_mention(
                {
                    "network": "x",
                    "id": "7",
                    "text": "where is my parcel?",
                    "created_at": "2026-03-02T08:00:00Z",
                    "author": {"handle": "kim"},
                }
            )
        )
        await rig.settle()
        card = rig.posted(CARE)[-1]
        claim = next(
            e
            for b in card["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == "Claim"
        )
        stored = next(m for m in rig.fake.messages[CARE] if m.get("text") == card["text"])
        press = slack.to_envelope(
            slack.block_action(
                SECRET,
                user_id="U0SAM",
                action_id=claim["action_id"],
                value=claim["value"],
                channel_id=CARE,
                message_ts=stored["ts"],
            )
        )
        await rig.fake.send_envelope(press)
        await rig.fake.wait_ack(press["envelope_id"])
        await rig.settle()
        record = await rig.runtime.store.get(KIND, "x:7")
        assert record is not None and from_record(record).owner == "sam"

        # An events_api envelope delivered again with retry_attempt has one effect.
        mention = slack.to_envelope(
            slack.event(SECRET, event=slack.app_mention("U0MARIA", "<@U0BOT> help", CARE))
        )
        retry = {
            **mention,
            "envelope_id": slack.new_envelope_id(),
            "retry_attempt": 1,
            "retry_reason": "timeout",
        }
        for envelope in (mention, retry):
            await rig.fake.send_envelope(envelope)
            await rig.fake.wait_ack(envelope["envelope_id"])
        await rig.settle()
        assert len(rig.ephemerals("U0MARIA")) == 1
        rig.validate_everything_sent()


async def test_the_shared_fixture_envelopes_are_acknowledged(
    loaded: Loaded, tmp_path: object
) -> None:
    envelopes = [e for e in _envelopes(FIXTURES) if e.get("envelope_id")]
    assert envelopes, "the shared fixtures hold envelopes"
    async with slack_rig(
        loaded, f"sqlite:///{tmp_path}/fixtures.db", "playcaller", app_token="xapp-test-token"
    ) as rig:
        await rig.platform.start()
        await rig.fake.wait_connected()
        for envelope in envelopes:
            await rig.fake.send_envelope(envelope)
            ack = await rig.fake.wait_ack(envelope["envelope_id"])
            assert ack["envelope_id"] == envelope["envelope_id"]
        await rig.platform.idle()


async def test_half_an_emoji_in_a_socket_mode_message_is_acked_and_answered_with_u_fffd(
    store_backend: tuple[str, str], loaded: Loaded
) -> None:
    """A DM and a mention whose text holds a lone surrogate as a JSON escape
    (legal JSON the inbox cannot store) are acknowledged over the socket and
    answered, the half shown as U+FFFD."""
    url, namespace = store_backend
    async with slack_rig(loaded, url, namespace, app_token="xapp-test-token") as rig:
        await rig.platform.start()
        await rig.fake.wait_connected()
        dm = slack.to_envelope(
            slack.event(SECRET, event=slack.direct_message("U0ADA", "what can you do? \ud83d"))
        )
        mention = slack.to_envelope(
            slack.event(SECRET, event=slack.app_mention("U0MARIA", "<@U0BOT> \ud83d help", CARE))
        )
        for envelope in (dm, mention):
            await rig.fake.send_envelope(envelope)
            # Sent as Slack sends it: the half emoji is the escape \ud83d on the wire.
            assert "\\ud83d" in rig.fake.sent_frames[-1]
            ack = await rig.fake.wait_ack(envelope["envelope_id"])
            assert ack["envelope_id"] == envelope["envelope_id"]
        await rig.settle()
        [answer] = rig.ephemerals("U0ADA")
        assert "You asked: what can you do? \ufffd" in answer
        assert len(rig.ephemerals("U0MARIA")) == 1
        assert await rig.runtime.store.inbox_size() == 0


def _envelopes(data: object) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    if isinstance(data, dict):
        if "envelope_id" in data and "type" in data:
            found.append(data)
        else:
            for value in data.values():
                found += _envelopes(value)
    elif isinstance(data, list):
        for value in data:
            found += _envelopes(value)
    return found
