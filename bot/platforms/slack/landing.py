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
    """What has been read of a conversation, and every card found in it
    (a found id is definitive).

    Every read starts at the top (now, plus :data:`SKEW`) or continues down
    from ``oldest``, so everything from ``oldest`` up has been read; up to
    ``newest`` it cannot have changed since (later items need a top-up
    read). ``oldest`` is None until a first page has been read.
    """

    newest: float
    at: datetime
    oldest: float | None = None
    found: dict[str, str] = field(default_factory=dict)

    def covers(self, oldest: float, settled: float) -> bool:
        return self.oldest is not None and self.oldest <= oldest and self.newest >= settled

    def reached(self, ts: float) -> None:
        self.oldest = ts if self.oldest is None else min(self.oldest, ts)


class Landings:
    """Looks for cards by delivery id, remembering what has been searched."""

    def __init__(self, client: AsyncWebClient, pacer: Pacer, clock: Clock) -> None:
        self.client = client
        self.pacer = pacer
        self.clock = clock
        self._searched: dict[Conversation, _Searched] = {}
        self._calls = 0

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
        cannot answer; what was read before that is kept, and the next
        search goes on from there.
        """
        now = self.clock.now()
        self._forget(now)
        settled = (now - SKEW).timestamp()  # anything older has surely landed
        latest = (now + SKEW).timestamp()
        oldest = (since - SKEW).timestamp()
        searched = self._searched.get(conversation)
        if searched is not None and searched.covers(oldest, settled):
            return searched
        lane = f"lookup:{conversation.method}"
        await self.pacer.take(lane, LOOKUP_SPACING)
        self._calls = 0
        try:
            if searched is None or searched.oldest is None:
                searched = self._searched[conversation] = _Searched(settled, now)
                await self._read(conversation, searched, oldest, latest)
            else:
                if settled > searched.newest:
                    await self._read(conversation, searched, searched.newest, latest)
                    searched.newest = settled
                if oldest < searched.oldest:
                    await self._read(conversation, searched, oldest, searched.oldest)
            searched.at = now
        finally:
            if self._calls > 1:
                await self.pacer.hold(lane, LOOKUP_SPACING * self._calls)
        return searched

    async def _read(
        self, conversation: Conversation, searched: _Searched, oldest: float, latest: float
    ) -> None:
        """Read ``[oldest, latest]`` page by page.

        History comes newest first, so each page extends the span read
        downwards as it arrives; a thread comes oldest first, so it counts
        only once read to the end.
        """
        cursor: str | None = None
        while True:
            self._calls += 1
            page = await self._page(conversation, oldest, latest, cursor)
            messages = [m for m in page.get("messages") or [] if isinstance(m, dict)]
            for delivery_id, ts in _cards(messages):
                searched.found[delivery_id] = ts
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not (page.get("has_more") and cursor):
                break
            if conversation.thread_ts is None and messages:
                searched.reached(max(min(_ts(m) for m in messages), oldest))
        searched.reached(oldest)

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
