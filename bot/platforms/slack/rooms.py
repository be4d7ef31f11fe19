"""Rooms on Slack: a channel per room (``conversations.create``), its people
invited (``conversations.invite``) and its topic set (``conversations.setTopic``).

Creating is the one call whose repeat would do harm (a second channel), so a
repeat never creates blindly: when the name is taken, the channel of that
name is looked up, and it is the room only if this room's item made it: its
purpose carries the item's marker (set right after creating), or, where the
answer to the create was lost before the marker was set, this bot created it
no earlier than the room was asked for. Any other channel of that name (an
old room of an earlier CR-1, someone else's) is passed over for ``-2``,
``-3``; when no name is free, or the workspace does not let the bot create
channels, the room runs in the thread under its fallback card (``None``).
Inviting, setting the topic and archiving are idempotent, so a repeat does
them again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import RetryLater, Undeliverable
from bot.core.rooms import RoomSpec, numbered, room_marker
from bot.core.storage import JSON
from bot.platforms.slack.errors import error_of
from bot.platforms.slack.pacing import Pacer
from bot.platforms.slack.people import SlackPeople

log = logging.getLogger(__name__)
# A purpose ending in some room item's marker: that room's channel.
_MARKED = re.compile(re.escape(room_marker("")) + r"[0-9A-Za-z_-]+$")

# Names tried (name, name-2, name-3) before the room falls back to a thread.
NAME_TRIES = 3
# conversations.invite takes at most 1,000 users per call.
INVITE_BATCH = 1000
# conversations.create and .setTopic are Tier 2 (20 a minute), .invite Tier 3.
ROOM_SPACING = timedelta(seconds=3)
# The workspace does not let the bot make a channel: no retry can change that.
NOT_PERMITTED = frozenset(
    {
        "restricted_action",
        "missing_scope",
        "not_allowed_token_type",
        "cannot_create_channel",
        "team_access_not_granted",
        "invalid_name",
        "invalid_name_maxlength",
        "invalid_name_punctuation",
        "invalid_name_required",
        "invalid_name_specials",
    }
)
# How much earlier than the room was asked for Slack may date a channel this
# room made (clocks differ): a channel older than that is not this room's.
CLOCK_SKEW = timedelta(minutes=5)
# Slack will never let the bot archive this channel: no retry can change that.
ARCHIVE_REFUSED = frozenset(
    {"cant_archive_general", "cant_archive_required", "restricted_action", "missing_scope"}
)
# Inviting someone who cannot come is no reason to stop the others.
INVITE_IGNORED = frozenset(
    {"already_in_channel", "cant_invite_self", "cant_invite", "user_not_found"}
)


class SlackRooms:
    """Opens room channels for :class:`bot.platforms.slack.delivery.SlackDelivery`."""

    def __init__(self, client: AsyncWebClient, people: SlackPeople, pacer: Pacer) -> None:
        self.client = client
        self.people = people
        self.pacer = pacer
        self._bot_user: str | None = None

    async def open_room(self, spec: RoomSpec, delivery_id: str) -> JSON | None:
        channel, name = None, ""
        marker = room_marker(delivery_id)
        # Once per attempt, not per name: a paced retry starts again at the first name.
        await self.pacer.take("rooms", ROOM_SPACING)
        for attempt in range(1, NAME_TRIES + 1):
            name = numbered(spec.name, attempt)
            try:
                created = await self.client.conversations_create(name=name, is_private=spec.private)
            except SlackApiError as error:
                _, code, _ = error_of(error)
                if code == "name_taken":
                    channel = await self._ours(name, marker, spec.asked_at)
                    if channel is not None:
                        break
                    continue
                if code in NOT_PERMITTED:
                    log.warning("room %s runs in a thread: Slack refused (%s)", spec.room_id, code)
                    return None
                await self.pacer.raise_for(error, "rooms")
            except (aiohttp.ClientError, TimeoutError) as error:
                # Perhaps created: the next attempt finds it by its name.
                raise RetryLater(
                    timedelta(seconds=2), f"conversations.create: {error!r}"
                ) from error
            channel = str((created.get("channel") or {}).get("id") or "")
            if channel:
                shown = f"{_escaped(spec.purpose)} · {marker}" if spec.purpose else marker
                await self._call("conversations_setPurpose", channel=channel, purpose=shown)
            break
        if not channel:
            log.warning("room %s runs in a thread: every name is taken", spec.room_id)
            return None
        place: JSON = {"channel": channel, "name": name}
        await self.invite(place, spec.members)
        await self._call("conversations_setTopic", channel=channel, topic=_escaped(spec.topic))
        return place

    async def invite(self, place: JSON, person_ids: Sequence[str]) -> None:
        users: list[str] = []
        for person in dict.fromkeys(person_ids):
            try:
                users.append(await self.people.user_id_for(person))
            except Undeliverable as problem:
                log.info("not invited to %s: %s", place.get("channel"), problem)
        bot = await self._bot_user_id()
        users = [u for u in dict.fromkeys(users) if u != bot]
        for start in range(0, len(users), INVITE_BATCH):
            batch = ",".join(users[start : start + INVITE_BATCH])
            await self._call(
                "conversations_invite", channel=str(place["channel"]), users=batch, force=True
            )

    async def archive(self, place: JSON) -> None:
        """Archive the room channel at ``place``; archived already is done."""
        channel = str(place["channel"])
        try:
            await self.client.conversations_archive(channel=channel)
        except SlackApiError as error:
            _, code, _ = error_of(error)
            if code == "already_archived":
                return
            if code in ARCHIVE_REFUSED:
                raise Undeliverable(f"Slack refused to archive the room ({code})") from error
            await self.pacer.raise_for(error, "rooms")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(timedelta(seconds=2), f"conversations.archive: {error!r}") from error

    async def _call(self, method: str, **args: object) -> None:
        try:
            await getattr(self.client, method)(**args)
        except SlackApiError as error:
            _, code, _ = error_of(error)
            if code in INVITE_IGNORED:
                return
            await self.pacer.raise_for(error, "rooms")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(timedelta(seconds=2), f"{method}: {error!r}") from error

    async def _bot_user_id(self) -> str:
        if self._bot_user is None:
            try:
                answer = await self.client.auth_test()
            except SlackApiError as error:
                await self.pacer.raise_for(error, "rooms")
            except (aiohttp.ClientError, TimeoutError) as error:
                raise RetryLater(timedelta(seconds=2), f"auth.test: {error!r}") from error
            self._bot_user = str(answer.get("user_id") or "")
        return self._bot_user

    async def _ours(self, name: str, marker: str, asked_at: datetime | None) -> str | None:
        """The channel called ``name`` if this room's item made it (see the
        module's note)."""
        bot = await self._bot_user_id()
        cursor = ""
        while True:
            try:
                page = await self.client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=1000,
                    cursor=cursor or None,
                )
            except SlackApiError as error:
                await self.pacer.raise_for(error, "rooms")
            except (aiohttp.ClientError, TimeoutError) as error:
                raise RetryLater(timedelta(seconds=2), f"conversations.list: {error!r}") from error
            for channel in page.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"]) if _made_by(channel, bot, marker, asked_at) else None
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return None


def _made_by(channel: JSON, bot: str, marker: str, asked_at: datetime | None) -> bool:
    """Whether ``channel`` (from conversations.list) is the room whose item's
    marker is ``marker``: marked with it, or unmarked, made by this bot and
    no earlier than the room was asked for."""
    if channel.get("creator") != bot:
        return False
    purpose = str((channel.get("purpose") or {}).get("value") or "")
    if _MARKED.search(purpose):
        # (Rooms made before the purpose was readable carry the marker alone.)
        return purpose.endswith(marker)
    if asked_at is None:
        return False  # (an item from before rooms were dated: never take a stranger)
    created = float(channel.get("created") or 0)
    return created >= (asked_at - CLOCK_SKEW).timestamp()


def _escaped(text: str) -> str:
    """Slack reads ``<...>`` in a topic as a mention or a link: escape it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
