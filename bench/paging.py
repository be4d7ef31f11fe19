"""Crisis paging on Slack: declare-to-all-pages-sent latency for a playbook that
pages 50 people, with Slack's rate limits respected.

Each run starts, as ``serve`` does, the real web app (``bot.web.create_app``:
the Slack platform, the scheduler, the outbox sender, ``SystemClock``, poll
interval 1 s) on a fresh store, against the local fake Slack Web API
(``tests/fakes/slack_api/``) in its own process. The config is the
repository's ``playcaller.yaml`` with ``--people`` (default 50) responders in
all (the sample's two and the rest added), known by e-mail only as in the
sample config: the bot looks each one up with ``users.lookupByEmail`` and
opens the DM with ``conversations.open``; the hub is linked to a Slack
channel; the playbook ``bench-paging`` pages every responder. Priya sends a
signed ``/crisis bench-paging ...`` to the app; the clock starts just before
the request is sent. A page is sent when the fake accepts the
``chat.postMessage`` of its DM (the fake records the moment the request
arrived). Reported over ``--runs`` runs (each a fresh process state: caches
cold, as after a restart): p50/p99/max of every page's latency, the time until
the last page of a run, the Web API calls by method and HTTP 429 answers. The
fake answers every call (it does not rate-limit by itself), so the bench
checks the pacing against Slack's published limits (``TIERS`` below): per
method the most calls in any 60 s window against its tier, and for
``chat.postMessage`` the most messages in one channel within one second.

    uv run python -m bench.paging
    uv run python -m bench.paging --backend redis --runs 3 --people 50
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import yaml

from bench.common import (
    BACKENDS,
    CONFIG,
    ROOT,
    HostLoad,
    environment,
    new_namespace,
    percentile,
    store_url,
    wipe_redis_namespace,
)

TARGET_P99_S = 2.0
SECRET = "bench-signing-secret"
HUB = "C0HUB"
PRIYA = "U0PRIYA"
# The sample config's responders (sam, alex) are paged too.
SAMPLE_RESPONDERS = 2
TIMEOUT_S = float(os.environ.get("BENCH_PAGING_TIMEOUT", "120"))
# Slack's published limits (calls per minute, per method per workspace; bursts
# allowed): Tier 2 20+, Tier 3 50+, Tier 4 100+. chat.postMessage: about one
# message per second per channel, several hundred a minute per workspace.
TIERS = {
    "users.lookupByEmail": 50,
    "conversations.open": 50,
    "chat.update": 50,
    "conversations.history": 50,
    "conversations.replies": 50,
    "conversations.create": 20,
    "conversations.invite": 50,
    "conversations.setTopic": 20,
    "chat.postEphemeral": 100,
    "views.open": 100,
    "users.info": 100,
    "chat.postMessage": 300,
}

PLAYBOOK = {
    "id": "bench-paging",
    "title": "Bench: page fifty people",
    "summary": "Every responder is paged at once.",
    "severity": "sev1",
    "page": [{"role": "responder"}],
    "ack_within": "15m",
    "max_repeats": 0,
    "checklist": ["Acknowledge the page."],
}


def responder(n: int) -> dict[str, Any]:
    return {
        "id": f"resp{n:02d}",
        "name": f"Responder {n:02d}",
        "email": f"resp{n:02d}@example.com",
        "roles": ["responder"],
    }


def write_config(tmp: Path, people: int) -> tuple[Path, Path]:
    """The sample config with ``people`` responders and the hub on Slack, and a
    playbook folder with the samples plus ``bench-paging``."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["hub"]["channels"]["slack"] = HUB
    extra = (responder(n) for n in range(people - SAMPLE_RESPONDERS))
    config["people"] = [*config["people"], *extra]
    config["platforms"] = ["slack"]
    config_path = tmp / "playcaller.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    playbooks = tmp / "playbooks"
    shutil.copytree(ROOT / "playbooks", playbooks)
    (playbooks / "crisis" / "bench-paging.yaml").write_text(
        yaml.safe_dump(PLAYBOOK, sort_keys=False), encoding="utf-8"
    )
    return config_path, playbooks


# -- the fake Slack, in its own process ---------------------------------------


async def _fake_main(conn: Connection, people: int) -> None:
    from tests.fakes.slack_api import FakeSlack

    fake = FakeSlack()
    await fake.start()
    fake.add_user(PRIYA, "priya", "priya@example.com")
    fake.add_user("U0ADA", "ada", "ada@example.com")
    fake.add_user("U0SAM", "sam", "sam@example.com")
    fake.add_user("U0ALEX", "alex", "alex@example.com")
    for n in range(people - SAMPLE_RESPONDERS):
        fake.add_user(f"U0RESP{n:02d}", f"resp{n:02d}", f"resp{n:02d}@example.com")
    conn.send(fake.api_url)
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "calls":
            conn.send(
                [
                    (c.method, str(c.args.get("channel") or ""), c.at, c.rate_limited)
                    for c in fake.calls
                ]
            )
        elif command == "pages":
            conn.send(
                sum(
                    1
                    for c in fake.calls_to("chat.postMessage")
                    if str(c.args.get("channel") or "").startswith("D") and not c.rate_limited
                )
            )
        else:
            break
    await fake.close()
    conn.send("closed")


def fake_process(conn: Connection, people: int) -> None:
    logging.disable(logging.CRITICAL)
    asyncio.run(_fake_main(conn, people))


# -- one run -------------------------------------------------------------------


@dataclass
class Run:
    latencies: list[float]  # seconds from the declare request to each page's DM post
    calls: Counter[str]
    rate_limited: int
    worst_window: dict[str, int]  # most calls of a method in any 60 s
    worst_channel_second: int  # most chat.postMessage in one channel within 1 s


def _most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


async def one_run(backend: str, people: int, tmp: Path, namespace: str) -> Run:
    from aiohttp import web

    from bot.app import load, open_runtime
    from bot.core.clock import SystemClock
    from bot.platforms.slack.platform import SlackPlatform, SlackSettings
    from bot.store import open_store
    from bot.web import create_app
    from tests.fakes import slack_requests as slack

    parent, child = multiprocessing.Pipe()
    fake = multiprocessing.get_context("spawn").Process(
        target=fake_process, args=(child, people), daemon=True
    )
    fake.start()
    api_url = parent.recv()
    loop = asyncio.get_running_loop()

    async def ask(command: str) -> Any:
        parent.send(command)
        return await loop.run_in_executor(None, parent.recv)

    config_path, playbooks = write_config(tmp, people)
    os.environ["PLAYCALLER_PLAYBOOKS"] = str(playbooks)
    loaded = load(str(config_path))
    runtime = await open_runtime(
        loaded,
        store=open_store(store_url(backend, tmp), namespace=namespace),
        clock=SystemClock(),
        platforms=["slack"],
    )
    platform = SlackPlatform(
        SlackSettings(bot_token="xoxb-test-token", signing_secret=SECRET, api_url=api_url), runtime
    )
    app = create_app(runtime, [platform])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = api_url.removesuffix("/").removesuffix("/api")
    body, headers = slack.slash_command(
        SECRET,
        command="/crisis",
        text="bench-paging Fifty people paged at once",
        user_id=PRIYA,
        user_name="priya",
        channel_id=HUB,
        channel_name="hub",
        response_url=f"{base}/hooks/commands/T0ACME/1/fake00000001",
    )
    import aiohttp

    try:
        started = time.monotonic()
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as r,
        ):
            if r.status != 200:
                raise RuntimeError(f"/crisis answered {r.status}: {(await r.text())[:200]}")
        deadline = started + TIMEOUT_S
        while await ask("pages") < people:
            if time.monotonic() > deadline:
                raise RuntimeError(f"not every page was sent within {TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.05)
        calls = await ask("calls")
    finally:
        await runner.cleanup()
        parent.send("stop")
        await loop.run_in_executor(None, parent.recv)
        fake.join(timeout=10)
        os.environ.pop("PLAYCALLER_PLAYBOOKS", None)
    pages = [
        at
        for method, channel, at, limited in calls
        if method == "chat.postMessage" and channel.startswith("D") and not limited
    ]
    by_method: dict[str, list[float]] = defaultdict(list)
    by_channel: dict[str, list[float]] = defaultdict(list)
    for method, channel, at, _ in calls:
        by_method[method].append(at)
        if method == "chat.postMessage":
            by_channel[channel].append(at)
    return Run(
        latencies=sorted(at - started for at in pages),
        calls=Counter(method for method, _, _, _ in calls),
        rate_limited=sum(1 for c in calls if c[3]),
        worst_window={m: _most_in_window(t, 60.0) for m, t in by_method.items()},
        worst_channel_second=max((_most_in_window(t, 1.0) for t in by_channel.values()), default=0),
    )


def run_backend(backend: str, people: int, runs: int) -> list[Run]:
    results = []
    for _ in range(runs):
        tmp = Path(tempfile.mkdtemp(prefix="playcaller-paging-"))
        namespace = new_namespace("bench-paging")
        try:
            results.append(asyncio.run(one_run(backend, people, tmp, namespace)))
        finally:
            if backend == "redis":
                wipe_redis_namespace(namespace)
            shutil.rmtree(tmp, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    logging.disable(logging.WARNING)
    print(environment())
    all_met = True
    for backend in backends:
        meter = HostLoad()
        results = run_backend(backend, args.people, args.runs)
        host = meter.summary()
        latencies = sorted(x for r in results for x in r.latencies)
        lasts = [r.latencies[-1] for r in results]
        limited = sum(r.rate_limited for r in results)
        over = sorted(
            {
                f"{m} {n}/min (limit {TIERS[m]})"
                for r in results
                for m, n in r.worst_window.items()
                if m in TIERS and n > TIERS[m]
            }
        )
        per_channel = max(r.worst_channel_second for r in results)
        paced = not over and per_channel <= 1
        p99 = percentile(latencies, 99)
        met = p99 <= TARGET_P99_S and paced and limited == 0
        all_met &= met
        calls = results[-1].calls
        print(f"\n{backend}: {host}")
        print(
            f"  {args.runs} runs x {args.people} pages: p50 {percentile(latencies, 50):.2f} s, "
            f"p99 {p99:.2f} s, max {latencies[-1]:.2f} s; last page of each run: "
            + ", ".join(f"{x:.2f}" for x in lasts)
            + " s"
        )
        print(
            "  Web API calls per run: "
            + ", ".join(f"{m} {n}" for m, n in sorted(calls.items()))
            + f"; HTTP 429: {limited}"
        )
        print(
            f"  pacing: most chat.postMessage in one channel within 1 s: {per_channel}; "
            f"over a tier: {', '.join(over) or 'none'}; "
            f"target p99 {TARGET_P99_S:.0f} s with pacing respected: {'met' if met else 'MISSED'}"
        )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
