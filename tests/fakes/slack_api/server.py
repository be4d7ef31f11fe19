"""The fake Slack server: lifecycle, seeding, faults and the HTTP plumbing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, web

from tests.fakes.slack_api.common import BASE_TS, JSON_FIELDS, AuthKind, Call, RateLimit, SlackError
from tests.fakes.slack_api.conversations import ConversationMethods
from tests.fakes.slack_api.messages import MessageMethods
from tests.fakes.slack_api.socket_mode import SocketMode
from tests.fakes.slack_api.views import ViewMethods


class FakeSlack(MessageMethods, ViewMethods, SocketMode, ConversationMethods):
    """A fake Slack Web API + Socket Mode server on 127.0.0.1."""

    def __init__(self, **options: Any) -> None:
        """Options: see :class:`SlackState`."""
        super().__init__(**options)
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
            "conversations.create": ("bot", self._conversations_create),
            "conversations.invite": ("bot", self._conversations_invite),
            "conversations.setTopic": ("bot", self._conversations_set_topic),
            "conversations.setPurpose": ("bot", self._conversations_set_purpose),
            "conversations.archive": ("bot", self._conversations_archive),
            "conversations.list": ("bot", self._conversations_list),
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
            self._rate_limits[method] = RateLimit(times, retry_after, after)

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
