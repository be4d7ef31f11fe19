"""CPU cost per mention of the sentiment engine, before and after the model.

    uv run python bench/sentiment_cost.py [--runs 7]

Times ``assess`` of the rules alone (:class:`RulesSentiment`, the engine
before the trained model) and of the shipped engine (:class:`VaderSentiment`:
the rules and the model) over every text of the training sets, alternating
the two per run so that a noisy neighbour on the shared machine hits both,
and prints the median of the runs in µs per mention. The intake budget: the
model may add about 40 µs per mention (4,500/s per core must stay >= 3,000/s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.intake.enrich import RulesSentiment, VaderSentiment  # noqa: E402

#: Training and tuning files only: never a held-out set.
FILES = (
    "dev",
    "test",
    "writer_dev",
    "writer_dev2",
    "holdout2",
    "corpus1",
    "corpus2",
    "corpus3",
)


def texts() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in FILES:
        path = ROOT / "eval" / "sentiment" / f"{name}.jsonl"
        if path.exists():
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    out.append((str(item["text"]), str(item["network"])))
    return out


def per_mention(engine: RulesSentiment, items: list[tuple[str, str]]) -> float:
    began = time.perf_counter()
    for text, network in items:
        engine.assess(text, network)
    return (time.perf_counter() - began) / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    items = texts()
    before, after = RulesSentiment(), VaderSentiment()
    per_mention(before, items)  # warm-up: lazy imports, regex compilation
    per_mention(after, items)
    times: dict[str, list[float]] = {"rules (before)": [], "rules + model (after)": []}
    for _ in range(args.runs):
        times["rules (before)"].append(per_mention(before, items))
        times["rules + model (after)"].append(per_mention(after, items))
    print(f"{len(items)} mentions, {args.runs} runs, median µs per mention:")
    for name, runs in times.items():
        spread = ", ".join(f"{t:.0f}" for t in sorted(runs))
        print(f"  {name:<22} {statistics.median(runs):6.1f}  (runs: {spread})")
    added = statistics.median(
        a - b for a, b in zip(times["rules + model (after)"], times["rules (before)"], strict=True)
    )
    print(f"  added by the model     {added:6.1f}  (median of the per-run differences)")


if __name__ == "__main__":
    main()
