"""Slack's side of the outbox: paced posts, in-place updates, DMs, and the
look-up that keeps an ambiguous post from being sent twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.cards import Card
from bot.core.clock import Clock
from bot.core.directory import channel_for_spoke
from bot.core.settings import Settings
from bot.core.storage import JSON, Store
from bot.outbox import RetryLater, Undeliverable
from bot.platforms.slack import render
from bot.platforms.slack.errors import error_of
from bot.platforms.slack.people import SlackPeople

log = logging.getLogger(__name__)

PLATFORM = "slack"
# chat.postMessage: about one message per second per channel.
POST_SPACING = timedelta(seconds=1)
# chat.update is Tier 3 (about 50 a minute per workspace).
UPDATE_SPACING = timedelta(seconds=1.2)
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
        status, code, after = error_of(error)
        if status == 429 or code == "ratelimited":
            self.pacer.hold(lane, after)
            raise RetryLater(
                timedelta(seconds=after), f"{lane} rate limited", paced=True
            ) from error
        if code in PERMANENT_ERRORS:
            raise Undeliverable(f"Slack refused ({code})") from error
        raise RetryLater(timedelta(seconds=5), f"Slack error {code or status}") from error
