"""Crisis escalation timers: ``--count`` incidents (default 1,000) whose
escalation timers all fall due at the same moment, fired by two schedulers on
one store (two processes' worth), on SQLite and Redis.

All incidents are declared through the real ``/crisis`` command in the same
minute (the ``service-outage`` playbook; Priya declares, Maria is paged; the
bench clears the declare race's memory between declarations, which would
otherwise merge them into one). Then the clock moves to the incidents' first
timer and two schedulers fire until nothing is due, and again at the second:

* at 5 minutes, every incident's first reminder to Maria (one page each);
* at 10 minutes, every incident's first escalation step (Ada is paged) with
  Maria's second reminder (two pages each).

"Fired" means the escalation's write is committed: the incident with its
pages recorded, the page DMs and the card update queued, the next timer set
and this one completed, all in one store write. Lateness is measured from
the moment the clock reaches the timers' due time (wall clock) to that
commit, for every incident; the target is the slowest within 2 s. Read back
from the store afterwards: every incident paged each of those pages exactly
once. Baseline in the same run: as many timers that name no incident
(dispatched, logged, completed) through the same two schedulers.

    uv run python -m bench.crisis
    uv run python -m bench.crisis --backend redis --count 500
    uv run python -m bench.crisis --backend sqlite --profile   # cProfile to stderr
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    BACKENDS,
    CONFIG,
    HostLoad,
    environment,
    new_namespace,
    percentile,
    store_url,
    wipe_redis_namespace,
)
from bot.core.storage import NO_EFFECTS

TARGET_S = 2.0
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# When each measured wave falls due (the playbook's ack_within and first step).
WAVES = (("first reminder", timedelta(minutes=5)), ("escalation step 1", timedelta(minutes=10)))
# The page ids each incident must have recorded exactly once by the end.
PAGES = ("maria:s0:r1", "maria:s0:r2", "ada:s1:r0")


@dataclass
class Wave:
    name: str
    late: list[float]  # seconds from due to each escalation write's commit, sorted
    seconds: float  # until nothing was due
    cpu_seconds: float  # this process, all threads
    items: int  # chat outbox items queued

    def summary(self, count: int) -> str:
        worst = self.late[-1] if self.late else float("nan")
        return (
            f"{len(self.late)} fired; late by p50 {percentile(self.late, 50):.2f} s, "
            f"p99 {percentile(self.late, 99):.2f} s, max {worst:.2f} s; "
            f"CPU {self.cpu_seconds / count * 1000:.2f} ms per incident "
            f"({self.items / count:.1f} chat items queued each)"
        )


@dataclass
class Result:
    backend: str
    count: int
    waves: list[Wave]
    exactly_once: bool
    baseline_seconds: float
    host: str

    def met(self) -> bool:
        return self.exactly_once and all(
            len(w.late) == self.count and w.late[-1] <= TARGET_S for w in self.waves
        )


class CommitTimes:
    """Wraps the store: when each write that completes an escalation timer
    committed (what "fired" means here)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.at: dict[str, float] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _note(self, effects: Any, ok: bool) -> None:
        done = effects.complete_timer if effects is not None else None
        if ok and done is not None and done[0].startswith("crisis.escalate:"):
            self.at[done[0]] = time.perf_counter()

    async def replace(self, record: Any, expected_version: int, effects: Any = None) -> Any:
        written = await self._store.replace(record, expected_version, effects or NO_EFFECTS)
        self._note(effects, written.ok)
        return written

    async def apply(self, effects: Any) -> bool:
        ok = await self._store.apply(effects)
        self._note(effects, ok)
        return bool(ok)


async def run_backend(
    backend: str,
    count: int,
    tmp_dir: Path,
    namespace: str,
    profile: bool = False,
    concurrency: int | None = None,
) -> Result:
    from bot.app import load, open_runtime
    from bot.core.clock import ManualClock
    from bot.core.events import Command
    from bot.core.storage import Effects, Record, Timer
    from bot.runtime import SilentResponder
    from bot.store import open_store
    from handlers.crisis.declare import COUNTER_KEY, COUNTER_KIND
    from handlers.crisis.records import KIND, from_record

    loaded = load(str(CONFIG))
    url = store_url(backend, tmp_dir)
    clock = ManualClock(START)
    stores = [CommitTimes(open_store(url, namespace=namespace)) for _ in range(2)]
    runtimes = [
        await open_runtime(loaded, store=store, clock=clock, platforms=["console"])  # type: ignore[arg-type]
        for store in stores
    ]
    first = runtimes[0]
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
        # Forget the declare race (one incident per playbook in 10 minutes).
        counter = await first.store.get(COUNTER_KIND, COUNTER_KEY)
        assert counter is not None
        forgotten = Record(COUNTER_KIND, COUNTER_KEY, {**counter.data, "recent": {}})
        assert (await first.store.replace(forgotten, counter.version)).ok

    async def drive(runtime: Any) -> None:
        scheduler = runtime.scheduler()
        if concurrency is not None:
            scheduler.concurrency = concurrency
        while await scheduler.tick():
            pass

    load_meter = HostLoad()
    waves = []
    for name, after in WAVES:
        clock.advance(START + after - clock.now())
        for store in stores:
            store.at.clear()
        items_before = await first.store.outbox_size()
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        cpu_started = time.process_time()
        started = time.perf_counter()  # the timers are due from here
        await asyncio.gather(*(drive(r) for r in runtimes))
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        if profiler:
            profiler.disable()
            print(f"\n{backend}, {name}:", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(40)
        late = sorted(t - started for store in stores for t in store.at.values())
        items = await first.store.outbox_size() - items_before
        waves.append(Wave(name, late, seconds, cpu_seconds, items))
    exactly_once = True
    seen = 0
    for record in await first.store.find(KIND, "open", limit=count + 10):
        incident = from_record(record)
        for page in PAGES:
            exactly_once &= incident.pages_sent.count(f"{incident.id}:{page}") == 1
        seen += 1
    exactly_once &= seen == count
    # Baseline: as many no-op timers (naming no incident) through the same schedulers.
    due = clock.now()
    timers = tuple(Timer(f"bench.noop:{n}", "crisis.escalate", due) for n in range(count))
    await first.store.apply(Effects(timers=timers))
    started = time.perf_counter()
    await asyncio.gather(*(drive(r) for r in runtimes))
    baseline_seconds = time.perf_counter() - started
    host = load_meter.summary()
    for store in stores:
        await store.close()
    return Result(backend, count, waves, exactly_once, baseline_seconds, host)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument(
        "--concurrency", type=int, help="timers each scheduler fires at once (default: its own)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile of the firing, to stderr")
    args = parser.parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    logging.disable(logging.WARNING)  # (the baseline's timers each log a warning)
    print(environment())
    all_met = True
    for backend in backends:
        tmp_dir = Path(tempfile.mkdtemp(prefix="playcaller-crisis-"))
        namespace = new_namespace("bench-crisis")
        try:
            r = asyncio.run(
                run_backend(backend, args.count, tmp_dir, namespace, args.profile, args.concurrency)
            )
        finally:
            if backend == "redis":
                wipe_redis_namespace(namespace)
            shutil.rmtree(tmp_dir, ignore_errors=True)
        all_met &= r.met()
        print(f"\n{r.backend}: {r.host}")
        for wave in r.waves:
            print(f"  {r.count} incidents' {wave.name} due at once: {wave.summary(r.count)}")
        slowest = max(w.seconds for w in r.waves)
        print(
            f"  exactly once: {'yes' if r.exactly_once else 'NO'}; "
            f"target every timer within {TARGET_S:.0f} s of due: "
            f"{'met' if r.met() else 'MISSED'}"
        )
        print(
            f"  baseline, {r.count} no-op timers through the same schedulers: "
            f"{r.baseline_seconds:.2f} s; slowest wave {slowest / r.baseline_seconds:.1f}x"
        )
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
