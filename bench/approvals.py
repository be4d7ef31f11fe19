"""Concurrent approvals through the real approvals feature, on SQLite and Redis.

``--drafts`` drafts (default 100) wait for one step that either of two
approvers may decide (Maria Lopez, Ada Byrne); webhook publishing is on.
Each draft gets two Approve clicks, one from each approver, handled by the
runtime's dispatcher exactly as a click from Slack or Teams after its ack:
the approvals router reads the draft, the pure rules decide, and one
compare-and-set writes the decision with its audit entries, the card
updates and the publish request (``turn.publish``); the loser rereads and
is told who decided. **Decision latency** is per click, from the moment the
click enters ``Runtime.handle`` (where the inbox hands a stored click to the
routers, after the platform's HTTP request was acknowledged; the ack itself
is ``bench/ack.py``'s) until the handler returns: the decision committed with
its effects, or the loser told who decided, and the answer handed to the
responder.

* **all at once**: all 200 clicks start together;
* **arriving**: 100 more drafts as a Poisson stream of ``--rate`` approvals
  per second, the second approver 0-10 ms after the first.

Then the publish lane sends everything to the loopback receiver of the tests
(``tests/fakes/webhook_receiver.py``), and the settlements come back to the
approvals router: every draft must be published exactly once. The baseline
in the same run is the store's bare read and compare-and-set of the same
records, 200 at once like the first part (no feature), so the ratio of the
two p99s says what the feature adds to a click.

For the all-at-once part it also prints the event loop's own CPU time for
all 200 clicks (``time.thread_time`` of the loop's thread): one process does
every click on that thread, so with all clicks started at once the p99 cannot
be lower than that figure however quiet the machine; the machine's load
moves it far less than it moves latency. ``--profile FILE`` writes a cProfile
(thread CPU time) of that part to ``FILE.<backend>``. After the warm-up the
process keeps its start-up objects out of garbage collection as
``playcaller serve`` does once started (``gc.freeze()`` and its thresholds):
without that a full collection of them lands among the clicks and was more
than half of the loop's time.

    uv run python -m bench.approvals --backend sqlite
    uv run python -m bench.approvals --backend redis
    uv run python -m bench.approvals --backend redis --drafts 200 --profile /tmp/herd
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
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

SECRET = "bench-approvals-secret-0123456789"
TARGET_DECISION_P99_MS = 50.0
APPROVERS = ("maria", "ada")


@dataclass
class Result:
    backend: str
    herd: list[float]
    arriving: list[float]
    baseline: list[float]
    one_publish_each: bool
    one_decision_each: bool
    load: str
    cpu_ms_per_click: float
    store_calls_per_click: float
    loop_ms: float
    decisions: int  # approvals in the drafts' histories, read from the store
    published: int  # drafts in state published, read from the store
    accepted: int  # publishes the receiver accepted


async def run(
    backend: str, drafts: int, rate: float, tmp_dir: Path, namespace: str, profile: str = ""
) -> Result:
    from bot.app import GC_THRESHOLDS, load, open_runtime
    from bot.core.accounts import ApprovalStep
    from bot.core.clock import SystemClock
    from bot.core.events import Action
    from bot.core.publishing import PUBLISH_LANE
    from bot.publishing import PublishLane, WebhookPublisher, WebhookSettings
    from bot.runtime import Runtime, SilentResponder
    from bot.store import open_store
    from handlers.approvals.records import (
        KIND,
        Draft,
        DraftState,
        Step,
        Version,
        from_record,
        to_record,
    )
    from tests.fakes.webhook_receiver import FakeReceiver

    receiver = FakeReceiver(SECRET)
    await receiver.start()
    store = open_store(store_url(backend, tmp_dir), namespace=namespace)
    clock = SystemClock()
    loaded = load(str(CONFIG))
    runtime: Runtime = await open_runtime(loaded, store=store, clock=clock, platforms=["console"])
    approvals = dataclasses.replace(
        runtime.settings.approvals, steps=(ApprovalStep("Coach", members=APPROVERS),)
    )
    runtime.settings = dataclasses.replace(
        runtime.settings, approvals=approvals, publish_webhook=True
    )
    publisher = WebhookPublisher(WebhookSettings(receiver.url, SECRET), clock)
    meter = HostLoad()
    now = datetime.now(UTC)

    def draft(name: str) -> Draft:
        return Draft(
            id=name,
            account_id="acme-x",
            spoke="care",
            author="sam",
            created_at=now,
            versions=(Version(1, f"Our new card ships in May ({name}).", "sam", now),),
            state=DraftState.PENDING,
            steps=(Step("Coach", approvals.steps[0].mode, APPROVERS),),
        )

    async def click(draft_id: str, person: str) -> float:
        settings = runtime.settings
        event = Action(
            platform="console",
            actor=settings.actor_for(settings.people[person], "console"),
            received_at=clock.now(),
            action_id="approvals.approve",
            value=f"{draft_id}|1",
        )
        started = time.perf_counter()
        await runtime.handle(event, SilentResponder())
        return time.perf_counter() - started

    calls = count_store_calls(store)
    thresholds = gc.get_threshold()
    try:
        herd = [draft(f"herd-{n}") for n in range(drafts)]
        arriving = [draft(f"arrive-{n}") for n in range(drafts)]
        bare = [draft(f"bare-{n}") for n in range(drafts)]
        warm = draft("warm-up")
        for item in (warm, *herd, *arriving, *bare):
            await store.insert(to_record(item))
        # Templates compile on first use: warm them up outside the measurement.
        for person in APPROVERS:
            await click(warm.id, person)
        # As ``playcaller serve`` does once started: start-up objects are kept
        # out of garbage collection (a full collection of them pauses the
        # event loop for tens of milliseconds in the middle of the clicks).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        calls.clear()
        profiler = cProfile.Profile(time.thread_time) if profile else None
        cpu_before = time.process_time()
        loop_before = time.thread_time()
        if profiler:
            profiler.enable()
        herd_times = await asyncio.gather(*(click(d.id, p) for d in herd for p in APPROVERS))
        if profiler:
            profiler.disable()
            profiler.dump_stats(f"{profile}.{backend}")
        clicks = len(herd_times)
        loop_ms = 1000 * (time.thread_time() - loop_before)
        cpu_ms_per_click = 1000 * (time.process_time() - cpu_before) / clicks
        store_calls_per_click = sum(calls.values()) / clicks
        rng = random.Random(11)

        async def both(item: Draft, delay: float) -> list[float]:
            await asyncio.sleep(delay)

            async def second() -> float:
                await asyncio.sleep(rng.uniform(0, 0.01))
                return await click(item.id, APPROVERS[1])

            later = asyncio.create_task(second())
            return [await click(item.id, APPROVERS[0]), await later]

        delays, at = [], 0.0
        for _ in arriving:
            at += rng.expovariate(rate)
            delays.append(at)
        paced = await asyncio.gather(*(both(d, t) for d, t in zip(arriving, delays, strict=True)))
        arriving_times = [t for pair in paced for t in pair]

        async def bare_write(item: Draft) -> float:
            started = time.perf_counter()
            current = await store.get(KIND, item.id)
            assert current is not None
            await store.replace(dataclasses.replace(current, data=dict(current.data)), 1)
            return time.perf_counter() - started

        baseline = await asyncio.gather(*(bare_write(d) for d in bare for _ in APPROVERS))

        sender = runtime.external_sender(PublishLane(publisher))
        scheduler = runtime.scheduler()
        while await store.outbox_size(PUBLISH_LANE):
            await sender.drain()
        while await scheduler.tick():
            pass
        decided = [
            from_record(r) for r in await store.find(KIND, "state:published", limit=10 * drafts)
        ]
        approved_counts = [len([h for h in d.history if h.what == "approved"]) for d in decided]
        one_decision = all(n == 1 for n in approved_counts)
        keys = sorted(a.key or "" for a in receiver.attempts if a.status == 200)
        expected = sorted(f"{d.id}:1" for d in (warm, *herd, *arriving))
        return Result(
            backend,
            sorted(herd_times),
            sorted(arriving_times),
            sorted(baseline),
            keys == expected and receiver.repeats == 0 and len(decided) == 2 * drafts + 1,
            one_decision,
            meter.summary(),
            cpu_ms_per_click,
            store_calls_per_click,
            loop_ms,
            sum(approved_counts),
            len(decided),
            len(keys),
        )
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        await publisher.close()
        await store.close()
        await receiver.close()


STORE_CALLS = ("get", "find", "insert", "replace", "delete", "apply", "remembered", "put_once")


def count_store_calls(store: object) -> Counter[str]:
    """Count the store round trips the handlers make (wraps the instance's methods).
    Together with the process CPU time per click, this does not move with the
    machine's load the way latency does."""
    calls: Counter[str] = Counter()
    for name in STORE_CALLS:
        method = getattr(store, name)

        def counted(*args: Any, _name: str = name, _method: Any = method, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _method(*args, **kwargs)

        setattr(store, name, counted)
    return calls


def report(result: Result) -> str:
    def ms(values: list[float]) -> str:
        return "/".join(f"{1000 * percentile(values, q):.1f}" for q in (50, 95, 99, 100))

    herd = 1000 * percentile(result.herd, 99)
    p99 = 1000 * percentile(result.arriving, 99)
    base = percentile(result.baseline, 99) or 1e-9

    def verdict(value: float) -> str:
        return "met" if value < TARGET_DECISION_P99_MS else "MISSED"

    return (
        f"{result.backend}: all at once p50/p95/p99/max {ms(result.herd)} ms"
        f" ({verdict(herd)} < {TARGET_DECISION_P99_MS:.0f});"
        f" arriving p50/p95/p99/max {ms(result.arriving)} ms"
        f" ({verdict(p99)} < {TARGET_DECISION_P99_MS:.0f});"
        f" bare compare-and-set p50/p95/p99/max {ms(result.baseline)}"
        f" ms (all at once p99 / bare p99 = {percentile(result.herd, 99) / base:.1f}x);"
        f" all at once: event loop busy {result.loop_ms:.1f} ms in all;"
        f" per click {result.cpu_ms_per_click:.2f} ms CPU,"
        f" {result.store_calls_per_click:.2f} store calls;"
        f" store: {result.decisions} approvals on {result.published} published drafts"
        f" (one decision each: {result.one_decision_each});"
        f" receiver accepted {result.accepted} publishes"
        f" (one publish each: {result.one_publish_each}); {result.load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--drafts", type=int, default=100)
    parser.add_argument("--rate", type=float, default=100.0, help="approvals per second (100)")
    parser.add_argument(
        "--profile",
        default="",
        help="write cProfile stats of the all-at-once part to PROFILE.<backend>",
    )
    args = parser.parse_args(argv)
    print(environment())
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    ok = True
    for backend in backends:
        tmp_dir = Path(tempfile.mkdtemp(prefix="bench-approvals-"))
        namespace = new_namespace("bench-approvals")
        try:
            result = asyncio.run(
                run(backend, args.drafts, args.rate, tmp_dir, namespace, args.profile)
            )
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            if backend == "redis":
                wipe_redis_namespace(namespace)
        print(report(result), flush=True)
        ok &= result.one_publish_each and result.one_decision_each
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
