"""A local publishing receiver: what a company's social media management
system puts behind ``PLAYCALLER_PUBLISH_URL``, for tests.

``FakeReceiver`` is an aiohttp server on 127.0.0.1 (random port) that checks
each request the way the README's verifier does, written out here on its own
(it does not use ``bot.signing``, so a mistake there cannot hide itself):

* ``X-Playcaller-Signature`` must be ``v1=`` + hex HMAC-SHA256 of
  ``v1:<X-Playcaller-Timestamp>:<body>`` with the shared secret, and the
  timestamp within 5 minutes of the receiver's clock (``now``, injectable);
  otherwise 401 ``{"error": ...}`` and nothing is recorded as published.
* ``Idempotency-Key`` is required (400 without). The first request with a key
  is published: ``published`` gets its body, the answer is 200
  ``{"url", "id"}``. A repeat of the key publishes nothing and gets the same
  answer again (``repeats`` counts them).

Faults, consumed one request at a time before publishing (so a failed
attempt publishes nothing): ``fail_next(n, status)`` (500 by default),
``rate_limit_next(n, retry_after)`` (429), ``hang_next(n)`` (never answers;
the client times out), ``reject_next(status, reason)`` (a 4xx with
``{"error": reason}``). ``drop_after_publish_next(n)`` publishes and then
closes the connection without an answer: the client cannot tell it worked.
``hold_after_publish_next(n)`` publishes and then holds the answer until the
receiver is closed (a test kills the sender meanwhile); ``held`` is set once
such a request was published. ``gate_after_publish_next()`` publishes, sets
``held`` and answers 200 only once ``open_gate()`` is called: a POST that is
in flight while the test does something, and then goes through;
``gate_refusal_next(status, reason)`` does the same but publishes nothing and
answers the 4xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

WINDOW_SECONDS = 300


@dataclass
class Attempt:
    """One request as received, whatever became of it."""

    key: str | None
    status: int
    body: bytes


@dataclass
class _Fault:
    kind: str
    status: int = 500
    reason: str = ""
    retry_after: str = ""


@dataclass
class FakeReceiver:
    secret: str
    now: Callable[[], float] = time.time
    published: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    repeats: int = 0
    _faults: list[_Fault] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _port: int | None = None
    _hanging: asyncio.Event = field(default_factory=asyncio.Event)
    held: asyncio.Event = field(default_factory=asyncio.Event)
    _gate: asyncio.Event = field(default_factory=asyncio.Event)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/publish", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        self._hanging.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeReceiver not started")
        return f"http://127.0.0.1:{self._port}/publish"

    # ------------------------------------------------------------ faults

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        self._faults += [_Fault("status", status=status) for _ in range(times)]

    def rate_limit_next(self, times: int = 1, retry_after: str = "30") -> None:
        self._faults += [_Fault("429", status=429, retry_after=retry_after) for _ in range(times)]

    def hang_next(self, times: int = 1) -> None:
        self._faults += [_Fault("hang") for _ in range(times)]

    def reject_next(self, status: int = 422, reason: str = "rejected") -> None:
        self._faults.append(_Fault("reject", status=status, reason=reason))

    def drop_after_publish_next(self, times: int = 1) -> None:
        self._faults += [_Fault("drop") for _ in range(times)]

    def hold_after_publish_next(self, times: int = 1) -> None:
        self._faults += [_Fault("hold") for _ in range(times)]

    def gate_after_publish_next(self) -> None:
        self._gate.clear()
        self._faults.append(_Fault("gate"))

    def gate_refusal_next(self, status: int = 422, reason: str = "rejected") -> None:
        self._gate.clear()
        self._faults.append(_Fault("gate_reject", status=status, reason=reason))

    def open_gate(self) -> None:
        self._gate.set()

    # ------------------------------------------------------------ requests

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        key = request.headers.get("Idempotency-Key")
        refusal = self._check_signature(request, body)
        if refusal:
            return self._answer(key, body, 401, {"error": refusal})
        if not key:
            return self._answer(key, body, 400, {"error": "Idempotency-Key is required"})
        fault = self._faults.pop(0) if self._faults else None
        if fault is not None and fault.kind not in ("drop", "hold", "gate"):
            return await self._fault(fault, key, body)
        answer = self.answers.get(key)
        if answer is None:
            document = json.loads(body)
            self.published.append(document)
            number = len(self.published)
            answer = {"url": f"https://social.example/posts/{number}", "id": f"post-{number}"}
            self.answers[key] = answer
        else:
            self.repeats += 1
        self.attempts.append(Attempt(key, 200, body))
        if fault is not None and fault.kind == "hold":
            # published, and the answer waits until the receiver closes
            self.held.set()
            await self._hanging.wait()
            return web.Response(status=504)
        if fault is not None and fault.kind == "gate":
            self.held.set()
            await self._gate.wait()
            return web.json_response(answer)
        # "drop": published, but the client never hears
        if fault is not None and request.transport is not None:
            request.transport.close()
        return web.json_response(answer)

    def _check_signature(self, request: web.Request, body: bytes) -> str | None:
        timestamp = request.headers.get("X-Playcaller-Timestamp", "")
        signature = request.headers.get("X-Playcaller-Signature", "")
        if not timestamp.isdigit() or abs(self.now() - int(timestamp)) > WINDOW_SECONDS:
            return "stale or missing timestamp"
        base = b"v1:" + timestamp.encode() + b":" + body
        expected = "v1=" + hmac.new(self.secret.encode(), base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return "bad signature"
        return None

    async def _fault(self, fault: _Fault, key: str, body: bytes) -> web.StreamResponse:
        if fault.kind == "hang":
            self.attempts.append(Attempt(key, 0, body))
            await self._hanging.wait()
            return web.Response(status=504)
        if fault.kind == "429":
            self.attempts.append(Attempt(key, 429, body))
            return web.json_response(
                {"error": "slow down"}, status=429, headers={"Retry-After": fault.retry_after}
            )
        if fault.kind == "gate_reject":
            self.held.set()
            await self._gate.wait()
            return self._answer(key, body, fault.status, {"error": fault.reason})
        if fault.kind == "reject":
            return self._answer(key, body, fault.status, {"error": fault.reason})
        return self._answer(key, body, fault.status, {"error": "internal error"})

    def _answer(
        self, key: str | None, body: bytes, status: int, document: dict[str, Any]
    ) -> web.Response:
        self.attempts.append(Attempt(key, status, body))
        return web.json_response(document, status=status)
