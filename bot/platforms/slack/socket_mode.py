"""Slack's Socket Mode door: Bolt's handler, with envelopes made storable.

Over HTTP the body is repaired where it is parsed
(:mod:`bot.platforms.slack.verify`). A Socket Mode envelope reaches the
listeners already decoded by slack_sdk, so half an emoji in a JSON escape
(a lone surrogate) is repaired here, before Bolt sees it: otherwise the
inbox write fails, the envelope is never acknowledged and the person never
answered. The frame's raw text is checked first, so only a frame holding a
surrogate escape is walked, as over HTTP.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient

from bot.core.text_repair import decoded_without_lone_surrogates


def socket_mode_handler(bolt: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Bolt's Socket Mode handler for ``bolt``, repairing each envelope's
    payload before Bolt dispatches it."""
    handler = AsyncSocketModeHandler(bolt, app_token)
    # Message listeners run, in order, before the request listener that
    # dispatches to Bolt, on the same decoded message.
    handler.client.message_listeners.insert(0, repair_envelope)
    return handler


async def repair_envelope(
    client: AsyncBaseSocketModeClient, message: dict[str, Any], raw_message: str | None
) -> None:
    """Replace the envelope's payload with one whose strings hold no lone surrogate."""
    payload = message.get("payload")
    if raw_message is not None and isinstance(payload, dict):
        message["payload"] = decoded_without_lone_surrogates(raw_message, payload)
