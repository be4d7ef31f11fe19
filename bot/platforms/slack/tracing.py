"""Which Slack request a log line belongs to."""

from __future__ import annotations

from typing import Any


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
