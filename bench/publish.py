"""Publishing through the outbox's publish lane, against a local receiver.

Two parts per backend (SQLite file, then Redis), in one process with a
``SystemClock``, against the loopback receiver of the tests
(``tests/fakes/webhook_receiver.py``: signature check, one publish per
Idempotency-Key):

* **approvals**: ``--approvals`` drafts (default 100), each approved by two
  approvers clicking at the same moment (all of them at once). A click does
  what the approvals feature's deciding click does: read the draft record,
  and if undecided compare-and-set it with ``turn.publish(...)`` and an audit
  entry riding on the write; a loser rereads and sees it decided. Latency is
  per click, start to outcome. Then the lane sends every publication; the
  receiver must have published each draft exactly once.
* **lane**: ``--count`` publications (default 1,000) queued as fast as the
  store takes them (their deciding writes, 20 at a time) while two lane
  senders run as ``serve`` runs them (polling every ``--poll`` seconds, 1 s in
  serve). Throughput is publications recorded as published per second, from
  the first queued to the last recorded; latency is per publication, from the
  item's creation to its settlement (the ``publication.published`` audit
  entry, written with the outbox completion), both from the store. The
  baseline in the same run is the same requests POSTed straight to the
  receiver through the webhook adapter, one at a time, no store.

    uv run python -m bench.publish
    uv run python -m bench.publish --backend redis --count 2000 --poll 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

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

SECRET = "bench-publish-secret-0123456789"
KIND = "bench-draft"
TARGET_DECISION_P99_MS = 50.0
CONCURRENT_QUEUEING = 20
T = TypeVar("T")


@dataclass
class Result:
    backend: str
    decisions: list[float]
    arrivals: list[float]
    one_publish_each: bool
    lane_count: int
    lane_seconds: float
    lane_latency: list[float]
    lane_ok: bool
    baseline_seconds: float
    baseline_latency: list[float]
    host: str


def publication(n: int, prefix: str):  # type: ignore[no-untyped-def]
    from bot.core.accounts import Account, Network
    from bot.core.publishing import Publication, ReplyTarget

    return Publication(
        draft_id=f"{prefix}-{n:05d}",
        version=1,
        account=Account("acme-x", Network.X, "@acme", "care"),
        text=f"Hi there, sorry about order {n}: a replacement ships today. DM us any time.",
        drafted_by="sam",
        approved_by=("maria",),
        approved_at=datetime(2026, 3, 2, 14, 2, tzinfo=UTC),
        in_reply_to=ReplyTarget("x", str(1_000_000 + n), f"https://x.com/c/status/{n}"),
    )


async def decide(runtime, draft, approver: str) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    """One approver's click on a draft's Approve: (outcome, seconds)."""
    from bot.core.events import Command
    from bot.runtime import SilentResponder

    started = time.perf_counter()
    store = runtime.store
    while True:
        current = await store.get(KIND, draft.draft_id)
        assert current is not None
        if current.data["state"] != "pending":
            return "already decided", time.perf_counter() - started
        event = Command(
            platform="console",
            actor=runtime.settings.actor_for(runtime.settings.people[approver], "console"),
            received_at=runtime.clock.now(),
            name="approve",
        )
        turn = runtime.turn(event, SilentResponder())
        turn.publish(dataclasses.replace(draft, approved_by=(approver,)))
        turn.audit("draft.approved", f"draft:{draft.draft_id}", version=draft.version)
        approved = dataclasses.replace(
            current, data={**current.data, "state": "approved", "by": approver}
        )
        if (await turn.replace(approved, current.version)).ok:
            return "approved", time.perf_counter() - started


async def _later(delay: float, work: Awaitable[T]) -> T:
    await asyncio.sleep(delay)
    return await work


async def run_backend(
    backend: str,
    approvals: int,
    rate: float,
    count: int,
    poll: float,
    tmp_dir: Path,
    namespace: str,
) -> Result:
    from bot.app import load, open_runtime
    from bot.core.clock import SystemClock
    from bot.core.publishing import PUBLISH_LANE
    from bot.core.storage import Record
    from bot.publishing import PublishLane, WebhookPublisher, WebhookSettings
    from bot.store import open_store
    from tests.fakes.webhook_receiver import FakeReceiver

    receiver = FakeReceiver(SECRET)
    await receiver.start()
    store = open_store(store_url(backend, tmp_dir), namespace=namespace)
    clock = SystemClock()
    runtime = await open_runtime(load(str(CONFIG)), store=store, clock=clock, platforms=["console"])
    publisher = WebhookPublisher(WebhookSettings(receiver.url, SECRET), clock)
    lane = PublishLane(publisher)
    load_meter = HostLoad()
    try:
        # -- approvals: two approvers per draft, all at once, then arriving ---------
        herd = [publication(n, "herd") for n in range(approvals)]
        arriving = [publication(n, "arrive") for n in range(approvals)]
        for draft in (*herd, *arriving):
            await store.insert(Record(KIND, draft.draft_id, {"state": "pending"}))
        clicks = await asyncio.gather(
            *(decide(runtime, d, who) for d in herd for who in ("maria", "lee"))
        )
        rng = random.Random(7)

        async def both_approvers(draft, delay: float):  # type: ignore[no-untyped-def]
            await asyncio.sleep(delay)
            second = asyncio.create_task(
                _later(rng.uniform(0, 0.01), decide(runtime, draft, "lee"))
            )
            return [await decide(runtime, draft, "maria"), await second]

        delays = []
        at = 0.0
        for _ in arriving:
            at += rng.expovariate(rate)
            delays.append(at)
        paced = [
            click
            for pair in await asyncio.gather(
                *(both_approvers(d, delay) for d, delay in zip(arriving, delays, strict=True))
            )
            for click in pair
        ]
        decisions = sorted(seconds for _, seconds in clicks)
        arrivals = sorted(seconds for _, seconds in paced)
        approved = sum(1 for outcome, _ in (*clicks, *paced) if outcome == "approved")
        senders = [runtime.external_sender(lane), runtime.external_sender(lane)]
        while await store.outbox_size(PUBLISH_LANE):
            await asyncio.gather(*(s.drain() for s in senders))
        keys = [a.key for a in receiver.attempts if a.status == 200]
        one_each = (
            approved == 2 * approvals
            and sorted(keys) == sorted(d.key for d in (*herd, *arriving))
            and receiver.repeats == 0
        )

        # -- the lane: N queued while two senders run as serve runs them ------------
        lane_drafts = [publication(n, "lane") for n in range(count)]
        stop = asyncio.Event()
        running = [asyncio.create_task(s.run(stop, idle=poll)) for s in senders]
        first = time.perf_counter()
        pending = asyncio.Semaphore(CONCURRENT_QUEUEING)

        async def queue(draft) -> None:  # type: ignore[no-untyped-def]
            async with pending:
                await store.insert(Record(KIND, draft.draft_id, {"state": "pending"}))
                outcome, _ = await decide(runtime, draft, "maria")
                assert outcome == "approved"

        await asyncio.gather(*(queue(d) for d in lane_drafts))
        # The senders' progress is in the store, so it is polled there.
        while await store.outbox_size(PUBLISH_LANE):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        lane_seconds = time.perf_counter() - first
        stop.set()
        await asyncio.gather(*running)
        latency = []
        lane_ok = True
        for draft in lane_drafts:
            entries = await store.audit_log(f"publication:{draft.key}")
            published = [e for e in entries if e.action == "publication.published"]
            if len(published) != 1:
                lane_ok = False
                continue
            queued = await store.audit_log(f"draft:{draft.draft_id}")
            latency.append((published[0].at - queued[0].at).total_seconds())
        lane_ok &= receiver.repeats == 0 and len(receiver.published) == 2 * approvals + count

        # -- baseline: the same requests straight to the receiver ---------------------
        baseline = [publication(n, "direct") for n in range(count)]
        straight = []
        began = time.perf_counter()
        for draft in baseline:
            started = time.perf_counter()
            await publisher.publish(draft, attempt=1)
            straight.append(time.perf_counter() - started)
        baseline_seconds = time.perf_counter() - began
        return Result(
            backend,
            decisions,
            arrivals,
            one_each,
            count,
            lane_seconds,
            sorted(latency),
            lane_ok,
            baseline_seconds,
            sorted(straight),
            load_meter.summary(),
        )
    finally:
        await publisher.close()
        await store.close()
        await receiver.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--approvals", type=int, default=100)
    parser.add_argument(
        "--rate", type=float, default=100.0, help="arriving approvals per second (100)"
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--poll", type=float, default=1.0, help="sender idle poll (serve: 1 s)")
    args = parser.parse_args(argv)
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    print(environment())
    results = []
    for backend in backends:
        tmp_dir = Path(tempfile.mkdtemp(prefix="playcaller-publish-"))
        namespace = new_namespace("bench-publish")
        try:
            results.append(
                asyncio.run(
                    run_backend(
                        backend,
                        args.approvals,
                        args.rate,
                        args.count,
                        args.poll,
                        tmp_dir,
                        namespace,
                    )
                )
            )
        finally:
            if backend == "redis":
                wipe_redis_namespace(namespace)
            shutil.rmtree(tmp_dir, ignore_errors=True)
    all_met = True
    for r in results:
        d = r.decisions
        rate = r.lane_count / r.lane_seconds
        base_rate = r.lane_count / r.baseline_seconds
        print(f"\n{r.backend}: {r.host}")
        a = r.arrivals
        print(
            f"  approvals, all at once: {len(d)} clicks, decision p50 "
            f"{percentile(d, 50) * 1000:.1f} ms, p99 {percentile(d, 99) * 1000:.1f} ms, "
            f"max {d[-1] * 1000:.1f} ms ({d[-1] * 1000 / len(d):.2f} ms per click)"
        )
        print(
            f"  approvals, arriving: {len(a)} clicks, decision p50 "
            f"{percentile(a, 50) * 1000:.1f} ms, p99 {percentile(a, 99) * 1000:.1f} ms, "
            f"max {a[-1] * 1000:.1f} ms"
        )
        print(
            f"  lane: {r.lane_count} publications in {r.lane_seconds:.2f} s = {rate:.0f}/s; "
            f"queued-to-published p50 {percentile(r.lane_latency, 50) * 1000:.0f} ms, "
            f"p99 {percentile(r.lane_latency, 99) * 1000:.0f} ms"
        )
        print(
            f"  baseline (direct POSTs, one at a time): {base_rate:.0f}/s, "
            f"p50 {percentile(r.baseline_latency, 50) * 1000:.1f} ms, "
            f"p99 {percentile(r.baseline_latency, 99) * 1000:.1f} ms; "
            f"lane / baseline throughput {rate / base_rate:.2f}"
        )
        for name, met in (
            ("one publish per approved draft", r.one_publish_each),
            ("every lane publication published once", r.lane_ok),
            (
                f"decision p99 < {TARGET_DECISION_P99_MS:.0f} ms, all at once",
                percentile(d, 99) * 1000 < TARGET_DECISION_P99_MS,
            ),
            (
                f"decision p99 < {TARGET_DECISION_P99_MS:.0f} ms, arriving",
                percentile(a, 99) * 1000 < TARGET_DECISION_P99_MS,
            ),
        ):
            all_met &= met
            print(f"  target {name}: {'met' if met else 'MISSED'}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
