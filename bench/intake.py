"""Intake throughput: synthetic mentions through ``Runtime.ingest`` on a real store.

Every mention takes the production path of ``playcaller ingest``: a JSONL line
is decoded, validated by ``parse_mention`` and admitted by ``runtime.ingest``
(VADER sentiment, risk words, routing, the mention's card queued in the
outbox to be rendered when sent, SLA timers and an audit entry, all in one
store transaction). Each backend runs in
a fresh child process, so its peak RSS is its own.

    uv run python -m bench.intake                       # both backends, 10,000 mentions
    uv run python -m bench.intake --backend sqlite --count 20000
    uv run python -m bench.intake --burst               # 50,000 mentions, RSS target
    uv run python -m bench.intake --concurrency 8       # 8 ingest tasks in one loop
    uv run python -m bench.intake --backend sqlite --profile   # cProfile of the ingest loop
    uv run python -m bench.intake --stages              # CPU per ingest step, no store
    uv run python -m bench.intake --raw-heap            # without serve's start-up GC settings

The measured process is set up as ``serve`` and ``ingest`` set up theirs:
once the runtime (and for ``http`` the app) is built, ``settle_heap`` freezes
the start-up objects out of later garbage collections and raises the
collection thresholds. ``--raw-heap`` leaves the collector as Python starts
it, as this benchmark ran before (branch ``intake4``).

Afterwards the store must hold exactly N open mentions (every generated key),
N outbox posts for the console, 2N SLA timers and N audit entries. Temporary
files and the run's Redis namespace are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import io
import json
import math
import os
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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

BURST_COUNT = 50_000
TARGET_RATE = 1_000.0  # mentions/s on SQLite, one core
TARGET_HTTP_RATE = 3_000.0  # mentions/s on SQLite, /intake NDJSON batches of 500
TARGET_RSS_MB = 300.0  # peak RSS during a 50,000 mention burst

# -- synthetic feed ------------------------------------------------------------

NETWORKS = (
    ("x", 40),
    ("reddit", 15),
    ("facebook", 10),
    ("instagram", 10),
    ("linkedin", 10),
    ("news", 5),
    ("youtube", 5),
    ("tiktok", 5),
)

# (kind, weight, opening sentences). Openings carry the words the config reacts
# to (brands, competitors, risk words, career keywords) and set the tone.
KINDS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    (
        "complaint",
        30,
        (
            "@acme my card was charged twice for the same order and nobody answers.",
            "Really disappointed with Acme support, third call and still no refund.",
            "AcmePay keeps failing at checkout, this is terrible service.",
            "Worst experience ever with @acme delivery, the box arrived broken.",
        ),
    ),
    (
        "praise",
        20,
        (
            "Huge thanks to @acme for sorting out my order so quickly!",
            "Love the new AcmePay app, setting up took two minutes. Great job.",
            "Acme customer care was friendly and helpful today, much appreciated.",
        ),
    ),
    (
        "question",
        15,
        (
            "Does Acme ship to Portugal yet?",
            "@acme what are your opening hours on public holidays?",
            "Can I link two cards to one AcmePay account?",
        ),
    ),
    (
        "legal",
        7,
        (
            "I will sue Acme if my data is not deleted under GDPR this week.",
            "Talking to a lawyer about the AcmePay fees, looks like a class action.",
        ),
    ),
    (
        "crisis",
        7,
        (
            "My Acme heater caught fire last night, my son was nearly injured.",
            "Is @acme hacked? Looks like a data breach, my password was leaked.",
            "Acme outage again, the whole app is down. Time for a boycott.",
        ),
    ),
    (
        "careers",
        6,
        (
            "Is Acme hiring data engineers in Lisbon? I would love to interview.",
            "Just had my interview with an Acme recruiter, fingers crossed!",
        ),
    ),
    (
        "competitor",
        8,
        (
            "Switched from Globex to Acme and the difference is night and day.",
            "Initech is cheaper but @acme is more reliable in my experience.",
        ),
    ),
    (
        "noise",
        7,
        (
            "Anyone else watching the match tonight?",
            "New blog post on home espresso, link in bio.",
        ),
    ),
)

FILLER = {
    "complaint": (
        "I have been waiting for days.",
        "The chat bot just loops back to the start.",
        "This is not acceptable for a company this size.",
        "Order number is in my DMs if anyone cares.",
        "Seriously frustrated right now 😡",
    ),
    "praise": (
        "Would recommend to anyone.",
        "The team really went the extra mile.",
        "Five stars from me 🙏",
        "Keep it up!",
    ),
}
NEUTRAL_FILLER = (
    "Posting this here in case others have the same question.",
    "Thanks in advance.",
    "More details in the thread below.",
    "#acme #customerservice",
    "Not sure if this is the right place to ask.",
    "See https://example.com/post for the screenshot.",
    "Update: still looking into it.",
)
FIRST = ("Dan", "Joana", "Priya", "Lee", "Maria", "Tom", "Aisha", "Ken", "Sofia", "Omar")
LAST = ("Reyes", "Silva", "Novak", "Chen", "Okafor", "Berg", "Rossi", "Kim", "Haddad", "Smit")


def _text(rng: random.Random, kind: str, openings: tuple[str, ...]) -> str:
    """40-600 characters: an opening that sets kind and tone, then filler."""
    roll = rng.random()
    if roll < 0.5:
        target = rng.randint(40, 140)
    elif roll < 0.85:
        target = rng.randint(140, 300)
    else:
        target = rng.randint(300, 600)
    pool = FILLER.get(kind, ()) + NEUTRAL_FILLER
    text = rng.choice(openings)
    while len(text) < target:
        text += " " + rng.choice(pool)
    if len(text) > target:
        cut = text.rfind(" ", 0, target)
        text = text[:cut] if cut >= 40 else text[:target]
    return text[:600]


def synthetic_mentions(count: int, seed: int = 20260302) -> Iterator[dict[str, Any]]:
    """``count`` intake records with unique ids, in a realistic mix (generated lazily)."""
    rng = random.Random(seed)
    networks = [name for name, _ in NETWORKS]
    network_weights = [weight for _, weight in NETWORKS]
    kind_weights = [weight for _, weight, _ in KINDS]
    start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    for n in range(count):
        network = rng.choices(networks, network_weights)[0]
        kind, _, openings = rng.choices(KINDS, kind_weights)[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"{first.lower()}_{last.lower()}{rng.randint(1, 9999)}"
        mention_id = f"bench-{n:07d}"
        record: dict[str, Any] = {
            "network": network,
            "id": mention_id,
            "text": _text(rng, kind, openings),
            "created_at": (start + timedelta(seconds=n * 0.5)).isoformat(),
            "url": f"https://{network}.example.com/{handle}/{mention_id}",
            "lang": "en",
            "author": {
                "handle": handle,
                "name": f"{first} {last}",
                "followers": int(rng.paretovariate(1.2) * 50),
                "verified": rng.random() < 0.03,
            },
        }
        if network == "news":
            record["outlet"] = "Example Financial News"
        if rng.random() < 0.1:
            record["in_reply_to"] = f"bench-{rng.randrange(max(n, 1)):07d}"
        yield record


def write_feed(path: Path, count: int) -> None:
    """Write the synthetic feed as JSONL (one mention per line).

    Streamed, so the parent stays small: a child started from a large parent
    would inherit the parent's peak in ``ru_maxrss`` (Linux keeps it across
    fork and exec).
    """
    with path.open("w", encoding="utf-8") as feed:
        for record in synthetic_mentions(count):
            feed.write(json.dumps(record, ensure_ascii=False) + "\n")


# -- one backend, in a child process ---------------------------------------------


@dataclass
class Result:
    backend: str
    path: str
    count: int
    concurrency: int
    accepted: int
    wall_s: float
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    records: int
    missing_keys: int
    outbox: int
    timers: int
    audit: int
    rss_start_mb: float
    rss_peak_mb: float
    hwm_peak_mb: float
    rss_after_verify_mb: float
    cpu_ms: float = math.nan  # CPU of the benchmark process per mention (all its threads)
    host: str = ""

    @property
    def zero_loss(self) -> bool:
        n = self.count
        return (
            self.accepted == n
            and self.records == n
            and self.missing_keys == 0
            and self.outbox == n
            and self.timers == 2 * n
            and self.audit == n
        )


def _maxrss_mb() -> float:
    """Peak RSS of this process so far (``ru_maxrss`` is KiB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def _cpu_s() -> float:
    """User plus system CPU seconds of this process so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _vm_hwm_mb() -> float:
    """Peak RSS of this process image (``VmHWM``, reset by exec), in MB; NaN if unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return math.nan


PATHS = ("one", "batch", "http")
BATCH_SIZE = 500  # mentions per ingest_batch call / per /intake request
INTAKE_SECRET = "bench-intake-secret"


async def run_backend(
    backend: str,
    url: str,
    namespace: str,
    feed_path: Path,
    count: int,
    concurrency: int,
    profile: bool,
    path: str = "one",
    settle: bool = True,
) -> Result:
    """Ingest the feed on one store by ``path``, then count what the store holds.

    ``one``: ``runtime.ingest`` per line (the path ``ingest`` took before
    batching). ``batch``: ``runtime.ingest_batch`` per 500 lines (``ingest``
    now). ``http``: signed NDJSON requests of 500 lines to ``POST /intake`` on a
    real aiohttp server over loopback, the client in the same process (so its
    CPU counts against the rate too).
    """
    from bot.app import load, open_runtime, settle_heap
    from bot.core.clock import SystemClock
    from bot.core.settings import SpikePolicy, SurgePolicy
    from bot.intake.feed import parse_mention
    from bot.store import open_store

    loaded = load(str(CONFIG))
    # A card per mention, as this benchmark counts them: surge mode and spike
    # alerts (bench/surge.py measures those) stay out of reach here.
    quiet = dataclasses.replace(
        loaded.settings,
        surge_default=SurgePolicy(threshold=10_000_000),
        surge={},
        spikes=SpikePolicy(min_count=10_000_000),
    )
    loaded = dataclasses.replace(loaded, settings=quiet)
    store = open_store(url, namespace=namespace)
    runtime = await open_runtime(loaded, store=store, clock=SystemClock(), platforms=["console"])
    served: Any = None
    try:
        rss_start = _maxrss_mb()
        latencies = array("d")
        accepted = 0
        profiler = cProfile.Profile() if profile else None
        if path == "http":
            served = await _serve_intake(runtime)
        if settle:  # as serve and ingest do once they are built
            settle_heap()
        with feed_path.open(encoding="utf-8") as feed:

            async def one_by_one() -> None:
                nonlocal accepted
                for line in feed:  # tasks share the file iterator
                    began = time.perf_counter()
                    if await runtime.ingest(parse_mention(json.loads(line))):
                        accepted += 1
                    latencies.append(time.perf_counter() - began)

            async def batched() -> None:
                nonlocal accepted
                while chunk := [line for _, line in zip(range(BATCH_SIZE), feed, strict=False)]:
                    began = time.perf_counter()
                    written = await runtime.ingest_batch(
                        [parse_mention(json.loads(line)) for line in chunk]
                    )
                    accepted += sum(written)
                    latencies.append(time.perf_counter() - began)

            async def over_http() -> None:
                nonlocal accepted
                while chunk := [line for _, line in zip(range(BATCH_SIZE), feed, strict=False)]:
                    began = time.perf_counter()
                    accepted += await served.send("".join(chunk).encode("utf-8"))
                    latencies.append(time.perf_counter() - began)

            worker = {"one": one_by_one, "batch": batched, "http": over_http}[path]
            if profiler:
                profiler.enable()
            cpu_before = _cpu_s()
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            wall = time.perf_counter() - started
            cpu = _cpu_s() - cpu_before
            if profiler:
                profiler.disable()
        rss_peak, hwm_peak = _maxrss_mb(), _vm_hwm_mb()

        # Verification (after the RSS reading: it loads every record).
        expected = set()
        with feed_path.open(encoding="utf-8") as feed:
            for line in feed:
                item = json.loads(line)
                expected.add(f"{item['network']}:{item['id']}")
        found = await store.find("mention", "state:open", limit=count + 10)
        keys = {record.key for record in found}
        records = len(found)
        del found
        outbox = await store.outbox_size("console")
        timers = len(await store.pending_timers("triage."))
        audit = len(await store.audit_log(limit=count + 10))
    finally:
        if served is not None:
            await served.close()  # the app's clean-up closes the store
        else:
            await store.close()
    if profiler:
        _print_profile(profiler)
    ordered = sorted(latencies)
    return Result(
        backend=backend,
        path=path,
        count=count,
        concurrency=concurrency,
        accepted=accepted,
        wall_s=wall,
        rate=count / wall,
        p50_ms=percentile(ordered, 50) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        max_ms=ordered[-1] * 1000,
        records=records,
        missing_keys=len(expected - keys),
        outbox=outbox,
        timers=timers,
        audit=audit,
        rss_start_mb=rss_start,
        rss_peak_mb=rss_peak,
        hwm_peak_mb=hwm_peak,
        rss_after_verify_mb=_maxrss_mb(),
        cpu_ms=cpu / count * 1000,
    )


class _IntakeServer:
    """``serve``'s app with ``POST /intake`` on a loopback port, and a signing client."""

    def __init__(self, runner: Any, url: str, session: Any) -> None:
        self.runner, self.url, self.session = runner, url, session

    async def send(self, body: bytes) -> int:
        """POST one signed NDJSON body; how many mentions it stored."""
        from bot.signing import sign

        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/x-ndjson",
            "X-Playcaller-Timestamp": str(timestamp),
            "X-Playcaller-Signature": sign(INTAKE_SECRET, timestamp, body),
        }
        async with self.session.post(self.url, data=body, headers=headers) as response:
            if response.status != 200:
                raise SystemExit(f"/intake answered {response.status}: {await response.text()}")
            answer = await response.json()
        return int(answer["stored"])

    async def close(self) -> None:
        await self.session.close()
        await self.runner.cleanup()


async def _serve_intake(runtime: Any) -> _IntakeServer:
    import aiohttp
    from aiohttp import web

    from bot.intake.endpoint import IntakeSettings
    from bot.web import create_app

    app = create_app(runtime, [], intake=IntakeSettings(INTAKE_SECRET))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    session = aiohttp.ClientSession()
    return _IntakeServer(runner, f"http://127.0.0.1:{port}/intake", session)


def _print_profile(profiler: cProfile.Profile) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(order).print_stats(30)
        print(f"--- cProfile of the ingest loop, by {order} ---", file=sys.stderr)
        print(out.getvalue(), file=sys.stderr)


def _as_dict(card: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` of a card as ``Card.to_json`` writes it (the time as ISO 8601)."""
    plain = asdict(card)
    plain["at"] = card.at.isoformat() if card.at else None
    return plain


def stage_timings(count: int) -> None:
    """CPU time per mention of each step of ``ingest`` before the store call."""
    from bot.app import load
    from bot.core.complaints import signals
    from bot.core.later import LaterCard
    from bot.core.model import Sentiment
    from bot.intake.enrich import VaderSentiment, enrich
    from bot.intake.feed import parse_mention
    from bot.store import dumps
    from handlers.triage import rules
    from handlers.triage.cards import mention_card
    from handlers.triage.later import MENTION_CARD
    from handlers.triage.records import to_record

    class Neutral:
        def assess(self, text: str, network: str) -> Sentiment:
            return Sentiment(0.0, "neutral")

    loaded = load(str(CONFIG))
    settings, templates = loaded.settings, loaded.templates
    vader = VaderSentiment()
    now = datetime.now(UTC)
    lines = [json.dumps(record) for record in synthetic_mentions(count)]
    incoming = [parse_mention(json.loads(line)) for line in lines]
    mentions = [enrich(m, settings, vader, now).evolve(version=1) for m in incoming]
    compounds = [vader.compound(m.text) for m in incoming]
    readings = [vader.read(m.text, m.network) for m in incoming]
    cards = [mention_card(m, settings, templates, now) for m in mentions]
    bodies = [card.to_json() for card in cards]
    if any(body != _as_dict(card) for body, card in zip(bodies, cards, strict=True)):
        raise SystemExit("Card.to_json differs from dataclasses.asdict")
    stages: list[tuple[str, Any]] = [
        ("json.loads + parse_mention", lambda: [parse_mention(json.loads(x)) for x in lines]),
        ("VADER sentiment", lambda: [vader.compound(m.text) for m in incoming]),
        (
            "complaint/urgency signals",
            # With VADER's real score: praise and doubt are scanned only for
            # posts that could still show positive.
            lambda: [
                signals(m.text, m.network, c, vader.negatives(m.text))
                for m, c in zip(incoming, compounds, strict=True)
            ],
        ),
        (
            # The trained model's logits and decision from the rules' reading.
            "sentiment model (logits)",
            lambda: [
                vader.model.verdict(
                    vader.model.post_scores(
                        m.text[:5000], m.network, r.compound, r.negatives, r.signals, r.label
                    ),
                    r.signals.complaint,
                    r.signals.urgent,
                    r.label == "positive",
                )
                for m, r in zip(incoming, readings, strict=True)
            ],
        ),
        ("enrich without VADER", lambda: [enrich(m, settings, Neutral(), now) for m in incoming]),
        (
            "card queued (LaterCard)",
            lambda: [dumps(LaterCard(MENTION_CARD, m.key, now).to_json()) for m in mentions],
        ),
        ("to_record + dumps(data)", lambda: [dumps(to_record(m).data) for m in mentions]),
        ("sla_timers", lambda: [rules.sla_timers(m, settings, now) for m in mentions]),
    ]
    # Since the card is rendered when the outbox sends it (bot/core/later.py),
    # these run at a channel's pace, not per admitted mention.
    at_send: list[tuple[str, Any]] = [
        (
            "mention_card (templates)",
            lambda: [mention_card(m, settings, templates, now) for m in mentions],
        ),
        ("Card.to_json", lambda: [card.to_json() for card in cards]),
        ("dumps(card body)", lambda: [dumps(body) for body in bodies]),
    ]
    print(f"CPU per mention, {count} mentions, no store:")
    for title, timed in (("at admission", stages), ("when the card is sent", at_send)):
        total = 0.0
        print(f" {title}:")
        for name, run in timed:
            # Garbage collections land in whichever stage crosses a threshold
            # (tens of microseconds per mention, in a different stage from one
            # run to the next): collected before each stage, none during it.
            # The whole-process paths measure the collector's share.
            gc.collect()
            gc.disable()
            began = time.process_time()
            run()
            spent = (time.process_time() - began) / count * 1e6
            gc.enable()
            total += spent
            print(f"  {name:<28} {spent:7.0f} us")
        print(f"  {'total':<28} {total:7.0f} us")


def child_main(args: argparse.Namespace) -> int:
    if args.pin_cpu is not None:
        os.sched_setaffinity(0, {args.pin_cpu})
    result = asyncio.run(
        run_backend(
            args.backend,
            args.url,
            args.namespace,
            Path(args.feed),
            args.count,
            args.concurrency,
            args.profile,
            args.path,
            not args.raw_heap,
        )
    )
    print(json.dumps(asdict(result)))
    return 0


# -- the parent: feed, one child per backend, cleanup, report --------------------------


def run_child(
    backend: str, feed: Path, tmp_dir: Path, args: argparse.Namespace, count: int, path: str
) -> Result:
    namespace = new_namespace("bench-intake")
    command = [
        sys.executable,
        "-m",
        "bench.intake",
        "--child",
        "--backend",
        backend,
        "--url",
        store_url(backend, tmp_dir),
        "--namespace",
        namespace,
        "--feed",
        str(feed),
        "--count",
        str(count),
        "--concurrency",
        str(args.concurrency),
        "--path",
        path,
    ]
    if args.pin_cpu is not None:
        command += ["--pin-cpu", str(args.pin_cpu)]
    if args.profile:
        command.append("--profile")
    if args.raw_heap:
        command.append("--raw-heap")
    load = HostLoad()
    try:
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    finally:
        if backend == "redis":
            wipe_redis_namespace(namespace)
            if wipe_redis_namespace(namespace):
                print(f"warning: keys of {namespace} reappeared", file=sys.stderr)
        for leftover in tmp_dir.glob("bench.db*"):
            leftover.unlink()
    if done.returncode != 0:
        raise SystemExit(f"{backend} run failed (exit {done.returncode})")
    result = Result(**json.loads(done.stdout.strip().splitlines()[-1]))
    result.host = load.summary()
    return result


def report(results: list[Result], burst: bool) -> bool:
    print(
        f"{'backend':<8} {'path':<5} {'n':>7} {'conc':>4} {'wall s':>8} {'ment/s':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'CPU ms':>6} {'peak RSS MB':>11} "
        f"{'zero loss':>9}"
    )
    for r in results:
        print(
            f"{r.backend:<8} {r.path:<5} {r.count:>7} {r.concurrency:>4} {r.wall_s:>8.2f} "
            f"{r.rate:>8.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} {r.max_ms:>7.1f} {r.cpu_ms:>6.2f} "
            f"{r.rss_peak_mb:>11.1f} {'yes' if r.zero_loss else 'NO':>9}"
        )
    print(
        "CPU ms: CPU time of the benchmark process per mention, all its threads (for Redis,"
        " not the server's)"
    )
    baselines = {r.backend: r.rate for r in results if r.path == "one"}
    for r in results:
        if r.path != "one" and r.backend in baselines:
            print(f"{r.backend} {r.path}: {r.rate / baselines[r.backend]:.2f}x the one-by-one rate")
    print()
    all_met = True
    for r in results:
        print(
            f"{r.backend} {r.path}: accepted {r.accepted}, records {r.records} "
            f"(missing keys {r.missing_keys}), outbox {r.outbox}, timers {r.timers}, "
            f"audit {r.audit}; peak RSS (ru_maxrss) at start {r.rss_start_mb:.1f} MB, "
            f"after ingest {r.rss_peak_mb:.1f} MB (VmHWM {r.hwm_peak_mb:.1f} MB), "
            f"after verification {r.rss_after_verify_mb:.1f} MB"
        )
        print(f"  during the run: {r.host}")
        checks = [("zero loss", r.zero_loss)]
        if r.backend == "sqlite" and r.path in ("one", "batch"):
            checks.append((f">= {TARGET_RATE:.0f} mentions/s", r.rate >= TARGET_RATE))
        if r.backend == "sqlite" and r.path == "http":
            checks.append((f">= {TARGET_HTTP_RATE:.0f} mentions/s", r.rate >= TARGET_HTTP_RATE))
        if burst:
            checks.append((f"peak RSS < {TARGET_RSS_MB:.0f} MB", r.rss_peak_mb < TARGET_RSS_MB))
        for name, met in checks:
            all_met &= met
            print(f"  target {name}: {'met' if met else 'MISSED'}")
    return all_met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--count", type=int, default=10_000, help="mentions (default 10000)")
    parser.add_argument(
        "--burst", action="store_true", help=f"{BURST_COUNT} mentions; check RSS too"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="ingest tasks (default 1)")
    parser.add_argument(
        "--path",
        choices=(*PATHS, "all"),
        default="all",
        help="one: runtime.ingest per mention; batch: ingest_batch per 500; "
        "http: POST /intake NDJSON of 500 (default: all three, in that order)",
    )
    parser.add_argument("--pin-cpu", type=int, help="pin the measured process to this CPU")
    parser.add_argument("--profile", action="store_true", help="cProfile the ingest loop")
    parser.add_argument(
        "--raw-heap",
        action="store_true",
        help="leave the garbage collector as Python starts it (not as serve and ingest set it)",
    )
    parser.add_argument(
        "--stages", action="store_true", help="time each ingest step without a store, then exit"
    )
    # Internal: one backend in this process (the parent runs each in a child).
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", help=argparse.SUPPRESS)
    parser.add_argument("--feed", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.count < 1:
        parser.error("--count and --concurrency must be positive")
    if args.child:
        return child_main(args)
    if args.stages:
        stage_timings(min(args.count, 5_000))
        return 0

    count = BURST_COUNT if args.burst else args.count
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    print(environment())
    print(
        f"{count} mentions, concurrency {args.concurrency}"
        + (f", pinned to CPU {args.pin_cpu}" if args.pin_cpu is not None else "")
    )
    tmp_dir = Path(tempfile.mkdtemp(prefix="playcaller-bench-"))
    try:
        feed = tmp_dir / "feed.jsonl"
        write_feed(feed, count)
        paths = PATHS if args.path == "all" else (args.path,)
        results = [
            run_child(backend, feed, tmp_dir, args, count, path)
            for backend in backends
            for path in paths
        ]
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    print()
    return 0 if report(results, args.burst) else 1


if __name__ == "__main__":
    raise SystemExit(main())
