"""The README's ten-line verifier accepts what the publisher sends and refuses forgeries."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.core.accounts import Account, Network
from bot.core.clock import ManualClock
from bot.core.publishing import Publication
from bot.publishing import WebhookPublisher, WebhookSettings, build_request
from tests.conftest import ROOT, START

SECRET = "whsec-test-0123456789abcdef"


def readme_verifier() -> Callable[..., bool]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    contract = readme[readme.index("### Publishing webhook contract") :]
    code = re.search(r"```python\n(.*?)```", contract, re.S)
    assert code is not None
    lines = [line for line in code.group(1).splitlines() if line.strip()]
    assert len(lines) <= 10
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def test_readme_verifier_accepts_a_real_request_and_refuses_forgeries() -> None:
    verify = readme_verifier()
    post = Publication(
        "d-1",
        3,
        Account("a", Network.X, "@acme", "care"),
        "Thanks! 🎉",
        "sam",
        ("maria",),
        datetime(2026, 3, 2, 14, 2, tzinfo=UTC),
    )
    request = build_request(post, secret=SECRET, now=START)
    now = START.timestamp()
    assert verify(SECRET.encode(), request.headers, request.body, now=now)
    assert not verify(b"another-secret-entirely", request.headers, request.body, now=now)
    assert not verify(SECRET.encode(), request.headers, request.body + b" ", now=now)
    late = (START + timedelta(minutes=5, seconds=1)).timestamp()
    assert not verify(SECRET.encode(), request.headers, request.body, now=late)
    unsigned = {k: v for k, v in request.headers.items() if k != "X-Playcaller-Signature"}
    assert not verify(SECRET.encode(), unsigned, request.body, now=now)
    assert not verify(
        SECRET.encode(),
        {**request.headers, "X-Playcaller-Signature": "v1=é"},
        request.body,
        now=now,
    )


async def test_the_readme_verifier_accepts_what_the_publish_lane_puts_on_the_wire() -> None:
    """The README's snippet, run inside a loopback receiver, on the request
    the webhook adapter really sends (aiohttp's headers, the raw body)."""
    verify = readme_verifier()
    clock = ManualClock(START)
    verdicts: list[bool] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        verdicts.append(verify(SECRET.encode(), request.headers, body, now=START.timestamp()))
        verdicts.append(verify(b"not-the-secret", request.headers, body, now=START.timestamp()))
        return web.json_response({"url": "https://social.example/p/1", "id": "p-1"})

    app = web.Application()
    app.router.add_post("/publish", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    publisher = WebhookPublisher(WebhookSettings(f"http://127.0.0.1:{port}/publish", SECRET), clock)
    try:
        post = Publication(
            "d-2",
            1,
            Account("a", Network.BLUESKY, "@acme.bsky.social", "care"),
            "Ça marche — merci ✨ <!channel>",
            "sam",
            ("maria", "lee"),
            START,
        )
        published = await publisher.publish(post, attempt=1)
    finally:
        await publisher.close()
        await runner.cleanup()
    assert published.url == "https://social.example/p/1"
    assert verdicts == [True, False]
