"""Builders for real-shaped, signed inbound Slack requests (HTTP mode).

Every builder is a pure function returning ``(body, headers)``: the raw bytes
Slack would POST and the headers it would send, signed with the app's signing
secret exactly as Slack does (``v0=HMAC-SHA256("v0:{ts}:{body}")``). Feed them
to bolt as ``AsyncBoltRequest(body=body.decode(), headers=headers)`` or POST
them to the bot's HTTP endpoint.

Timestamps default to ``int(time.time())``: bolt checks the signature's
timestamp against wall time (5-minute replay window).

``to_envelope`` turns any of these requests into the Socket Mode envelope that
carries the same payload, for ``FakeSlack.send_envelope``.

Payload shapes follow Slack's documented payloads and the fixtures in
slackapi/bolt-python's tests (``tests/scenario_tests_async``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

APP_ID = "A0PLAY"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
TEAM_ID = "T0ACME"
TEAM_DOMAIN = "acme"
ENTERPRISE_NAME = "Acme Org"
VERIFICATION_TOKEN = "fake-verification-token"
"""The deprecated per-app verification token Slack still puts in payloads."""
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

Request = tuple[bytes, dict[str, str]]

_counter = itertools.count(1)


# ---------------------------------------------------------------------- ids


def new_trigger_id() -> str:
    """A fresh trigger_id shaped like Slack's (``<digits>.<digits>.<hex32>``)."""
    return f"{int(time.time() * 1000)}{next(_counter):04d}.1234567890.{secrets.token_hex(16)}"


def new_event_id() -> str:
    return "Ev" + secrets.token_hex(5).upper()


def new_envelope_id() -> str:
    return str(uuid.uuid4())


def new_ts() -> str:
    """A unique message ts (``<unix seconds>.<6 digits>``)."""
    return f"{int(time.time())}.{next(_counter) % 1_000_000:06d}"


def response_url_for(kind: str, team_id: str = TEAM_ID) -> str:
    """A hooks.slack.com-shaped response_url. Tests that let the bot call it
    should pass ``FakeSlack.response_url()`` instead (no internet in tests)."""
    return f"https://hooks.slack.com/{kind}/{team_id}/{next(_counter)}/{secrets.token_hex(12)}"


# ---------------------------------------------------------------------- signing


def sign(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Slack's signature headers for ``body`` sent at ``timestamp``."""
    base = b"v0:%d:" % timestamp + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Signature": f"v0={digest}",
        "X-Slack-Request-Timestamp": str(timestamp),
    }


def _signed(secret: str, body: bytes, content_type: str, timestamp: int | None) -> Request:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
    headers.update(sign(secret, body, ts))
    return body, headers


def _form_payload(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def _team(team_id: str, enterprise_id: str | None) -> dict[str, Any]:
    team: dict[str, Any] = {"id": team_id, "domain": TEAM_DOMAIN}
    if enterprise_id is not None:
        team["enterprise_id"] = enterprise_id
        team["enterprise_name"] = ENTERPRISE_NAME
    return team


def _enterprise(enterprise_id: str | None) -> dict[str, Any] | None:
    return None if enterprise_id is None else {"id": enterprise_id, "name": ENTERPRISE_NAME}


def _user(user_id: str, user_name: str | None, team_id: str) -> dict[str, Any]:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


# ---------------------------------------------------------------------- slash commands


def slash_command(
    secret: str,
    *,
    command: str = "/triage",
    text: str = "",
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    team_id: str = TEAM_ID,
    enterprise_id: str | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    timestamp: int | None = None,
) -> Request:
    """A slash command invocation: a form-encoded body of string fields."""
    fields: list[tuple[str, str]] = [
        ("token", VERIFICATION_TOKEN),
        ("team_id", team_id),
        ("team_domain", TEAM_DOMAIN),
    ]
    if enterprise_id is not None:
        fields += [("enterprise_id", enterprise_id), ("enterprise_name", ENTERPRISE_NAME)]
    fields += [
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", APP_ID),
        ("is_enterprise_install", "false"),
        ("response_url", response_url or response_url_for("commands", team_id)),
        ("trigger_id", trigger_id or new_trigger_id()),
    ]
    return _signed(secret, urlencode(fields).encode(), FORM, timestamp)


# ---------------------------------------------------------------------- interactivity


def block_action(
    secret: str,
    *,
    user_id: str,
    action_id: str,
    value: str,
    block_id: str = "b1",
    channel_id: str,
    message_ts: str,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    timestamp: int | None = None,
    enterprise_id: str | None = None,
    action_ts: str | None = None,
    user_name: str | None = None,
    channel_name: str = "triage",
    button_text: str = "Button",
    style: str | None = None,
    message: dict[str, Any] | None = None,
    response_url: str | None = None,
    selected_option: dict[str, Any] | None = None,
) -> Request:
    """A button click on a bot message (``block_actions``), as ``payload=<json>``.

    ``message`` defaults to a minimal bot message holding the button; pass the
    message the fake stored (``FakeSlack.message``) for full fidelity. With
    ``selected_option`` it is a choice from an ``overflow`` menu instead.
    """
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": button_text, "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": action_ts or f"{time.time():.6f}",
    }
    if style is not None:
        action["style"] = style
    if selected_option is not None:
        action = {
            "type": "overflow",
            "action_id": action_id,
            "block_id": block_id,
            "selected_option": selected_option,
            "action_ts": action["action_ts"],
        }
    button = {k: v for k, v in action.items() if k not in ("block_id", "action_ts")}
    if message is None:
        message = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": message_ts,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": "Playcaller",
            "team": team_id,
            "blocks": [{"type": "actions", "block_id": block_id, "elements": [button]}],
        }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(team_id, enterprise_id),
        "enterprise": _enterprise(enterprise_id),
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url or response_url_for("actions", team_id),
        "actions": [action],
    }
    return _signed(secret, _form_payload(payload), FORM, timestamp)


def view_submission(
    secret: str,
    *,
    user_id: str,
    callback_id: str,
    private_metadata: str,
    values: dict[str, dict[str, dict[str, Any]]],
    team_id: str = TEAM_ID,
    view_id: str = "V1",
    timestamp: int | None = None,
    enterprise_id: str | None = None,
    user_name: str | None = None,
    trigger_id: str | None = None,
    title: str = "Playcaller",
    blocks: list[dict[str, Any]] | None = None,
) -> Request:
    """A modal submission. ``values`` is Slack's ``view.state.values``:
    ``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}``;
    ``blocks`` are the opened view's blocks, which Slack sends back (made up
    from ``values`` when not given)."""
    blocks = (
        blocks
        if blocks is not None
        else [
            {
                "type": "input",
                "block_id": block_id,
                "label": {"type": "plain_text", "text": block_id, "emoji": True},
                "optional": False,
                "dispatch_action": False,
                "element": {
                    "type": str(state.get("type", "plain_text_input")),
                    "action_id": action_id,
                },
            }
            for block_id, actions in values.items()
            for action_id, state in actions.items()
        ]
    )
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": _team(team_id, enterprise_id),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks,
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": _enterprise(enterprise_id),
    }
    return _signed(secret, _form_payload(payload), FORM, timestamp)


# ---------------------------------------------------------------------- Events API


def event(
    secret: str,
    *,
    event: dict[str, Any],
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    enterprise_id: str | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    timestamp: int | None = None,
) -> Request:
    """An Events API ``event_callback`` (JSON). With ``retry_num`` it is a
    redelivery carrying ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason``."""
    event_time = int(time.time()) if timestamp is None else timestamp
    body: dict[str, Any] = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
    }
    if enterprise_id is not None:
        body["enterprise_id"] = enterprise_id
    body.update(
        {
            "context_team_id": team_id,
            "context_enterprise_id": enterprise_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or new_event_id(),
            "event_time": event_time,
            "authorizations": [
                {
                    "enterprise_id": enterprise_id,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }
    )
    raw, headers = _signed(secret, json.dumps(body).encode(), JSON, timestamp)
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    return raw, headers


def url_verification(secret: str, challenge: str, *, timestamp: int | None = None) -> Request:
    """The Request URL handshake; the app must echo ``challenge``."""
    body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return _signed(secret, json.dumps(body).encode(), JSON, timestamp)


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def _rich_text(text: str) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    return [
        {
            "type": "rich_text",
            "block_id": secrets.token_hex(2),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def app_mention(
    user: str, text: str, channel: str, ts: str | None = None, *, team_id: str = TEAM_ID
) -> dict[str, Any]:
    """An ``app_mention`` event; ``text`` should contain ``<@U0BOT>``."""
    stamp = ts or new_ts()
    return {
        "client_msg_id": str(uuid.uuid4()),
        "type": "app_mention",
        "text": text,
        "user": user,
        "ts": stamp,
        "blocks": _rich_text(text),
        "team": team_id,
        "channel": channel,
        "event_ts": stamp,
    }


def direct_message(
    user: str,
    text: str,
    channel: str = "D0PLAYDM1",
    ts: str | None = None,
    *,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``message`` event in the bot's DM (``channel_type: "im"``)."""
    stamp = ts or new_ts()
    return {
        "client_msg_id": str(uuid.uuid4()),
        "type": "message",
        "text": text,
        "user": user,
        "ts": stamp,
        "blocks": _rich_text(text),
        "team": team_id,
        "channel": channel,
        "event_ts": stamp,
        "channel_type": "im",
    }


# ---------------------------------------------------------------------- Socket Mode


def to_envelope(request: Request, *, envelope_id: str | None = None) -> dict[str, Any]:
    """The Socket Mode envelope carrying the same payload as an HTTP request
    built above (``events_api`` / ``slash_commands`` / ``interactive``)."""
    body, headers = request
    lower = {k.lower(): v for k, v in headers.items()}
    content_type = lower.get("content-type", "").split(";")[0].strip()
    envelope: dict[str, Any] = {"envelope_id": envelope_id or new_envelope_id()}
    if content_type == JSON:
        payload = json.loads(body)
        envelope.update(
            {
                "payload": payload,
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": int(lower.get("x-slack-retry-num", "0")),
                "retry_reason": lower.get("x-slack-retry-reason", ""),
            }
        )
        return envelope
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    if "payload" in fields:
        interactive = json.loads(fields["payload"])
        envelope.update(
            {
                "payload": interactive,
                "type": "interactive",
                "accepts_response_payload": interactive.get("type")
                in ("view_submission", "block_suggestion"),
            }
        )
        return envelope
    envelope.update({"payload": fields, "type": "slash_commands", "accepts_response_payload": True})
    return envelope
