"""Slack's side of the outbox: paced posts, in-place updates, DMs, and the
look-up that keeps an ambiguous post from being sent twice (see
:mod:`bot.platforms.slack.landing`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.cards import Card
from bot.core.clock import Clock
from bot.core.directory import channel_for_spoke
from bot.core.ports import PacingBudget
from bot.core.rooms import RoomSpec
from bot.core.settings import Settings
from bot.core.storage import JSON, LeasedOutboxItem, OutboxItem, Store
from bot.outbox import RetryLater, Undeliverable, shared_places
from bot.platforms.slack import render
from bot.platforms.slack.landing import CARD_METADATA_TYPE, Conversation, Landings
from bot.platforms.slack.pacing import Pacer
from bot.platforms.slack.people import SlackPeople
from bot.platforms.slack.rooms import SlackRooms

log = logging.getLogger(__name__)

PLATFORM = "slack"
# chat.postMessage: about one message per second per channel.
POST_SPACING = timedelta(seconds=1)
# chat.update is Tier 3 (about 50 a minute per workspace).
UPDATE_SPACING = timedelta(seconds=1.2)
# An ambiguous item this process never saw queued (not leased through a
# batch): how far back to look for it.
UNKNOWN_QUEUE_TIME_LOOKBACK = timedelta(hours=1)


class SlackDelivery:
    """The outbox's Slack side: paced posts, in-place updates and DMs."""

    platform = PLATFORM
    # DMs to this many people at once (each DM is its own channel, paced on
    # its own lane; conversations.open and users.lookupByEmail are Tier 3).
    dm_concurrency = 8

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        settings: Settings,
        people: SlackPeople,
        clock: Clock,
        pacing: PacingBudget,
    ) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.people = people
        self.clock = clock
        self.pacer = Pacer(clock, pacing)
        self.landings = Landings(client, self.pacer, clock)
        self.rooms = SlackRooms(client, people, self.pacer)
        # Deliveries this process attempted; those whose outcome it does not
        # know, with when the first such attempt began.
        self._tried: set[str] = set()
        self._unsure: dict[str, datetime] = {}
        # When each ambiguous item of the current batch was queued.
        self._queued_at: dict[str, datetime] = {}
        self._dm_channels: dict[str, str] = {}

    def _ambiguous(self, delivery_id: str, attempt: int) -> bool:
        """An earlier attempt (here, or in a process that stopped) may have
        landed without our knowing."""
        return delivery_id in self._unsure or (attempt > 1 and delivery_id not in self._tried)

    async def prepare(self, batch: Sequence[LeasedOutboxItem]) -> None:
        """Search each conversation once for all the ambiguous posts of a
        leased batch, before they are delivered one by one."""
        self._queued_at = {}
        since: dict[Conversation, datetime] = {}
        for leased in batch:
            item = leased.item
            if item.op not in ("post", "dm", "copy", "thread") or not self._ambiguous(
                item.id, leased.attempts
            ):
                continue
            try:
                conversation = await self._conversation_of(item)
            except (RetryLater, Undeliverable):
                continue  # the item's own delivery meets and reports the problem
            if conversation is None:
                continue
            self._queued_at[item.id] = item.created_at
            since[conversation] = min(since.get(conversation, item.created_at), item.created_at)
        for conversation, queued in since.items():
            try:
                await self.landings.search(conversation, queued)
            except (RetryLater, Undeliverable) as problem:
                # Each item then looks for itself, within the same budget.
                log.info("batched look-up in %s not done: %s", conversation.channel, problem)

    async def _conversation_of(self, item: OutboxItem) -> Conversation | None:
        if item.op == "post":
            channel = await channel_for_spoke(self.store, self.settings, PLATFORM, item.destination)
            return Conversation(channel) if channel else None
        if item.op in ("dm", "copy"):
            user_id = await self.people.user_id_for(item.destination.removeprefix("person:"))
            return Conversation(await self._open_dm(user_id))
        refs = shared_places(
            await self.store.card_refs(PLATFORM, item.destination.removeprefix("thread:"))
        )
        return Conversation(str(refs[0]["channel"]), _thread_of(refs[0])) if refs else None

    async def post(self, destination: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        channel = await channel_for_spoke(self.store, self.settings, PLATFORM, destination)
        if not channel:
            raise Undeliverable(
                f"no Slack channel for {destination!r}: set channels.slack in the config "
                "or run /playcaller link in the channel"
            )
        return await self._post(Conversation(channel), card, delivery_id, attempt)

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        user_id = await self.people.user_id_for(person_id)
        channel = await self._open_dm(user_id)
        return await self._post(Conversation(channel), card, delivery_id, attempt)

    async def _open_dm(self, user_id: str) -> str:
        known = self._dm_channels.get(user_id)
        if known:
            return known
        try:
            opened = await self.client.conversations_open(users=user_id)
        except SlackApiError as error:
            await self.pacer.raise_for(error, "open")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(timedelta(seconds=2), f"conversations.open: {error!r}") from error
        channel = str((opened.get("channel") or {}).get("id"))
        self._dm_channels[user_id] = channel
        return channel

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str, attempt: int
    ) -> JSON:
        # (A room channel has no parent message: its posts are top-level.)
        conversation = Conversation(str(ref["channel"]), _thread_of(ref))
        return await self._post(conversation, card, delivery_id, attempt)

    async def open_room(self, spec: RoomSpec, *, delivery_id: str, attempt: int) -> JSON | None:
        return await self.rooms.open_room(spec, delivery_id)

    async def invite(self, place: JSON, person_ids: Sequence[str]) -> None:
        await self.rooms.invite(place, person_ids)

    async def archive(self, place: JSON) -> None:
        await self.rooms.archive(place)

    async def _post(
        self, conversation: Conversation, card: Card, delivery_id: str, attempt: int
    ) -> JSON:
        channel = conversation.channel
        lane = f"post:{channel}"
        if self._ambiguous(delivery_id, attempt):
            since = self._queued_at.get(delivery_id) or self._unsure.get(delivery_id)
            if since is None:
                since = self.clock.now() - UNKNOWN_QUEUE_TIME_LOOKBACK
            landed = await self.landings.find(conversation, delivery_id, since)
            self._unsure.pop(delivery_id, None)
            if landed is not None:
                return landed
        # From here this process knows the outcome of each attempt (paced,
        # refused or posted) unless the post itself is ambiguous.
        self._tried.add(delivery_id)
        await self.pacer.take(lane, POST_SPACING)
        started = self.clock.now()
        try:
            response = await self.client.chat_postMessage(
                channel=channel,
                metadata={
                    "event_type": CARD_METADATA_TYPE,
                    "event_payload": {"delivery_id": delivery_id},
                },
                unfurl_links=False,
                unfurl_media=False,
                thread_ts=conversation.thread_ts,
                **render.message(card),
            )
        except SlackApiError as error:
            await self.pacer.raise_for(error, lane)
        except (aiohttp.ClientError, TimeoutError) as error:
            # Ambiguous: the message may have landed. The next attempt checks.
            self._unsure.setdefault(delivery_id, started)
            raise RetryLater(timedelta(seconds=2), f"chat.postMessage: {error!r}") from error
        return {"channel": str(response["channel"]), "ts": str(response["ts"])}

    async def update(self, ref: JSON, card: Card) -> None:
        await self.pacer.take("update", UPDATE_SPACING)
        try:
            await self.client.chat_update(
                channel=str(ref["channel"]), ts=str(ref["ts"]), **render.message(card)
            )
        except SlackApiError as error:
            await self.pacer.raise_for(error, "update")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(timedelta(seconds=2), f"chat.update: {error!r}") from error


def _thread_of(ref: JSON) -> str | None:
    """The thread under a posted card; None for a room channel's own place."""
    ts = ref.get("ts")
    return str(ts) if ts else None
