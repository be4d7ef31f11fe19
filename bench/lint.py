"""Policy lint speed: 1,000 drafts through ``handlers.approvals.lint.lint``.

    uv run python -m bench.lint                 # 1,000 drafts, seed 7
    uv run python -m bench.lint --count 5000 --seed 3
    uv run python -m bench.lint --profile       # cProfile of the timed loop to stderr

Drafts are generated (seeded): replies and posts for an account on each of
the nine networks, 40 to 9,000 characters, with links, emoji, other scripts,
personal data, legal phrases and hostile text (zero-width characters,
full-width letters, chat markup) mixed in at fixed rates. Each draft is
linted once, timed alone (wall clock and this thread's CPU time), after
50 untimed drafts of another seed (the very first call, which loads phone
metadata, is reported on its own). The
baseline, timed in the same run over the same drafts, is the cheapest
possible check: ``len()`` and a lowercase substring test per configured
phrase. Target: p99 under 5 ms per draft, judged on CPU time (wall time
on a shared machine includes waiting for other processes and is printed
beside it). Exit status 1 when it is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import random
import sys
import time
from collections import Counter
from importlib.metadata import version

from bench.common import CONFIG, HostLoad, percentile
from bot.config import load_settings
from bot.core.accounts import Account, LintPolicy, Network
from handlers.approvals.lint import Finding, lint

TARGET_P99_MS = 5.0

OPENERS = [
    "Hi {who}, sorry about the double charge.",
    "Thanks for flagging this, {who}!",
    "{who} we hear you, and we're on it.",
    "Hello {who}, that isn't the experience we want for you.",
    "Hey {who} 👋 thanks for the kind words!",
]
BODIES = [
    "We've refunded the second payment; it shows within 3-5 working days.",
    "Our team is looking into the delivery delay in your area right now.",
    "The app update that fixes login on Android is rolling out today.",
    "Could you send us a DM with the e-mail on your account so we can check?",
    "We're sorry the parcel arrived damaged, a replacement is on its way.",
    "Nos disculpamos por la demora; su pedido sale mañana por la mañana.",
    "Wir prüfen das gerade und melden uns heute noch bei Ihnen.",
    "ご不便をおかけして申し訳ありません。担当者が確認しております。",
    "\u041c\u044b \u0443\u0436\u0435 "
    "\u0440\u0430\u0437\u0431\u0438\u0440\u0430\u0435\u043c\u0441\u044f "
    "\u0441 \u043f\u0440\u043e\u0431\u043b\u0435\u043c\u043e\u0439.",
    "Great to hear the new store opening went well 🎉🎉",
]
LINKS = [
    "https://www.acme.com/help/refunds",
    "status.acme.com",
    "https://acme.help/articles/4417-delivery-times?utm_source=x",
    "http://acme-support.help-desk.ru/login",
    "bit.ly/3xYzAbC",
]
PERSONAL = [
    "Call +44 20 7946 0958 any time.",
    "We emailed jane.doe@gmail.com.",
    "Card 4111 1111 1111 1111 was refunded.",
    "Paid into GB82 WEST 1234 5698 7654 32.",
    "Order ORD-1234567 is on its way.",
    "Ring (212) 555-0142 after 9am.",
]
LEGAL = ["We guarantee it won't happen again.", "We admit this was our fault.", ""]
HOSTILE = [
    "<!channel> @everyone <@U024BE7LH> *bold* `code` <https://evil.example|acme.com>",
    "we g\u200buar\u200dantee a \uff46\uff55\uff4c\uff4c refund \u202egnp.exe",
    "THIS IS COMPLETELY UNACCEPTABLE AND WE ARE SORRY",
    "👨\u200d👩\u200d👧\u200d👦🇬🇧🙋🏽" * 5,
]


def accounts() -> list[Account]:
    return [Account(f"acme-{n.value}", n, "@acme", "care") for n in Network]


def make_draft(rng: random.Random) -> str:
    parts = [rng.choice(OPENERS).format(who=rng.choice(["@jane_doe", "Jane", "@sam_k"]))]
    size = rng.random()
    sentences = 1 if size < 0.6 else rng.randint(3, 12) if size < 0.9 else rng.randint(25, 120)
    parts += [rng.choice(BODIES) for _ in range(sentences)]
    if rng.random() < 0.4:
        parts.append(f"More: {rng.choice(LINKS)}")
    if rng.random() < 0.2:
        parts.append(rng.choice(PERSONAL))
    if rng.random() < 0.15:
        parts.append(rng.choice(LEGAL))
    if rng.random() < 0.05:
        parts.append(rng.choice(HOSTILE))
    rng.shuffle(parts[1:])
    return " ".join(p for p in parts if p)


def baseline(text: str, policy: LintPolicy, account: Account) -> int:
    lowered = text.lower()
    phrases = (*policy.phrases_for(account.spoke), *policy.banned_terms, *policy.competitors)
    return len(text) + sum(phrase.lower() in lowered for phrase in phrases)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    policy = load_settings(CONFIG).approvals.lint
    rng = random.Random(args.seed)
    pool = accounts()
    drafts = [(make_draft(rng), pool[i % len(pool)]) for i in range(args.count)]

    started = time.perf_counter()
    lint("warm-up +44 20 7946 0958", account=pool[0], policy=policy)
    cold_ms = (time.perf_counter() - started) * 1000
    # Steady state: phone metadata per region, the IBAN registry and compiled
    # patterns load on first use; every kind of text, on every network, and
    # 50 drafts of another seed load them before timing.
    every_kind = " ".join([*OPENERS, *BODIES, *LINKS, *PERSONAL, *LEGAL, *HOSTILE])
    for account in pool:
        lint(every_kind.format(who="@jane_doe"), account=account, policy=policy)
    warm = random.Random(args.seed + 1)
    for i in range(50):
        lint(make_draft(warm), account=pool[i % len(pool)], policy=policy, reply_to="@jane_doe")

    load = HostLoad()
    wall: list[float] = []
    cpu: list[float] = []
    base: list[float] = []
    rules: Counter[str] = Counter()
    profiler = cProfile.Profile() if args.profile else None
    for text, account in drafts:
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        if profiler:
            profiler.enable()
        found: list[Finding] = lint(text, account=account, policy=policy, reply_to="@jane_doe")
        if profiler:
            profiler.disable()
        c1, t1 = time.thread_time_ns(), time.perf_counter_ns()
        wall.append((t1 - t0) / 1e6)
        cpu.append((c1 - c0) / 1e6)
        rules.update(f.rule.value for f in found)
        b0 = time.perf_counter_ns()
        baseline(text, policy, account)
        base.append((time.perf_counter_ns() - b0) / 1e6)

    wall.sort()
    cpu.sort()
    base.sort()
    lengths = sorted(len(t) for t, _ in drafts)
    print(
        f"bench.lint: {args.count} drafts (seed {args.seed}), "
        f"{lengths[0]}-{lengths[-1]} characters (median {lengths[len(lengths) // 2]})"
    )
    print(
        f"Python {platform.python_version()}, regex {version('regex')}, "
        f"phonenumbers {version('phonenumbers')}, schwifty {version('schwifty')}, "
        f"{os.cpu_count()} CPUs; {load.summary()}"
    )
    print(f"first call (loads phone metadata): {cold_ms:.1f} ms")
    print(f"{'':10} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (ms per draft)")
    for name, values in (("wall", wall), ("CPU", cpu), ("baseline", base)):
        print(
            f"{name:10} {percentile(values, 50):8.3f} {percentile(values, 95):8.3f} "
            f"{percentile(values, 99):8.3f} {values[-1]:8.3f}"
        )
    p99 = percentile(wall, 99)
    ratio = p99 / max(percentile(base, 99), 1e-9)
    print(f"p99 lint / p99 baseline: {ratio:.0f}x")
    print("findings: " + ", ".join(f"{rule} {n}" for rule, n in rules.most_common()))
    cpu_p99 = percentile(cpu, 99)
    met = cpu_p99 < TARGET_P99_MS
    # On a shared machine wall time waits for other processes' turns; CPU time
    # is what a draft costs, so it carries the verdict and wall is reported.
    verdict = "met" if met else "MISSED"
    print(f"target p99 < {TARGET_P99_MS} ms (CPU): {verdict} ({cpu_p99:.3f} ms)")
    wall_met = p99 < TARGET_P99_MS
    print(
        f"target p99 < {TARGET_P99_MS} ms (wall): {'met' if wall_met else 'MISSED'} ({p99:.3f} ms)"
    )
    if profiler:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
