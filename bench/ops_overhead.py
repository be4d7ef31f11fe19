"""CPU cost of the operations layer per request, per platform call and per log line.

    uv run python -m bench.ops_overhead              # 200,000 rounds of each
    uv run python -m bench.ops_overhead --rounds 50000

Each figure is process CPU time (``time.process_time``) per operation, with a
baseline measured in the same run: a request through ``serve``'s request
middleware (new request id, route look-up, ack-time histogram) against the
same handler called directly; a platform call's counter increment (what
``MeteredWebClient`` and the metered Bot Connector clients add to each call); a log line in
``PLAYCALLER_LOG_FORMAT=json`` against the text format. CPU time, unlike wall
time, hardly depends on what else the machine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import platform
import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot import logs
from bot.metrics import Metrics
from bot.operations import request_middleware


def _cpu_us(rounds: int, run: Callable[[], None]) -> float:
    started = time.process_time()
    run()
    return (time.process_time() - started) / rounds * 1e6


async def _requests(rounds: int) -> tuple[float, float]:
    """(bare handler µs, handler behind the request middleware µs) per request."""
    app = web.Application()

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=200)

    app.router.add_post("/slack/events", handler)
    metrics = Metrics()
    middleware = request_middleware(metrics, {"/slack/events": "slack"})
    request = make_mocked_request("POST", "/slack/events", app=app)
    match = await app.router.resolve(request)
    request._match_info = match  # what aiohttp's request handling sets
    match.add_app(app)

    async def loop(call: Callable[[], Awaitable[web.StreamResponse]]) -> float:
        started = time.process_time()
        for _ in range(rounds):
            await call()
        return (time.process_time() - started) / rounds * 1e6

    bare = await loop(lambda: handler(request))
    wrapped = await loop(lambda: middleware(request, handler))
    timed = metrics.registry.get_sample_value("playcaller_ack_seconds_count", {"platform": "slack"})
    assert timed == rounds, f"the middleware timed {timed} of {rounds} requests"
    return bare, wrapped


def _counter(rounds: int) -> float:
    calls = Metrics().platform_calls

    def run() -> None:
        for _ in range(rounds):
            calls.labels(platform="slack", method="chat.postMessage", status="ok").inc()

    return _cpu_us(rounds, run)


def _log_line(rounds: int, fmt: str) -> float:
    logger = logging.getLogger(f"bench.ops.{fmt}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(logs.handler(fmt, io.StringIO()))
    logs.bind_request_id("Ev0BENCH")

    def run() -> None:
        for n in range(rounds):
            logger.info("delivered %s to %s", n, "C0CARE")

    try:
        return _cpu_us(rounds, run)
    finally:
        logger.handlers.clear()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200_000)
    args = parser.parse_args(argv)
    rounds = args.rounds
    bare, wrapped = asyncio.run(_requests(rounds))
    counter = _counter(rounds)
    text = _log_line(rounds, "text")
    json_line = _log_line(rounds, "json")
    print(f"ops overhead, {rounds} rounds each; Python {platform.python_version()}")
    print("| what | baseline µs | with ops µs | added µs | ratio |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| request (bare handler / behind the request middleware) | {bare:.2f} | "
        f"{wrapped:.2f} | {wrapped - bare:.2f} | {wrapped / bare:.2f}x |"
    )
    print(f"| platform call counter increment | - | {counter:.2f} | {counter:.2f} | - |")
    print(
        f"| log line (text / json) | {text:.2f} | {json_line:.2f} | "
        f"{json_line - text:.2f} | {json_line / text:.2f}x |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
