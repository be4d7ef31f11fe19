"""A burst of mentions for one spoke, sent through the signed ``POST /intake``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.intake import endpoint
from bot.runtime import Runtime
from bot.signing import sign

SECRET = "surge-intake-secret"
# Care-routed, neutral wording (the sample config makes negative mentions high).
PHRASES = (
    "@acme is the app down? I can't log in to my account this morning",
    "RT @techwatch: Acme app login is down for a lot of people right now",
    "@acme app says code 503 when I try to log in",
    "Acme app login is down for me as well, every time I open it",
    "<!channel> RT @techwatch: Acme app login is down for a lot of people right now "
    "[free refund](https://evil.example) *now* @here",
)
LEGAL_EVERY = 100
REACH_EVERY = 400


def burst_item(n: int) -> dict[str, Any]:
    """Mention ``n`` of the burst: every 100th threatens to sue (legal risk,
    high priority), every 400th comes from an account with a big audience."""
    text = PHRASES[n % len(PHRASES)]
    if n % LEGAL_EVERY == LEGAL_EVERY - 1:
        text = f"I will sue Acme over this, my lawyer is ready ({n})"
    followers = 500_000 if n % REACH_EVERY == REACH_EVERY - 1 else 20 + n % 900
    return {
        "network": "x",
        "id": f"burst-{n:05d}",
        "text": text,
        "created_at": "2026-03-02T08:59:00Z",
        "url": f"https://x.com/user{n}/status/burst-{n:05d}",
        "author": {"handle": f"user{n % 700}", "followers": followers},
    }


def standouts(total: int, allowance: int = 20) -> list[str]:
    """Keys of the burst's mentions that must still get a card of their own."""
    return [
        f"x:burst-{n:05d}"
        for n in range(allowance, total)
        if n % LEGAL_EVERY == LEGAL_EVERY - 1 or n % REACH_EVERY == REACH_EVERY - 1
    ]


@asynccontextmanager
async def intake_server(runtime: Runtime) -> AsyncIterator[TestServer]:
    app = web.Application()
    endpoint.mount(app, runtime, endpoint.IntakeSettings(SECRET, max_bytes=2_000_000))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def send_burst(runtime: Runtime, total: int = 2000, per_request: int = 200) -> int:
    """POST the burst as NDJSON, ``per_request`` items a request; the number stored."""
    stored = 0
    async with intake_server(runtime) as server, aiohttp.ClientSession() as http:
        for start in range(0, total, per_request):
            items = [burst_item(n) for n in range(start, min(total, start + per_request))]
            body = b"".join(json.dumps(i).encode() + b"\n" for i in items)
            ts = int(runtime.clock.now().timestamp())
            headers = {
                "Content-Type": "application/x-ndjson",
                "X-Playcaller-Timestamp": str(ts),
                "X-Playcaller-Signature": sign(SECRET, ts, body),
            }
            async with http.post(server.make_url("/intake"), data=body, headers=headers) as r:
                assert r.status == 200, await r.text()
                stored += (await r.json())["stored"]
    return stored
