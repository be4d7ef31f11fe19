"""Slack requests are verified on the raw bytes before anything parses them.

Unsigned or forged garbage gets 401, signed but malformed input gets 400
naming what is wrong, and neither is ever a 500 or a logged traceback;
nothing reaches the inbox. A captured slash command replayed within its
signature window has one effect.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from bot.app import Loaded
from tests.fakes import slack_requests as slack
from tests.slack.slack_rig import CARE, SECRET, SlackRig, slack_rig

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    async with slack_rig(loaded, *store_backend) as opened:
        yield opened


def signed(body: bytes, content_type: str = FORM, timestamp: int | None = None) -> slack.Request:
    ts = int(time.time()) if timestamp is None else timestamp
    return body, {"Content-Type": content_type, **slack.sign(SECRET, body, ts)}


def link_command() -> slack.Request:
    return slack.slash_command(
        SECRET,
        command="/playcaller",
        text="link care",
        user_id="U0ADA",
        user_name="ada",
        channel_id=CARE,
        channel_name="care",
    )


def deep(levels: int) -> bytes:
    return ('{"type":"block_actions","x":' + "[" * levels + "]" * levels + "}").encode()


def garbage_with_headers(headers: dict[str, str]) -> slack.Request:
    return b'{"type": "block_actions", "user": {', {"Content-Type": JSON, **headers}


UNSIGNED = {
    "no signature headers": (b"%%%not a form", {"Content-Type": FORM}),
    "garbage JSON, forged signature": garbage_with_headers(
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"}
    ),
    "non-numeric timestamp": garbage_with_headers(
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}
    ),
    "invalid UTF-8, unsigned": (b"payload=\xff\xfe", {"Content-Type": FORM}),
    "deep nesting, unsigned": (deep(1200), {"Content-Type": JSON}),
    "stale but correctly signed": signed(
        b"command=%2Ftriage&user_id=U0ADA&channel_id=C0CARE", timestamp=int(time.time()) - 301
    ),
}

# Bodies and content types; each is signed when its test sends it, so the
# signature is fresh however late in a long run the test comes.
SIGNED_MALFORMED: dict[str, tuple[bytes, str, str]] = {
    "JSON that does not parse": (b'{"type": "event_callback", "event": {', JSON, "JSON"),
    "JSON that is not an object": (b"[1, 2, 3]", JSON, "not a JSON object"),
    "a form that does not parse": (b"command=%2Ftriage&&&=&", FORM, "form"),
    "a payload field that is not JSON": (b"payload=%7Bnot+json", FORM, "payload"),
    "invalid UTF-8": (b"command=/triage&text=\xff\xfe", FORM, "UTF-8"),
    "nesting 1,200 levels deep": (deep(1200), JSON, "nested deeper"),
    "a click without its user": (
        urlencode(
            {"payload": json.dumps({"type": "block_actions", "actions": [{"action_id": "a"}]})}
        ).encode(),
        FORM,
        "user",
    ),
    "a slash command without its channel": (
        urlencode({"command": "/triage", "user_id": "U0ADA"}).encode(),
        FORM,
        "channel_id",
    ),
}


async def nothing_happened(rig: SlackRig, caplog: pytest.LogCaptureFixture) -> None:
    await rig.platform.idle()
    assert await rig.runtime.store.inbox_size() == 0
    assert await rig.runtime.store.audit_log() == []
    assert [c.method for c in rig.fake.calls if c.method != "auth.test"] == []
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("case", sorted(UNSIGNED))
async def test_unsigned_or_forged_input_is_401(
    rig: SlackRig, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, text = await rig.send(UNSIGNED[case])
    assert status == 401
    assert "signature" in json.loads(text)["error"] or "timestamp" in json.loads(text)["error"]
    await nothing_happened(rig, caplog)


@pytest.mark.parametrize("case", sorted(SIGNED_MALFORMED))
async def test_signed_but_malformed_input_is_400_naming_the_fault(
    rig: SlackRig, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type, named = SIGNED_MALFORMED[case]
    status, text = await rig.send(signed(body, content_type))
    assert status == 400
    assert named in json.loads(text)["error"]
    await nothing_happened(rig, caplog)


async def test_a_replayed_slash_command_has_one_effect(rig: SlackRig) -> None:
    captured = link_command()
    for _ in range(3):  # the same signed bytes, within the 5-minute window
        status, _ = await rig.send(captured)
        assert status == 200
    await rig.settle()
    links = [e for e in await rig.runtime.store.audit_log() if e.action == "channel.link"]
    assert len(links) == 1
    assert len(answers(rig)) == 1
    # A new invocation (its own trigger id) is a new request, answered again.
    status, _ = await rig.send(link_command())
    assert status == 200
    await rig.settle()
    assert len(answers(rig)) == 2


def answers(rig: SlackRig) -> list[str]:
    """Every message the bot sent (ephemeral or not)."""
    return [
        str(c.args.get("text"))
        for c in rig.fake.calls
        if c.method in ("chat.postEphemeral", "chat.postMessage")
    ]
