"""A local fake of Slack's Web API and Socket Mode endpoint, for tests.

``FakeSlack`` is an aiohttp server on 127.0.0.1 (random port). It speaks the
protocol the real slack_sdk clients speak, so production code runs against it
unchanged:

* ``AsyncWebClient(token="xoxb-test-token", base_url=fake.api_url)`` calls
  ``/api/<method>``. slack_sdk sends JSON bodies (chat.*, views.*), form bodies
  and query strings (GET for conversations.history, users.info, ...). All three
  are accepted, recorded in ``fake.calls`` and answered with Slack's payload
  shapes and error codes.
* ``slack_sdk.socket_mode.aiohttp.SocketModeClient`` asks ``apps.connections.open``
  (with the ``xapp-`` token) for a WebSocket URL and connects to ``/socket``;
  the test pushes envelopes with ``send_envelope`` and awaits acks with
  ``wait_ack``.
* Message responses posted to URLs minted by ``response_url()`` are recorded as
  calls to the pseudo-method ``"response_url"``.

Message timestamps: a message's ``ts`` is the time it was posted, as on
Slack, kept unique and increasing: wall-clock time, or ``clock()`` (Unix
seconds) when given, e.g. the test's ManualClock, so the bot's time-window
look-ups and the fake agree. ``conversations.history`` (newest first) and
``conversations.replies`` (the parent, then replies oldest first) honour
``oldest``/``latest``/``inclusive``/``limit`` and page with an opaque
``response_metadata.next_cursor`` (Slack's own encoding, ``next_ts:<ts>`` in
base64); replies leave the parent off continuation pages, as Slack does.

Fault injection: ``rate_limit`` (HTTP 429 + Retry-After), ``delay`` (slow
answers) and ``fail_connection`` (the request is processed, then the
connection is dropped without an answer, so the client cannot tell whether a
message landed).

Close Socket Mode clients *before* ``await fake.close()``: a live
``SocketModeClient`` treats a server-side close as a reason to reconnect.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSCloseCode, WSMsgType, web

JSON_FIELDS = ("blocks", "attachments", "metadata", "view")
"""Fields Slack accepts as JSON-encoded strings in form and query parameters."""

BASE_TS = 1767225600  # 2026-01-01T00:00:00Z: the "updated" time of seeded objects.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_BYTES = 250_000
MAX_VIEW_STACK = 3
CANT_BE_DISPLAYED = "This content can't be displayed."

AuthKind = Literal["bot", "app", "none"]


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``args`` merges query parameters and the body (JSON or form); JSON-encoded
    ``blocks``/``attachments``/``metadata``/``view`` strings are decoded.
    ``headers`` keys are lower-cased. ``at`` is ``time.monotonic()``.
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    rate_limited: bool = False
    dropped: bool = False
    http_method: str = "POST"


class SlackError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": code}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class _RateLimit:
    remaining: int
    retry_after: int
    spared: int = 0  # calls still answered before the limit starts


@dataclass
class _ViewStack:
    root_id: str
    view_ids: list[str] = field(default_factory=list)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return False


def _ts_value(ts: str) -> float:
    try:
        return float(ts)
    except ValueError:
        return 0.0


class FakeSlack:
    """A fake Slack Web API + Socket Mode server on 127.0.0.1."""

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
        self.acks: list[dict[str, Any]] = []
        self.socket_received: list[Any] = []
        self.socket_connects = 0

        self._rate_limits: dict[str, _RateLimit] = {}
        self._delays: dict[str | None, float] = {}
        self._drops: dict[str, int] = {}
        self._last_micros = 0
        self._id_counter = 0
        self._view_stacks: list[_ViewStack] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._sockets: list[web.WebSocketResponse] = []
        self._connected: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._ack_futures: dict[str, asyncio.Future[dict[str, Any]]] = {}

        self._methods: dict[str, tuple[AuthKind, Callable[[dict[str, Any]], dict[str, Any]]]] = {
            "api.test": ("none", self._api_test),
            "auth.test": ("bot", self._auth_test),
            "apps.connections.open": ("app", self._apps_connections_open),
            "chat.postMessage": ("bot", self._chat_post_message),
            "chat.update": ("bot", self._chat_update),
            "chat.delete": ("bot", self._chat_delete),
            "chat.postEphemeral": ("bot", self._chat_post_ephemeral),
            "chat.getPermalink": ("bot", self._chat_get_permalink),
            "conversations.open": ("bot", self._conversations_open),
            "conversations.history": ("bot", self._conversations_history),
            "conversations.replies": ("bot", self._conversations_replies),
            "users.info": ("bot", self._users_info),
            "users.lookupByEmail": ("bot", self._users_lookup_by_email),
            "views.open": ("bot", self._views_open),
            "views.push": ("bot", self._views_push),
            "views.update": ("bot", self._views_update),
            "views.publish": ("bot", self._views_publish),
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening on 127.0.0.1 on a free port."""
        if self._runner is not None:
            raise RuntimeError("FakeSlack already started")
        self._connected = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        app = web.Application()
        app.router.add_route("GET", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/api/{method}", self._handle_api)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_post("/hooks/{path:.*}", self._handle_hook)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Close open WebSockets and stop the server. Safe to call twice."""
        self._closing = True
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake slack closing")
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

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

    # ------------------------------------------------------------------ seeding

    def add_user(
        self,
        user_id: str,
        name: str,
        email: str,
        team_id: str = "T0ACME",
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
        tz: str = "Europe/London",
    ) -> dict[str, Any]:
        """Seed a user for users.info / users.lookupByEmail; returns Slack's user object."""
        real = real_name if real_name is not None else name.replace(".", " ").title()
        display = display_name if display_name is not None else name
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real,
            "tz": tz,
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": {
                "real_name": real,
                "real_name_normalized": real,
                "display_name": display,
                "display_name_normalized": display,
                "email": email,
                "team": team_id,
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": BASE_TS,
            "is_email_confirmed": True,
        }
        self.users[user_id] = user
        return user

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0HUMAN",
        ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Seed a (human) message into a channel's history; returns it."""
        message: dict[str, Any] = {
            "user": user,
            "type": "message",
            "ts": ts or self._next_ts(),
            "text": text,
            "team": self.team_id,
            **extra,
        }
        self.messages.setdefault(channel, []).append(message)
        return message

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message (metadata included), or None."""
        for stored in self.messages.get(channel, []):
            if stored["ts"] == ts:
                return stored
        return None

    def expire_trigger(self, trigger_id: str) -> None:
        self.expired_triggers.add(trigger_id)

    def response_url(self, kind: str = "commands") -> str:
        """A response_url on this fake; POSTs to it are recorded as method "response_url"."""
        n = self._next_id()
        return f"{self.base_url}/hooks/{kind}/{self.team_id}/{n}/fake{n:08d}"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # ------------------------------------------------------------------ faults

    def rate_limit(self, method: str, times: int, retry_after: int = 1, *, after: int = 0) -> None:
        """After ``after`` more answered calls, the next ``times`` calls to
        ``method`` get HTTP 429 + ``Retry-After``."""
        if times <= 0:
            self._rate_limits.pop(method, None)
        else:
            self._rate_limits[method] = _RateLimit(times, retry_after, after)

    def delay(self, method: str | None, seconds: float) -> None:
        """Answers to ``method`` (None: every method) wait ``seconds`` (after processing)."""
        if seconds <= 0:
            self._delays.pop(method, None)
        else:
            self._delays[method] = seconds

    def fail_connection(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` are processed (a posted message lands)
        and then the connection is closed without an answer."""
        if times <= 0:
            self._drops.pop(method, None)
        else:
            self._drops[method] = times

    def reset_faults(self) -> None:
        self._rate_limits.clear()
        self._delays.clear()
        self._drops.clear()

    # ------------------------------------------------------------------ socket mode

    async def wait_connected(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until a Socket Mode client is connected (and has been sent hello)."""
        if self._connected is None:
            raise RuntimeError("FakeSlack not started")
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_disconnected(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until no Socket Mode client is connected."""
        if self._idle is None:
            raise RuntimeError("FakeSlack not started")
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        """Send an envelope to the most recently connected Socket Mode client."""
        ws = self._current_socket()
        if "envelope_id" in envelope:
            self._ack_future(str(envelope["envelope_id"]))
        self.sent_envelopes.append(envelope)
        await ws.send_json(envelope)

    async def wait_ack(self, envelope_id: str, timeout: float = 5) -> dict[str, Any]:  # noqa: ASYNC109
        """The client's ack ``{"envelope_id": ..., "payload"?: ...}`` for an envelope."""
        future = self._ack_future(envelope_id)
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    async def send_disconnect(self, reason: str = "warning") -> None:
        """Send Slack's ``disconnect`` message (e.g. "refresh_requested")."""
        ws = self._current_socket()
        await ws.send_json(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": "fake"},
                "connection_info": {"app_id": self.app_id},
            }
        )

    @property
    def socket_count(self) -> int:
        return len(self._sockets)

    def _current_socket(self) -> web.WebSocketResponse:
        for ws in reversed(self._sockets):
            if not ws.closed:
                return ws
        raise RuntimeError("no Socket Mode client is connected")

    def _ack_future(self, envelope_id: str) -> asyncio.Future[dict[str, Any]]:
        future = self._ack_futures.get(envelope_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._ack_futures[envelope_id] = future
        return future

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        if self._closing:
            return web.Response(status=503, text="closing")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.socket_connects += 1
        assert self._idle is not None
        self._idle.clear()
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "fake", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.app_id},
                }
            )
            assert self._connected is not None
            self._connected.set()
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    self.socket_received.append(msg.data)
                    continue
                self.socket_received.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks.append(data)
                    future = self._ack_future(str(data["envelope_id"]))
                    if not future.done():
                        future.set_result(data)
        finally:
            self._sockets.remove(ws)
            if not self._sockets and self._connected is not None and self._idle is not None:
                self._connected.clear()
                self._idle.set()
        return ws

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle_hook(self, request: web.Request) -> web.StreamResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        args: dict[str, Any] = body if isinstance(body, dict) else {"_body": body}
        args = {**args, "_path": request.match_info["path"]}
        self.calls.append(Call("response_url", args, headers, time.monotonic()))
        return web.Response(text="ok", content_type="text/plain")

    async def _read_args(self, request: web.Request) -> tuple[dict[str, Any], bool]:
        """(args, came_as_json). Query params first, the body overrides them."""
        args: dict[str, Any] = dict(request.query)
        is_json = False
        if request.can_read_body:
            if request.content_type == "application/json":
                is_json = True
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError as e:
                        raise SlackError("invalid_json") from e
                    if not isinstance(body, dict):
                        raise SlackError("invalid_json")
                    args.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    args[key] = value if isinstance(value, str) else getattr(value, "filename", "")
        for name in JSON_FIELDS:
            encoded = args.get(name)
            if isinstance(encoded, str) and encoded.strip()[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    args[name] = json.loads(encoded)
        return args, is_json

    def _token(self, request: web.Request, args: dict[str, Any], is_json: bool) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
            return token or None
        # Slack ignores a token inside a JSON body: JSON requests must use the header.
        field: Any = None if is_json else args.get("token")
        return field if isinstance(field, str) and field else None

    def _check_auth(self, kind: AuthKind, token: str | None) -> None:
        if kind == "none":
            return
        if token is None:
            raise SlackError("not_authed")
        if kind == "app":
            if not token.startswith("xapp-"):
                raise SlackError("not_allowed_token_type")
            if token != self.app_token:
                raise SlackError("invalid_auth")
            return
        if token.startswith("xapp-"):
            raise SlackError("not_allowed_token_type")
        if token != self.bot_token:
            raise SlackError("invalid_auth")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            args, is_json = await self._read_args(request)
        except SlackError as e:
            self.calls.append(
                Call(method, {}, headers, time.monotonic(), http_method=request.method)
            )
            return web.json_response({"ok": False, "error": e.error})

        limit = self._rate_limits.get(method)
        if limit is not None and limit.spared > 0:
            limit.spared -= 1
            limit = None
        rate_limited = limit is not None and limit.remaining > 0
        dropped = not rate_limited and self._drops.get(method, 0) > 0
        recorded_args = {k: v for k, v in args.items() if k != "token"}
        self.calls.append(
            Call(
                method,
                recorded_args,
                headers,
                time.monotonic(),
                rate_limited=rate_limited,
                dropped=dropped,
                http_method=request.method,
            )
        )

        if rate_limited:
            assert limit is not None
            limit.remaining -= 1
            if limit.remaining <= 0:
                del self._rate_limits[method]
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limit.retry_after)},
            )

        payload = self._dispatch(method, request, args, is_json)

        seconds = self._delays.get(method, self._delays.get(None, 0.0))
        if seconds > 0:
            await asyncio.sleep(seconds)

        if dropped:
            self._drops[method] -= 1
            if self._drops[method] <= 0:
                del self._drops[method]
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never reaches the client

        return web.json_response(payload)

    def _dispatch(
        self, method: str, request: web.Request, args: dict[str, Any], is_json: bool
    ) -> dict[str, Any]:
        entry = self._methods.get(method)
        if entry is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        kind, handler = entry
        try:
            self._check_auth(kind, self._token(request, args, is_json))
            return handler(args)
        except SlackError as e:
            return {"ok": False, "error": e.error, **e.extra}

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

    # ------------------------------------------------------------------ methods

    def _api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in args.items() if k != "token"}}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self._closing:
            raise SlackError("service_unavailable")
        return {"ok": True, "url": self.socket_url}

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        blocks = self._blocks(args)
        attachments = args.get("attachments")
        text = args.get("text") or args.get("markdown_text")
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        metadata = self._metadata(args)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": text or CANT_BE_DISPLAYED,
            "team": self.team_id,
            "bot_profile": self._bot_profile(),
        }
        if blocks:
            message["blocks"] = blocks
        if attachments:
            message["attachments"] = attachments
        thread_ts = args.get("thread_ts")
        if thread_ts:
            thread_ts = str(thread_ts)
            message["thread_ts"] = thread_ts
            parent = self.message(channel, thread_ts)
            if parent is not None:
                message["parent_user_id"] = parent.get("user")
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                parent["latest_reply"] = ts
            if _truthy(args.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
        if metadata:
            message["metadata"] = metadata
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _stored_for_edit(self, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        channel = self._channel(args)
        ts = self._require(args, "ts", "message_not_found")
        message = self.message(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise SlackError("cant_update_message")
        return channel, message

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, message = self._stored_for_edit(args)
        blocks = self._blocks(args)
        attachments = args.get("attachments")
        text = args.get("text") or args.get("markdown_text")
        if not text and blocks is None and attachments is None:
            raise SlackError("no_text")
        metadata = self._metadata(args)
        # Omitted fields keep their previous value; an empty list/object removes it.
        if blocks is not None:
            if blocks:
                message["blocks"] = blocks
            else:
                message.pop("blocks", None)
        if attachments is not None:
            if attachments:
                message["attachments"] = attachments
            else:
                message.pop("attachments", None)
        if metadata is not None:
            if metadata:
                message["metadata"] = metadata
            else:
                message.pop("metadata", None)
        if text:
            message["text"] = text
        elif blocks:
            message["text"] = CANT_BE_DISPLAYED
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": dict(message),
        }

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, message = self._stored_for_edit(args)
        self.messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        user = self._require(args, "user", "user_not_in_channel")
        if self.users and user not in self.users:
            raise SlackError("user_not_found")
        blocks = self._blocks(args)
        text = args.get("text") or args.get("markdown_text")
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        message_ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "text": text or "",
                "blocks": blocks,
                "thread_ts": args.get("thread_ts"),
                "message_ts": message_ts,
            }
        )
        return {"ok": True, "message_ts": message_ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = self._require(args, "message_ts", "message_not_found")
        if self.message(channel, ts) is None:
            raise SlackError("message_not_found")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        existing = args.get("channel")
        if existing:
            if existing not in self.dm_channels:
                raise SlackError("channel_not_found")
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": existing}}
        raw = args.get("users")
        users_list = raw if isinstance(raw, list) else str(raw or "").split(",")
        users = sorted({str(u).strip() for u in users_list if str(u).strip()})
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise SlackError("too_many_users")
        if self.users:
            for user in users:
                if user not in self.users:
                    raise SlackError("user_not_found")
        key = ",".join(users)
        channel_id = "D" + hashlib.sha1(key.encode()).hexdigest()[:10].upper()
        already = channel_id in self.dm_channels
        self.dm_channels[channel_id] = key
        if already:
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel_id}}
        return {"ok": True, "channel": {"id": channel_id}}

    def _limit(self, args: dict[str, Any], default: int = 100) -> int:
        try:
            limit = int(args.get("limit") or default)
        except (TypeError, ValueError) as e:
            raise SlackError("invalid_limit") from e
        return max(1, min(limit, 999))

    def _window(self, args: dict[str, Any]) -> Callable[[str], bool]:
        """``oldest``/``latest``/``inclusive`` as a test on a message ts."""
        try:
            oldest = float(str(args.get("oldest") or "0"))
        except ValueError as e:
            raise SlackError("invalid_ts_oldest") from e
        try:
            latest = float(str(args["latest"])) if args.get("latest") else None
        except ValueError as e:
            raise SlackError("invalid_ts_latest") from e
        inclusive = _truthy(args.get("inclusive"))

        def inside(ts: str) -> bool:
            value = _ts_value(ts)
            if value < oldest or (value == oldest and not inclusive and oldest > 0):
                return False
            return latest is None or value < latest or (value == latest and inclusive)

        return inside

    def _cursor_ts(self, args: dict[str, Any]) -> float | None:
        cursor = args.get("cursor")
        if not cursor:
            return None
        try:
            decoded = base64.b64decode(str(cursor), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as e:
            raise SlackError("invalid_cursor") from e
        prefix, _, ts = decoded.partition(":")
        if prefix != "next_ts" or not ts:
            raise SlackError("invalid_cursor")
        return _ts_value(ts)

    @staticmethod
    def _cursor_after(ts: str) -> str:
        return base64.b64encode(f"next_ts:{ts}".encode()).decode()

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages (and thread broadcasts) in the window, newest first;
        the cursor continues with older messages."""
        channel = self._channel(args)
        limit = self._limit(args)
        include_metadata = _truthy(args.get("include_all_metadata"))
        inside = self._window(args)
        before = self._cursor_ts(args)
        selected = []
        for message in sorted(
            self.messages.get(channel, []), key=lambda m: _ts_value(m["ts"]), reverse=True
        ):
            thread_ts = message.get("thread_ts")
            if (
                thread_ts
                and thread_ts != message["ts"]
                and message.get("subtype") != ("thread_broadcast")
            ):
                continue  # replies live in conversations.replies
            if not inside(message["ts"]):
                continue
            if before is not None and _ts_value(message["ts"]) >= before:
                continue
            selected.append(message)
        page = selected[:limit]
        more = len(selected) > limit
        return {
            "ok": True,
            "messages": [self._public(m, include_metadata) for m in page],
            "has_more": more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {
                "next_cursor": self._cursor_after(page[-1]["ts"]) if more else ""
            },
        }

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """The parent (first page only), then its replies in the window oldest
        first; the cursor continues with newer replies."""
        channel = self._channel(args)
        ts = self._require(args, "ts", "thread_not_found")
        parent = self.message(channel, ts)
        if parent is None:
            raise SlackError("thread_not_found")
        include_metadata = _truthy(args.get("include_all_metadata"))
        inside = self._window(args)
        after = self._cursor_ts(args)
        replies = sorted(
            (
                m
                for m in self.messages.get(channel, [])
                if m.get("thread_ts") == ts
                and m["ts"] != ts
                and inside(m["ts"])
                and (after is None or _ts_value(m["ts"]) > after)
            ),
            key=lambda m: _ts_value(m["ts"]),
        )
        limit = self._limit(args, default=1000)
        page = replies[:limit]
        more = len(replies) > limit
        thread = page if after is not None else [parent, *page]
        return {
            "ok": True,
            "messages": [self._public(m, include_metadata) for m in thread],
            "has_more": more,
            "response_metadata": {
                "next_cursor": self._cursor_after(page[-1]["ts"]) if more else ""
            },
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = self._require(args, "user", "user_not_found")
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": user}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = self._require(args, "email", "users_not_found").strip().lower()
        for user in self.users.values():
            if str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": user}
        raise SlackError("users_not_found")

    # views ---------------------------------------------------------------

    def _consume_trigger(self, args: dict[str, Any]) -> str:
        trigger_id = args.get("trigger_id")
        if not isinstance(trigger_id, str) or not trigger_id.strip():
            raise SlackError("invalid_trigger_id")
        if trigger_id in self.expired_triggers:
            raise SlackError("expired_trigger_id")
        if trigger_id in self.used_triggers:
            raise SlackError("exchanged_trigger_id")
        self.used_triggers.add(trigger_id)
        return trigger_id

    def _checked_view(self, args: dict[str, Any], *, home: bool = False) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: view"]},
            )
        problems: list[str] = []
        view_type = view.get("type")
        if view_type not in (("home",) if home else ("modal",)):
            problems.append("[ERROR] must be a valid enum value [json-pointer:/view/type]")
        if not home and not isinstance(view.get("title"), dict):
            problems.append("[ERROR] missing required field: title [json-pointer:/view]")
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
        elif len(blocks) > MAX_VIEW_BLOCKS:
            problems.append("[ERROR] must be less than 101 items [json-pointer:/view/blocks]")
        if len(str(view.get("private_metadata", ""))) > 3000:
            problems.append(
                "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
            )
        if len(str(view.get("callback_id", ""))) > 255:
            problems.append(
                "[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]"
            )
        if problems:
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})
        if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        return view

    def _render_view(
        self,
        view: dict[str, Any],
        view_id: str,
        *,
        root_view_id: str,
        previous_view_id: str | None,
    ) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id,
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        rendered.update(view)
        rendered["id"] = view_id
        rendered["state"] = {"values": {}}
        rendered["hash"] = self._hash()
        return rendered

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._consume_trigger(args)
        view = self._checked_view(args)
        view_id = self._view_id()
        rendered = self._render_view(view, view_id, root_view_id=view_id, previous_view_id=None)
        self.views[view_id] = rendered
        self._view_stacks.append(_ViewStack(view_id, [view_id]))
        return {"ok": True, "view": rendered}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        self._consume_trigger(args)
        view = self._checked_view(args)
        if not self._view_stacks:
            raise SlackError("not_found")
        stack = self._view_stacks[-1]
        if len(stack.view_ids) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        view_id = self._view_id()
        rendered = self._render_view(
            view, view_id, root_view_id=stack.root_id, previous_view_id=stack.view_ids[-1]
        )
        stack.view_ids.append(view_id)
        self.views[view_id] = rendered
        return {"ok": True, "view": rendered}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._checked_view(args)
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        current: dict[str, Any] | None = None
        if view_id:
            current = self.views.get(str(view_id))
        elif external_id:
            current = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] view_id or external_id is required"]},
            )
        if current is None:
            raise SlackError("not_found")
        expected = args.get("hash")
        if expected and expected != current["hash"]:
            raise SlackError("hash_conflict")
        rendered = self._render_view(
            view,
            current["id"],
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
        )
        self.views[current["id"]] = rendered
        return {"ok": True, "view": rendered}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = self._require(args, "user_id", "invalid_arguments")
        if self.users and user_id not in self.users:
            raise SlackError("user_not_found")
        view = self._checked_view(args, home=True)
        current = self.home_views.get(user_id)
        expected = args.get("hash")
        if expected and current is not None and expected != current["hash"]:
            raise SlackError("hash_conflict")
        view_id = current["id"] if current is not None else self._view_id()
        rendered = self._render_view(view, view_id, root_view_id=view_id, previous_view_id=None)
        self.home_views[user_id] = rendered
        return {"ok": True, "view": rendered}
