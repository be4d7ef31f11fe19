"""Finding a card whose post may have landed although its answer was lost.

``chat.postMessage`` has no idempotency key, so every card carries its outbox
delivery id in its message metadata. When an attempt's outcome is unknown
(the connection dropped, or a process died mid-post), the conversation is
searched for that id before posting again:

* in the channel's history (``conversations.history``) or, for a thread
  reply, in the thread (``conversations.replies``);
* over a time window: from when the item was queued (nothing of it can have
  landed earlier; the outbox item carries the time, so it survives a
  restart) to now, each end widened by :data:`SKEW` for Slack's clock
  against ours;
* through every page (cursor), so newer messages cannot hide the post;
* once per conversation for a whole batch of ambiguous items, remembering
  which span of time each conversation has been searched, so a restart that
  finds many ambiguous posts costs a few calls, not one per item;
* within the methods' Tier 3 limit (about 50 calls a minute): a search takes
  the ``lookup`` lane of the shared pacing budget and then keeps it closed
  for as many call slots as it used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.clock import Clock
from bot.core.storage import JSON
from bot.outbox import RetryLater
from bot.platforms.slack.pacing import Pacer

CARD_METADATA_TYPE = "playcaller_card"
# Slack's clock against ours, plus a post still in flight when we looked.
SKEW = timedelta(minutes=2)
# Slack: "We recommend no more than 200 results at a time."
PAGE_SIZE = 200
# conversations.history and .replies are Tier 3: about 50 calls a minute each.
LOOKUP_SPACING = timedelta(seconds=1.2)
# What was searched is remembered this long (ambiguity is rare; a restart
# resolves its batch within minutes).
REMEMBER_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class Conversation:
    """Where a card was posted: a channel (or DM), or a thread in it."""

    channel: str
    thread_ts: str | None = None

    @property
    def method(self) -> str:
        return "replies" if self.thread_ts else "history"


@dataclass
class _Searched:
    """The span ``[oldest, newest]`` (Slack ts seconds) of a conversation that
    has been read in full, and every card found in it (ids are definitive)."""

    oldest: float
    newest: float
    at: datetime
    found: dict[str, str] = field(default_factory=dict)


class Landings:
    """Looks for cards by delivery id, remembering what has been searched."""

    def __init__(self, client: AsyncWebClient, pacer: Pacer, clock: Clock) -> None:
        self.client = client
        self.pacer = pacer
        self.clock = clock
        self._searched: dict[Conversation, _Searched] = {}

    async def find(
        self, conversation: Conversation, delivery_id: str, since: datetime
    ) -> JSON | None:
        """Where the card ``delivery_id`` landed in ``conversation`` if it was
        posted at or after ``since``; None when it did not land."""
        searched = await self.search(conversation, since)
        ts = searched.found.get(delivery_id)
        return None if ts is None else {"channel": conversation.channel, "ts": ts}

    async def search(self, conversation: Conversation, since: datetime) -> _Searched:
        """Make sure ``conversation`` has been read from ``since`` to now.

        Raises :class:`RetryLater` when the look-up budget is spent or Slack
        cannot answer; what was read before that is kept.
        """
        now = self.clock.now()
        self._forget(now)
        settled = (now - SKEW).timestamp()  # anything older has surely landed
        latest = (now + SKEW).timestamp()
        oldest = (since - SKEW).timestamp()
        searched = self._searched.get(conversation)
        if searched is not None and searched.oldest <= oldest and searched.newest >= settled:
            return searched
        lane = f"lookup:{conversation.method}"
        await self.pacer.take(lane, LOOKUP_SPACING)
        calls = 0
        try:
            if searched is None:
                searched = self._searched[conversation] = _Searched(settled, settled, now)
            if searched.oldest >= searched.newest:
                # Nothing read in full yet: one read from the top down.
                searched.oldest = searched.newest = settled
                calls += await self._read(conversation, searched, oldest, latest)
            else:
                if settled > searched.newest:
                    calls += await self._read(conversation, searched, searched.newest, latest)
                    searched.newest = settled
                if oldest < searched.oldest:
                    calls += await self._read(conversation, searched, oldest, searched.oldest)
            searched.at = now
        finally:
            if calls > 1:
                await self.pacer.hold(lane, LOOKUP_SPACING * calls)
        return searched

    async def _read(
        self, conversation: Conversation, searched: _Searched, oldest: float, latest: float
    ) -> int:
        """Read ``[oldest, latest]`` page by page; returns the calls made.

        History comes newest first, so each page extends the searched span
        downwards as it arrives; a thread comes oldest first, so it counts
        only once read to the end.
        """
        calls = 0
        cursor: str | None = None
        while True:
            calls += 1
            page = await self._page(conversation, oldest, latest, cursor)
            messages = [m for m in page.get("messages") or [] if isinstance(m, dict)]
            for delivery_id, ts in _cards(messages):
                searched.found[delivery_id] = ts
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not (page.get("has_more") and cursor):
                break
            if conversation.thread_ts is None and messages:
                reached = min(_ts(m) for m in messages)
                searched.oldest = min(searched.oldest, max(reached, oldest))
        searched.oldest = min(searched.oldest, oldest)
        return calls

    async def _page(
        self, conversation: Conversation, oldest: float, latest: float, cursor: str | None
    ) -> Any:
        window: dict[str, Any] = {
            "channel": conversation.channel,
            "oldest": f"{oldest:.6f}",
            "latest": f"{latest:.6f}",
            "inclusive": True,
            "limit": PAGE_SIZE,
            "include_all_metadata": True,
        }
        if cursor:
            window["cursor"] = cursor
        lane = f"lookup:{conversation.method}"
        try:
            if conversation.thread_ts is None:
                return await self.client.conversations_history(**window)
            return await self.client.conversations_replies(ts=conversation.thread_ts, **window)
        except SlackApiError as error:
            await self.pacer.raise_for(error, lane)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(
                timedelta(seconds=5), f"cannot check for an earlier post: {error!r}"
            ) from error

    def _forget(self, now: datetime) -> None:
        stale = [c for c, s in self._searched.items() if now - s.at > REMEMBER_FOR]
        for conversation in stale:
            del self._searched[conversation]


def _ts(message: dict[str, Any]) -> float:
    try:
        return float(message.get("ts") or 0)
    except (TypeError, ValueError):
        return 0.0


def _cards(messages: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(delivery id, ts) of every card among ``messages``."""
    for message in messages:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        delivery_id = payload.get("delivery_id")
        if metadata.get("event_type") == CARD_METADATA_TYPE and isinstance(delivery_id, str):
            yield delivery_id, str(message["ts"])
