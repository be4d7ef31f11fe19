"""Claim race: 50 concurrent claims on one mention from two OS processes.

Each round a fresh mention (admitted through ``Runtime.ingest``) is claimed at
once by 25 claimers in each of two spawned processes, each process with its
own store connection on the same SQLite file or Redis namespace. A claim does
what the ``triage.claim`` handler does (``handlers/triage/routes.py``): read
the record, ``rules.claim`` with the claimer as actor, then compare-and-set
``replace`` with the card update, the claim timers and a ``mention.claim``
audit entry as effects; on a version conflict it reads again, up to
``MAX_CAS_ATTEMPTS`` times, until it wins or is refused.

    uv run python -m bench.claim_race                  # both backends, 200 rounds
    uv run python -m bench.claim_race --backend redis --rounds 500
    uv run python -m bench.claim_race --backend sqlite --profile   # cProfile of process 0

Every round must have exactly one winner, a stored owner equal to that winner,
version 2 and exactly one ``mention.claim`` audit entry. Latency is per claim
attempt, from the moment the claimer starts (both processes are released by a
barrier) to its decided outcome (won or refused). The first ``--warmup``
rounds (default 1) are verified but left out of the latency figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing
import pstats
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
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

SPAWN = multiprocessing.get_context("spawn")
PROCESSES = 2
CLAIMERS = 25  # per process (default)
TARGET_P99_MS = 20.0
WON = "won"

# (actor id, outcome, latency in seconds, reads made)
Attempt = tuple[str, str, float, int]


def _feed(count: int) -> list[dict[str, Any]]:
    """One plain complaint per round (the race does not depend on the text)."""
    return [
        {
            "network": "x",
            "id": f"race-{n:05d}",
            "text": f"@acme my order {n} arrived broken and support is not answering.",
            "created_at": "2026-03-02T08:41:00Z",
            "author": {"handle": f"customer{n}", "name": "A Customer", "followers": 120},
        }
        for n in range(count)
    ]


# -- claimer processes (spawned, so module level) ------------------------------------


def claimer_process(
    url: str,
    namespace: str,
    proc: int,
    keys: list[str],
    claimers: int,
    barrier: Barrier,
    results: Queue[Any],
    profile: bool = False,
) -> None:
    """Run every round's claims for one process and report them on ``results``."""
    profiler = cProfile.Profile() if profile else None
    try:
        if profiler:
            profiler.enable()
        rounds = asyncio.run(_claimer_rounds(url, namespace, proc, keys, claimers, barrier))
        if profiler:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            print(f"--- cProfile of claimer process {proc} ---\n{out.getvalue()}", file=sys.stderr)
    except BaseException:
        barrier.abort()
        results.put(("error", proc, traceback.format_exc()))
    else:
        results.put(("done", proc, rounds))


async def _claimer_rounds(
    url: str, namespace: str, proc: int, keys: list[str], claimers: int, barrier: Barrier
) -> list[list[Attempt]]:
    from bot.app import load
    from bot.core.clock import SystemClock
    from bot.core.events import Action
    from bot.core.model import Actor, Role
    from bot.core.permissions import granted
    from bot.core.turn import Turn
    from bot.runtime import SilentResponder
    from bot.store import open_store
    from handlers.triage import rules
    from handlers.triage.cards import mention_card
    from handlers.triage.records import KIND, from_record, to_record
    from handlers.triage.routes import MAX_CAS_ATTEMPTS

    loaded = load(str(CONFIG))
    clock = SystemClock()
    store = open_store(url, namespace=namespace)
    await store.open()
    actors = [
        Actor(
            person_id=f"claimer-{proc}-{n:02d}",
            name=f"Claimer {proc}.{n}",
            roles=frozenset({Role.RESPONDER}),
            permissions=frozenset(granted(loaded.settings.permissions, {Role.RESPONDER})),
        )
        for n in range(claimers)
    ]

    async def claim(key: str, actor: Actor) -> Attempt:
        began = time.perf_counter()
        event = Action(
            platform="console",
            actor=actor,
            received_at=clock.now(),
            action_id="triage.claim",
            value=f"{key}|1",
        )
        turn = Turn(
            event=event,
            store=store,
            clock=clock,
            templates=loaded.templates,
            responder=SilentResponder(),
            settings=loaded.settings,
            platforms=("console",),
        )
        # handlers.triage.routes._transition with the on_claim consequences.
        for reads in range(1, MAX_CAS_ATTEMPTS + 1):
            record = await store.get(KIND, key)
            if record is None:
                raise LookupError(f"mention {key} is missing")
            current = from_record(record)
            verdict = rules.claim(current, actor, turn.now())
            if isinstance(verdict, rules.Refusal):
                return actor.person_id, verdict.reason, time.perf_counter() - began, reads
            upcoming = verdict.evolve(version=current.version + 1)
            for timer in rules.claim_timers(upcoming, turn.settings):
                turn.schedule(timer)
            turn.audit("mention.claim", f"mention:{key}", version=upcoming.version)
            turn.update(mention_card(upcoming, turn.settings, turn.templates, turn.now()))
            written = await turn.replace(to_record(verdict), current.version)
            if written.ok:
                return actor.person_id, WON, time.perf_counter() - began, reads
        return actor.person_id, "busy", time.perf_counter() - began, MAX_CAS_ATTEMPTS

    rounds: list[list[Attempt]] = []
    try:
        for key in keys:
            barrier.wait(60)  # nothing else runs in this loop meanwhile
            rounds.append(list(await asyncio.gather(*(claim(key, a) for a in actors))))
    finally:
        await store.close()
    return rounds


# -- the parent ---------------------------------------------------------------------


@dataclass
class RaceResult:
    backend: str
    rounds: int
    measured: list[float]  # latencies (s) of the measured rounds
    bad_rounds: list[str]
    outcomes: Counter[str]
    reread: int  # attempts that needed more than one read
    wall_s: float
    host: str


async def _prepare(url: str, namespace: str, rounds: int) -> list[str]:
    """Admit one mention per round through the real intake path."""
    from bot.app import load, open_runtime
    from bot.core.clock import SystemClock
    from bot.intake.feed import parse_mention
    from bot.store import open_store

    store = open_store(url, namespace=namespace)
    runtime = await open_runtime(
        load(str(CONFIG)), store=store, clock=SystemClock(), platforms=["console"]
    )
    keys = []
    try:
        for item in _feed(rounds):
            incoming = parse_mention(item)
            if not await runtime.ingest(incoming):
                raise RuntimeError(f"mention {item['id']} was not admitted")
            keys.append(f"{incoming.network}:{incoming.external_id}")
    finally:
        await store.close()
    return keys


async def _verify(url: str, namespace: str, keys: list[str], winners: list[str]) -> list[str]:
    """What is wrong in the store after the race (empty when all is well)."""
    from bot.store import open_store
    from handlers.triage.records import KIND

    problems: list[str] = []
    store = open_store(url, namespace=namespace)
    await store.open()
    try:
        for key, winner in zip(keys, winners, strict=True):
            record = await store.get(KIND, key)
            if record is None:
                problems.append(f"{key}: record missing")
                continue
            if (record.data.get("state"), record.data.get("owner"), record.version) != (
                "claimed",
                winner,
                2,
            ):
                problems.append(
                    f"{key}: state {record.data.get('state')}, owner "
                    f"{record.data.get('owner')}, version {record.version}; winner {winner}"
                )
            claims = [
                e for e in await store.audit_log(f"mention:{key}") if e.action == "mention.claim"
            ]
            if len(claims) != 1 or claims[0].actor != winner:
                problems.append(
                    f"{key}: {len(claims)} mention.claim audit entries "
                    f"({[e.actor for e in claims]}), winner {winner}"
                )
        outbox = await store.outbox_size("console")
        if outbox != 2 * len(keys):  # the card posted at intake + one update per claim
            problems.append(f"outbox holds {outbox} items, expected {2 * len(keys)}")
    finally:
        await store.close()
    return problems


def run_backend(backend: str, rounds: int, warmup: int, claimers: int, profile: bool) -> RaceResult:
    tmp_dir = Path(tempfile.mkdtemp(prefix="playcaller-race-"))
    namespace = new_namespace("bench-race")
    url = store_url(backend, tmp_dir)
    total = warmup + rounds
    try:
        keys = asyncio.run(_prepare(url, namespace, total))
        barrier = SPAWN.Barrier(PROCESSES)
        results: Queue[Any] = SPAWN.Queue()
        procs = [
            SPAWN.Process(
                target=claimer_process,
                args=(
                    url,
                    namespace,
                    proc,
                    keys,
                    claimers,
                    barrier,
                    results,
                    profile and proc == 0,
                ),
                daemon=True,
            )
            for proc in range(PROCESSES)
        ]
        load = HostLoad()
        started = time.perf_counter()
        for proc in procs:
            proc.start()
        reports: dict[int, list[list[Attempt]]] = {}
        errors: list[str] = []
        for _ in procs:
            kind, proc_id, payload = results.get(timeout=300)
            if kind == "done":
                reports[proc_id] = payload
            else:
                errors.append(f"process {proc_id}:\n{payload}")
        for proc in procs:
            proc.join(30)
        wall = time.perf_counter() - started
        host = load.summary()
        if errors:
            raise SystemExit(f"{backend}: claimer failed\n" + "\n".join(errors))

        bad: list[str] = []
        winners: list[str] = []
        outcomes: Counter[str] = Counter()
        measured: list[float] = []
        reread = 0
        for n, key in enumerate(keys):
            attempts = [a for proc in sorted(reports) for a in reports[proc][n]]
            won = [actor for actor, outcome, _, _ in attempts if outcome == WON]
            outcomes.update(outcome for _, outcome, _, _ in attempts)
            reread += sum(1 for *_, reads in attempts if reads > 1)
            if len(won) != 1:
                bad.append(f"{key}: {len(won)} winners")
            winners.append(won[0] if won else "")
            if n >= warmup:
                measured += [latency for _, _, latency, _ in attempts]
        bad += asyncio.run(_verify(url, namespace, keys, winners))
        return RaceResult(backend, rounds, sorted(measured), bad, outcomes, reread, wall, host)
    finally:
        if backend == "redis":
            wipe_redis_namespace(namespace)
        shutil.rmtree(tmp_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--rounds", type=int, default=200, help="measured rounds (default 200)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured first rounds")
    parser.add_argument(
        "--claimers", type=int, default=CLAIMERS, help=f"claimers per process ({CLAIMERS})"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile claimer process 0")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0 or args.claimers < 1:
        parser.error("--rounds and --claimers must be positive, --warmup not negative")
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    print(environment())
    print(
        f"{args.rounds} rounds (+{args.warmup} warm-up), {PROCESSES} processes x "
        f"{args.claimers} claimers on one mention per round"
    )
    results = [
        run_backend(backend, args.rounds, args.warmup, args.claimers, args.profile)
        for backend in backends
    ]
    print()
    print(
        f"{'backend':<8} {'rounds':>6} {'claims':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'reread':>6} {'one winner':>10}"
    )
    all_met = True
    for r in results:
        ms = r.measured
        print(
            f"{r.backend:<8} {r.rounds:>6} {len(ms):>7} {percentile(ms, 50) * 1000:>7.2f} "
            f"{percentile(ms, 99) * 1000:>7.2f} {ms[-1] * 1000:>7.2f} {r.reread:>6} "
            f"{'every round' if not r.bad_rounds else 'NO':>10}"
        )
    print()
    for r in results:
        p99_ms = percentile(r.measured, 99) * 1000
        print(f"{r.backend}: outcomes {dict(r.outcomes)}; wall {r.wall_s:.1f} s; {r.host}")
        for problem in r.bad_rounds[:20]:
            print(f"  PROBLEM {problem}")
        for name, met in (
            ("exactly one winner and one audit entry per round", not r.bad_rounds),
            (f"p99 < {TARGET_P99_MS:.0f} ms", p99_ms < TARGET_P99_MS),
        ):
            all_met &= met
            print(f"  target {name}: {'met' if met else 'MISSED'}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
