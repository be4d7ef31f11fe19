"""The fake Slack server and request builders, exercised with the real slack_sdk."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.conftest import SCHEMAS

from . import slack_requests as sr
from .slack_api import FakeSlack

BOT = "xoxb-test-token"
SECRET = "s3cr3t-signing"
CHANNEL = "C0TRIAGE"


ENVELOPES = SCHEMAS / "slack" / "fixtures" / "socket_mode_envelopes.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack(known_channels={CHANNEL})
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT, base_url=fake.api_url)


async def test_post_update_history_round_trip_with_metadata(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    metadata = {"event_type": "playcaller_card", "event_payload": {"case": "K-1", "v": 1}}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*New case*"}}]
    posted = await client.chat_postMessage(
        channel=CHANNEL, text="New case", blocks=blocks, metadata=metadata
    )
    assert posted["ok"] is True
    ts = posted["ts"]
    assert posted["channel"] == CHANNEL
    assert posted["message"]["user"] == "U0BOT"
    assert posted["message"]["bot_id"] == "B0BOT"
    assert posted["message"]["blocks"][0]["block_id"]  # Slack fills block ids in

    call = fake.calls_to("chat.postMessage")[0]
    assert call.headers["content-type"].startswith("application/json")  # slack_sdk sends JSON
    assert call.args["metadata"] == metadata
    assert call.args["blocks"] == blocks

    second = await client.chat_postMessage(channel=CHANNEL, text="Second")
    assert float(second["ts"]) > float(ts)

    updated = await client.chat_update(
        channel=CHANNEL,
        ts=ts,
        text="Case approved",
        metadata={"event_type": "playcaller_card", "event_payload": {"case": "K-1", "v": 2}},
    )
    assert updated["ts"] == ts
    assert updated["text"] == "Case approved"
    assert updated["message"]["blocks"] == posted["message"]["blocks"]  # omitted: kept

    plain = await client.conversations_history(channel=CHANNEL, limit=10)
    assert [m["ts"] for m in plain["messages"]] == [second["ts"], ts]  # newest first
    assert all("metadata" not in m for m in plain["messages"])
    assert plain["has_more"] is False
    assert fake.calls_to("conversations.history")[0].http_method == "GET"

    rich = await client.conversations_history(channel=CHANNEL, limit=1, include_all_metadata=True)
    assert rich["has_more"] is True
    assert rich["messages"][0]["ts"] == second["ts"]
    full = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    original = full["messages"][1]
    assert original["text"] == "Case approved"
    assert original["metadata"]["event_payload"] == {"case": "K-1", "v": 2}
    assert original["edited"]["user"] == "U0BOT"


async def test_message_errors(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as unknown_channel:
        await client.chat_postMessage(channel="C0NOPE", text="hi")
    assert unknown_channel.value.response["error"] == "channel_not_found"

    fake.add_user("U1", "sam", "sam@acme.example")
    with pytest.raises(SlackApiError) as no_text:
        # (chat_postEphemeral(text="") would raise slack_sdk's UserWarning under -W error)
        await client.api_call("chat.postEphemeral", json={"channel": CHANNEL, "user": "U1"})
    assert no_text.value.response["error"] == "no_text"

    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel=CHANNEL, ts="1.000000", text="x")
    assert missing.value.response["error"] == "message_not_found"

    ephemeral = await client.chat_postEphemeral(channel=CHANNEL, user="U1", text="only you")
    assert ephemeral["message_ts"]
    assert fake.ephemerals[0]["user"] == "U1"


async def test_auth_and_unknown_method(fake: FakeSlack) -> None:
    anonymous = AsyncWebClient(base_url=fake.api_url)
    with pytest.raises(SlackApiError) as not_authed:
        await anonymous.auth_test()
    assert not_authed.value.response["error"] == "not_authed"

    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
    with pytest.raises(SlackApiError) as invalid:
        await wrong.auth_test()
    assert invalid.value.response["error"] == "invalid_auth"

    bot = AsyncWebClient(token=BOT, base_url=fake.api_url)
    identity = await bot.auth_test()
    assert identity["user_id"] == "U0BOT"
    assert identity["team_id"] == "T0ACME"
    assert identity["bot_id"] == "B0BOT"

    with pytest.raises(SlackApiError) as app_only:
        await bot.apps_connections_open(app_token=BOT)
    assert app_only.value.response["error"] == "not_allowed_token_type"
    opened = await bot.apps_connections_open(app_token="xapp-test-token")
    assert opened["url"] == fake.socket_url

    with pytest.raises(SlackApiError) as unknown:
        await bot.api_call("pins.nonsense")
    assert unknown.value.response["error"] == "unknown_method"

    # A legacy form-encoded caller with the token as a field is accepted too.
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake.api_url + "chat.postMessage",
            data={"token": BOT, "channel": CHANNEL, "text": "form", "blocks": "[]"},
        ) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert fake.calls_to("chat.postMessage")[-1].args["blocks"] == []


async def test_rate_limit_surfaces_as_429(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.rate_limit("chat.postMessage", times=1, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel=CHANNEL, text="too fast")
    response = limited.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"
    assert fake.calls_to("chat.postMessage")[0].rate_limited is True
    assert fake.messages.get(CHANNEL) is None  # nothing landed

    again = await client.chat_postMessage(channel=CHANNEL, text="later")
    assert again["ok"] is True
    assert fake.calls_to("chat.postMessage")[1].rate_limited is False


async def test_dropped_connection_after_the_message_landed(fake: FakeSlack) -> None:
    strict = AsyncWebClient(token=BOT, base_url=fake.api_url, retry_handlers=[])
    fake.fail_connection("chat.postMessage", times=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await strict.chat_postMessage(channel=CHANNEL, text="did it land?")
    assert len(fake.messages[CHANNEL]) == 1  # it did
    assert fake.calls_to("chat.postMessage")[0].dropped is True

    # slack_sdk's default handler retries connection errors: a blind retry duplicates.
    retrying = AsyncWebClient(
        token=BOT,
        base_url=fake.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.0)
            )
        ],
    )
    fake.fail_connection("chat.postMessage", times=1)
    result = await retrying.chat_postMessage(channel=CHANNEL, text="twice")
    assert result["ok"] is True
    assert [m["text"] for m in fake.messages[CHANNEL]] == ["did it land?", "twice", "twice"]


async def test_users(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_user("U0SAM", "sam", "sam@acme.example")
    info = await client.users_info(user="U0SAM")
    assert info["user"]["id"] == "U0SAM"
    assert info["user"]["team_id"] == "T0ACME"
    assert info["user"]["profile"]["email"] == "sam@acme.example"
    assert info["user"]["deleted"] is False
    found = await client.users_lookupByEmail(email="SAM@acme.example")
    assert found["user"]["id"] == "U0SAM"

    with pytest.raises(SlackApiError) as unknown:
        await client.users_info(user="U0NOBODY")
    assert unknown.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as unknown_email:
        await client.users_lookupByEmail(email="nobody@acme.example")
    assert unknown_email.value.response["error"] == "users_not_found"

    dm = await client.conversations_open(users="U0SAM")
    again = await client.conversations_open(users=["U0SAM"])
    assert dm["channel"]["id"].startswith("D")
    assert again["channel"]["id"] == dm["channel"]["id"]
    assert again["already_open"] is True
    posted = await client.chat_postMessage(channel=dm["channel"]["id"], text="hello")
    assert posted["ok"] is True  # opened DMs count as known channels


async def test_views_open_trigger_is_single_use(fake: FakeSlack, client: AsyncWebClient) -> None:
    view = {
        "type": "modal",
        "callback_id": "triage",
        "title": {"type": "plain_text", "text": "Triage"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Loading"}}],
        "private_metadata": "case=K-1",
    }
    trigger = sr.new_trigger_id()
    opened = await client.views_open(trigger_id=trigger, view=view)
    assert opened["view"]["id"].startswith("V")
    assert opened["view"]["state"] == {"values": {}}
    assert opened["view"]["private_metadata"] == "case=K-1"

    with pytest.raises(SlackApiError) as reused:
        await client.views_open(trigger_id=trigger, view=view)
    assert reused.value.response["error"] == "exchanged_trigger_id"

    fake.expire_trigger("stale.1.x")
    with pytest.raises(SlackApiError) as expired:
        await client.views_open(trigger_id="stale.1.x", view=view)
    assert expired.value.response["error"] == "expired_trigger_id"
    with pytest.raises(SlackApiError) as missing:
        await client.views_open(trigger_id="", view=view)
    assert missing.value.response["error"] == "invalid_trigger_id"

    updated = await client.views_update(
        view_id=opened["view"]["id"], view={**view, "private_metadata": "case=K-2"}
    )
    assert updated["view"]["private_metadata"] == "case=K-2"
    assert updated["view"]["hash"] != opened["view"]["hash"]
    with pytest.raises(SlackApiError) as conflict:
        await client.views_update(
            view_id=opened["view"]["id"], view=view, hash=opened["view"]["hash"]
        )
    assert conflict.value.response["error"] == "hash_conflict"


def test_sign_matches_slack_sdk_verifier() -> None:
    verifier = SignatureVerifier(SECRET)
    body, headers = sr.slash_command(
        SECRET,
        text="K-1 urgent",
        user_id="U0SAM",
        user_name="sam",
        channel_id=CHANNEL,
        channel_name="triage",
        enterprise_id="E0ACME",
    )
    ts = int(headers["X-Slack-Request-Timestamp"])
    assert headers["X-Slack-Signature"] == verifier.generate_signature(timestamp=str(ts), body=body)
    assert verifier.is_valid(body, str(ts), headers["X-Slack-Signature"])
    assert not verifier.is_valid(body + b"x", str(ts), headers["X-Slack-Signature"])
    fields = dict(parse_qsl(body.decode()))
    assert fields["command"] == "/triage"
    assert fields["text"] == "K-1 urgent"
    assert fields["enterprise_id"] == "E0ACME"
    assert fields["is_enterprise_install"] == "false"

    click, click_headers = sr.block_action(
        SECRET,
        user_id="U0SAM",
        action_id="approve",
        value="K-1",
        channel_id=CHANNEL,
        message_ts="1767225600.000100",
        timestamp=1767225600,
    )
    assert sr.sign(SECRET, click, 1767225600) == {
        k: v for k, v in click_headers.items() if k.startswith("X-Slack")
    }
    payload = json.loads(dict(parse_qsl(click.decode()))["payload"])
    assert payload["type"] == "block_actions"
    assert payload["container"]["message_ts"] == "1767225600.000100"
    assert payload["actions"][0]["action_id"] == "approve"

    raw, event_headers = sr.event(
        SECRET,
        event=sr.app_mention("U0SAM", "<@U0BOT> status", CHANNEL),
        retry_num=1,
        retry_reason="http_timeout",
    )
    assert event_headers["X-Slack-Retry-Num"] == "1"
    assert verifier.is_valid(
        raw, event_headers["X-Slack-Request-Timestamp"], event_headers["X-Slack-Signature"]
    )
    envelope = sr.to_envelope((raw, event_headers))
    assert envelope["type"] == "events_api"
    assert envelope["retry_attempt"] == 1
    assert envelope["payload"]["event"]["blocks"][0]["type"] == "rich_text"


async def test_socket_mode_envelope_is_acked(fake: FakeSlack) -> None:
    fixture = json.loads(ENVELOPES.read_text())
    envelope: dict[str, Any] = fixture["envelopes"][1]  # events_api app_mention
    web = AsyncWebClient(token=BOT, base_url=fake.api_url)
    socket = SocketModeClient(app_token="xapp-test-token", web_client=web)
    received: list[SocketModeRequest] = []

    async def listener(client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        received.append(req)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    socket.socket_mode_request_listeners.append(listener)
    try:
        await socket.connect()  # type: ignore[no-untyped-call]
        await fake.wait_connected()
        assert fake.calls_to("apps.connections.open")[0].headers["authorization"] == (
            "Bearer xapp-test-token"
        )
        await fake.send_envelope(envelope)
        ack = await fake.wait_ack(envelope["envelope_id"])
    finally:
        await socket.close()  # type: ignore[no-untyped-call]
    assert ack == {"envelope_id": envelope["envelope_id"]}
    assert received[0].type == "events_api"
    assert received[0].payload["event"]["type"] == "app_mention"
    await fake.wait_disconnected()
    assert fake.socket_count == 0


async def test_signed_requests_dispatch_through_bolt(fake: FakeSlack) -> None:
    app = AsyncApp(
        client=AsyncWebClient(token=BOT, base_url=fake.api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )
    seen: list[str] = []

    @app.command("/triage")
    async def on_triage(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack()
        await respond(f"triaging {command['text']}")
        seen.append("command")

    @app.action("approve")
    async def on_approve(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(f"action:{body['actions'][0]['value']}")

    @app.view("triage_modal")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        await ack(response_action="errors", errors={"b_note": "too short"})
        seen.append(f"view:{view['state']['values']['b_note']['note']['value']}")

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any]) -> None:
        seen.append(f"mention:{event['user']}")

    async def dispatch(request: sr.Request) -> Any:
        body, headers = request
        bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
        return await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=bolt_headers))

    command = await dispatch(
        sr.slash_command(
            SECRET,
            text="K-1",
            user_id="U0SAM",
            user_name="sam",
            channel_id=CHANNEL,
            channel_name="triage",
            response_url=fake.response_url(),
        )
    )
    assert command.status == 200
    click = await dispatch(
        sr.block_action(
            SECRET,
            user_id="U0SAM",
            action_id="approve",
            value="K-1",
            channel_id=CHANNEL,
            message_ts="1767225600.000100",
        )
    )
    assert click.status == 200
    submit = await dispatch(
        sr.view_submission(
            SECRET,
            user_id="U0SAM",
            callback_id="triage_modal",
            private_metadata="case=K-1",
            values={"b_note": {"note": {"type": "plain_text_input", "value": "hi"}}},
        )
    )
    assert submit.status == 200
    assert json.loads(submit.body)["response_action"] == "errors"
    mention = await dispatch(
        sr.event(SECRET, event=sr.app_mention("U0SAM", "<@U0BOT> status", CHANNEL))
    )
    assert mention.status == 200
    stale = await dispatch(
        sr.event(SECRET, event=sr.app_mention("U0SAM", "hi", CHANNEL), timestamp=1_000_000)
    )
    assert stale.status == 401  # outside bolt's 5-minute replay window

    assert seen == ["command", "action:K-1", "view:hi", "mention:U0SAM"]
    assert fake.calls_to("response_url")[0].args["text"] == "triaging K-1"
    assert fake.calls_to("auth.test")


async def test_history_and_replies_page_through_a_time_window() -> None:
    now = [1_772_442_000.0]
    async with FakeSlack(known_channels={CHANNEL}, clock=lambda: now[0]) as fake:
        client = AsyncWebClient(token=BOT, base_url=fake.api_url)
        posted = []
        for n in range(7):
            posted.append((await client.chat_postMessage(channel=CHANNEL, text=f"m{n}"))["ts"])
            now[0] += 10
        # Slack stamps a message with the time it lands.
        assert [float(ts) for ts in posted] == [1_772_442_000.0 + 10 * n for n in range(7)]

        seen: list[str] = []
        cursor = None
        while True:
            page = await client.conversations_history(
                channel=CHANNEL,
                oldest=posted[1],
                latest=posted[5],
                inclusive=True,
                limit=2,
                cursor=cursor,
            )
            seen += [m["text"] for m in page["messages"]]
            cursor = page["response_metadata"]["next_cursor"]
            if not page["has_more"]:
                assert cursor == ""
                break
            assert cursor  # opaque, as Slack's
        assert seen == ["m5", "m4", "m3", "m2", "m1"]  # newest first, every page
        exclusive = await client.conversations_history(
            channel=CHANNEL, oldest=posted[1], latest=posted[5]
        )
        assert [m["text"] for m in exclusive["messages"]] == ["m4", "m3", "m2"]

        parent = posted[0]
        replies = [
            (await client.chat_postMessage(channel=CHANNEL, thread_ts=parent, text=f"r{n}"))["ts"]
            for n in range(5)
        ]
        assert min(float(ts) for ts in replies) > float(posted[-1])
        history = await client.conversations_history(channel=CHANNEL, oldest=posted[6])
        assert [m["text"] for m in history["messages"]] == []  # replies are not in history
        first = await client.conversations_replies(
            channel=CHANNEL, ts=parent, oldest=replies[1], inclusive=True, limit=2
        )
        assert [m["text"] for m in first["messages"]] == ["m0", "r1", "r2"]  # parent first
        assert first["has_more"] is True
        rest = await client.conversations_replies(
            channel=CHANNEL,
            ts=parent,
            oldest=replies[1],
            inclusive=True,
            limit=2,
            cursor=first["response_metadata"]["next_cursor"],
        )
        assert [m["text"] for m in rest["messages"]] == ["r3", "r4"]  # no parent again
        assert rest["has_more"] is False
        with pytest.raises(SlackApiError) as bad:
            await client.conversations_history(channel=CHANNEL, cursor="not-a-cursor")
        assert bad.value.response["error"] == "invalid_cursor"


async def test_a_rate_limit_can_start_after_some_answered_calls(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.rate_limit("conversations.history", times=1, retry_after=7, after=2)
    for _ in range(2):
        assert (await client.conversations_history(channel=CHANNEL))["ok"] is True
    with pytest.raises(SlackApiError) as limited:
        await client.conversations_history(channel=CHANNEL)
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert (await client.conversations_history(channel=CHANNEL))["ok"] is True
    assert [c.rate_limited for c in fake.calls_to("conversations.history")] == [
        False,
        False,
        True,
        False,
    ]
