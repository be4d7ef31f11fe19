"""``playcaller serve`` over real HTTP on loopback, with ``ingest`` as a separate process."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import Loaded, open_runtime
from bot.core.cards import Card
from bot.core.clock import SystemClock
from bot.platforms.console.transcript import TranscriptDelivery, TranscriptPlatform
from bot.store import open_store
from bot.web import RUNTIME, create_app
from handlers.triage.records import KIND
from tests.conftest import ROOT, SAMPLES


class Served:
    def __init__(self, server: TestServer, output: io.StringIO, url: str, namespace: str) -> None:
        self.server = server
        self.output = output
        self.url = url
        self.namespace = namespace
        self.cards: list[tuple[str, Card]] = []
        self.arrived = asyncio.Event()

    def seen(self, place: str, card: Card) -> None:
        self.cards.append((place, card))
        self.arrived.set()


@asynccontextmanager
async def serving(url: str, namespace: str, loaded: Loaded) -> AsyncIterator[Served]:
    runtime = await open_runtime(
        loaded,
        store=open_store(url, namespace=namespace),
        clock=SystemClock(),
        platforms=["console"],
    )
    output = io.StringIO()
    holder: list[Served] = []
    delivery = TranscriptDelivery(
        loaded.settings, output, on_card=lambda p, c: holder[0].seen(p, c)
    )
    app = create_app(runtime, [TranscriptPlatform(delivery)], poll_seconds=0.05)
    server = TestServer(app, host="127.0.0.1")
    holder.append(Served(server, output, url, namespace))
    await server.start_server()
    try:
        yield holder[0]
    finally:
        await server.close()


@pytest.fixture
async def served(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[Served]:
    async with serving(*store_backend, loaded) as running:
        yield running


async def test_healthz_answers_when_the_store_does(served: Served) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(served.server.make_url("/healthz")) as response,
    ):
        assert response.status == 200
        assert await response.json() == {"status": "ok", "store": "ok"}


async def test_healthz_is_503_when_the_store_is_gone(loaded: Loaded, tmp_path: Path) -> None:
    async with serving(f"sqlite:///{tmp_path / 'gone.db'}", "playcaller", loaded) as served:
        await served.server.app[RUNTIME].store.close()
        async with (
            aiohttp.ClientSession() as http,
            http.get(served.server.make_url("/healthz")) as response,
        ):
            assert response.status == 503
            assert await response.json() == {"status": "unavailable", "store": "unreachable"}


async def test_ingest_in_another_process_is_posted_by_the_running_bot(
    served: Served, tmp_path: Path
) -> None:
    feed = tmp_path / "one.jsonl"
    feed.write_text((SAMPLES / "feed.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n")
    env_store = served.url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "--config",
        str(ROOT / "playcaller.yaml"),
        "ingest",
        str(feed),
        "--store",
        env_store,
        env={
            **os.environ,
            "PLAYCALLER_STORE_NAMESPACE": served.namespace,
            "PLAYCALLER_PLATFORMS": "console",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "ingested 1 mentions" in out.decode()
    await asyncio.wait_for(served.arrived.wait(), timeout=20)
    place, card = served.cards[0]
    assert place == "#care"
    assert card.title == "X mention from @angry_dan"
    assert "[#1 · #care]" in served.output.getvalue()
    runtime = served.server.app[RUNTIME]
    assert await runtime.store.get(KIND, "x:1861000000000000001") is not None
    # The card is shown before the sender records it sent: the item leaves
    # the outbox a moment after (the sender is a background task here).
    deadline = time.monotonic() + 10
    while await runtime.store.outbox_size("console") != 0:
        assert time.monotonic() < deadline, "the delivered card never left the outbox"
        await asyncio.sleep(0.02)
