"""A running ``serve`` app for operations tests: fake Slack and Bot Connector,
both platforms mounted, the store on a SQLite file, scraped over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.platforms.slack.platform import SlackPlatform, SlackSettings
from bot.platforms.teams.platform import TeamsPlatform, TeamsSettings
from bot.runtime import Runtime
from bot.store import open_store
from bot.web import create_app
from tests.conftest import START
from tests.fakes import slack_requests as slack
from tests.fakes import teams_activities as teams
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.slack_api import FakeSlack

SECRET = "metrics-signing-secret"
SLACK_USERS = {"U0ADA": ("ada", "ada@example.com"), "U0SAM": ("sam", "sam@example.com")}
ADA = teams.user("Ada Byrne", "00000000-0000-0000-0000-000000000005")
CARE = "C0CARE"
MENTION = {
    "network": "x",
    "id": "7",
    "text": "@acme charged me twice and support is useless",
    "created_at": "2026-03-02T08:59:00Z",
    "author": {"handle": "dana", "followers": 900},
}
# The background loops poll once at start, then not again during a test.
IDLE_POLL = 3600.0

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(server: TestServer) -> tuple[str, Samples]:
    """The content type and every sample of one scrape."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.make_url("/metrics")) as response,
    ):
        assert response.status == 200
        text = await response.text()
        content_type = response.headers["Content-Type"]
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return content_type, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@dataclass
class Running:
    runtime: Runtime
    clock: ManualClock
    server: TestServer
    fake_slack: FakeSlack
    connector: FakeConnector
    slack: SlackPlatform
    teams: TeamsPlatform

    async def to_slack(self, request: tuple[bytes, dict[str, str]]) -> int:
        body, headers = request
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.server.make_url("/slack/events"), data=body, headers=headers) as r,
        ):
            return r.status

    async def to_teams(self, activity: dict[str, object]) -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.server.make_url("/api/messages"), json=activity) as r,
        ):
            return r.status

    async def deliver(self, platform: SlackPlatform | TeamsPlatform) -> None:
        """Deliver the platform's outbox, letting paced and rate-limited time pass."""
        sender = self.runtime.sender(platform.delivery)
        for _ in range(20):
            await sender.drain()
            if await self.runtime.store.outbox_size(platform.name) == 0:
                return
            self.clock.advance(timedelta(seconds=2))
        raise AssertionError(f"the {platform.name} outbox did not drain")


@asynccontextmanager
async def running(loaded: Loaded, tmp_path: Path) -> AsyncIterator[Running]:
    fake_slack = FakeSlack()
    await fake_slack.start()
    for user_id, (name, email) in SLACK_USERS.items():
        fake_slack.add_user(user_id, name, email)
    connector = FakeConnector()
    await connector.start()
    connector.add_member(ADA["id"], ADA["name"], ADA["aadObjectId"], "ada@example.com")
    clock = ManualClock(START)
    runtime = await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{tmp_path / 'ops.db'}"),
        clock=clock,
        platforms=["slack", "teams"],
    )
    slack_platform = SlackPlatform(
        SlackSettings(
            bot_token="xoxb-test-token", signing_secret=SECRET, api_url=fake_slack.api_url
        ),
        runtime,
    )
    teams_platform = TeamsPlatform(TeamsSettings("", "", "", anonymous=True), runtime)
    app = create_app(runtime, [slack_platform, teams_platform], poll_seconds=IDLE_POLL)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Running(runtime, clock, server, fake_slack, connector, slack_platform, teams_platform)
    finally:
        await server.close()
        await connector.close()
        await fake_slack.close()


def link_care(trigger_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    return slack.slash_command(
        SECRET,
        command="/playcaller",
        text="link care",
        user_id="U0ADA",
        user_name="ada",
        channel_id=CARE,
        channel_name="care",
        trigger_id=trigger_id,
    )
