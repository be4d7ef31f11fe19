"""Crisis escalation timers: ``--count`` incidents (default 1,000) whose
reminder pages all fall due at once, fired by two schedulers on one store (two
processes' worth), on SQLite and Redis.

Each incident is declared through the real ``/crisis`` command (the
``service-outage`` playbook; Priya declares, Maria is paged), eleven minutes
of injected clock apart so the declare race does not merge them. Then the
clock jumps to when every incident's first reminder is due and two
schedulers tick until nothing is due. Reported: wall time from the jump until
the last incident's reminder is recorded, which bounds how late any of them
fired (target: within 2 s of due), and that every incident paged Maria's
reminder exactly once (read back from the store). Baseline in the same run:
the same number of escalation timers that name no incident (dispatched,
logged, completed) fired by the same two schedulers.

    uv run python -m bench.crisis
    uv run python -m bench.crisis --backend redis --count 500
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import (
    BACKENDS,
    CONFIG,
    HostLoad,
    environment,
    new_namespace,
    store_url,
    wipe_redis_namespace,
)

TARGET_S = 2.0
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GAP = timedelta(minutes=11)


@dataclass
class Result:
    backend: str
    count: int
    fire_seconds: float
    exactly_once: bool
    baseline_seconds: float
    host: str


async def run_backend(backend: str, count: int, tmp_dir: Path, namespace: str) -> Result:
    from bot.app import load, open_runtime
    from bot.core.clock import ManualClock
    from bot.core.events import Command
    from bot.core.storage import Effects, Timer
    from bot.runtime import SilentResponder
    from bot.store import open_store
    from handlers.crisis.records import KIND, from_record

    loaded = load(str(CONFIG))
    url = store_url(backend, tmp_dir)
    clock = ManualClock(START)
    first = await open_runtime(
        loaded, store=open_store(url, namespace=namespace), clock=clock, platforms=["console"]
    )
    second = await open_runtime(
        loaded, store=open_store(url, namespace=namespace), clock=clock, platforms=["console"]
    )
    settings = first.settings
    priya = settings.actor_for(settings.people["priya"], "console")
    for n in range(count):
        command = Command(
            platform="console",
            actor=priya,
            received_at=clock.now(),
            platform_channel="#hub",
            name="crisis",
            text=f"service-outage service=App{n} status_url=https://status.acme.com Down {n}",
        )
        await first.handle(command, SilentResponder())
        clock.advance(GAP)
    # Every incident's first reminder (ack_within 5m) and first escalation
    # step (10m) is now due: the clock is 11 minutes past the last declaration.
    load_meter = HostLoad()
    started = time.perf_counter()

    async def drive(runtime: object) -> None:
        scheduler = runtime.scheduler()  # type: ignore[attr-defined]
        while await scheduler.tick():
            pass

    await asyncio.gather(drive(first), drive(second))
    fire_seconds = time.perf_counter() - started
    exactly_once = True
    seen = 0
    for record in await first.store.find(KIND, "open", limit=count + 10):
        incident = from_record(record)
        reminders = [p for p in incident.pages_sent if p == f"{incident.id}:maria:s0:r1"]
        exactly_once &= len(reminders) == 1
        seen += 1
    exactly_once &= seen == count
    # Baseline: the same number of no-op timers through the same schedulers.
    due = clock.now()
    # (An escalation timer naming no incident: dispatched, logged, completed.)
    timers = tuple(Timer(f"bench.noop:{n}", "crisis.escalate", due) for n in range(count))
    await first.store.apply(Effects(timers=timers))
    started = time.perf_counter()
    await asyncio.gather(drive(first), drive(second))
    baseline_seconds = time.perf_counter() - started
    host = load_meter.summary()
    await first.store.close()
    await second.store.close()
    return Result(backend, count, fire_seconds, exactly_once, baseline_seconds, host)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    logging.disable(logging.WARNING)  # (the baseline's timers each log a warning)
    print(environment())
    all_met = True
    for backend in backends:
        tmp_dir = Path(tempfile.mkdtemp(prefix="playcaller-crisis-"))
        namespace = new_namespace("bench-crisis")
        try:
            r = asyncio.run(run_backend(backend, args.count, tmp_dir, namespace))
        finally:
            if backend == "redis":
                wipe_redis_namespace(namespace)
            shutil.rmtree(tmp_dir, ignore_errors=True)
        met = r.fire_seconds <= TARGET_S and r.exactly_once
        all_met &= met
        print(f"\n{r.backend}: {r.host}")
        print(
            f"  {r.count} incidents' reminders due at once, two schedulers: all fired in "
            f"{r.fire_seconds:.2f} s ({r.fire_seconds / r.count * 1000:.2f} ms each); "
            f"exactly once: {'yes' if r.exactly_once else 'NO'}; target {TARGET_S:.0f} s: "
            f"{'met' if met else 'MISSED'}"
        )
        print(
            f"  baseline, {r.count} no-op timers through the same schedulers: "
            f"{r.baseline_seconds:.2f} s; ratio {r.fire_seconds / r.baseline_seconds:.1f}x"
        )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
