"""Slack's rate limits as lanes on a pacing budget.

Lanes: ``post:<channel>`` (chat.postMessage, about one a second per channel),
``update`` (chat.update, Tier 3) and ``lookup:<method>`` (conversations.history
and .replies, Tier 3). With a Redis store the budget is shared, so several
processes together keep to the limits one process would.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from slack_sdk.errors import SlackApiError

from bot.core.clock import Clock
from bot.core.ports import PacingBudget
from bot.outbox import RetryLater, Undeliverable
from bot.platforms.slack.errors import PERMANENT_ERRORS, error_of

PLATFORM = "slack"


class Pacer:
    """Takes Slack lanes from a budget on the injected clock: a lane that is
    busy answers with a paced :class:`RetryLater`."""

    def __init__(self, clock: Clock, budget: PacingBudget) -> None:
        self.clock = clock
        self.budget = budget

    async def take(self, lane: str, spacing: timedelta) -> None:
        wait = await self.budget.reserve(f"{PLATFORM}:{lane}", spacing, self.clock.now())
        if wait > timedelta(0):
            raise RetryLater(wait, f"pacing {lane}", paced=True)

    async def hold(self, lane: str, closed_for: timedelta) -> None:
        """Keep ``lane`` closed for ``closed_for`` (Slack's Retry-After, or
        the calls a burst has used)."""
        now = self.clock.now()
        await self.budget.hold(f"{PLATFORM}:{lane}", now + closed_for, now)

    async def raise_for(self, error: SlackApiError, lane: str) -> NoReturn:
        """Map a Web API error to the outbox's terms (the one place that does)."""
        status, code, after = error_of(error)
        if status == 429 or code == "ratelimited":
            await self.hold(lane, timedelta(seconds=after))
            raise RetryLater(
                timedelta(seconds=after), f"{lane} rate limited", paced=True
            ) from error
        if code in PERMANENT_ERRORS:
            raise Undeliverable(f"Slack refused ({code})") from error
        raise RetryLater(timedelta(seconds=5), f"Slack error {code or status}") from error
