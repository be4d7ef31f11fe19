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


# Errors that another attempt cannot fix.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "invalid_blocks",
        "invalid_metadata_format",
        "no_text",
        "message_not_found",
        "thread_not_found",
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
)
