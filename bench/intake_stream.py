"""Intake through the Redis Stream with 1, 2, ... real ``serve`` processes.

Starts P ``playcaller serve`` subprocesses on one fresh Redis namespace
(``PLAYCALLER_INTAKE_SECRET`` set, so ``POST /intake`` goes through the
intake stream and every process consumes it), then sends the same synthetic
feed as ``bench.intake`` as signed NDJSON requests of ``--per-request``
mentions, spread round-robin over the processes by ``--senders`` concurrent
clients. Measured per run:

* accepted/s: mentions answered ``stored`` per second of sending;
* admitted/s: mentions per second from the first request until the stream
  is empty (every mention admitted: enrichment, surge lanes, card, timers,
  audit) — the throughput that matters for a backlog;
* the CPU seconds of every ``serve`` process (``/proc``), per mention;
* each process's share (``playcaller_intake_stream_admitted_total``).

Then it checks the store holds exactly N mention records and N
``mention.received`` audit entries (zero loss, zero doubles). The cards stay
in the outbox (``PLAYCALLER_PLATFORMS=slack`` without credentials), so
delivery does not compete for the CPU being measured.

    uv run python -m bench.intake_stream                    # 1 and 2 processes, 10,000 mentions
    uv run python -m bench.intake_stream --processes 1 2 3 --count 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import HostLoad, environment, new_namespace, redis_url, wipe_redis_namespace
from bench.intake import synthetic_mentions
from tests.serve_process import ServeProcess

SECRET = "bench-intake-stream-secret"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _admitted(http: aiohttp.ClientSession, url: str) -> float:
    async with http.get(f"{url}/metrics") as response:
        text = await response.text()
    found = re.search(r"^playcaller_intake_stream_admitted_total ([0-9.e+]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def _post(http: aiohttp.ClientSession, url: str, body: bytes) -> int:
    from bot.signing import sign

    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/x-ndjson",
        "X-Playcaller-Timestamp": str(timestamp),
        "X-Playcaller-Signature": sign(SECRET, timestamp, body),
    }
    async with http.post(f"{url}/intake", data=body, headers=headers) as response:
        if response.status != 200:
            raise RuntimeError(f"/intake answered {response.status}: {await response.text()}")
        answer = await response.json()
        return int(answer["stored"])


async def run(processes: int, count: int, per_request: int, senders: int) -> dict[str, Any]:
    from bot.intake.stream import GROUP
    from bot.store import open_store

    namespace = new_namespace("bench-stream")
    lines = [json.dumps(m).encode() + b"\n" for m in synthetic_mentions(count)]
    bodies = [b"".join(lines[i : i + per_request]) for i in range(0, count, per_request)]
    env = {
        "PLAYCALLER_INTAKE_SECRET": SECRET,
        "PLAYCALLER_PLATFORMS": "slack",
        "PLAYCALLER_LOG_LEVEL": "WARNING",
    }
    for name in list(os.environ):
        if name.startswith(("SLACK_", "MICROSOFT_", "TEAMS_")):
            env[name] = ""
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
        served = [
            ServeProcess(redis_url(), namespace, env, Path(tmp) / f"serve{n}")
            for n in range(processes)
        ]
        await asyncio.gather(*(s.start() for s in served))
        store = open_store(redis_url(), namespace=namespace)
        await store.open()
        try:
            pids = [s.process.pid for s in served if s.process is not None]
            cpu_before = [_cpu_seconds(pid) for pid in pids]
            load = HostLoad()
            queue = list(enumerate(bodies))
            accepted = 0

            async def sender(http: aiohttp.ClientSession) -> None:
                nonlocal accepted
                while queue:
                    number, body = queue.pop(0)
                    stored = await _post(http, served[number % processes].url, body)
                    accepted += stored

            started = time.perf_counter()
            async with aiohttp.ClientSession() as http:
                await asyncio.gather(*(sender(http) for _ in range(senders)))
                sent = time.perf_counter() - started
                while True:
                    state = await store.intake_state(GROUP)  # type: ignore[attr-defined]
                    if state.entries == 0:
                        break
                    await asyncio.sleep(0.05)
                drained = time.perf_counter() - started
                shares = [await _admitted(http, s.url) for s in served]
            cpu = sum(
                _cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)
            )
            host = load.summary()
            records = 0
            received = 0
            client = store._redis()  # type: ignore[attr-defined]
            async for _ in client.scan_iter(match=f"{{{namespace}}}:rec:mention:*", count=2000):
                records += 1
            for mention in synthetic_mentions(count):
                entries = await store.audit_log(f"mention:{mention['network']}:{mention['id']}")
                received += sum(1 for e in entries if e.action == "mention.received")
        finally:
            await store.close()
            for s in served:
                await s.stop()
            wipe_redis_namespace(namespace)
    return {
        "processes": processes,
        "count": count,
        "accepted": accepted,
        "accepted_per_s": count / sent,
        "admitted_per_s": count / drained,
        "cpu_ms_per_mention": 1000 * cpu / count,
        "shares": shares,
        "records": records,
        "received": received,
        "host": host,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--per-request", type=int, default=500)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args(argv)
    print(environment())
    ok = True
    baseline: float | None = None
    print(
        "| processes | mentions | accepted/s | admitted/s | ratio to 1 | CPU ms / mention "
        "| share per process | zero loss, zero doubles | host |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for processes in args.processes:
        r = asyncio.run(run(processes, args.count, args.per_request, args.senders))
        baseline = baseline or r["admitted_per_s"]
        exact = r["accepted"] == r["records"] == r["received"] == args.count
        if not exact:
            print(f"accepted {r['accepted']}, records {r['records']}, received {r['received']}")
        ok = ok and exact
        shares = " / ".join(f"{s:.0f}" for s in r["shares"])
        print(
            f"| {processes} | {args.count} | {r['accepted_per_s']:.0f} | {r['admitted_per_s']:.0f} "
            f"| {r['admitted_per_s'] / baseline:.2f} | {r['cpu_ms_per_mention']:.2f} | {shares} "
            f"| {'yes' if exact else 'NO'} | {r['host']} |",
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
