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
    InvokeResponse,
    TurnContext,
)
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import ServiceClientCredentialsFactory

from bot.core.directory import spoke_for_channel
from bot.core.errors import InvalidInput
from bot.core.events import Command, Event, Message
from bot.core.jsontext import TooLarge, decode_json
from bot.core.storage import LeasedInboxEntry
from bot.core.text import neutralize
from bot.core.text_repair import json_without_lone_surrogates
from bot.inbox import Inbox
from bot.platforms.teams import render
from bot.platforms.teams.activity_handler import CloseConnectorClient, PlaycallerBot
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
    card_event,
    dedupe_key,
    envelope_problem,
    form_problems,
    invoke_data,
    message_text,
    origin,
    typed_command,
)
from bot.platforms.teams.people import TeamsPeople
from bot.platforms.teams.responder import (
    CARD_TYPE,
    MESSAGE_TYPE,
    Notes,
    TeamsResponder,
    invoke_response,
)
from bot.platforms.teams.settings import AdapterConfig, TeamsSettings
from bot.platforms.teams.tokens import OutboundCredentials, TokenUnavailable, outbound_tokens
from bot.runtime import Runtime

__all__ = ["TeamsPlatform", "TeamsSettings"]

log = logging.getLogger(__name__)

PLATFORM = "teams"
# How many outbox batches a click delivers before answering.
INLINE_DRAIN_PASSES = 2
# How long a click's answer waits for its card's update already on its way.
UPDATE_WAIT_SECONDS = 5.0


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
        self.tokens = None if outbound is not None else outbound_tokens(teams)
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
        self.adapter.use(CloseConnectorClient())
        self.bot = PlaycallerBot(self)
        self.directory = TeamsDirectory(runtime.store, runtime.settings)
        self.people = TeamsPeople(runtime, self.directory)
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
        problem = envelope_problem(body)
        if problem is not None:
            return web.json_response({"error": problem}, status=400)
        try:
            response = await self.adapter.process(request, self.bot)
        except web.HTTPException as error:
            return web.json_response({"error": error.reason}, status=error.status)
        except (KeysUnavailable, TokenUnavailable) as error:  # logged where it failed
            missing = (
                "the signing keys are"
                if isinstance(error, KeysUnavailable)
                else "an access token for the Bot Connector is"
            )
            return web.json_response(
                {"error": f"{missing} not available yet; retry shortly"},
                status=503,
                headers={"Retry-After": "5"},
            )
        return response if response is not None else web.Response(status=200)

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        log.exception("Teams turn failed", exc_info=error)

    def bot_account_id(self, user: dict[str, Any]) -> str:
        """The bot's account in ``user``'s conversations (senders are in :mod:`.people`)."""
        return str(user.get("bot_id") or f"28:{self.teams.app_id}")

    # -- inbound ------------------------------------------------------------

    async def on_installed(self, turn_context: TurnContext) -> None:
        log.info("Teams conversation update in %s", turn_context.activity.conversation.id)

    async def _envelope(self, sender: Origin, lease: tuple[str, int]) -> dict[str, Any]:
        runtime = self.runtime
        return {
            "platform": PLATFORM,
            "actor": await self.people.actor(sender),
            "received_at": runtime.clock.now(),
            "channel": None
            if sender.is_direct
            else await spoke_for_channel(
                runtime.store, runtime.settings, PLATFORM, sender.channel_key
            ),
            "platform_channel": sender.channel_key,
            "platform_thread": sender.thread_id,
            "direct": sender.is_direct,
            "dedupe_key": dedupe_key(sender),
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
            return card_event(data, await self._envelope(sender, lease)), sender
        envelope = await self._envelope(sender, lease)
        value = activity.get("value")
        if isinstance(value, dict):
            return card_event(value, envelope), sender  # Action.Submit
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
        await self.people.remember(turn_context)
        event, _ = await self._event(
            str(stored.get("kind")), activity, (leased.entry.key, leased.token)
        )
        # A click (notes set) is answered with the card it updated, delivered
        # by the inline drain below: waking the background sender now would
        # let it take that update first, and the answer would miss it.
        await self.runtime.handle(
            event, TeamsResponder(turn_context, notes, self._delivery), wake=notes is None
        )

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
        not to send it again. Half an emoji in an escape (a lone surrogate)
        becomes U+FFFD: the store could not encode it, and the turn would fail."""
        stored = {"kind": kind, "activity": json_without_lone_surrogates(activity)}
        return await self.inbox.admit(dedupe_key(sender), stored)

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

    async def on_execute(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity.serialize()
        try:
            sender = origin(activity)
            _, data = invoke_data(activity)
            if not isinstance(card_action(data), ButtonPress | FormSubmission):
                raise MalformedActivity("value.pc")
            refused = form_problems(data)
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
        with self._delivery.watching(sender.reply_to_id):
            try:
                return await self._answer_invoke(turn_context, leased, sender.reply_to_id)
            finally:
                # What the click queued beyond its inline drain (other
                # platforms, DMs) goes out now, not at the next poll.
                self.runtime.cards_queued()

    async def _answer_invoke(
        self, turn_context: TurnContext, leased: LeasedInboxEntry, reply_to_id: str
    ) -> InvokeResponse:
        """Handle a stored click inline and answer with the card it changed."""
        notes = Notes()

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
        updated = self._delivery.last_update.pop(reply_to_id, None)
        if updated is None:
            # The sender in the background may be delivering it right now.
            await self._delivery.update_landed(reply_to_id, UPDATE_WAIT_SECONDS)
            updated = self._delivery.last_update.pop(reply_to_id, None)
        if updated is not None:
            card = dict(updated)
            if notes.notes:
                card["body"] = [render.note_block(note) for note in notes.notes] + list(
                    card["body"]
                )
            return invoke_response(200, CARD_TYPE, card)
        said = "\n".join(neutralize(note.text, 500) for note in notes.notes)
        return invoke_response(200, MESSAGE_TYPE, said or "Done.")
