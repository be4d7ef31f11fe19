"""The fake Slack's state and the helpers its methods share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from tests.fakes.slack_api.common import (
    BASE_TS,
    MAX_MESSAGE_BLOCKS,
    Call,
    RateLimit,
    SlackError,
    ViewStack,
)


class SlackState:
    """What the fake knows (workspace, users, messages, views) and the helpers every method uses."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        known_channels: Iterable[str] = (),
        team_id: str = "T0ACME",
        team_name: str = "Acme",
        team_domain: str = "acme",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        bot_name: str = "playcaller",
        app_id: str = "A0PLAY",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.clock = clock
        self.bot_token = bot_token
        self.app_token = app_token
        self.known_channels: set[str] = set(known_channels)
        # Archived channels: posting there is refused with is_archived.
        self.archived_channels: set[str] = set()
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id

        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        """channel id -> messages in posting order (stored metadata included)."""
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.expired_triggers: set[str] = set()
        self.used_triggers: set[str] = set()
        self.dm_channels: dict[str, str] = {}
        """DM channel id -> comma-joined sorted user ids."""

        self.sent_envelopes: list[dict[str, Any]] = []
        # The text frames as they went over the socket (escapes and all).
        self.sent_frames: list[str] = []
        self.acks: list[dict[str, Any]] = []
        self.socket_received: list[Any] = []
        self.socket_connects = 0

        self._rate_limits: dict[str, RateLimit] = {}
        self._delays: dict[str | None, float] = {}
        self._drops: dict[str, int] = {}
        self._last_micros = 0
        self._id_counter = 0
        self._view_stacks: list[ViewStack] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._sockets: list[web.WebSocketResponse] = []
        self._connected: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._ack_futures: dict[str, asyncio.Future[dict[str, Any]]] = {}

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``AsyncWebClient(base_url=...)`` takes."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        """The Socket Mode WebSocket URL (what apps.connections.open returns)."""
        return f"ws://127.0.0.1:{self.port}/socket"

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message (metadata included), or None."""
        for stored in self.messages.get(channel, []):
            if stored["ts"] == ts:
                return stored
        return None

    # ------------------------------------------------------------------ ids

    def _next_ts(self) -> str:
        now = self.clock() if self.clock is not None else time.time()
        micros = max(round(now * 1_000_000), self._last_micros + 100)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self) -> int:
        self._id_counter += 1
        return self._id_counter

    def _view_id(self) -> str:
        return f"V0FAKE{self._next_id():05d}"

    def _hash(self) -> str:
        return f"{BASE_TS}.{self._next_id():08x}"

    # ------------------------------------------------------------------ validation helpers

    def _require(self, args: dict[str, Any], name: str, error: str) -> str:
        value = args.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise SlackError(error)
        return str(value)

    def _channel(self, args: dict[str, Any]) -> str:
        channel = self._require(args, "channel", "channel_not_found")
        known = self.known_channels
        if known and channel not in known and channel not in self.dm_channels:
            raise SlackError("channel_not_found")
        if channel in self.archived_channels:
            raise SlackError("is_archived")
        return channel

    def _blocks(self, args: dict[str, Any], error: str = "invalid_blocks") -> list[Any] | None:
        if "blocks" not in args or args["blocks"] is None:
            return None
        blocks = args["blocks"]
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            raise SlackError(error, response_metadata={"messages": ["[ERROR] invalid blocks"]})
        if len(blocks) > MAX_MESSAGE_BLOCKS:
            raise SlackError(
                error,
                response_metadata={
                    "messages": ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
                },
            )
        # Slack gives every block without a block_id a generated one.
        return [{"block_id": f"fk{self._next_id():04d}", **block} for block in blocks]

    def _metadata(self, args: dict[str, Any]) -> dict[str, Any] | None:
        if "metadata" not in args or args["metadata"] is None:
            return None
        metadata = args["metadata"]
        if metadata == {}:
            return {}
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def _public(self, message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        copy = dict(message)
        if not include_metadata:
            copy.pop("metadata", None)
        return copy

    def _bot_profile(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.bot_name,
            "icons": {"image_48": "https://a.slack-edge.com/fake/bot_48.png"},
            "deleted": False,
            "updated": BASE_TS,
            "team_id": self.team_id,
        }
