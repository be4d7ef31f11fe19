"""The Slack platform: Bolt listeners in, Block Kit out, over HTTP or Socket Mode.

Every request is acknowledged first and handled after, so Slack always gets
its answer within 3 seconds; the work runs in tracked tasks.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.core.directory import spoke_for_channel
from bot.core.errors import ConfigError, Problem
from bot.core.events import Action, Command, Event, FormSubmitted, Message
from bot.platforms.slack.client import MeteredWebClient
from bot.platforms.slack.delivery import SlackDelivery
from bot.platforms.slack.inbound import (
    MalformedPayload,
    Origin,
    action_parts,
    command_origin,
    command_parts,
    event_dedupe_key,
    event_origin,
    interaction_origin,
    is_link_click,
    is_user_message,
    message_text,
    view_errors,
    view_parts,
)
from bot.platforms.slack.people import SlackPeople
from bot.platforms.slack.responder import SlackResponder
from bot.platforms.slack.tracing import bind_slack_request_id
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "slack"


@dataclass(frozen=True)
class SlackSettings:
    """Slack credentials and endpoints, from the environment only."""

    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    team_id: str | None = None

    @staticmethod
    def from_env(env: Mapping[str, str]) -> SlackSettings | None:
        """None when ``SLACK_BOT_TOKEN`` is unset (Slack is then not mounted)."""
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not token:
            return None
        secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        if secret is None and app_token is None:
            raise ConfigError(
                [
                    Problem(
                        "SLACK_SIGNING_SECRET",
                        None,
                        "Slack needs SLACK_SIGNING_SECRET (HTTP mode) "
                        "or SLACK_APP_TOKEN (Socket Mode)",
                    )
                ]
            )
        api_url = env.get("SLACK_API_URL", "").strip() or None
        if api_url and not api_url.endswith("/"):
            api_url += "/"
        return SlackSettings(token, secret, app_token, api_url, env.get("SLACK_TEAM_ID") or None)


class SlackPlatform:
    """Slack wired to the runtime: mount it on the web app, start, stop."""

    name = PLATFORM

    def __init__(self, slack: SlackSettings, runtime: Runtime) -> None:
        self.slack = slack
        self.runtime = runtime
        client_args: dict[str, Any] = {"token": slack.bot_token, "retry_handlers": []}
        if slack.api_url:
            client_args["base_url"] = slack.api_url
        # No automatic retries: the outbox decides, and never re-posts blindly.
        self.client = MeteredWebClient(calls=runtime.metrics.platform_calls, **client_args)
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=slack.signing_secret or "socket-mode-has-no-signature",
            process_before_response=False,
            request_verification_enabled=slack.signing_secret is not None,
        )
        self.people = SlackPeople(runtime.settings, self.client, runtime.clock, slack.team_id)
        self.delivery = SlackDelivery(
            self.client, runtime.store, runtime.settings, self.people, runtime.clock, runtime.pacing
        )
        self._inflight: set[asyncio.Task[None]] = set()
        self._socket: AsyncSocketModeHandler | None = None
        self._own_session: aiohttp.ClientSession | None = None
        self._register()

    # -- lifecycle ----------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        """Events, commands and interactivity all arrive at ``POST /slack/events``."""
        if self.slack.signing_secret:
            app.router.add_post("/slack/events", self.handle_http)

    async def handle_http(self, request: web.Request) -> web.Response:
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        """Share one HTTP session for Web API calls; connect Socket Mode when
        an app-level token is set."""
        if self.client.session is None:
            self.client.session = aiohttp.ClientSession()
            self._own_session = self.client.session
        if self.slack.app_token:
            self._socket = AsyncSocketModeHandler(self.bolt, self.slack.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        await self._stop_socket()
        await self.idle()
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None
            self.client.session = None

    async def _stop_socket(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        await self.idle()

    async def idle(self) -> None:
        """Wait until every acknowledged request has been handled."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    # -- inbound ------------------------------------------------------------

    def _register(self) -> None:
        bolt = self.bolt
        bolt.use(bind_slack_request_id)
        bolt.command(re.compile(r"^/.+"))(self._on_command)
        bolt.action(re.compile(r".+"))(self._on_action)
        bolt.view(re.compile(r".+"))(self._on_view)
        bolt.event("app_mention")(self._on_app_mention)
        bolt.event("message")(self._on_message)
        # Acknowledge what the bot does not offer, so Slack neither retries nor errors.
        bolt.shortcut(re.compile(r".*"))(self._on_unsupported)
        bolt.options(re.compile(r".*"))(self._on_unsupported)
        bolt.error(self._on_error)

    async def _on_unsupported(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        log.info("acknowledged an unsupported Slack %s", body.get("type"))

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("Slack request failed: %r (type %s)", error, body.get("type"))

    async def _acked(
        self, ack: AsyncAck, build: Callable[[], Awaitable[tuple[Event, Origin] | None]]
    ) -> None:
        await ack()

        async def work() -> None:
            try:
                built = await build()
            except MalformedPayload as error:
                log.warning("ignored a malformed Slack payload: no %s", error.field)
                return
            if built is None:
                return
            event, origin = built
            await self.runtime.handle(event, SlackResponder(self.client, origin))

        self._spawn(work())

    async def _envelope(self, origin: Origin, dedupe_key: str | None) -> dict[str, Any]:
        runtime = self.runtime
        return {
            "platform": PLATFORM,
            "actor": await self.people.actor(origin),
            "received_at": runtime.clock.now(),
            "channel": await spoke_for_channel(
                runtime.store, runtime.settings, PLATFORM, origin.channel_id
            )
            if origin.channel_id and not origin.is_direct
            else None,
            "platform_channel": origin.channel_id,
            "direct": origin.is_direct,
            "dedupe_key": dedupe_key,
            "raw_ref": {"team_id": origin.team_id, "enterprise_id": origin.enterprise_id},
        }

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        async def build() -> tuple[Event, Origin]:
            origin = command_origin(body)
            name, text = command_parts(body)
            return Command(name=name, text=text, **await self._envelope(origin, None)), origin

        await self._acked(ack, build)

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        if is_link_click(body):
            await ack()  # the link opened in the browser; nothing for the bot to do
            return

        async def build() -> tuple[Event, Origin]:
            origin = interaction_origin(body)
            parts = action_parts(body)
            # Each click has its own trigger id; retries of one click share it.
            key = f"click:{origin.trigger_id}" if origin.trigger_id else None
            event = Action(
                action_id=parts.action_id, value=parts.value, **await self._envelope(origin, key)
            )
            return event, origin

        await self._acked(ack, build)

    async def _on_view(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        errors = view_errors(body)
        if errors:  # shown in the modal, next to each input, to the submitter only
            await ack(response_action="errors", errors=errors)
            return

        async def build() -> tuple[Event, Origin]:
            parts = view_parts(body)
            origin = interaction_origin(body, parts.channel_id)
            view_id = str((body.get("view") or {}).get("id") or "")
            event = FormSubmitted(
                form_id=parts.form_id,
                values=parts.values,
                context=parts.context,
                **await self._envelope(origin, f"view:{view_id}" if view_id else None),
            )
            return event, origin

        await self._acked(ack, build)

    async def _on_app_mention(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async def build() -> tuple[Event, Origin]:
            origin = event_origin(body)
            text = message_text(body["event"], context.bot_user_id)
            event = Message(
                text=text, mentioned=True, **await self._envelope(origin, event_dedupe_key(body))
            )
            return event, origin

        await self._acked(ack, build)

    async def _on_message(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async def build() -> tuple[Event, Origin] | None:
            event = body.get("event") or {}
            if not is_user_message(event) or event.get("channel_type") != "im":
                return None
            origin = event_origin(body)
            text = message_text(event, context.bot_user_id)
            message = Message(text=text, **await self._envelope(origin, event_dedupe_key(body)))
            return message, origin

        await self._acked(ack, build)
