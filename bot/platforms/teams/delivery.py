"""Teams' side of the outbox: proactive posts, thread replies, DMs and in-place
updates, paced per conversation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter, deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from botbuilder.core import (
    BotAdapter,
    CardFactory,
    MessageFactory,
    TurnContext,
)
from botbuilder.schema import (
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

from bot.core.cards import Card
from bot.core.clock import Clock
from bot.core.directory import channel_for_spoke
from bot.core.storage import JSON
from bot.outbox import RetryLater, Undeliverable
from bot.platforms.teams import render

if TYPE_CHECKING:
    from bot.platforms.teams.platform import TeamsPlatform

log = logging.getLogger(__name__)

PLATFORM = "teams"
SEND_WINDOWS = ((timedelta(seconds=1), 7), (timedelta(seconds=30), 60), (timedelta(hours=1), 1800))
RETRY_STATUSES = {412, 429, 502, 503, 504}
# A configured channel the bot cannot reach yet (not added to its team) is
# tried again at these intervals, doubling, until it can: never dropped.
WAIT_FOR_TEAM_FIRST = timedelta(seconds=15)
WAIT_FOR_TEAM_LONGEST = timedelta(minutes=2)


class NotInConversation(Undeliverable):
    """Teams says the bot is not in that conversation (403 roster, 404)."""


def waiting_for_team(attempt: int) -> timedelta:
    """How long a post to an unreachable channel waits before its next try."""
    doubled = WAIT_FOR_TEAM_FIRST * (1 << min(max(attempt - 1, 0), 8))
    return min(doubled, WAIT_FOR_TEAM_LONGEST)


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


class TeamsDelivery:
    """The outbox's Teams side: proactive posts, in-place updates and DMs."""

    platform = PLATFORM

    def __init__(self, teams: TeamsPlatform) -> None:
        self.teams = teams
        self.pacer = ConversationPacer(teams.runtime.clock)
        # The newest card sent to each activity a click is waiting on, for the
        # invoke's answer. Only those: the bot updates far more cards than
        # anyone clicks, and a map of every update would only grow.
        self.last_update: dict[str, dict[str, Any]] = {}
        self._watched: Counter[str] = Counter()
        # Updates on their way, by activity: a click's answer waits for its card's.
        self._updating: dict[str, asyncio.Future[None]] = {}

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
        if reference is not None:
            return await self._send(reference, card)
        # A configured channel the bot has not heard from: address it through
        # the tenant's service URL, which every conversation shares. Until the
        # bot is in that channel's team, the post waits (it is not dropped).
        wait = waiting_for_team(attempt)
        known = await teams.directory.any_reference()
        if known is None:
            if attempt <= 1:
                log.info("post to %s waits: the bot has not heard from any Teams team", channel)
            raise RetryLater(
                wait, f"the bot has not heard from any team yet ({channel})", paced=True
            )
        reference = {
            **known,
            "conversation": {"id": channel, "isGroup": True, "conversationType": "channel"},
        }
        try:
            return await self._send(reference, card)
        except NotInConversation as refused:
            if attempt <= 1:
                log.info("post to %s waits: %s", channel, refused)
            raise RetryLater(
                wait, f"the bot is not in {channel} yet: {refused}", paced=True
            ) from refused

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
        activity_id = str(ref["activity_id"])
        landed = asyncio.get_running_loop().create_future()
        self._updating[activity_id] = landed
        try:
            await self._update(ref, card, activity_id)
        finally:
            if self._updating.get(activity_id) is landed:
                del self._updating[activity_id]
            landed.set_result(None)

    @contextlib.contextmanager
    def watching(self, activity_id: str) -> Iterator[None]:
        """Keep the cards sent to ``activity_id`` in :attr:`last_update` while
        a click on it is being answered, starting from none."""
        self._watched[activity_id] += 1
        self.last_update.pop(activity_id, None)
        try:
            yield
        finally:
            self._watched[activity_id] -= 1
            if self._watched[activity_id] <= 0:
                del self._watched[activity_id]
                self.last_update.pop(activity_id, None)

    async def update_landed(self, activity_id: str, seconds: float) -> None:
        """Wait (at most ``seconds``) for an update of ``activity_id`` that this
        process's outbox sender is delivering; return at once if there is none."""
        pending = self._updating.get(activity_id)
        if pending is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(pending), seconds)

    async def _update(self, ref: JSON, card: Card, activity_id: str) -> None:
        teams = self.teams
        conversation = str(ref["conversation"])
        reference = await teams.directory.reference(conversation) or dict(ref["reference"])
        self.pacer.take(conversation)
        body = render.adaptive_card(card)

        async def replace(turn_context: TurnContext) -> None:
            update = MessageFactory.attachment(CardFactory.adaptive_card(body))
            update.id = activity_id
            await turn_context.update_activity(update)

        await self._call(conversation, replace, reference)
        if activity_id in self._watched:
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
        if (status == 403 and "BotNotInConversationRoster" in body) or status == 404:
            raise NotInConversation(f"Teams refused ({status}): {body[:200]}") from error
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
