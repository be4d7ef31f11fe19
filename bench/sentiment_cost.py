"""CPU cost per mention of the sentiment engine, before and after the model.

    uv run python bench/sentiment_cost.py [--runs 7]

Times ``assess`` of the rules alone (:class:`RulesSentiment`, the engine
before the trained model), of the shipped engine (:class:`VaderSentiment`:
the rules and the model, scored by :mod:`bot.core.sentiment_scorer`) and of
the same engine scoring the definition's feature names
(:class:`ByFeatureNames`, how it scored before the fast scorer) over every
text of the training sets, alternating the engines within each run so that
a noisy neighbour on the shared machine hits all of them, and prints the
median of the runs in µs per mention and the median of the per-run
differences. The intake budget: the model may add about 40 µs per mention
(4,500/s per core must stay >= 3,000/s).
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

from bench.sentiment_eval import TUNING  # noqa: E402
from bot.core.model import Sentiment  # noqa: E402
from bot.intake.enrich import RulesSentiment, VaderSentiment  # noqa: E402

#: Training and tuning files only: never a held-out set.
FILES = TUNING


class ByFeatureNames(VaderSentiment):
    """The shipped engine scoring the feature names of
    :func:`bot.core.sentiment_features.features` (the definition)."""

    def assess(self, text: str, network: str) -> Sentiment:
        reading = self.read(text, network)
        verdict = self.model.decide(
            reading.features(text, network),
            reading.signals.complaint,
            reading.signals.urgent,
            reading.label == "positive",
        )
        return Sentiment(reading.compound, verdict.label, verdict.complaint, verdict.urgent)


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
    engines: dict[str, RulesSentiment] = {
        "rules": RulesSentiment(),
        "rules + model, by names": ByFeatureNames(),
        "rules + model (shipped)": VaderSentiment(),
    }
    for engine in engines.values():
        per_mention(engine, items)  # warm-up: lazy imports, regex compilation
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(args.runs):
        for name, engine in engines.items():
            times[name].append(per_mention(engine, items))
    print(f"{len(items)} mentions, {args.runs} runs, median µs per mention:")
    for name, runs in times.items():
        spread = ", ".join(f"{t:.0f}" for t in sorted(runs))
        print(f"  {name:<32} {statistics.median(runs):6.1f}  (runs: {spread})")
    print(" added to the rules (median of the per-run differences):")
    for name in list(engines)[1:]:
        added = statistics.median(a - b for a, b in zip(times[name], times["rules"], strict=True))
        print(f"  {name:<32} {added:6.1f}")


if __name__ == "__main__":
    main()
