"""Who admits from the intake stream: ``PLAYCALLER_INTAKE_STREAM`` per ``serve``.

Three real ``serve`` processes on one Redis namespace, over loopback: a front
that has ``/intake`` (the secret) and only accepts (``accept``), an admitting
worker without ``/intake`` (no secret; the stream on by default) and a process
with the stream ``off`` and no secret. Everything the front accepts is
admitted, by the worker alone: a process without the secret still consumes,
``accept`` and ``off`` never do.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from bot.intake.stream import GROUP
from bot.store import open_store
from handlers.surge import window
from handlers.triage.records import KIND
from tests.conftest import REDIS_URL
from tests.serve_process import ServeProcess
from tests.test_intake_stream_serve import SECRET, admitted_by, batch, post
from tests.test_serve_cli import clean_env

REQUESTS = 10
PER_REQUEST = 20
SETTLE_TIMEOUT = 90.0
pytestmark = pytest.mark.timeout(400)


@pytest.fixture
async def namespace(redis_namespace: str) -> str:
    return redis_namespace


async def test_a_serve_without_intake_admits_what_an_accepting_front_takes(
    namespace: str, tmp_path: Path
) -> None:
    common = {"PLAYCALLER_PLATFORMS": "slack", "PLAYCALLER_INTAKE_STREAM_BATCH": "50"}
    front = ServeProcess(
        REDIS_URL,
        namespace,
        clean_env(**common, PLAYCALLER_INTAKE_SECRET=SECRET, PLAYCALLER_INTAKE_STREAM="accept"),
        tmp_path / "front",
    )
    worker = ServeProcess(REDIS_URL, namespace, clean_env(**common), tmp_path / "worker")
    idle = ServeProcess(
        REDIS_URL,
        namespace,
        clean_env(**common, PLAYCALLER_INTAKE_STREAM="off"),
        tmp_path / "idle",
    )
    processes = (front, worker, idle)
    await asyncio.gather(*(p.start() for p in processes))
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    store = open_store(REDIS_URL, namespace=namespace)
    await store.open()
    try:
        async with aiohttp.ClientSession() as http:
            for number in range(REQUESTS):
                answer = await post(http, front.url, batch(number))
                assert answer is not None and answer["stored"] == PER_REQUEST
            # The worker and the idle process have no /intake of their own.
            assert await post(http, worker.url, batch(0)) is None
            assert await post(http, idle.url, batch(0)) is None
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            state = await store.intake_state(GROUP)  # type: ignore[attr-defined]
            if state.entries == 0 and state.pending == 0:
                break
            assert time.monotonic() < deadline, f"nothing admitted what the front took: {state}"
            await asyncio.sleep(0.2)
        total = REQUESTS * PER_REQUEST
        assert await store.count_tagged(KIND, "state:open") == total
        assert await admitted_by(worker) == total
        assert await admitted_by(front) == 0
        assert await admitted_by(idle) == 0
        consumers = await client.xinfo_consumers("{" + namespace + "}:intake", GROUP)
        assert worker.process is not None
        assert [str(c["name"]).split(":")[1] for c in consumers] == [str(worker.process.pid)]
        counts = await store.counts(window.ARRIVALS)
        spokes = {k: v for k, v in counts.items() if not k.startswith(window.ARRIVALS + "topic.")}
        assert sum(spokes.values()) == total
    finally:
        await asyncio.gather(*(p.stop() for p in processes))
        await client.aclose()
        await store.close()
