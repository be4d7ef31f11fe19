"""Surge mode under a burst: 2,000 mentions in 60 s to one spoke, real time.

One process runs the bot as ``serve`` would (``Runtime`` on a real store, the
Slack platform's paced delivery, the outbox sender and the timer scheduler as
background loops) against the fake Slack Web API on loopback. A producer
admits the burst in one batch a second (about 33 mentions, as ``POST /intake``
would in production). Every 100th mention threatens to sue (legal risk, high
priority): those must still be posted singly, ahead of everything else.

Each backend runs twice in the same invocation: with surge mode (the sample
config) and, as the baseline, with surge mode off (threshold out of reach),
which is the bot before this feature: a card per mention.

Reported per run: Slack calls (posts to the spoke channel, updates), the
outbox backlog when the burst ends, the time from admitting a high-priority
mention to Slack receiving its post (first one after the surge began, median
and max over all), the surge card's update intervals, and the bot's CPU per
mention (admission, and the timer and outbox loops, which include the fake
Slack's handling in this one process).

    uv run python -m bench.surge                  # both backends, 2,000 in 60 s
    uv run python -m bench.surge --backend sqlite --count 500 --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    BACKENDS,
    CONFIG,
    ROOT,
    HostLoad,
    environment,
    new_namespace,
    store_url,
    wipe_redis_namespace,
)

if str(ROOT) not in sys.path:  # run as a script: make bot/ and tests/ importable
    sys.path.insert(0, str(ROOT))

CHANNEL = "C0CARE"
HUB = "C0HUB"
TOKEN = "xoxb-bench-token"
DRAIN_LIMIT = 30.0


def burst_item(n: int) -> dict[str, Any]:
    from tests.surge.burst import burst_item as item

    return item(n)


@dataclasses.dataclass
class Timed:
    """CPU seconds spent in a part of the bot, summed over its awaits."""

    cpu: float = 0.0


async def timed(part: Timed, work: Any) -> Any:
    start = time.process_time()
    try:
        return await work
    finally:
        part.cpu += time.process_time() - start


async def run(backend: str, *, surge: bool, count: int, seconds: float) -> dict[str, Any]:
    from bot.app import load, open_runtime
    from bot.core.clock import SystemClock
    from bot.core.settings import SurgePolicy
    from bot.intake.feed import parse_mention
    from bot.platforms.slack.platform import SlackPlatform, SlackSettings
    from bot.store import open_store
    from tests.fakes.slack_api import FakeSlack

    loaded = load(str(CONFIG))
    settings = loaded.settings
    channels = {**settings.channels, "care": {"slack": CHANNEL}, "hub": {"slack": HUB}}
    settings = dataclasses.replace(settings, channels=channels)
    if not surge:
        off = SurgePolicy(threshold=10_000_000)
        settings = dataclasses.replace(settings, surge_default=off, surge={})
    loaded = dataclasses.replace(loaded, settings=settings)
    fake = FakeSlack(bot_token=TOKEN)
    await fake.start()
    for person in settings.people.values():
        fake.add_user(f"U0{person.id.upper()}", person.id, person.email)
    tmp = Path(tempfile.mkdtemp(prefix="bench-surge-"))
    namespace = new_namespace("bench-surge")
    runtime = await open_runtime(
        loaded,
        store=open_store(store_url(backend, tmp), namespace=namespace),
        clock=SystemClock(),
        platforms=["slack"],
    )
    platform = SlackPlatform(
        SlackSettings(bot_token=TOKEN, signing_secret="bench", api_url=fake.api_url), runtime
    )
    await platform.start()
    stop = asyncio.Event()
    admission, loops = Timed(), Timed()
    sender = runtime.sender(platform.delivery)
    scheduler = runtime.scheduler()

    async def deliver() -> None:
        while not stop.is_set():
            await timed(loops, sender.drain())
            await timed(loops, scheduler.tick())
            await asyncio.sleep(0.05)

    background = asyncio.create_task(deliver())
    arrived: dict[str, float] = {}
    per_second = max(1, round(count / seconds))
    started = time.monotonic()
    load_meter = HostLoad()
    try:
        for first in range(0, count, per_second):
            batch = [burst_item(n) for n in range(first, min(count, first + per_second))]
            now = time.monotonic()
            for item in batch:
                arrived[item["text"]] = now
            await timed(admission, runtime.ingest_batch([parse_mention(i) for i in batch]))
            due = started + (first // per_second + 1) * (seconds / (count / per_second))
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        burst_end = time.monotonic()
        backlog_at_end = await runtime.store.outbox_size("slack")
        while time.monotonic() - burst_end < DRAIN_LIMIT:
            if await runtime.store.outbox_size("slack") == 0:
                break
            await asyncio.sleep(0.2)
        stop.set()
        await background
        left = await runtime.store.outbox_size("slack")
    finally:
        stop.set()
        await platform.stop()
        await runtime.store.close()
        await fake.close()
        if backend == "redis":
            wipe_redis_namespace(namespace)
    posts = [c for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == CHANNEL]
    updates = [c for c in fake.calls_to("chat.update") if "Surge in" in str(c.args)]
    latencies = []
    for call in posts:
        text = str(call.args.get("blocks", "")) + str(call.args.get("text", ""))
        for phrase, at in arrived.items():
            if "I will sue Acme" in phrase and phrase[-6:] in text and phrase[:30] in text:
                latencies.append(call.at - at)
                break
    gaps = [b.at - a.at for a, b in itertools.pairwise(updates)]
    return {
        "backend": backend,
        "surge": surge,
        "mentions": count,
        "seconds": round(burst_end - started, 1),
        "posts_to_spoke": len(posts),
        "hub_posts": len(
            [c for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == HUB]
        ),
        "surge_card_updates": len(updates),
        "all_slack_calls": len(fake.calls),
        "backlog_at_burst_end": backlog_at_end,
        "backlog_after_drain": left,
        "high_priority_posted": len(latencies),
        "first_high_priority_s": round(latencies[0], 2) if latencies else None,
        "median_high_priority_s": round(statistics.median(latencies), 2) if latencies else None,
        "max_high_priority_s": round(max(latencies), 2) if latencies else None,
        "update_interval_min_s": round(min(gaps), 1) if gaps else None,
        "update_interval_median_s": round(statistics.median(gaps), 1) if gaps else None,
        "cpu_ms_per_mention_admission": round(1000 * admission.cpu / count, 2),
        "cpu_ms_per_mention_loops": round(1000 * loops.cpu / count, 2),
        "host": load_meter.summary(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=BACKENDS, action="append")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    print(environment())
    for backend in args.backend or list(BACKENDS):
        for surge in (True, False):
            result = asyncio.run(run(backend, surge=surge, count=args.count, seconds=args.seconds))
            print(" ".join(f"{k}={v}" for k, v in result.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
