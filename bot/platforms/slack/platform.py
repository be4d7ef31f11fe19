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
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.cards import Card, Form
from bot.core.clock import Clock
from bot.core.directory import channel_for_spoke, spoke_for_channel
from bot.core.errors import ConfigError, Problem
from bot.core.events import Action, Command, Event, FormSubmitted, Message
from bot.core.model import Actor
from bot.core.settings import Settings
from bot.core.storage import JSON, Store
from bot.outbox import RetryLater, Undeliverable
from bot.platforms.slack import render
from bot.platforms.slack.inbound import (
    MalformedPayload,
    Origin,
    action_parts,
    command_origin,
    command_parts,
    event_dedupe_key,
    event_origin,
    interaction_origin,
    is_user_message,
    message_text,
    view_parts,
    wrap_form_context,
)
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "slack"
# chat.postMessage: about one message per second per channel.
POST_SPACING = timedelta(seconds=1)
# chat.update is Tier 3 (about 50 a minute per workspace).
UPDATE_SPACING = timedelta(seconds=1.2)
PEOPLE_CACHE_TTL = timedelta(minutes=10)
# Errors that another attempt cannot fix.
PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "msg_too_long",
    "invalid_blocks",
    "invalid_metadata_format",
    "no_text",
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    "user_not_found",
    "users_not_found",
    "user_disabled",
    "cannot_dm_bot",
    "restricted_action",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "missing_scope",
    "not_authed",
}
CARD_METADATA_TYPE = "playcaller_card"


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


def _error_of(error: SlackApiError) -> tuple[int, str, float]:
    """(HTTP status, Slack error code, Retry-After seconds)."""
    response = error.response
    status = int(getattr(response, "status_code", 200) or 200)
    code = str(response.get("error", "") if hasattr(response, "get") else "")
    headers = getattr(response, "headers", {}) or {}
    retry_after = headers.get("Retry-After") or headers.get("retry-after") or 1
    try:
        seconds = float(retry_after)
    except (TypeError, ValueError):
        seconds = 1.0
    return status, code, max(seconds, 0.0)


class Pacer:
    """Per-lane pacing (a channel's posts, the workspace's updates) on the
    injected clock: a lane that is busy answers with :class:`RetryLater`."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._free_at: dict[str, datetime] = {}

    def take(self, lane: str, spacing: timedelta) -> None:
        now = self.clock.now()
        free = self._free_at.get(lane, now)
        if free > now:
            raise RetryLater(free - now, f"pacing {lane}", paced=True)
        self._free_at[lane] = now + spacing

    def hold(self, lane: str, seconds: float) -> None:
        """Keep ``lane`` closed for ``seconds`` (Slack's Retry-After)."""
        until = self.clock.now() + timedelta(seconds=seconds)
        self._free_at[lane] = max(self._free_at.get(lane, until), until)


class SlackPeople:
    """Slack users to configured people: by Slack id in config, else by email."""

    def __init__(
        self, settings: Settings, client: AsyncWebClient, clock: Clock, team_id: str | None
    ) -> None:
        self.settings = settings
        self.client = client
        self.clock = clock
        self.team_id = team_id
        self._person_of: dict[str, tuple[str | None, str, datetime]] = {}
        self._lookups: dict[str, asyncio.Future[tuple[str | None, str]]] = {}
        self._user_of: dict[str, tuple[str, datetime]] = {}

    async def actor(self, origin: Origin) -> Actor:
        """The actor for a verified Slack user id."""
        settings = self.settings
        person = settings.person_by_platform_id(PLATFORM, origin.user_id)
        if person is None:
            person_id, name = await self._lookup(origin.user_id, origin.user_name)
            person = settings.people.get(person_id) if person_id else None
            if person is None:
                return settings.unknown_actor(PLATFORM, origin.user_id, name)
        return settings.actor_for(person, PLATFORM, origin.user_id)

    async def _lookup(self, user_id: str, fallback_name: str) -> tuple[str | None, str]:
        now = self.clock.now()
        cached = self._person_of.get(user_id)
        if cached and now - cached[2] < PEOPLE_CACHE_TTL:
            return cached[0], cached[1]
        # One users.info call per user at a time: a burst of clicks shares it.
        pending = self._lookups.get(user_id)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch_person(user_id, fallback_name))
            self._lookups[user_id] = pending
            pending.add_done_callback(lambda _: self._lookups.pop(user_id, None))
        return await asyncio.shield(pending)

    async def _fetch_person(self, user_id: str, fallback_name: str) -> tuple[str | None, str]:
        now = self.clock.now()
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning("users.info %s failed: %s", user_id, _error_of(error)[1])
            return None, fallback_name or user_id
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        email = str(profile.get("email") or "")
        name = str(user.get("real_name") or profile.get("real_name") or user.get("name") or user_id)
        person = self.settings.person_by_email(email) if email else None
        self._person_of[user_id] = (person.id if person else None, name, now)
        return (person.id if person else None), name

    async def user_id_for(self, person_id: str) -> str:
        """The Slack user id of a configured person (by config id, else by email)."""
        if person_id.startswith(f"{PLATFORM}:"):
            return person_id.removeprefix(f"{PLATFORM}:")  # not in the config: their Slack id
        person = self.settings.people.get(person_id)
        if person is None:
            raise Undeliverable(f"unknown person {person_id!r}")
        configured = person.platform_ids.get(PLATFORM)
        if configured:
            return configured
        now = self.clock.now()
        cached = self._user_of.get(person_id)
        if cached and now - cached[1] < PEOPLE_CACHE_TTL:
            return cached[0]
        extra = {"team_id": self.team_id} if self.team_id else {}
        try:
            response = await self.client.users_lookupByEmail(email=person.email, **extra)
        except SlackApiError as error:
            status, code, after = _error_of(error)
            if status == 429:
                raise RetryLater(
                    timedelta(seconds=after), "users.lookupByEmail rate limited", paced=True
                ) from error
            raise Undeliverable(f"no Slack user for {person.email}: {code}") from error
        user_id = str((response.get("user") or {}).get("id") or "")
        if not user_id:
            raise Undeliverable(f"no Slack user for {person.email}")
        self._user_of[person_id] = (user_id, now)
        return user_id


class SlackDelivery:
    """The outbox's Slack side: paced posts, in-place updates and DMs."""

    platform = PLATFORM

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        settings: Settings,
        people: SlackPeople,
        clock: Clock,
    ) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.people = people
        self.pacer = Pacer(clock)
        # Deliveries this process attempted, and those whose outcome it does not know.
        self._tried: set[str] = set()
        self._unsure: set[str] = set()

    async def post(self, destination: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        channel = await channel_for_spoke(self.store, self.settings, PLATFORM, destination)
        if not channel:
            raise Undeliverable(
                f"no Slack channel for {destination!r}: set channels.slack in the config "
                "or run /playcaller link in the channel"
            )
        return await self._post(channel, card, delivery_id, attempt)

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        user_id = await self.people.user_id_for(person_id)
        channel = await self._open_dm(user_id)
        return await self._post(channel, card, delivery_id, attempt)

    async def _open_dm(self, user_id: str) -> str:
        try:
            opened = await self.client.conversations_open(users=user_id)
        except SlackApiError as error:
            self._raise_for(error, "open")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(timedelta(seconds=2), f"conversations.open: {error!r}") from error
        return str((opened.get("channel") or {}).get("id"))

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str, attempt: int
    ) -> JSON:
        return await self._post(
            str(ref["channel"]), card, delivery_id, attempt, thread_ts=str(ref["ts"])
        )

    async def _post(
        self,
        channel: str,
        card: Card,
        delivery_id: str,
        attempt: int,
        thread_ts: str | None = None,
    ) -> JSON:
        lane = f"post:{channel}"
        if delivery_id in self._unsure or (attempt > 1 and delivery_id not in self._tried):
            # An earlier attempt (here, or in a process that stopped) may have
            # landed without our knowing: look before posting again.
            landed = await self._find_posted(channel, delivery_id)
            if landed is not None:
                self._unsure.discard(delivery_id)
                return landed
            self._unsure.discard(delivery_id)
        # From here this process knows the outcome of each attempt (paced,
        # refused or posted) unless the post itself is ambiguous.
        self._tried.add(delivery_id)
        self.pacer.take(lane, POST_SPACING)
        try:
            response = await self.client.chat_postMessage(
                channel=channel,
                metadata={
                    "event_type": CARD_METADATA_TYPE,
                    "event_payload": {"delivery_id": delivery_id},
                },
                unfurl_links=False,
                unfurl_media=False,
                thread_ts=thread_ts,
                **render.message(card),
            )
        except SlackApiError as error:
            self._raise_for(error, lane)
        except (aiohttp.ClientError, TimeoutError) as error:
            # Ambiguous: the message may have landed. The next attempt checks.
            self._unsure.add(delivery_id)
            raise RetryLater(timedelta(seconds=2), f"chat.postMessage: {error!r}") from error
        return {"channel": str(response["channel"]), "ts": str(response["ts"])}

    async def _find_posted(self, channel: str, delivery_id: str) -> JSON | None:
        try:
            history = await self.client.conversations_history(
                channel=channel, limit=50, include_all_metadata=True
            )
        except SlackApiError as error:
            self._raise_for(error, "history")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(
                timedelta(seconds=5), f"cannot check for an earlier post: {error!r}"
            ) from error
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == CARD_METADATA_TYPE
                and payload.get("delivery_id") == delivery_id
            ):
                return {"channel": channel, "ts": str(message["ts"])}
        return None

    async def update(self, ref: JSON, card: Card) -> None:
        self.pacer.take("update", UPDATE_SPACING)
        try:
            await self.client.chat_update(
                channel=str(ref["channel"]), ts=str(ref["ts"]), **render.message(card)
            )
        except SlackApiError as error:
            self._raise_for(error, "update")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(timedelta(seconds=2), f"chat.update: {error!r}") from error

    def _raise_for(self, error: SlackApiError, lane: str) -> Any:
        status, code, after = _error_of(error)
        if status == 429 or code == "ratelimited":
            self.pacer.hold(lane, after)
            raise RetryLater(
                timedelta(seconds=after), f"{lane} rate limited", paced=True
            ) from error
        if code in PERMANENT_ERRORS:
            raise Undeliverable(f"Slack refused ({code})") from error
        raise RetryLater(timedelta(seconds=5), f"Slack error {code or status}") from error


class SlackResponder:
    """Immediate answers to one person in one place (ephemeral notes, modals)."""

    def __init__(self, client: AsyncWebClient, origin: Origin) -> None:
        self.client = client
        self.origin = origin

    async def reply(self, event: Event, card: Card, *, ephemeral: bool) -> None:
        origin = self.origin
        payload = render.message(card)
        try:
            if origin.channel_id and ephemeral:
                await self.client.chat_postEphemeral(
                    channel=origin.channel_id, user=origin.user_id, **payload
                )
                return
            channel = origin.channel_id or await self._dm_channel()
            await self.client.chat_postMessage(channel=channel, **payload)
        except SlackApiError as error:
            status, code, _ = _error_of(error)
            if code in ("channel_not_found", "not_in_channel") and origin.channel_id:
                # Not in that channel: answer in a direct message instead.
                await self.client.chat_postMessage(channel=await self._dm_channel(), **payload)
                return
            log.warning("could not answer %s: %s %s", origin.user_id, status, code)

    async def _dm_channel(self) -> str:
        opened = await self.client.conversations_open(users=self.origin.user_id)
        return str((opened.get("channel") or {}).get("id"))

    async def open_form(self, event: Event, form: Form) -> None:
        if not self.origin.trigger_id:
            await self.reply(event, Card(title="", blocks=()), ephemeral=True)
            return
        wrapped = Form(
            form_id=form.form_id,
            title=form.title,
            inputs=form.inputs,
            submit_label=form.submit_label,
            context=wrap_form_context(form.context, self.origin.channel_id),
            intro=form.intro,
        )
        try:
            await self.client.views_open(
                trigger_id=self.origin.trigger_id, view=render.modal(wrapped)
            )
        except SlackApiError as error:
            log.warning("views.open failed: %s", _error_of(error)[1])


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
        self.client = AsyncWebClient(**client_args)
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=slack.signing_secret or "socket-mode-has-no-signature",
            process_before_response=False,
            request_verification_enabled=slack.signing_secret is not None,
        )
        self.people = SlackPeople(runtime.settings, self.client, runtime.clock, slack.team_id)
        self.delivery = SlackDelivery(
            self.client, runtime.store, runtime.settings, self.people, runtime.clock
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
