"""A Teams test rig: the fake Bot Connector, the bot's Teams platform on a
loopback web server, and validation of every Adaptive Card the bot emits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import jsonschema
from aiohttp import web
from aiohttp.test_utils import TestServer
from botframework.connector.auth import PasswordServiceClientCredentialFactory

from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.platforms.teams.platform import TeamsPlatform, TeamsSettings
from bot.runtime import Runtime
from bot.store import open_store
from tests.conftest import SCHEMAS, START
from tests.fakes import teams_activities as teams
from tests.fakes.bot_connector import FakeConnector

SCHEMA = json.loads((SCHEMAS / "adaptivecards/adaptive-card-1.5.json").read_text())
VALIDATOR = jsonschema.Draft6Validator(SCHEMA)
MAX_CARD_BYTES = 28 * 1024

PEOPLE = {
    name: teams.user(full, f"00000000-0000-0000-0000-0000000000{n:02d}")
    for n, (name, full) in enumerate(
        [
            ("sam", "Sam Okafor"),
            ("alex", "Alex Chen"),
            ("maria", "Maria Lopez"),
            ("jo", "Jo Martin"),
            ("ada", "Ada Byrne"),
            ("stranger", "Stranger Danger"),
        ],
        start=1,
    )
}


def assert_valid_card(card: dict[str, Any]) -> None:
    VALIDATOR.validate(card)
    assert card["version"] == "1.5"
    assert len(json.dumps(card, ensure_ascii=False).encode("utf-16-le")) <= MAX_CARD_BYTES


def cards_in(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for a in activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def texts(card: dict[str, Any]) -> str:
    """Every TextRun and input label of a card, one per line."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextRun":
                found.append(str(node["text"]))
            if node.get("title") and str(node.get("type", "")).startswith("Action."):
                found.append(f"[{node['title']}]")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return "\n".join(found)


def action_data(card: dict[str, Any], title: str) -> tuple[str, dict[str, Any]]:
    for node in _nodes(card):
        if node.get("type") == "Action.Execute" and node.get("title") == title:
            return str(node["verb"]), dict(node["data"])
    raise AssertionError(f"no button {title!r}")


def _nodes(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for value in node.values():
            out += _nodes(value)
    elif isinstance(node, list):
        for value in node:
            out += _nodes(value)
    return out


class TeamsRig:
    def __init__(
        self,
        connector: FakeConnector,
        platform: TeamsPlatform,
        runtime: Runtime,
        server: TestServer,
    ) -> None:
        self.connector = connector
        self.platform = platform
        self.runtime = runtime
        self.server = server
        clock = runtime.clock
        assert isinstance(clock, ManualClock)
        self.clock = clock
        self.invoke_cards: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return self.connector.service_url

    async def post(
        self, activity: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                self.server.make_url("/api/messages"), json=activity, headers=headers or {}
            ) as response,
        ):
            text = await response.text()
            body = (
                json.loads(text) if text and response.content_type == "application/json" else text
            )
            if (
                isinstance(body, dict)
                and body.get("type") == "application/vnd.microsoft.card.adaptive"
            ):
                self.invoke_cards.append(body["value"])
            return response.status, body

    async def settle(self, max_rounds: int = 200) -> None:
        sender = self.runtime.sender(self.platform.delivery)
        for _ in range(max_rounds):
            await sender.drain()
            if await self.runtime.store.outbox_size("teams") == 0:
                return
            self.clock.advance(timedelta(milliseconds=500))
        raise AssertionError("the Teams outbox did not drain")

    def cards_sent(self, conversation: str | None = None) -> list[dict[str, Any]]:
        return [
            card for activity in self.connector.sent(conversation) for card in cards_in(activity)
        ]

    def validate_everything(self) -> None:
        for activity in self.connector.sent() + self.connector.updated():
            for card in cards_in(activity):
                assert_valid_card(card)
        for card in self.invoke_cards:
            assert_valid_card(card)


@asynccontextmanager
async def teams_rig(
    loaded: Loaded, url: str, namespace: str, settings: TeamsSettings | None = None
) -> AsyncIterator[TeamsRig]:
    connector = FakeConnector()
    await connector.start()
    for name, account in PEOPLE.items():
        connector.add_member(
            account["id"], account["name"], account["aadObjectId"], f"{name}@example.com"
        )
    runtime = await open_runtime(
        loaded,
        store=open_store(url, namespace=namespace),
        clock=ManualClock(START),
        platforms=["teams"],
    )
    # Outbound calls go unauthenticated to the fake Connector (no AAD in tests).
    platform = TeamsPlatform(
        settings or TeamsSettings("", "", "", anonymous=True),
        runtime,
        outbound=PasswordServiceClientCredentialFactory(),
    )
    app = web.Application()
    platform.mount(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rig = TeamsRig(connector, platform, runtime, server)
    try:
        yield rig
        rig.validate_everything()
    finally:
        await platform.stop()
        await server.close()
        await runtime.store.close()
        await connector.close()
