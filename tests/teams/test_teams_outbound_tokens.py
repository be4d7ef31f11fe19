"""Teams outbound access tokens: fetched from a (fake) Azure AD token endpoint
without blocking the event loop, cached, and sent on every Connector call.

botbuilder's own credentials fetch the token with msal's blocking ``requests``
on the event loop, so an endpoint that accepts and never answers froze the
whole bot. Here a stalled endpoint holds up only the turn that needs the token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.platforms.slack.platform import SlackPlatform, SlackSettings
from bot.platforms.teams.platform import TeamsPlatform, TeamsSettings
from bot.platforms.teams.tokens import OutboundTokens, TokenUnavailable
from bot.runtime import Runtime
from bot.store import open_store
from bot.web import create_app
from tests.conftest import START
from tests.fakes import slack_requests as slack
from tests.fakes import teams_activities as teams
from tests.fakes.aad_token import FakeTokenEndpoint
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.openid import FakeOpenId
from tests.fakes.slack_api import FakeSlack
from tests.teams.teams_rig import PEOPLE

APP_ID = teams.APP_ID
TENANT = "tenant-1"
SECRET = "app-password"
# A guard, not a measurement: a frozen bot fails the test instead of hanging it.
GUARD = aiohttp.ClientTimeout(total=20)
SLACK_SECRET = "tokens-test-signing-secret"


@dataclass
class Bot:
    runtime: Runtime
    platform: TeamsPlatform
    server: TestServer
    connector: FakeConnector
    aad: FakeTokenEndpoint
    openid: FakeOpenId
    slack_api: FakeSlack
    slack_platform: SlackPlatform

    def headers(self) -> dict[str, str]:
        claims = self.openid.claims(
            app_id=APP_ID, service_url=self.connector.service_url, now=START
        )
        return {"Authorization": f"Bearer {self.openid.token(claims)}"}

    async def post(self, http: aiohttp.ClientSession, text: str) -> int:
        activity = teams.personal_message(self.connector.service_url, text=text, user=PEOPLE["sam"])
        async with http.post(
            self.server.make_url("/api/messages"), json=activity, headers=self.headers()
        ) as response:
            return response.status

    async def slack_command(self, http: aiohttp.ClientSession) -> int:
        body, headers = slack.slash_command(
            SLACK_SECRET,
            command="/triage",
            user_id="U0SAM",
            user_name="sam",
            channel_id="C0CARE",
            channel_name="care",
        )
        async with http.post(
            self.server.make_url("/slack/events"), data=body, headers=headers
        ) as response:
            return response.status


@pytest.fixture
async def bot(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[Bot]:
    async with (
        FakeOpenId(max_age=600) as openid,
        FakeTokenEndpoint(tenant=TENANT, client_id=APP_ID, client_secret=SECRET) as aad,
    ):
        slack_api = FakeSlack(bot_token="xoxb-tokens")
        await slack_api.start()
        connector = FakeConnector(require_token=True)
        await connector.start()
        for name, account in PEOPLE.items():
            connector.add_member(
                account["id"], account["name"], account["aadObjectId"], f"{name}@example.com"
            )
        runtime = await open_runtime(
            loaded,
            store=open_store(store_backend[0], namespace=store_backend[1]),
            clock=ManualClock(START),
            platforms=["teams"],
        )
        settings = TeamsSettings(
            APP_ID, SECRET, TENANT, openid_metadata_url=openid.metadata_url, token_url=aad.url
        )
        platform = TeamsPlatform(settings, runtime)  # the default outbound credentials
        assert platform.keys is not None
        await platform.keys.refresh()
        slack_platform = SlackPlatform(
            SlackSettings("xoxb-tokens", SLACK_SECRET, api_url=slack_api.api_url), runtime
        )
        app = create_app(runtime, [platform, slack_platform], poll_seconds=0.05)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield Bot(runtime, platform, server, connector, aad, openid, slack_api, slack_platform)
        finally:
            aad.release()
            await server.close()
            await slack_api.close()
            await runtime.store.close()
            await connector.close()


def bearer_tokens(connector: FakeConnector) -> set[str]:
    return {call.headers.get("authorization", "") for call in connector.calls}


async def test_connector_calls_carry_a_token_fetched_once_from_the_endpoint(bot: Bot) -> None:
    async with aiohttp.ClientSession(timeout=GUARD) as http:
        assert await bot.post(http, "help") == 201
        assert await bot.post(http, "help") == 201
    assert len(bot.aad.issued) == 1  # cached for its lifetime
    assert bot.aad.requests[0]["scope"] == "https://api.botframework.com/.default"
    assert bot.connector.calls, "the bot answered through the Connector"
    assert bearer_tokens(bot.connector) == {f"Bearer {bot.aad.issued[0]}"}


async def test_a_stalled_token_endpoint_does_not_stop_the_bot_from_acking(bot: Bot) -> None:
    """botbuilder makes a turn's Connector client (and so needs the token)
    before the bot sees the activity: that turn waits for the token endpoint,
    and only it. Slack requests are still stored and acknowledged, and
    ``/healthz`` answers, while the endpoint hangs."""
    bot.aad.stall = True
    async with aiohttp.ClientSession(timeout=GUARD) as http:
        first = asyncio.create_task(bot.post(http, "help"))
        checks = 0
        while not bot.aad.requests and checks < 200:  # until the turn is waiting on it
            async with http.get(bot.server.make_url("/healthz")) as health:
                assert health.status == 200
            checks += 1
        assert bot.aad.requests, "the turn never asked for a token"
        for _ in range(5):
            assert await bot.slack_command(http) == 200
            async with http.get(bot.server.make_url("/healthz")) as health:
                assert health.status == 200
                assert (await health.json())["status"] == "ok"
        second = asyncio.create_task(bot.post(http, "help"))
        for _ in range(5):
            async with http.get(bot.server.make_url("/healthz")) as health:
                assert health.status == 200
        assert not first.done() and not second.done()
        assert bot.connector.calls == []  # nothing went out without a token
        bot.aad.release()
        assert await first == 201
        assert await second == 201
    assert len(bot.aad.requests) == 1  # the waiting turns shared the one fetch
    assert bearer_tokens(bot.connector) == {f"Bearer {bot.aad.issued[0]}"}
    # Each acknowledged Slack command was answered (the ephemeral /triage list).
    await bot.slack_platform.idle()
    answered = [c for c in bot.slack_api.calls if c.method == "chat.postEphemeral"]
    assert len(answered) == 5


async def test_an_unavailable_token_is_a_503_for_the_connector_to_retry(bot: Bot) -> None:
    bot.aad.client_secret = "rotated-elsewhere"  # the endpoint refuses our secret
    async with aiohttp.ClientSession(timeout=GUARD) as http:
        activity = teams.personal_message(
            bot.connector.service_url, text="help", user=PEOPLE["sam"]
        )
        async with http.post(
            bot.server.make_url("/api/messages"), json=activity, headers=bot.headers()
        ) as response:
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
    assert bot.connector.calls == []
    assert await bot.runtime.store.audit_log() == []


async def test_a_refused_secret_fails_the_call_clearly() -> None:
    async with FakeTokenEndpoint(tenant=TENANT, client_id=APP_ID, client_secret=SECRET) as aad:
        tokens = OutboundTokens(APP_ID, "wrong-password", aad.url)
        try:
            with pytest.raises(TokenUnavailable, match="400: invalid_client"):
                await tokens.token("https://api.botframework.com")
            with pytest.raises(TokenUnavailable, match="no access token"):
                tokens.cached("https://api.botframework.com")
        finally:
            await tokens.close()
