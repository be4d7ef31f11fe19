"""Which Slack request a log line belongs to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.logs import bind_request_id


def slack_request_id(body: dict[str, Any]) -> str | None:
    """Slack's own id for a request: the event id (Events API), else the
    trigger id (commands, clicks, forms), else the view id."""
    for value in (
        body.get("event_id"),
        body.get("trigger_id"),
        (body.get("view") or {}).get("id") if isinstance(body.get("view"), dict) else None,
    ):
        if isinstance(value, str) and value:
            return value
    return None


async def bind_slack_request_id(body: dict[str, Any], next_: Callable[[], Awaitable[None]]) -> None:
    """Bolt middleware: tag this request's log lines (and its background work) with its id."""
    bind_request_id(slack_request_id(body))
    await next_()
