"""The Teams platform: botbuilder's CloudAdapter in, Adaptive Cards out.

Everything botbuilder is imported here (and in nothing outside this package),
so a move to its successor SDK stays local.
"""

from __future__ import annotations

import json
import logging
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import (
    ActivityHandler,
    BotAdapter,
    CardFactory,
    InvokeResponse,
    MessageFactory,
    Middleware,
    TurnContext,
)
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.serialization import Model

from bot.core.cards import Card, Form
from bot.core.clock import Clock
from bot.core.directory import channel_for_spoke, spoke_for_channel
from bot.core.errors import ConfigError, Problem
from bot.core.events import Action, Command, Event, FormSubmitted, Message
from bot.core.model import Actor
from bot.core.settings import Settings
from bot.core.storage import JSON, Record, Store
from bot.core.text import neutralize
from bot.outbox import RetryLater, Undeliverable
from bot.platforms.teams import render
from bot.platforms.teams.inbound import (
    ButtonPress,
    FormSubmission,
    MalformedActivity,
    Origin,
    card_action,
    invoke_data,
    message_text,
    origin,
    typed_command,
)
from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "teams"
CONVERSATION_KIND = "teams-conversation"
USER_KIND = "teams-user"
# Per bot per conversation (Teams' documented limits for sending).
SEND_WINDOWS = ((timedelta(seconds=1), 7), (timedelta(seconds=30), 60), (timedelta(hours=1), 1800))
RETRY_STATUSES = {412, 429, 502, 503, 504}
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
# How many outbox batches a click delivers before answering.
INLINE_DRAIN_PASSES = 2


@dataclass(frozen=True)
class TeamsSettings:
    """Azure bot credentials (single-tenant), from the environment only."""

    app_id: str
    app_password: str = field(repr=False)
    tenant_id: str
    anonymous: bool = False

    @staticmethod
    def from_env(env: Mapping[str, str]) -> TeamsSettings | None:
        """None when Teams is not configured (it is then not mounted).

        Anonymous mode (no inbound token checks, no outbound tokens) is only
        for local development and must be asked for explicitly.
        """
        app_id = env.get("MICROSOFT_APP_ID", "").strip()
        anonymous = env.get("PLAYCALLER_TEAMS_ANONYMOUS", "").strip() == "1"
        if not app_id:
            if anonymous:
                log.warning(
                    "Teams runs ANONYMOUSLY: no request is authenticated (development only)"
                )
                return TeamsSettings("", "", "", anonymous=True)
            return None
        password = env.get("MICROSOFT_APP_PASSWORD", "").strip()
        tenant = env.get("MICROSOFT_APP_TENANT_ID", "").strip()
        missing = [
            name
            for name, value in (
                ("MICROSOFT_APP_PASSWORD", password),
                ("MICROSOFT_APP_TENANT_ID", tenant),
            )
            if not value
        ]
        if missing:
            raise ConfigError(
                [
                    Problem(name, None, "needed with MICROSOFT_APP_ID (single-tenant bot)")
                    for name in missing
                ]
            )
        return TeamsSettings(app_id, password, tenant)


class _AdapterConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, teams: TeamsSettings) -> None:
        self.APP_ID = teams.app_id
        self.APP_PASSWORD = teams.app_password
        self.APP_TYPE = "SingleTenant" if teams.app_id else "MultiTenant"
        self.APP_TENANTID = teams.tenant_id


class _InvokeBody(Model):
    """An adaptiveCard/action response whose value may be a card or a string."""

    _attribute_map = {  # noqa: RUF012 - msrest reads this class attribute
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, *, status_code: int, type: str, value: object) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.status_code = status_code
        self.type = type
        self.value = value


def http_status(error: BaseException) -> tuple[int | None, float | None, str]:
    """(HTTP status, Retry-After seconds, body text) of a Connector error, if it has one."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    retry_after: float | None = None
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    if raw is not None:
        try:
            retry_after = float(raw)
        except (TypeError, ValueError):
            retry_after = None
    body = ""
    text = getattr(response, "text", None)
    if callable(text):
        try:
            body = str(text())
        except Exception:
            body = ""
    elif isinstance(text, str):
        body = text
    return (int(status) if status else None), retry_after, body


class ConversationPacer:
    """Sliding-window limits per conversation, on the injected clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._sent: dict[str, deque[datetime]] = {}
        self._hold: dict[str, datetime] = {}

    def take(self, conversation: str) -> None:
        now = self.clock.now()
        held = self._hold.get(conversation)
        if held and held > now:
            raise RetryLater(held - now, f"Teams asked us to wait ({conversation})", paced=True)
        sent = self._sent.setdefault(conversation, deque())
        longest = SEND_WINDOWS[-1][0]
        while sent and now - sent[0] >= longest:
            sent.popleft()
        for window, limit in SEND_WINDOWS:
            recent = [t for t in sent if now - t < window]
            if len(recent) >= limit:
                raise RetryLater(recent[0] + window - now, f"pacing {conversation}", paced=True)
        sent.append(now)

    def hold(self, conversation: str, seconds: float) -> None:
        self._hold[conversation] = self.clock.now() + timedelta(seconds=seconds)


class TeamsDirectory:
    """Conversation references and users the bot has met, kept in the store."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    async def remember_conversation(self, key: str, reference: dict[str, Any], kind: str) -> None:
        record = await self.store.get(CONVERSATION_KIND, key)
        data = {"reference": reference, "type": kind}
        if record is None:
            await self.store.insert(Record(CONVERSATION_KIND, key, data))
        elif record.data != data:
            await self.store.replace(
                Record(CONVERSATION_KIND, key, data, record.version), record.version
            )

    async def reference(self, key: str) -> dict[str, Any] | None:
        record = await self.store.get(CONVERSATION_KIND, key)
        return dict(record.data["reference"]) if record else None

    async def any_reference(self) -> dict[str, Any] | None:
        for kind in ("channel", "personal", "groupChat"):
            found = await self.store.find(CONVERSATION_KIND, f"type:{kind}", limit=1)
            if found:
                return dict(found[0].data["reference"])
        return None

    async def remember_user(self, user_id: str, data: dict[str, Any]) -> None:
        record = await self.store.get(USER_KIND, user_id)
        merged = {**(dict(record.data) if record else {}), **{k: v for k, v in data.items() if v}}
        tags = frozenset({f"person:{merged['person']}"} if merged.get("person") else set())
        if record is None:
            await self.store.insert(Record(USER_KIND, user_id, merged, 0, tags))
        elif dict(record.data) != merged:
            await self.store.replace(
                Record(USER_KIND, user_id, merged, record.version, tags), record.version
            )

    async def user(self, user_id: str) -> dict[str, Any] | None:
        record = await self.store.get(USER_KIND, user_id)
        return dict(record.data) if record else None

    async def user_of_person(self, person_id: str) -> dict[str, Any] | None:
        found = await self.store.find(USER_KIND, f"person:{person_id}", limit=1)
        return dict(found[0].data) if found else None


class TeamsDelivery:
    """The outbox's Teams side: proactive posts, in-place updates and DMs."""

    platform = PLATFORM

    def __init__(self, teams: TeamsPlatform) -> None:
        self.teams = teams
        self.pacer = ConversationPacer(teams.runtime.clock)
        # The newest card sent to each activity, for answering an invoke.
        self.last_update: dict[str, dict[str, Any]] = {}

    async def post(self, destination: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        teams = self.teams
        channel = await channel_for_spoke(
            teams.runtime.store, teams.runtime.settings, PLATFORM, destination
        )
        if not channel:
            raise Undeliverable(
                f"no Teams channel for {destination!r}: set channels.teams in the config "
                "or type 'link SPOKE' to the bot in the channel"
            )
        reference = await teams.directory.reference(channel)
        if reference is None:
            # A configured channel the bot has not heard from: address it through
            # the tenant's service URL, which every conversation shares.
            known = await teams.directory.any_reference()
            if known is None:
                raise Undeliverable(f"the bot has not been added to a team yet (channel {channel})")
            reference = {
                **known,
                "conversation": {"id": channel, "isGroup": True, "conversationType": "channel"},
            }
        return await self._send(reference, card)

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        teams = self.teams
        if person_id.startswith(f"{PLATFORM}:"):
            user = await teams.directory.user(person_id.removeprefix(f"{PLATFORM}:"))
        else:
            user = await teams.directory.user_of_person(person_id)
        if user is None:
            raise Undeliverable(f"{person_id} has not been seen in Teams yet")
        personal = user.get("personal_conversation")
        if personal:
            reference = await teams.directory.reference(str(personal))
            if reference is not None:
                return await self._send(reference, card)
        return await self._create_and_send(user, card)

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str, attempt: int
    ) -> JSON:
        conversation = str(ref["conversation"])
        reference = await self.teams.directory.reference(conversation) or dict(ref["reference"])
        # A channel thread is the channel's conversation id with the root message id.
        thread = f"{conversation};messageid={ref['activity_id']}"
        if reference.get("conversation", {}).get("conversationType") == "personal":
            thread = conversation
        threaded = {
            **reference,
            "conversation": {**reference.get("conversation", {}), "id": thread},
        }
        sent = await self._send(threaded, card)
        return {**sent, "conversation": conversation}

    async def update(self, ref: JSON, card: Card) -> None:
        teams = self.teams
        conversation = str(ref["conversation"])
        reference = await teams.directory.reference(conversation) or dict(ref["reference"])
        self.pacer.take(conversation)
        body = render.adaptive_card(card)
        activity_id = str(ref["activity_id"])

        async def replace(turn_context: TurnContext) -> None:
            update = MessageFactory.attachment(CardFactory.adaptive_card(body))
            update.id = activity_id
            await turn_context.update_activity(update)

        await self._call(conversation, replace, reference)
        self.last_update[activity_id] = body

    async def _send(self, reference: dict[str, Any], card: Card) -> JSON:
        conversation = str(reference["conversation"]["id"])
        self.pacer.take(conversation)
        body = render.adaptive_card(card)
        sent: dict[str, str] = {}

        async def send(turn_context: TurnContext) -> None:
            # A proactive turn's send_activity would reply to the made-up
            # continuation activity; post to the conversation itself instead.
            activity = MessageFactory.attachment(CardFactory.adaptive_card(body))
            TurnContext.apply_conversation_reference(
                activity, TurnContext.get_conversation_reference(turn_context.activity)
            )
            activity.reply_to_id = None
            connector = turn_context.turn_state[BotAdapter.BOT_CONNECTOR_CLIENT_KEY]
            response = await connector.conversations.send_to_conversation(conversation, activity)
            sent["id"] = response.id if response else ""

        await self._call(conversation, send, reference)
        return {
            "conversation": conversation,
            "activity_id": sent.get("id", ""),
            "reference": reference,
        }

    async def _create_and_send(self, user: dict[str, Any], card: Card) -> JSON:
        teams = self.teams
        body = render.adaptive_card(card)
        created: dict[str, Any] = {}

        async def send(turn_context: TurnContext) -> None:
            reference = TurnContext.get_conversation_reference(turn_context.activity)
            created["reference"] = reference.serialize()
            response = await turn_context.send_activity(
                MessageFactory.attachment(CardFactory.adaptive_card(body))
            )
            created["id"] = response.id if response else ""

        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=teams.bot_account_id(user)),
            members=[ChannelAccount(id=str(user["user_id"]))],
            tenant_id=str(user.get("tenant_id") or "") or None,
        )
        guarded, failures = _guarded(send)
        try:
            await teams.adapter.create_conversation(
                teams.teams.app_id, guarded, parameters, "msteams", str(user["service_url"])
            )
        except Exception as error:
            self._raise_for(error, f"user:{user['user_id']}")
        if failures:
            self._raise_for(failures[0], f"user:{user['user_id']}")
        reference = created["reference"]
        conversation = str(reference["conversation"]["id"])
        await teams.directory.remember_conversation(conversation, reference, "personal")
        await teams.directory.remember_user(
            str(user["user_id"]), {"personal_conversation": conversation}
        )
        return {
            "conversation": conversation,
            "activity_id": created.get("id", ""),
            "reference": reference,
        }

    async def _call(self, conversation: str, callback: Any, reference: dict[str, Any]) -> None:
        teams = self.teams
        conversation_reference = ConversationReference().deserialize(reference)
        guarded, failures = _guarded(callback)
        try:
            await teams.adapter.continue_conversation(
                conversation_reference, guarded, teams.teams.app_id
            )
        except Exception as error:
            self._raise_for(error, conversation)
        if failures:
            self._raise_for(failures[0], conversation)

    def _raise_for(self, error: BaseException, conversation: str) -> None:
        status, retry_after, body = http_status(error)
        if status in RETRY_STATUSES:
            wait = retry_after if retry_after is not None else min(20.0, 2.0 + random.uniform(0, 1))
            if status == 429:
                self.pacer.hold(conversation, wait)
            raise RetryLater(
                timedelta(seconds=wait), f"Teams answered {status}", paced=status == 429
            ) from error
        if status == 403 and "MessageWritesBlocked" in body:
            raise Undeliverable(
                "the person blocked or removed the bot (MessageWritesBlocked)"
            ) from error
        if status is not None and 400 <= status < 500:
            raise Undeliverable(f"Teams refused ({status}): {body[:200]}") from error
        if (
            isinstance(error, aiohttp.ClientError | TimeoutError | ConnectionError)
            or status is not None
        ):
            raise RetryLater(timedelta(seconds=5), f"Teams unreachable: {error!r}") from error
        raise error


def _guarded(callback: Any) -> tuple[Any, list[BaseException]]:
    """The callback, keeping its failure: the adapter would swallow it in on_turn_error."""
    failures: list[BaseException] = []

    async def guarded(turn_context: TurnContext) -> None:
        try:
            await callback(turn_context)
        except Exception as error:
            failures.append(error)

    return guarded, failures


class _CloseConnectorClient(Middleware):  # type: ignore[misc]
    """Close each turn's Connector client when the turn ends (botbuilder leaves it open)."""

    async def on_turn(self, context: TurnContext, logic: Any) -> None:
        try:
            await logic()
        finally:
            client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            if client is not None:
                await client.__aexit__(None, None, None)


class _Notes:
    """An invoke's answers for the person who clicked (Teams has no ephemeral messages)."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.form: Form | None = None


class TeamsResponder:
    """Answers one person: in an invoke's response, or in the conversation."""

    def __init__(self, turn_context: TurnContext, notes: _Notes | None) -> None:
        self.turn_context = turn_context
        self.invoke = notes

    async def reply(self, event: Event, card: Card, *, ephemeral: bool) -> None:
        if self.invoke is not None and ephemeral and not card.title and not card.buttons:
            self.invoke.notes.extend(block.text for block in card.blocks)
            return
        await self.turn_context.send_activity(
            MessageFactory.attachment(CardFactory.adaptive_card(render.adaptive_card(card)))
        )

    async def open_form(self, event: Event, form: Form) -> None:
        if self.invoke is not None:
            self.invoke.form = form  # the clicker's card turns into the form
            return
        await self.turn_context.send_activity(
            MessageFactory.attachment(CardFactory.adaptive_card(render.form_card(form)))
        )


class _Bot(ActivityHandler):  # type: ignore[misc]
    def __init__(self, platform: TeamsPlatform) -> None:
        self.platform = platform

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self.platform.remember(turn_context)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.platform.on_message(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name != "adaptiveCard/action":
            return InvokeResponse(status=501)
        return await self.platform.on_execute(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await self.platform.on_installed(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        await self.platform.on_installed(turn_context)


class TeamsPlatform:
    """Teams wired to the runtime: mount it on the web app at ``POST /api/messages``."""

    name = PLATFORM

    def __init__(self, teams: TeamsSettings, runtime: Runtime) -> None:
        self.teams = teams
        self.runtime = runtime
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_AdapterConfig(teams)))
        self.adapter.on_turn_error = self._on_turn_error
        self.adapter.use(_CloseConnectorClient())
        self.bot = _Bot(self)
        self.directory = TeamsDirectory(runtime.store, runtime.settings)
        self._delivery = TeamsDelivery(self)
        self._bot_ids: dict[str, str] = {}

    @property
    def delivery(self) -> TeamsDelivery:
        return self._delivery

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.handle_http)

    async def start(self) -> None:
        if self.teams.anonymous:
            log.warning("Teams endpoint is ANONYMOUS: requests are not authenticated")

    async def stop(self) -> None:
        """Nothing to close: Teams calls us over HTTP."""

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "Content-Type must be application/json"}, status=415)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "the body is not valid JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "the activity must be a JSON object"}, status=400)
        for required, kind in (
            ("type", str),
            ("serviceUrl", str),
            ("conversation", dict),
            ("from", dict),
        ):
            if not isinstance(body.get(required), kind) or not body.get(required):
                return web.json_response(
                    {"error": f"the activity has no valid {required}"}, status=400
                )
        for account in ("conversation", "from"):
            if not isinstance(body[account].get("id"), str):
                return web.json_response({"error": f"the activity has no {account}.id"}, status=400)
        try:
            response = await self.adapter.process(request, self.bot)
        except web.HTTPException as error:
            return web.json_response({"error": error.reason}, status=error.status)
        return response if response is not None else web.Response(status=200)

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        log.exception("Teams turn failed", exc_info=error)

    # -- what the bot learns ------------------------------------------------

    def bot_account_id(self, user: dict[str, Any]) -> str:
        return str(user.get("bot_id") or f"28:{self.teams.app_id}")

    async def remember(self, turn_context: TurnContext) -> None:
        """Keep the conversation reference and the sender of every activity."""
        activity = turn_context.activity
        try:
            sender = origin(activity.serialize())
        except MalformedActivity:
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        key = sender.channel_key
        reference["conversation"] = {**reference.get("conversation", {}), "id": key}
        await self.directory.remember_conversation(key, reference, sender.conversation_type)
        person = await self._person_for(turn_context, sender)
        await self.directory.remember_user(
            sender.user_id,
            {
                "user_id": sender.user_id,
                "aad_object_id": sender.aad_object_id,
                "name": sender.user_name,
                "service_url": sender.service_url,
                "tenant_id": sender.tenant_id,
                "bot_id": (activity.recipient.id if activity.recipient else None),
                "person": person,
                "personal_conversation": key if sender.is_direct else None,
            },
        )

    async def _person_for(self, turn_context: TurnContext, sender: Origin) -> str | None:
        settings = self.runtime.settings
        for candidate in (sender.aad_object_id, sender.user_id):
            person = settings.person_by_platform_id(PLATFORM, candidate) if candidate else None
            if person:
                return person.id
        known = await self.directory.user(sender.user_id)
        if known and known.get("person"):
            return str(known["person"])
        if known and known.get("email_checked"):
            return None
        try:
            member = await TeamsInfo.get_member(turn_context, sender.user_id)
        except Exception as error:  # the roster is best effort
            log.info("roster lookup for %s failed: %r", sender.user_id, error)
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None) or ""
        person = settings.person_by_email(email) if email else None
        await self.directory.remember_user(sender.user_id, {"email": email, "email_checked": True})
        return person.id if person else None

    async def actor(self, sender: Origin) -> Actor:
        settings = self.runtime.settings
        known = await self.directory.user(sender.user_id)
        person_id = known.get("person") if known else None
        person = settings.people.get(str(person_id)) if person_id else None
        if person is None:
            return settings.unknown_actor(PLATFORM, sender.user_id, sender.user_name)
        return settings.actor_for(person, PLATFORM, sender.user_id)

    async def on_installed(self, turn_context: TurnContext) -> None:
        log.info("Teams conversation update in %s", turn_context.activity.conversation.id)

    # -- inbound ------------------------------------------------------------

    async def _envelope(self, sender: Origin) -> dict[str, Any]:
        runtime = self.runtime
        return {
            "platform": PLATFORM,
            "actor": await self.actor(sender),
            "received_at": runtime.clock.now(),
            "channel": None
            if sender.is_direct
            else await spoke_for_channel(
                runtime.store, runtime.settings, PLATFORM, sender.channel_key
            ),
            "platform_channel": sender.channel_key,
            "direct": sender.is_direct,
            "dedupe_key": f"activity:{sender.conversation_id}:{sender.activity_id}"
            if sender.activity_id
            else None,
            "raw_ref": {"reply_to": sender.reply_to_id},
        }

    async def on_message(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity.serialize()
        try:
            sender = origin(activity)
            envelope = await self._envelope(sender)
            value = activity.get("value")
            event: Event
            if isinstance(value, dict):
                event = self._card_event(value, envelope)  # Action.Submit
            else:
                bot_id = (
                    turn_context.activity.recipient.id if turn_context.activity.recipient else ""
                )
                text, mentioned = message_text(activity, bot_id)
                names = {r.key for r in self.runtime.dispatcher.commands() if r.key}
                typed = typed_command(text, names)
                if typed:
                    event = Command(name=typed[0], text=typed[1], **envelope)
                else:
                    event = Message(text=text, mentioned=mentioned, **envelope)
        except MalformedActivity as error:
            log.warning("ignored a malformed Teams activity: no %s", error.field)
            return
        await self.runtime.handle(event, TeamsResponder(turn_context, None))

    def _card_event(self, data: dict[str, Any], envelope: dict[str, Any]) -> Event:
        meaning = card_action(data)
        if isinstance(meaning, ButtonPress):
            return Action(action_id=meaning.action_id, value=meaning.value, **envelope)
        if isinstance(meaning, FormSubmission):
            return FormSubmitted(
                form_id=meaning.form_id, values=meaning.values, context=meaning.context, **envelope
            )
        raise MalformedActivity("value.pc")

    async def on_execute(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity.serialize()
        try:
            sender = origin(activity)
            _, data = invoke_data(activity)
            event = self._card_event(data, await self._envelope(sender))
        except MalformedActivity as error:
            return _invoke(
                400,
                "application/vnd.microsoft.error",
                {"code": "BadRequest", "message": str(error)},
            )
        notes = _Notes()
        self._delivery.last_update.pop(sender.reply_to_id, None)
        await self.runtime.handle(event, TeamsResponder(turn_context, notes))
        if notes.form is not None:
            return _invoke(200, CARD_TYPE, render.form_card(notes.form))
        # Deliver the card updates this click caused now (briefly: Teams waits
        # 15 s for the answer), so the clicker sees the card everyone else sees.
        await self.runtime.sender(self._delivery).drain(max_passes=INLINE_DRAIN_PASSES)
        updated = self._delivery.last_update.pop(sender.reply_to_id, None)
        if updated is not None:
            card = dict(updated)
            if notes.notes:
                card["body"] = [
                    render.text_block(note, limit=500, weight="Bolder", color="Attention")
                    for note in notes.notes
                ] + list(card["body"])
            return _invoke(200, CARD_TYPE, card)
        said = "\n".join(neutralize(note, 500) for note in notes.notes)
        return _invoke(200, MESSAGE_TYPE, said or "Done.")


def _invoke(status: int, kind: str, value: object) -> InvokeResponse:
    return InvokeResponse(status=200, body=_InvokeBody(status_code=status, type=kind, value=value))
