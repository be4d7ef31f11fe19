"""A Slack test rig: the fake Web API, the bot's Slack platform on a loopback
web server, and helpers to send signed requests and validate Block Kit."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import jsonschema
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.platforms.slack.platform import SlackPlatform, SlackSettings
from bot.runtime import Runtime
from bot.store import open_store
from tests.conftest import SCHEMAS, START
from tests.fakes import slack_requests as slack
from tests.fakes.slack_api import FakeSlack

SECRET = "test-signing-secret"
PEOPLE = {
    "U0SAM": ("sam", "sam@example.com"),
    "U0ALEX": ("alex", "alex@example.com"),
    "U0MARIA": ("maria", "maria@example.com"),
    "U0JO": ("jo", "jo@example.com"),
    "U0ADA": ("ada", "ada@example.com"),
    "U0STRANGER": ("stranger", "stranger@elsewhere.example"),
}
CARE = "C0CARE"

_MESSAGE_SCHEMA = json.loads((SCHEMAS / "slack/SlackMessagePayload.schema.json").read_text())
_MODAL_SCHEMA = json.loads((SCHEMAS / "slack/SlackModalView.schema.json").read_text())


def assert_valid_message(args: dict[str, Any]) -> None:
    """A message payload the way Slack would take it: slack_sdk's models,
    the structural schema, the 50-block limit and a text fallback."""
    blocks = args.get("blocks") or []
    assert len(blocks) <= 50
    assert isinstance(args.get("text"), str) and args["text"].strip()
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.to_dict()
    jsonschema.Draft7Validator(_MESSAGE_SCHEMA).validate({"text": args["text"], "blocks": blocks})
    assert_no_mrkdwn_but_dates(blocks)


# The one mrkdwn we send: a date Slack shows in each reader's own time zone.
_DATE_TOKEN = re.compile(r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9: -]+UTC>")


def shown_text(message: dict[str, Any]) -> str:
    """Every string a person can read in a message: its fallback, then each
    text of its blocks, in order."""
    found: list[str] = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks") or [])
    return "\n".join(found)


def assert_no_mrkdwn_but_dates(blocks: Any) -> None:
    """No text reaches Slack as mrkdwn (where ``*x*``, ``_x_`` or ``<!here>``
    would take effect): social text and ours go as rich_text or plain_text."""
    if isinstance(blocks, dict):
        if blocks.get("type") == "mrkdwn":
            assert _DATE_TOKEN.fullmatch(blocks.get("text", "")), blocks
        for value in blocks.values():
            assert_no_mrkdwn_but_dates(value)
    elif isinstance(blocks, list):
        for value in blocks:
            assert_no_mrkdwn_but_dates(value)


def assert_valid_modal(view: dict[str, Any]) -> None:
    View(**view).to_dict()
    jsonschema.Draft7Validator(_MODAL_SCHEMA).validate(view)
    assert_no_mrkdwn_but_dates(view["blocks"])


class SlackRig:
    def __init__(
        self, fake: FakeSlack, platform: SlackPlatform, runtime: Runtime, server: TestServer
    ) -> None:
        self.fake = fake
        self.platform = platform
        self.runtime = runtime
        self.server = server
        self.clock = runtime.clock
        assert isinstance(self.clock, ManualClock)
        self.manual_clock: ManualClock = self.clock

    async def send(self, request: tuple[bytes, dict[str, str]]) -> tuple[int, str]:
        body, headers = request
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                self.server.make_url("/slack/events"), data=body, headers=headers
            ) as response,
        ):
            return response.status, await response.text()

    async def slash(
        self,
        text: str,
        *,
        command: str = "/playcaller",
        user: str = "U0ADA",
        name: str = "ada",
        channel: str = "C0HUB",
        channel_name: str = "hub",
    ) -> None:
        """A signed slash command from ``user`` in ``channel``: acknowledged,
        and its work done (Ada, an admin, in the hub unless told otherwise)."""
        status, _ = await self.send(
            slack.slash_command(
                SECRET,
                command=command,
                text=text,
                user_id=user,
                user_name=name,
                channel_id=channel,
                channel_name=channel_name,
            )
        )
        assert status == 200
        await self.settle()

    async def settle(self, max_rounds: int = 200) -> None:
        """Finish acknowledged work and deliver the outbox, letting paced time pass."""
        sender = self.runtime.sender(self.platform.delivery)
        for _ in range(max_rounds):
            await self.platform.idle()
            await sender.drain()
            if await self.runtime.store.outbox_size("slack") == 0:
                return
            self.manual_clock.advance(timedelta(milliseconds=500))
        raise AssertionError("the Slack outbox did not drain")

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            c.args
            for c in self.fake.calls_to("chat.postMessage")
            if not c.rate_limited
            and not c.dropped
            and (channel is None or c.args.get("channel") == channel)
        ]

    def ephemerals(self, user: str) -> list[str]:
        """What each private answer to ``user`` shows (fallback and blocks)."""
        return [
            shown_text(c.args)
            for c in self.fake.calls_to("chat.postEphemeral")
            if c.args.get("user") == user
        ]

    def updates(self) -> list[dict[str, Any]]:
        return [c.args for c in self.fake.calls_to("chat.update") if not c.rate_limited]

    def validate_everything_sent(self) -> None:
        for method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            for call in self.fake.calls_to(method):
                assert_valid_message(call.args)
        for call in self.fake.calls_to("views.open"):
            assert_valid_modal(call.args["view"])


@asynccontextmanager
async def slack_rig(
    loaded: Loaded, url: str, namespace: str, *, app_token: str | None = None
) -> AsyncIterator[SlackRig]:
    clock = ManualClock(START)
    # Slack stamps a message with the time it lands: here, the bot's clock.
    fake = FakeSlack(clock=lambda: clock.now().timestamp())
    await fake.start()
    for user_id, (name, email) in PEOPLE.items():
        fake.add_user(user_id, name, email)
    runtime = await open_runtime(
        loaded,
        store=open_store(url, namespace=namespace),
        clock=clock,
        platforms=["slack"],
    )
    platform = SlackPlatform(
        SlackSettings(
            bot_token="xoxb-test-token",
            signing_secret=SECRET,
            app_token=app_token,
            api_url=fake.api_url,
        ),
        runtime,
    )
    app = web.Application()
    platform.mount(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rig = SlackRig(fake, platform, runtime, server)
    try:
        yield rig
        # Whatever a test did, everything the bot sent must be valid Block Kit.
        rig.validate_everything_sent()
    finally:
        await platform.stop()
        await server.close()
        await runtime.store.close()
        await fake.close()
