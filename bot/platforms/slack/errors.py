"""Reading a Slack Web API error."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError


def error_of(error: SlackApiError) -> tuple[int, str, float]:
    """(HTTP status, Slack error code, Retry-After seconds)."""
    response = error.response
    status = int(getattr(response, "status_code", 200) or 200)
    code = str(response.get("error", "") if hasattr(response, "get") else "")
    headers = getattr(response, "headers", {}) or {}
    retry_after = headers.get("Retry-After") or headers.get("retry-after") or 1
    try:
        seconds = float(retry_after)
    except (TypeError, ValueError):
        seconds = 1.0
    return status, code, max(seconds, 0.0)
