"""The Slack platform: Bolt listeners in, Block Kit out, over HTTP or Socket Mode.

Over HTTP the signature is checked on the raw body before anything is parsed
(401), then the body is parsed (400 naming what is malformed), then Bolt
dispatches it. Every request the bot handles is stored in the inbox (one
store write, deduplicated by its trigger or event id) before it is
acknowledged, and handled after in a tracked task, so Slack gets its answer
within 3 seconds and an acknowledged request survives a crash (see
:mod:`bot.inbox`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.core.directory import spoke_for_channel
from bot.core.errors import ConfigError, Problem
from bot.core.events import Action, Command, Event, FormSubmitted, Message
from bot.core.storage import LeasedInboxEntry
from bot.inbox import Inbox, handling_from_env
from bot.logs import bind_request_id
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
from bot.platforms.slack.socket_mode import socket_mode_handler
from bot.platforms.slack.tracing import slack_request_id
from bot.platforms.slack.verify import Rejected, parse_signed_body, verify_signature
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

    def __init__(
        self,
        slack: SlackSettings,
        runtime: Runtime,
        *,
        wall_clock: Callable[[], float] = time.time,
        sweep_seconds: float = 1.0,
    ) -> None:
        self.slack = slack
        self.runtime = runtime
        # Signature timestamps are judged by wall time, as Slack signs them.
        self.wall_clock = wall_clock
        self.sweep_seconds = sweep_seconds
        client_args: dict[str, Any] = {"token": slack.bot_token, "retry_handlers": []}
        if slack.api_url:
            client_args["base_url"] = slack.api_url
        # No automatic retries: the outbox decides, and never re-posts blindly.
        self.client = MeteredWebClient(calls=runtime.metrics.platform_calls, **client_args)
        # Listeners run inline, before the response: each one only stores the
        # request and acknowledges it (the work is a separate task, started by
        # :meth:`_admit`), so the response goes out as soon as the inbox write
        # is done. Bolt's other mode runs the listener in a task and polls for
        # the ack every 10 ms, which put 10-20 ms on every acknowledgement.
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=slack.signing_secret or "socket-mode-has-no-signature",
            process_before_response=True,
            request_verification_enabled=slack.signing_secret is not None,
        )
        self.people = SlackPeople(runtime.settings, self.client, runtime.clock, slack.team_id)
        self.delivery = SlackDelivery(
            self.client, runtime.store, runtime.settings, self.people, runtime.clock, runtime.pacing
        )
        # Handled after the ack: few at once, so admissions (and acks) stay quick.
        self.inbox = Inbox(
            runtime.store,
            runtime.clock,
            runtime.owner,
            PLATFORM,
            self._process,
            max_handling=handling_from_env(),
        )
        self._inflight: set[asyncio.Task[object]] = set()
        self._sweep_stop = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._own_session: aiohttp.ClientSession | None = None
        self._register()

    # -- lifecycle ----------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        """Events, commands and interactivity all arrive at ``POST /slack/events``."""
        if self.slack.signing_secret:
            app.router.add_post("/slack/events", self.handle_http)

    async def handle_http(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            assert self.slack.signing_secret is not None  # mounted only with one
            verify_signature(self.slack.signing_secret, body, request.headers, self.wall_clock())
            parsed = parse_signed_body(body, request.content_type)
        except Rejected as rejected:
            log.warning("refused a Slack request (%d): %s", rejected.status, rejected.reason)
            return web.json_response({"error": rejected.reason}, status=rejected.status)
        response = await self.bolt.async_dispatch(_bolt_request(request, body, parsed))
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        """Share one HTTP session for Web API calls; connect Socket Mode when
        an app-level token is set."""
        if self.client.session is None:
            self.client.session = aiohttp.ClientSession()
            self._own_session = self.client.session
        if self.slack.app_token:
            self._socket = socket_mode_handler(self.bolt, self.slack.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode connected")
        # Picks up what a crashed process acknowledged but did not finish.
        self._sweep_stop.clear()
        self._sweeper = asyncio.create_task(
            self.inbox.run(self._sweep_stop, self.sweep_seconds), name="inbox-slack"
        )

    async def stop(self) -> None:
        await self._stop_socket()
        await self.idle()
        if self._sweeper is not None:
            self._sweep_stop.set()
            await self._sweeper
            self._sweeper = None
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

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(work)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    # -- inbound ------------------------------------------------------------

    def _register(self) -> None:
        # No global middleware: Bolt prepares each one's arguments by
        # inspection on every request, which cost more CPU than the listener.
        bolt = self.bolt
        bolt.command(re.compile(r"^/.+"))(self._on_command)
        bolt.action(re.compile(r".+"))(self._on_action)
        bolt.view(re.compile(r".+"))(self._on_view)
        # Listeners run before the response (see __init__), so an event is
        # stored before Bolt acknowledges it.
        bolt.event("app_mention")(self._on_event)
        bolt.event("message")(self._on_event)
        # Acknowledge what the bot does not offer, so Slack neither retries nor errors.
        bolt.shortcut(re.compile(r".*"))(self._on_unsupported)
        bolt.options(re.compile(r".*"))(self._on_unsupported)
        bolt.error(self._on_error)

    async def _on_unsupported(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        log.info("acknowledged an unsupported Slack %s", body.get("type"))

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("Slack request failed: %r (type %s)", error, body.get("type"))

    async def _admit(
        self,
        ack: AsyncAck,
        kind: str,
        key: str | None,
        body: dict[str, Any],
        bot_user_id: str | None = None,
    ) -> None:
        """Store the request, then acknowledge it; it is handled in a task
        (tracked before the ack, so :meth:`idle` covers every acknowledged one)."""
        await self._store(kind, key, body, bot_user_id)
        await ack()

    async def _store(
        self, kind: str, key: str | None, body: dict[str, Any], bot_user_id: str | None
    ) -> None:
        """Admit the request to the inbox and start handling it (tracked, so
        :meth:`idle` covers it); its log lines carry Slack's request id."""
        bind_request_id(slack_request_id(body))
        stored = {"kind": kind, "body": body, "bot_user_id": bot_user_id}
        leased = await self.inbox.admit(key, stored)
        if leased is not None:
            self._spawn(self.inbox.handle(leased))

    async def _process(self, leased: LeasedInboxEntry) -> None:
        stored = leased.entry.body
        lease = (leased.entry.key, leased.token)
        bot_user_id = stored.get("bot_user_id")
        try:
            built = await self._build(
                str(stored.get("kind")),
                dict(stored.get("body") or {}),
                bot_user_id if isinstance(bot_user_id, str) else None,
                lease,
            )
        except MalformedPayload as error:
            log.warning("ignored a malformed Slack payload: no %s", error.field)
            return
        if built is not None:
            event, origin = built
            await self.runtime.handle(event, SlackResponder(self.client, origin))

    async def _envelope(
        self, origin: Origin, dedupe_key: str | None, lease: tuple[str, int]
    ) -> dict[str, Any]:
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
            "inbox_lease": lease,
            "raw_ref": {"team_id": origin.team_id, "enterprise_id": origin.enterprise_id},
        }

    async def _build(
        self,
        kind: str,
        body: dict[str, Any],
        bot_user_id: str | None,
        lease: tuple[str, int],
    ) -> tuple[Event, Origin] | None:
        """The neutral event of a stored request (in any process, any time later)."""
        if kind == "command":
            origin = command_origin(body)
            name, text = command_parts(body)
            envelope = await self._envelope(origin, _trigger_key("command", origin), lease)
            return Command(name=name, text=text, **envelope), origin
        if kind == "action":
            origin = interaction_origin(body)
            parts = action_parts(body)
            # Each click has its own trigger id; retries of one click share it.
            envelope = await self._envelope(origin, _trigger_key("click", origin), lease)
            return Action(action_id=parts.action_id, value=parts.value, **envelope), origin
        if kind == "view":
            view_parts_ = view_parts(body)
            origin = interaction_origin(body, view_parts_.channel_id)
            envelope = await self._envelope(origin, _view_key(body), lease)
            event = FormSubmitted(
                form_id=view_parts_.form_id,
                values=view_parts_.values,
                context=view_parts_.context,
                **envelope,
            )
            return event, origin
        if kind in ("app_mention", "message"):
            origin = event_origin(body)
            text = message_text(body["event"], bot_user_id)
            envelope = await self._envelope(origin, event_dedupe_key(body), lease)
            return Message(text=text, mentioned=kind == "app_mention", **envelope), origin
        log.warning("ignored a stored Slack request of unknown kind %r", kind)
        return None

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        # A captured slash command replayed within its signature window has the
        # same trigger id: one effect.
        key = _trigger_key("command", body)
        await self._admit(ack, "command", key, body)

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        if is_link_click(body):
            await ack()  # the link opened in the browser; nothing for the bot to do
            return
        await self._admit(ack, "action", _trigger_key("click", body), body)

    async def _on_view(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        errors = view_errors(body)
        if errors:  # shown in the modal, next to each input, to the submitter only
            await ack(response_action="errors", errors=errors)
            return
        await self._admit(ack, "view", _view_key(body), body)

    async def _on_event(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """Store a mention or a direct message; Bolt acknowledges every event
        when this returns (others are not for the bot)."""
        event = body.get("event")
        if isinstance(event, dict):
            kind = event.get("type")
            wanted = kind == "app_mention" or (
                kind == "message" and is_user_message(event) and event.get("channel_type") == "im"
            )
            if wanted:
                await self._store(str(kind), event_dedupe_key(body), body, context.bot_user_id)


def _trigger_key(prefix: str, source: Origin | dict[str, Any]) -> str | None:
    trigger = source.trigger_id if isinstance(source, Origin) else source.get("trigger_id")
    return f"{prefix}:{trigger}" if isinstance(trigger, str) and trigger else None


def _view_key(body: dict[str, Any]) -> str | None:
    view = body.get("view")
    view_id = view.get("id") if isinstance(view, dict) else None
    return f"view:{view_id}" if isinstance(view_id, str) and view_id else None


def _bolt_request(request: web.Request, raw: bytes, parsed: dict[str, Any]) -> AsyncBoltRequest:
    """Bolt's request for a verified HTTP request, given the body already
    parsed (parsing a form with its percent-encoded payload was the largest
    CPU cost of an ack; Bolt's adapter would parse it a second time). Bolt
    accepts a parsed body only in its Socket Mode; the mode is then set back
    to HTTP with the raw text, so Bolt's own signature check still runs."""
    bolt_request = AsyncBoltRequest(
        body=parsed,
        query=request.query_string,
        headers=dict(request.headers),
        mode="socket_mode",
    )
    bolt_request.mode = "http"
    bolt_request.raw_body = raw.decode("utf-8")
    return bolt_request
