"""Slack ack latency: how fast ``POST /slack/events`` answers under load.

Slack wants every slash command and interaction acknowledged within 3 seconds.
Playcaller acknowledges first and works after (store writes, Web API calls),
so the ack must not wait for that work, even when the Web API is slow. This
benchmark measures it, and measures a bare Bolt ``AsyncApp`` whose listeners
only ``await ack()`` in the same run, so Playcaller's overhead over the
framework is a ratio.

    uv run python bench/slack_ack.py                   # 200 req/s for 20 s per server
    uv run python bench/slack_ack.py --rate 100 --seconds 10 --json
    uv run python bench/slack_ack.py --profile /tmp/ack.prof   # cProfile of the bot process

Processes (all spawned, all on 127.0.0.1):

* a fake Slack Web API (``tests/fakes/slack_api/``) whose every answer takes
  ``--api-delay`` seconds (default 2 s), seeded with the test users;
* the server under test, one at a time, each in its own process with its own
  event loop: Playcaller's ``SlackPlatform`` on a temporary SQLite store (or,
  with ``--store redis``, a fresh namespace on ``REDIS_URL``), which writes
  every request to its inbox before acknowledging it
  (``SystemClock``, the repository's ``playcaller.yaml``), then the bare Bolt
  app; both mounted on ``web.AppRunner`` + ``TCPSite`` on a random port;
* this process: the load generator.

Before the load, Playcaller's channel ``C0CARE`` is linked to spoke ``care``
with a signed ``/playcaller link care`` from ``U0ADA`` (the benchmark waits
for the link to be stored) and ``--mentions`` mentions are admitted through
``Runtime.ingest``, so the clicks have cards to claim. The outbox sender and
the scheduler do not run (cards are never posted; the clicks carry the button
values the cards would carry).

The load is open loop: request ``i`` is sent at ``start + i / rate`` whatever
the answers so far, alternating a ``/triage`` slash command and a Claim click
(``triage.claim#0`` on mention ``i/2 mod --mentions``), from users sam, alex
and maria in turn, each signed just before it is sent. A request's ack time
runs from its scheduled send time to the end of the HTTP response, so a late
generator counts against the server, never for it (the generator's own lag
is reported). ``--warmup`` seconds at the same rate run first and are left
out. After the load, the server process finishes its acknowledged work (the
Web API answers take ``--api-delay``) before it is closed; what is still
running after ``--drain-timeout`` seconds is cancelled and counted.

Besides the percentiles, each server reports what explains them: its CPU use,
how late its event loop wakes a 10 ms sleeper, its full garbage collections
(count, longest pause), how many acknowledged requests were still being worked
on when the load ended, and how much CPU the fake, the generator and other
processes on the host used (on a shared machine, a busy neighbour shows up
there). ``--samples`` appends every request to a CSV; ``--gc-freeze`` is an
experiment (``gc.freeze()`` in the servers after start-up). The exit status is
1 when Playcaller misses the target (p99 under 100 ms, no errors).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bot.app import GC_THRESHOLDS

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make bot/ and tests/ importable
    sys.path.insert(0, str(ROOT))

SPAWN = multiprocessing.get_context("spawn")
CONFIG = ROOT / "playcaller.yaml"
SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
CARE = "C0CARE"
PEOPLE = {
    "U0SAM": ("sam", "sam@example.com"),
    "U0ALEX": ("alex", "alex@example.com"),
    "U0MARIA": ("maria", "maria@example.com"),
    "U0JO": ("jo", "jo@example.com"),
    "U0ADA": ("ada", "ada@example.com"),
    "U0STRANGER": ("stranger", "stranger@elsewhere.example"),
}
CLICKERS = (("U0SAM", "sam"), ("U0ALEX", "alex"), ("U0MARIA", "maria"))
KINDS = ("command", "interaction")
SERVERS = ("playcaller", "bare")
TARGET_P99_MS = 100.0
SETUP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 10.0


REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


async def _drop_namespace(namespace: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=f"{{{namespace}}}*", count=500):
            await client.delete(key)
    finally:
        await client.aclose()


def _mention_key(n: int) -> str:
    return f"x:ack-{n:04d}"


# -- child processes: shared plumbing ---------------------------------------------


class _Tally(logging.Handler):
    """Counts the warnings and errors a child process logs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _child_logging() -> _Tally:
    logging.basicConfig(
        level=logging.WARNING,
        format="[%(processName)s] %(levelname)s %(name)s: %(message)s",
    )
    tally = _Tally()
    logging.getLogger().addHandler(tally)
    return tally


def _child(conn: Connection, main: Any, *args: Any) -> None:
    """Run ``main(conn, *args)`` in a fresh event loop; report a crash to the parent."""
    try:
        asyncio.run(main(conn, *args))
    except BaseException:
        with contextlib.suppress(Exception):
            conn.send(("error", traceback.format_exc()))
        raise


async def _next_command(conn: Connection) -> tuple[Any, ...]:
    try:
        message: tuple[Any, ...] = await asyncio.to_thread(conn.recv)
    except (EOFError, OSError):
        return ("stop",)  # the parent went away
    return message


# -- the fake Slack Web API ----------------------------------------------------------


async def _fake_main(conn: Connection, delay: float) -> None:
    from tests.fakes.slack_api import FakeSlack

    _child_logging()
    fake = FakeSlack(bot_token=BOT_TOKEN)
    await fake.start()
    try:
        for user_id, (name, email) in PEOPLE.items():
            fake.add_user(user_id, name, email)
        fake.delay(None, delay)
        conn.send(("ready", fake.api_url, os.getpid()))
        while (await _next_command(conn))[0] == "cpu":
            conn.send(("cpu", time.process_time()))
        conn.send(("stopped", dict(Counter(call.method for call in fake.calls))))
    finally:
        await fake.close()


def fake_process(conn: Connection, delay: float) -> None:
    _child(conn, _fake_main, delay)


# -- the servers under test ------------------------------------------------------------


@dataclass
class _Served:
    """A server under test, as its process runs it."""

    port: int
    idle: Callable[[], Awaitable[None]]  # wait for acknowledged work
    inflight: Callable[[], int]  # acknowledged requests still being worked on
    cancel: Callable[[], int]  # cancel that work; how many were cancelled
    stats: Callable[[], Awaitable[dict[str, Any]]]
    close: Callable[[], Awaitable[None]]


async def _site(app: Any) -> tuple[Any, int]:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


async def _post(port: int, request: tuple[bytes, dict[str, str]]) -> tuple[int, str]:
    import aiohttp

    body, headers = request
    url = f"http://127.0.0.1:{port}/slack/events"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def _serve_playcaller(api_url: str, mentions: int, tmp: Path, backend: str) -> _Served:
    from aiohttp import web

    from bot.app import load, open_runtime
    from bot.core.clock import SystemClock
    from bot.core.directory import spoke_for_channel
    from bot.intake.feed import parse_mention
    from bot.operations import request_middleware
    from bot.platforms.slack.platform import SlackPlatform, SlackSettings
    from bot.store import open_store
    from handlers.triage.records import KIND
    from tests.fakes import slack_requests as slack

    loaded = load(str(CONFIG))
    namespace = f"bench-{uuid.uuid4().hex}"
    url = f"sqlite:///{tmp / 'ack.db'}" if backend == "sqlite" else REDIS_URL
    runtime = await open_runtime(
        loaded,
        store=open_store(url, namespace=namespace),
        clock=SystemClock(),
        platforms=["slack"],
    )
    slack_platform = SlackPlatform(
        SlackSettings(bot_token=BOT_TOKEN, signing_secret=SECRET, api_url=api_url), runtime
    )
    # As `serve` does: a request id and the ack-time histogram around every request.
    app = web.Application(
        middlewares=[request_middleware(runtime.metrics, {"/slack/events": "slack"})]
    )
    _time_ack_path(slack_platform)
    slack_platform.mount(app)
    await slack_platform.start()  # as `serve` does: one shared Web API session
    runner, port = await _site(app)
    store, settings = runtime.store, runtime.settings

    # Link the care channel the way an admin would, and wait for the stored link.
    # (The first request also pays Bolt's one-off auth.test, at the fake's delay.)
    status, text = await _post(
        port,
        slack.slash_command(
            SECRET,
            command="/playcaller",
            text="link care",
            user_id="U0ADA",
            user_name="ada",
            channel_id=CARE,
            channel_name="care",
            response_url=_hook_url(api_url, "commands"),
        ),
    )
    if status != 200:
        raise RuntimeError(f"/playcaller link care answered {status}: {text[:200]}")
    deadline = time.monotonic() + SETUP_TIMEOUT
    while await spoke_for_channel(store, settings, "slack", CARE) != "care":
        if time.monotonic() > deadline:
            raise RuntimeError("the channel link was not stored")
        await asyncio.sleep(0.05)
    await slack_platform.idle()

    for n in range(mentions):
        admitted = await runtime.ingest(
            parse_mention(
                {
                    "network": "x",
                    "id": f"ack-{n:04d}",
                    "text": f"@acme my order {n} arrived broken and support is useless.",
                    "created_at": "2026-03-02T08:41:00Z",
                    "author": {"handle": f"customer{n}", "followers": 120},
                }
            )
        )
        if not admitted:
            raise RuntimeError(f"mention {n} was not admitted")
    queued = len(await store.find(KIND, "queue:care:open", limit=mentions + 1))
    if queued != mentions:
        raise RuntimeError(f"{queued} of {mentions} mentions are open in care")

    async def stats() -> dict[str, Any]:
        return {
            "open_mentions": len(await store.find(KIND, "queue:care:open", limit=mentions + 1)),
            "outbox_slack": await store.outbox_size("slack"),
            # Stored requests not yet handled (0 once the work after the ack is done).
            "inbox_waiting": await store.inbox_size("slack"),
        }

    async def close() -> None:
        await slack_platform.stop()
        await runner.cleanup()
        await store.close()
        if backend == "redis":
            await _drop_namespace(namespace)

    # The platform's tracked tasks (private: read here for the report only).
    inflight: set[asyncio.Task[object]] = slack_platform._inflight

    def cancel() -> int:
        for task in inflight:
            task.cancel()
        return len(inflight)

    return _Served(port, slack_platform.idle, lambda: len(inflight), cancel, stats, close)


# Where a Playcaller ack spends its time inside the server (ms per request, for
# the measured load only): before the inbox write (reading, verifying, parsing,
# Bolt's middleware), the inbox write itself (including any wait for the store),
# and after it (the ack and the response).
_ACK_PARTS: dict[str, list[float]] = {"before_admit": [], "admit": [], "after_admit": []}


def _time_ack_path(platform: Any) -> None:
    """Wrap the platform's request handler and its inbox admission with timers
    (the listener runs inside the request's task, so the task pairs them)."""
    handle_http, admit = platform.handle_http, platform.inbox.admit
    marks: dict[int, tuple[float, float]] = {}

    async def timed_handle(request: Any) -> Any:
        started = time.perf_counter()
        task = id(asyncio.current_task())
        try:
            return await handle_http(request)
        finally:
            done = time.perf_counter()
            admitted = marks.pop(task, None)
            if admitted is not None:
                admit_start, admit_end = admitted
                _ACK_PARTS["before_admit"].append((admit_start - started) * 1000)
                _ACK_PARTS["admit"].append((admit_end - admit_start) * 1000)
                _ACK_PARTS["after_admit"].append((done - admit_end) * 1000)

    async def timed_admit(key: Any, body: Any) -> Any:
        started = time.perf_counter()
        try:
            return await admit(key, body)
        finally:
            marks[id(asyncio.current_task())] = (started, time.perf_counter())

    platform.handle_http = timed_handle
    platform.inbox.admit = timed_admit


def _ack_parts() -> dict[str, float]:
    """Percentiles of the parts recorded since the last call (which forgets them)."""
    parts: dict[str, float] = {}
    for name, values in _ACK_PARTS.items():
        ordered = sorted(values)
        parts[f"{name}_p50_ms"] = percentile(ordered, 50)
        parts[f"{name}_p99_ms"] = percentile(ordered, 99)
        parts[f"{name}_max_ms"] = ordered[-1] if ordered else math.nan
        values.clear()
    return parts


async def _serve_bare(api_url: str) -> _Served:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from tests.fakes import slack_requests as slack

    # The token goes in the client only (as Playcaller does): passing it to
    # AsyncApp as well changes nothing but a logged warning.
    bolt = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        request_verification_enabled=True,
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    # The same matchers as Playcaller's listeners.
    bolt.command(re.compile(r"^/.+"))(only_ack)
    bolt.action(re.compile(r".+"))(only_ack)

    async def handle(request: web.Request) -> web.Response:
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    runner, port = await _site(app)
    # Pay Bolt's one-off auth.test before the load, as Playcaller's setup does.
    status, text = await _post(
        port,
        slack.slash_command(
            SECRET,
            command="/triage",
            user_id="U0SAM",
            user_name="sam",
            channel_id=CARE,
            channel_name="care",
            response_url=_hook_url(api_url, "commands"),
        ),
    )
    if status != 200:
        raise RuntimeError(f"the bare app answered {status}: {text[:200]}")

    async def idle() -> None:
        return None

    async def stats() -> dict[str, Any]:
        return {}

    async def close() -> None:
        await runner.cleanup()

    return _Served(port, idle, lambda: 0, lambda: 0, stats, close)


class _LoopLag:
    """How late the server's event loop wakes a 10 ms sleeper: time it spends
    running other callbacks, i.e. what an arriving request may wait for."""

    TICK = 0.01

    def __init__(self) -> None:
        self._task: asyncio.Task[list[float]] | None = None
        self._running = False

    def start(self) -> None:
        self._running = True
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> list[float]:
        loop = asyncio.get_running_loop()
        lags: list[float] = []
        while self._running:
            before = loop.time()
            await asyncio.sleep(self.TICK)
            lags.append((loop.time() - before - self.TICK) * 1000)
        return sorted(lags)

    async def stop(self) -> list[float]:
        self._running = False
        return await self._task if self._task is not None else []


class _GcPauses:
    """How long the garbage collector stops the server, by generation."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0
        self._on = False

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._on:
            self.pauses[info["generation"]].append((time.perf_counter() - self._started) * 1000)

    def start(self) -> None:
        import gc

        self.pauses = {0: [], 1: [], 2: []}
        self._on = True
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def stop(self) -> dict[str, Any]:
        self._on = False
        full = sorted(self.pauses[2])
        young = sorted(self.pauses[0] + self.pauses[1])
        return {
            "gc_full_count": len(full),
            "gc_full_max_ms": full[-1] if full else 0.0,
            "gc_full_total_ms": sum(full),
            "gc_young_count": len(young),
            "gc_young_max_ms": young[-1] if young else 0.0,
            "gc_young_total_ms": sum(young),
        }


async def _drain(served: _Served, timeout: float) -> int:  # noqa: ASYNC109
    """Wait for acknowledged work; after ``timeout`` cancel what is left.
    Returns how many tasks were cancelled."""
    # Not wait_for: cancelling the waiter would cancel the work without counting it.
    waiter = asyncio.ensure_future(served.idle())
    done, _ = await asyncio.wait({waiter}, timeout=timeout)
    cancelled = 0 if done else served.cancel()
    await waiter
    return cancelled


async def _server_main(
    conn: Connection,
    kind: str,
    api_url: str,
    mentions: int,
    profile: str | None,
    drain_timeout: float,
    gc_freeze: bool,
    backend: str,
) -> None:
    tally = _child_logging()
    tmp = Path(tempfile.mkdtemp(prefix="playcaller-ack-"))
    served: _Served | None = None
    try:
        if kind == "playcaller":
            served = await _serve_playcaller(api_url, mentions, tmp, backend)
        else:
            served = await _serve_bare(api_url)
        if gc_freeze:  # experiment: keep start-up objects out of every full collection
            import gc

            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        conn.send(("ready", served.port, os.getpid()))
        profiler: Any = None
        lag = _LoopLag()
        gc_pauses = _GcPauses()
        while True:
            command = await _next_command(conn)
            if command[0] == "begin":
                if profile:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                _ack_parts()  # forget the warm-up's
                lag.start()
                gc_pauses.start()
                conn.send(("begun", time.process_time()))
            elif command[0] == "end":
                cpu_end = time.process_time()
                lags = await lag.stop()
                collected = gc_pauses.stop()
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(profile)
                    profiler = None
                started = time.monotonic()
                pending = served.inflight()
                cancelled = await _drain(served, drain_timeout)
                drained = time.monotonic() - started
                details = {
                    "cpu_end": cpu_end,
                    "loop_lag_p99_ms": percentile(lags, 99),
                    "loop_lag_max_ms": lags[-1] if lags else math.nan,
                    "inflight_at_end": pending,
                    **collected,
                    "drain_s": drained,
                    "drain_cancelled": cancelled,
                    "cpu_drain_s": time.process_time() - cpu_end,
                    "log_warnings": tally.count,
                    **(_ack_parts() if kind == "playcaller" else {}),
                    **await served.stats(),
                }
                conn.send(("ended", details))
            elif command[0] == "stop":
                break
    finally:
        if served is not None:
            await served.close()
        shutil.rmtree(tmp, ignore_errors=True)
    conn.send(("stopped",))


def server_process(
    conn: Connection,
    kind: str,
    api_url: str,
    mentions: int,
    profile: str | None,
    drain_timeout: float,
    gc_freeze: bool,
    backend: str,
) -> None:
    _child(conn, _server_main, kind, api_url, mentions, profile, drain_timeout, gc_freeze, backend)


# -- talking to the children --------------------------------------------------------


class Child:
    """A spawned child process and its end of the pipe."""

    def __init__(self, name: str, target: Any, *args: Any) -> None:
        self.conn, theirs = SPAWN.Pipe()
        self.process = SPAWN.Process(target=target, args=(theirs, *args), name=name, daemon=True)
        self.process.start()
        theirs.close()

    async def expect(self, tag: str, timeout: float = SETUP_TIMEOUT) -> tuple[Any, ...]:  # noqa: ASYNC109
        def receive() -> tuple[Any, ...]:
            if not self.conn.poll(timeout):
                raise TimeoutError(f"{self.process.name}: no {tag!r} within {timeout:.0f} s")
            message: tuple[Any, ...] = self.conn.recv()
            return message

        message = await asyncio.to_thread(receive)
        if message[0] == "error":
            raise RuntimeError(f"{self.process.name} failed:\n{message[1]}")
        if message[0] != tag:
            raise RuntimeError(f"{self.process.name}: expected {tag!r}, got {message[0]!r}")
        return message

    def send(self, *message: Any) -> None:
        self.conn.send(message)

    def finish(self) -> None:
        """Wait for the process to exit; terminate it if it does not."""
        self.process.join(timeout=15)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)
        self.conn.close()


# -- the load ---------------------------------------------------------------------------


def _hook_url(api_url: str, kind: str) -> str:
    """A response_url on the fake (nothing may leave loopback)."""
    base = api_url.removesuffix("/").removesuffix("/api")
    return f"{base}/hooks/{kind}/T0ACME/1/fake00000001"


def build_request(i: int, mentions: int, api_url: str) -> tuple[str, tuple[bytes, dict[str, str]]]:
    """Request ``i`` of the load: even a /triage command, odd a Claim click; signed now."""
    from tests.fakes import slack_requests as slack

    user_id, user_name = CLICKERS[(i // 2) % len(CLICKERS)]
    if i % 2 == 0:
        return "command", slack.slash_command(
            SECRET,
            command="/triage",
            user_id=user_id,
            user_name=user_name,
            channel_id=CARE,
            channel_name="care",
            response_url=_hook_url(api_url, "commands"),
        )
    return "interaction", slack.block_action(
        SECRET,
        user_id=user_id,
        user_name=user_name,
        action_id="triage.claim#0",
        value=f"{_mention_key((i // 2) % mentions)}|1",
        channel_id=CARE,
        channel_name="care",
        message_ts=f"1767225600.{(i // 2) % mentions:06d}",
        button_text="Claim",
        style="primary",
        response_url=_hook_url(api_url, "actions"),
    )


@dataclass(frozen=True)
class Sample:
    kind: str
    at_s: float  # scheduled send, from the start of the load
    ack_s: float  # scheduled send -> response read
    lag_s: float  # scheduled send -> actually sent
    error: str | None


async def run_load(
    port: int, rate: float, seconds: float, mentions: int, api_url: str
) -> list[Sample]:
    """Open loop: request ``i`` goes out at ``start + i / rate``."""
    import aiohttp

    url = f"http://127.0.0.1:{port}/slack/events"
    loop = asyncio.get_running_loop()
    count = max(1, round(rate * seconds))
    samples: list[Sample] = []
    connector = aiohttp.TCPConnector(limit=0)  # no client-side queueing
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one(i: int, due: float) -> None:
            kind, (body, headers) = build_request(i, mentions, api_url)
            sent = loop.time()
            error: str | None = None
            try:
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        error = f"HTTP {response.status}"
            except TimeoutError:
                error = "timeout"
            except aiohttp.ClientError as failure:
                error = type(failure).__name__
            samples.append(Sample(kind, due - start, loop.time() - due, sent - due, error))

        tasks: list[asyncio.Task[None]] = []
        start = loop.time() + 0.05
        for i in range(count):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
    return samples


def write_samples(path: str, server: str, samples: Sequence[Sample]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        for sample in sorted(samples, key=lambda s: s.at_s):
            out.write(
                f"{server},{sample.kind},{sample.at_s:.4f},{sample.ack_s * 1000:.2f},"
                f"{sample.lag_s * 1000:.2f},{sample.error or ''}\n"
            )


# -- statistics ----------------------------------------------------------------------


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (``q`` in 0..100)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(samples: Sequence[Sample]) -> dict[str, Any]:
    """Ack percentiles in ms over the successful requests, and the errors."""
    ok = sorted(s.ack_s * 1000 for s in samples if s.error is None)
    lags = sorted(s.lag_s * 1000 for s in samples)
    return {
        "requests": len(samples),
        "errors": sum(s.error is not None for s in samples),
        "error_kinds": dict(Counter(s.error for s in samples if s.error is not None)),
        "p50_ms": percentile(ok, 50),
        "p95_ms": percentile(ok, 95),
        "p99_ms": percentile(ok, 99),
        "p999_ms": percentile(ok, 99.9),
        "max_ms": ok[-1] if ok else math.nan,
        "over_3s": sum(v > 3000 for v in ok),
        "send_lag_p99_ms": percentile(lags, 99),
        "send_lag_max_ms": lags[-1] if lags else math.nan,
    }


def _cpu_ticks() -> tuple[int, int]:
    """(total, idle incl. iowait) jiffies over all CPUs, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    return sum(fields[:8]), fields[3] + fields[4]


def _host_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How busy all the host's CPUs were between two readings (everything counted)."""
    total, idle = after[0] - before[0], after[1] - before[1]
    return 100 * (total - idle) / total if total > 0 else math.nan


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 and not math.isnan(a) and not math.isnan(b) else math.nan


def _git(*args: str) -> str:
    import subprocess

    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    import aiohttp
    import slack_bolt
    import slack_sdk

    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_files": len(_git("status", "--porcelain").splitlines()),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "python": platform.python_version(),
        "slack_bolt": slack_bolt.version.__version__,
        "slack_sdk": slack_sdk.version.__version__,
        "aiohttp": aiohttp.__version__,
        "platform": platform.platform(),
    }


# -- the run --------------------------------------------------------------------------


async def measure_server(
    kind: str, api_url: str, fake: Child, args: argparse.Namespace, log: Any
) -> dict[str, Any]:
    profile = args.profile if kind == "playcaller" else None
    child = Child(
        f"{kind}-server",
        server_process,
        kind,
        api_url,
        args.mentions,
        profile,
        args.drain_timeout,
        args.gc_freeze,
        args.store,
    )
    try:
        _, port, pid = await child.expect("ready")
        log(f"{kind}: serving on 127.0.0.1:{port} (pid {pid})")
        if args.warmup > 0:
            warm = await run_load(port, args.rate, args.warmup, args.mentions, api_url)
            log(f"{kind}: warm-up {len(warm)} requests, {summarize(warm)['errors']} errors")
        child.send("begin")
        _, cpu_begin = await child.expect("begun")
        fake.send("cpu")
        _, fake_begin = await fake.expect("cpu")
        host = _cpu_ticks()
        started = time.monotonic()
        own_begin = time.process_time()
        samples = await run_load(port, args.rate, args.seconds, args.mentions, api_url)
        own_end = time.process_time()
        wall = time.monotonic() - started
        host_busy = _host_busy(host, _cpu_ticks())
        fake.send("cpu")
        _, fake_end = await fake.expect("cpu")
        child.send("end")
        _, details = await child.expect("ended", args.drain_timeout + 30)
        child.send("stop")
        await child.expect("stopped")
    finally:
        child.finish()
    result: dict[str, Any] = {k: summarize([s for s in samples if s.kind == k]) for k in KINDS}
    if args.samples:
        write_samples(args.samples, kind, samples)  # after the load: blocking is fine
    result["all"] = summarize(samples)
    result["server"] = {
        "pid": pid,
        "load_wall_s": wall,
        "achieved_rate": len(samples) / wall if wall > 0 else math.nan,
        "cpu_load_s": details.pop("cpu_end") - cpu_begin,
        "host_busy_pct": host_busy,
        "loadavg_1m_after": os.getloadavg()[0],
        **details,
    }
    info = result["server"]
    info["cpu_load_pct"] = 100 * info["cpu_load_s"] / wall
    info["fake_cpu_pct"] = 100 * (fake_end - fake_begin) / wall
    info["generator_cpu_pct"] = 100 * (own_end - own_begin) / wall
    # What the rest of the host used (other work on a shared machine), in % of one CPU.
    info["others_cpu_pct"] = max(
        0.0,
        host_busy * len(os.sched_getaffinity(0))
        - info["cpu_load_pct"]
        - info["fake_cpu_pct"]
        - info["generator_cpu_pct"],
    )
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    fake = Child("fake-slack", fake_process, args.api_delay)
    try:
        _, api_url, fake_pid = await fake.expect("ready")
        log(f"fake Slack Web API at {api_url} (pid {fake_pid}), every answer {args.api_delay} s")
        servers = {}
        for kind in args.order:
            servers[kind] = await measure_server(kind, api_url, fake, args, log)
        fake.send("stop")
        _, fake_calls = await fake.expect("stopped")
    finally:
        fake.finish()
    ratios = {
        part: {
            q: ratio(servers["playcaller"][part][q], servers["bare"][part][q])
            for q in ("p50_ms", "p99_ms")
        }
        for part in (*KINDS, "all")
    }
    worst_p99 = max(servers["playcaller"][k]["p99_ms"] for k in KINDS)
    return {
        "machine": machine(),
        "settings": {
            "rate": args.rate,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "mentions": args.mentions,
            "api_delay_s": args.api_delay,
            "drain_timeout_s": args.drain_timeout,
            "gc_freeze": args.gc_freeze,
            "store": args.store,
            "order": list(args.order),
            "processes": "fake Web API, each server and the load generator in separate processes",
        },
        "servers": servers,
        "ratio_playcaller_over_bare": ratios,
        "fake_calls": fake_calls,
        "target": {
            "p99_ms": TARGET_P99_MS,
            "playcaller_worst_p99_ms": worst_p99,
            "met": worst_p99 < TARGET_P99_MS and servers["playcaller"]["all"]["errors"] == 0,
        },
    }


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}"


def report(result: dict[str, Any]) -> str:
    m, s = result["machine"], result["settings"]
    lines = [
        f"Slack ack latency, {s['rate']:g} req/s for {s['seconds']:g} s per server "
        f"(half /triage, half Claim clicks), Web API answers after {s['api_delay_s']:g} s, "
        f"Playcaller on {s['store']} (every request stored in its inbox before the ack)"
        + (" [experiment: gc.freeze() after start-up]" if s["gc_freeze"] else ""),
        f"{m['nproc']} CPUs ({m['cpu_model']}), Python {m['python']}, "
        f"slack_bolt {m['slack_bolt']}, aiohttp {m['aiohttp']}; commit {m['commit']}"
        + (f" + {m['uncommitted_files']} uncommitted files" if m["uncommitted_files"] else ""),
        "",
        "| server | kind | requests | errors | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, server in result["servers"].items():
        for part in (*KINDS, "all"):
            row = server[part]
            lines.append(
                f"| {name} | {part} | {row['requests']} | {row['errors']} | "
                f"{_ms(row['p50_ms'])} | {_ms(row['p95_ms'])} | {_ms(row['p99_ms'])} | "
                f"{_ms(row['p999_ms'])} | "
                f"{_ms(row['max_ms'])} |"
            )
    lines += ["", "| Playcaller / bare | p50 | p99 |", "|---|---:|---:|"]
    for part, values in result["ratio_playcaller_over_bare"].items():
        lines.append(f"| {part} | {values['p50_ms']:.2f}x | {values['p99_ms']:.2f}x |")
    lines.append("")
    for name, server in result["servers"].items():
        info = server["server"]
        extra = ""
        if "open_mentions" in info:
            extra = (
                f", {info['open_mentions']} of {s['mentions']} mentions still open, "
                f"{info['outbox_slack']} outbox items, {info['inbox_waiting']} requests "
                "left in the inbox"
            )
        cancelled = info["drain_cancelled"]
        finished = (
            f"{cancelled} still unfinished {info['drain_s']:.0f} s after it were cancelled"
            if cancelled
            else f"acknowledged work finished {info['drain_s']:.1f} s after it"
        )
        lines.append(
            f"{name}: {info['achieved_rate']:.1f} req/s sent; server CPU "
            f"{info['cpu_load_pct']:.0f}% of a core during the load, event-loop lag p99 "
            f"{_ms(info['loop_lag_p99_ms'])} ms (max {_ms(info['loop_lag_max_ms'])}), "
            f"{info['gc_full_count']} full GCs (longest {info['gc_full_max_ms']:.0f} ms); "
            f"{info['inflight_at_end']} requests still being worked on at the end of the "
            f"load, {finished}{extra}; {info['log_warnings']} log warnings; fake Web API "
            f"{info['fake_cpu_pct']:.0f}% and load generator {info['generator_cpu_pct']:.0f}% "
            f"of a core, other processes on the host {info['others_cpu_pct']:.0f}% "
            f"(load average {info['loadavg_1m_after']:.2f} after the load); "
            f"generator lag p99 {_ms(server['all']['send_lag_p99_ms'])} ms"
        )
        if "admit_p99_ms" in info:
            lines.append(
                f"{name}: inside the server, p50 / p99 / max ms: before the inbox write "
                + ", the inbox write ".join(
                    " / ".join(_ms(info[f"{part}_{q}_ms"]) for q in ("p50", "p99", "max"))
                    for part in ("before_admit", "admit")
                )
                + ", after it "
                + " / ".join(_ms(info[f"after_admit_{q}_ms"]) for q in ("p50", "p99", "max"))
            )
    calls = result["fake_calls"]
    lines.append("Web API calls: " + ", ".join(f"{k} {v}" for k, v in sorted(calls.items())))
    target = result["target"]
    lines.append(
        f"Target p99 < {target['p99_ms']:g} ms: "
        f"{'met' if target['met'] else 'NOT met'} "
        f"(worst Playcaller p99 {_ms(target['playcaller_worst_p99_ms'])} ms)"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per server")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--mentions", type=int, default=200, help="mentions to click on")
    parser.add_argument("--api-delay", type=float, default=2.0, help="Web API answer delay (s)")
    parser.add_argument(
        "--order",
        type=lambda text: tuple(text.split(",")),
        default=SERVERS,
        help="which server runs first (default: playcaller,bare)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=90.0,
        help="seconds to let acknowledged work finish after the load before cancelling it",
    )
    parser.add_argument("--profile", help="write a cProfile of the Playcaller server here")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="experiment: gc.freeze() in both server processes after start-up",
    )
    parser.add_argument(
        "--samples",
        help="append every measured request to this CSV "
        "(server,kind,at_s,ack_ms,send_lag_ms,error)",
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "redis"),
        default="sqlite",
        help="Playcaller's store, which every request is written to before its ack "
        "(redis: REDIS_URL, a fresh namespace deleted afterwards)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if sorted(args.order) != sorted(SERVERS):
        parser.error("--order takes playcaller,bare or bare,playcaller")
    if args.rate <= 0 or args.seconds <= 0 or args.mentions <= 0 or args.warmup < 0:
        parser.error("--rate, --seconds and --mentions must be positive")
    if args.rate * (args.seconds + args.warmup) > 100_000:
        parser.error("keep it under 100,000 requests per server")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(report(result))
    return 0 if result["target"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
