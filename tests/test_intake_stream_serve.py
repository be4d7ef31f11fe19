"""Two ``serve`` processes on one Redis intake stream, one killed with SIGKILL.

Signed ``POST /intake`` batches go to both processes over loopback; both
accept into the stream and both admit from it (each admits some). While the
victim holds entries it read and has not acknowledged, it is killed with
SIGKILL; requests it never answered are re-sent to the survivor, as a
listening tool retries. The survivor takes the victim's pending entries with
``XAUTOCLAIM`` once they have been idle for the (small) min-idle, and in the
end the store holds every accepted mention exactly once, with one card each
and one arrival in the counters surge mode and spike alerts read.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from bot.intake.stream import GROUP
from bot.signing import sign
from bot.store import open_store
from bot.store.redis import RedisStore
from handlers.surge import window
from tests.conftest import REDIS_URL
from tests.serve_process import ServeProcess
from tests.test_intake_stream import mention_cards
from tests.test_serve_cli import clean_env

SECRET = "stream-serve-intake-secret"
REQUESTS = 60
PER_REQUEST = 20
SETTLE_TIMEOUT = 90.0
# Two cold starts of serve on a shared machine, the burst and the take-over.
pytestmark = pytest.mark.timeout(400)


@pytest.fixture
async def namespace(redis_namespace: str) -> str:
    return redis_namespace


def batch(number: int) -> bytes:
    lines = [
        {
            "network": "x",
            "id": f"k-{number}-{n}",
            "text": f"@acme flight {number}{n} cancelled again",
            "created_at": "2026-03-02T08:59:00Z",
            # High reach: a card of its own even once the spoke is in a surge.
            "author": {"handle": f"flyer{number}x{n}", "followers": 50_000},
        }
        for n in range(PER_REQUEST)
    ]
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


async def post(http: aiohttp.ClientSession, url: str, body: bytes) -> dict[str, Any] | None:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/x-ndjson",
        "X-Playcaller-Timestamp": str(timestamp),
        "X-Playcaller-Signature": sign(SECRET, timestamp, body),
    }
    try:
        async with http.post(f"{url}/intake", data=body, headers=headers) as response:
            if response.status != 200:
                return None
            answer: dict[str, Any] = await response.json()
            return answer
    except (aiohttp.ClientError, ConnectionError):
        return None  # the process died before answering


async def admitted_by(process: ServeProcess) -> float:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{process.url}/metrics") as response,
    ):
        text = await response.text()
    found = re.search(r"^playcaller_intake_stream_admitted_total ([0-9.e+]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def consumer_of(client: aioredis.Redis, stream: str, pid: int) -> dict[str, Any] | None:
    """The victim's consumer in the group (its name is host:pid:random)."""
    try:
        consumers = await client.xinfo_consumers(stream, GROUP)
    except aioredis.ResponseError:
        return None
    for consumer in consumers:
        if str(consumer["name"]).split(":")[1] == str(pid):
            return dict(consumer)
    return None


async def test_two_serve_processes_share_the_stream_and_survive_a_sigkill(
    namespace: str, tmp_path: Path
) -> None:
    env = clean_env(
        PLAYCALLER_INTAKE_SECRET=SECRET,
        # No Slack credentials: the cards wait in the outbox, where the test counts them.
        PLAYCALLER_PLATFORMS="slack",
        PLAYCALLER_INTAKE_STREAM_BATCH="20",
        PLAYCALLER_INTAKE_CLAIM_IDLE_SECONDS="2",
    )
    victim = ServeProcess(REDIS_URL, namespace, env, tmp_path / "victim")
    survivor = ServeProcess(REDIS_URL, namespace, env, tmp_path / "survivor")
    await asyncio.gather(victim.start(), survivor.start())
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    stream = "{" + namespace + "}:intake"
    store = open_store(REDIS_URL, namespace=namespace)
    await store.open()
    try:
        assert victim.process is not None
        pid = victim.process.pid
        stored: list[str] = []  # answered "stored" (never twice for one mention)
        accepted: set[str] = set()  # answered "stored" or "duplicate"
        killed = asyncio.Event()
        victim_admitted = 0.0
        pending_at_kill = 0

        async def killer() -> None:
            nonlocal victim_admitted, pending_at_kill
            # Kill once the victim has admitted some and holds a batch it has
            # read but not acknowledged.
            while True:
                consumer = await consumer_of(client, stream, pid)
                if consumer is not None and int(consumer["pending"]) > 0:
                    admitted = await admitted_by(victim)
                    if admitted > 0:
                        consumer = await consumer_of(client, stream, pid)
                        if consumer is not None and int(consumer["pending"]) > 0:
                            victim.kill()
                            killed.set()
                            victim_admitted = admitted
                            return
                await asyncio.sleep(0.01)

        async def sender(numbers: list[int], http: aiohttp.ClientSession) -> None:
            for number in numbers:
                target = victim if number % 2 and not killed.is_set() else survivor
                answer = await post(http, target.url, batch(number))
                if answer is None:  # unanswered: the tool retries elsewhere
                    answer = await post(http, survivor.url, batch(number))
                assert answer is not None
                assert answer["refused"] == 0
                for item in answer["items"]:
                    key = f"{item['network']}:{item['id']}"
                    accepted.add(key)
                    if item["status"] == "stored":
                        stored.append(key)

        watching = asyncio.create_task(killer())
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(sender(list(range(s, REQUESTS, 4)), http) for s in range(4)))
        await asyncio.wait_for(watching, timeout=SETTLE_TIMEOUT)
        await victim.wait()
        dead = await consumer_of(client, stream, pid)
        assert dead is not None
        pending_at_kill = int(dead["pending"])
        assert pending_at_kill > 0, "the kill came between batches: nothing to take over"
        assert victim_admitted > 0

        assert len(stored) == len(set(stored))
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            state = await store.intake_state(GROUP)  # type: ignore[attr-defined]
            if state.entries == 0 and state.pending == 0:
                break
            assert time.monotonic() < deadline, f"the stream did not drain: {state}"
            await asyncio.sleep(0.2)
        assert state.dead == 0
        assert await admitted_by(survivor) > 0
        expected = {f"x:k-{number}-{n}" for number in range(REQUESTS) for n in range(PER_REQUEST)}
        # Every request was answered by someone: a request the victim took
        # into the stream but never answered is "duplicate" when re-sent.
        assert accepted == expected
        assert set(stored) <= expected
        for key in sorted(expected):
            entries = await store.audit_log(f"mention:{key}")
            assert [e.action for e in entries if e.action == "mention.received"] == [
                "mention.received"
            ], key
        cards = await mention_cards(store)  # type: ignore[arg-type]
        assert sorted(cards) == sorted(f"mention:{key}" for key in expected)
        # The rate surge mode and spike alerts read counts each mention once,
        # also those the survivor admitted again after the kill.
        counts = await store.counts(window.ARRIVALS)
        topics = window.ARRIVALS + "topic."
        assert sum(v for k, v in counts.items() if not k.startswith(topics)) == len(expected)
        assert isinstance(store, RedisStore)
    finally:
        victim.kill()
        await survivor.stop()
        await victim.wait()
        await client.aclose()
        await store.close()
