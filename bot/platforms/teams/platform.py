"""The Teams platform: botbuilder's CloudAdapter in, Adaptive Cards out.

Everything botbuilder is imported here (and in nothing outside this package),
so a move to its successor SDK stays local.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import (
    ActivityHandler,
    BotAdapter,
    InvokeResponse,
    Middleware,
    TurnContext,
)
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import ServiceClientCredentialsFactory

from bot.core.cards import Form
from bot.core.directory import spoke_for_channel
from bot.core.errors import InvalidInput
from bot.core.events import Action, Command, Event, FormSubmitted, Message
from bot.core.jsontext import TooLarge, decode_json
from bot.core.model import Actor
from bot.core.storage import LeasedInboxEntry
from bot.core.text import neutralize
from bot.inbox import Inbox
from bot.logs import bind_request_id
from bot.platforms.teams import render
from bot.platforms.teams.auth import (
    KeysUnavailable,
    SigningKeys,
    TeamsAuthentication,
    TokenValidator,
)
from bot.platforms.teams.connector import MeteredAuthentication
from bot.platforms.teams.delivery import TeamsDelivery
from bot.platforms.teams.directory import TeamsDirectory
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
from bot.platforms.teams.responder import (
    CARD_TYPE,
    MESSAGE_TYPE,
    Notes,
    TeamsResponder,
    invoke_response,
)
from bot.platforms.teams.settings import AdapterConfig, TeamsSettings
from bot.platforms.teams.tokens import (
    LOGIN_URL,
    OutboundCredentials,
    OutboundTokens,
    TokenUnavailable,
)
from bot.runtime import Runtime

__all__ = ["TeamsPlatform", "TeamsSettings"]

log = logging.getLogger(__name__)

PLATFORM = "teams"
# How many outbox batches a click delivers before answering.
INLINE_DRAIN_PASSES = 2


class _CloseConnectorClient(Middleware):  # type: ignore[misc]
    """Close each turn's Connector client when the turn ends (botbuilder leaves it open)."""

    async def on_turn(self, context: TurnContext, logic: Any) -> None:
        try:
            await logic()
        finally:
            client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            if client is not None:
                await client.__aexit__(None, None, None)


class _Bot(ActivityHandler):  # type: ignore[misc]
    def __init__(self, platform: TeamsPlatform) -> None:
        self.platform = platform

    async def on_turn(self, turn_context: TurnContext) -> None:
        bind_request_id(turn_context.activity.id)
        if turn_context.activity.type not in ("message", "invoke"):
            # Messages and invokes are stored in the inbox first; they remember
            # their sender when they are handled.
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

    def __init__(
        self,
        teams: TeamsSettings,
        runtime: Runtime,
        *,
        outbound: ServiceClientCredentialsFactory | None = None,
    ) -> None:
        """``outbound``: credentials for calls to the Connector (default: the app's)."""
        self.teams = teams
        self.runtime = runtime
        self.keys = (
            None if teams.anonymous else SigningKeys(runtime.clock, teams.openid_metadata_url)
        )
        # Outbound tokens fetched with aiohttp, not botbuilder's blocking msal.
        self.tokens = (
            None
            if teams.anonymous or outbound is not None
            else OutboundTokens(
                teams.app_id,
                teams.app_password,
                teams.token_url or LOGIN_URL.format(tenant=teams.tenant_id),
            )
        )
        self.adapter = CloudAdapter(
            TeamsAuthentication(
                MeteredAuthentication(
                    AdapterConfig(teams),
                    calls=runtime.metrics.platform_calls,
                    credentials_factory=outbound
                    or (OutboundCredentials(self.tokens) if self.tokens else None),
                ),
                TokenValidator(teams.app_id, self.keys, runtime.clock) if self.keys else None,
            )
        )
        self.adapter.on_turn_error = self._on_turn_error
        self.adapter.use(_CloseConnectorClient())
        self.bot = _Bot(self)
        self.directory = TeamsDirectory(runtime.store, runtime.settings)
        self._delivery = TeamsDelivery(self)
        self._bot_ids: dict[str, str] = {}
        self.inbox = Inbox(runtime.store, runtime.clock, runtime.owner, PLATFORM, self._recover)
        self.sweep_seconds = 1.0
        self._sweep_stop = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def delivery(self) -> TeamsDelivery:
        return self._delivery

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.handle_http)

    async def start(self) -> None:
        if self.teams.anonymous:
            log.warning("Teams endpoint is ANONYMOUS: requests are not authenticated")
        if self.keys is not None:
            self.keys.start()
        # Picks up what a crashed process stored but did not finish.
        self._sweep_stop.clear()
        self._sweeper = asyncio.create_task(
            self.inbox.run(self._sweep_stop, self.sweep_seconds), name="inbox-teams"
        )

    async def stop(self) -> None:
        """Stop the inbox sweeper and refreshing the signing keys (Teams calls
        us over HTTP: nothing else to close)."""
        if self._sweeper is not None:
            self._sweep_stop.set()
            await self._sweeper
            self._sweeper = None
        if self.keys is not None:
            await self.keys.stop()
        if self.tokens is not None:
            await self.tokens.close()

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "Content-Type must be application/json"}, status=415)
        try:
            body = decode_json(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": "the body is too large"}, status=413)
        except TooLarge as error:
            return web.json_response({"error": str(error)}, status=413)
        except InvalidInput as error:
            return web.json_response({"error": str(error)}, status=400)
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
        except KeysUnavailable:
            return web.json_response(
                {"error": "the signing keys are not available yet; retry shortly"},
                status=503,
                headers={"Retry-After": "5"},
            )
        except TokenUnavailable:  # for the turn's Connector client; logged where it failed
            return web.json_response(
                {"error": "no access token for the Bot Connector yet; retry shortly"},
                status=503,
                headers={"Retry-After": "5"},
            )
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

    async def _envelope(self, sender: Origin, lease: tuple[str, int]) -> dict[str, Any]:
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
            "dedupe_key": _dedupe_key(sender),
            "inbox_lease": lease,
            "raw_ref": {"reply_to": sender.reply_to_id},
        }

    async def _event(
        self, kind: str, activity: dict[str, Any], lease: tuple[str, int]
    ) -> tuple[Event, Origin]:
        """The neutral event of a stored activity (raises :class:`MalformedActivity`)."""
        sender = origin(activity)
        if kind == "invoke":
            _, data = invoke_data(activity)
            return self._card_event(data, await self._envelope(sender, lease)), sender
        envelope = await self._envelope(sender, lease)
        value = activity.get("value")
        if isinstance(value, dict):
            return self._card_event(value, envelope), sender  # Action.Submit
        bot_id = str((activity.get("recipient") or {}).get("id") or "")
        text, mentioned = message_text(activity, bot_id)
        names = {r.key for r in self.runtime.dispatcher.commands() if r.key}
        typed = typed_command(text, names)
        if typed:
            return Command(name=typed[0], text=typed[1], **envelope), sender
        return Message(text=text, mentioned=mentioned, **envelope), sender

    async def _handle(
        self,
        leased: LeasedInboxEntry,
        turn_context: TurnContext,
        notes: Notes | None,
    ) -> None:
        stored = leased.entry.body
        activity = dict(stored.get("activity") or {})
        await self.remember(turn_context)
        event, _ = await self._event(
            str(stored.get("kind")), activity, (leased.entry.key, leased.token)
        )
        await self.runtime.handle(event, TeamsResponder(turn_context, notes, self._delivery))

    async def _recover(self, leased: LeasedInboxEntry) -> None:
        """Handle an entry a crashed process acknowledged but did not finish.

        Answers go to the conversation through a proactive turn; an invoke's
        notes for the clicker can no longer be shown (its card is updated
        through the outbox like everyone else's).
        """
        stored = leased.entry.body
        activity = Activity().deserialize(dict(stored.get("activity") or {}))
        reference = TurnContext.get_conversation_reference(activity)
        notes = Notes() if stored.get("kind") == "invoke" else None

        async def run(turn_context: TurnContext) -> None:
            # A proactive turn in the activity's conversation, as if it had just arrived.
            turn_context.activity = activity
            await self._handle(leased, turn_context, notes)

        try:
            await self.adapter.continue_conversation(reference, run, self.teams.app_id)
        except MalformedActivity as error:
            log.warning("dropped a stored Teams activity: no %s", error.field)
        if notes is not None and notes.notes:
            log.info("recovered invoke %s: notes not shown: %s", leased.entry.key, notes.notes)

    async def _admit(
        self, kind: str, sender: Origin, activity: dict[str, Any]
    ) -> LeasedInboxEntry | None:
        """Store a verified activity before the 200 that tells the Connector
        not to send it again."""
        return await self.inbox.admit(_dedupe_key(sender), {"kind": kind, "activity": activity})

    async def on_message(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity.serialize()
        try:
            sender = origin(activity)
            value = activity.get("value")
            if isinstance(value, dict):
                card_action(value)
        except MalformedActivity as error:
            log.warning("ignored a malformed Teams activity: no %s", error.field)
            return
        leased = await self._admit("message", sender, activity)
        if leased is None:
            return

        async def process(leased: LeasedInboxEntry) -> None:
            try:
                await self._handle(leased, turn_context, None)
            except MalformedActivity as error:
                log.warning("ignored a malformed Teams activity: no %s", error.field)

        await self.inbox.handle(leased, process)

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
            if not isinstance(card_action(data), ButtonPress | FormSubmission):
                raise MalformedActivity("value.pc")
            refused = _form_problems(data)
            if refused is not None:
                return invoke_response(200, CARD_TYPE, refused)
        except MalformedActivity as error:
            return invoke_response(
                400,
                "application/vnd.microsoft.error",
                {"code": "BadRequest", "message": str(error)},
            )
        leased = await self._admit("invoke", sender, activity)
        if leased is None:
            return invoke_response(200, MESSAGE_TYPE, "Already received.")
        notes = Notes()
        self._delivery.last_update.pop(sender.reply_to_id, None)

        async def process(leased: LeasedInboxEntry) -> None:
            await self._handle(leased, turn_context, notes)

        # Handled inline: the invoke's answer shows the clicker the refreshed card.
        if not await self.inbox.handle(leased, process) and not notes.notes:
            return invoke_response(200, MESSAGE_TYPE, "Received: it will be handled shortly.")
        if notes.form is not None:
            return invoke_response(200, CARD_TYPE, render.form_card(notes.form))
        if notes.card is not None:
            card_notes = tuple(notes.notes)
            return invoke_response(
                200, CARD_TYPE, render.adaptive_card(notes.card, notes=card_notes)
            )
        # Deliver the card updates this click caused now (briefly: Teams waits
        # 15 s for the answer), so the clicker sees the card everyone else sees.
        await self.runtime.sender(self._delivery).drain(max_passes=INLINE_DRAIN_PASSES)
        updated = self._delivery.last_update.pop(sender.reply_to_id, None)
        if updated is not None:
            card = dict(updated)
            if notes.notes:
                card["body"] = [render.note_block(note) for note in notes.notes] + list(
                    card["body"]
                )
            return invoke_response(200, CARD_TYPE, card)
        said = "\n".join(neutralize(note.text, 500) for note in notes.notes)
        return invoke_response(200, MESSAGE_TYPE, said or "Done.")


def _dedupe_key(sender: Origin) -> str | None:
    if not sender.activity_id:
        return None
    return f"activity:{sender.conversation_id}:{sender.activity_id}"


def _form_problems(data: dict[str, Any]) -> dict[str, Any] | None:
    """The form again, with each error next to its input, when a submitted
    form breaks its own definition (a required input empty, a choice not
    offered); None when it is fine or is no form."""
    meaning = card_action(data)
    definition = data.get("form")
    if not isinstance(meaning, FormSubmission) or not isinstance(definition, dict):
        return None
    try:
        form = Form.from_json(definition)
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedActivity("value.form") from error
    if form.form_id != meaning.form_id:
        raise MalformedActivity("value.form.form_id")
    problems = form.problems(meaning.values)
    return render.form_card(form, meaning.values, problems) if problems else None
