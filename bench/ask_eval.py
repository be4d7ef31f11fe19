"""Evaluate guideline retrieval and abstention on a labelled question set.

Three sets: ``eval/ask/questions.jsonl`` over ``playbooks/guidelines`` (the "old" set,
written with the engine in view: tune on this one),
``eval/ask/handbooks/questions.jsonl`` over 16 other organisations' documents (the
held-out set, written by someone who never saw the engine, split into ``dev`` and
``test``: never tune on it; its ``test`` split is only ever reported in aggregate),
and ``eval/ask/tuning2/questions.jsonl``, a second tuning set written by someone who
never saw the engine (tune on it, per question if need be; for abstention only
pooled with the others: its documents leave out press, personal accounts and crises).

For each retrieval configuration it reports, on the answerable questions, section@1,
section@3 and MRR (a hit is the labelled (document, section) pair or one of its
"also" alternatives, compared on the section's own heading), and what the store
decides at its threshold: the share of answerable questions answered and the share
of unanswerable questions declined (correct abstention).

    uv run python bench/ask_eval.py                        # old set, every configuration
    uv run python bench/ask_eval.py --set handbooks --split dev
    uv run python bench/ask_eval.py --fit                  # fit the calibration (old set)
    uv run python bench/ask_eval.py --engine /tmp/before --only shipped   # an older engine

``--engine DIR`` imports ``bot`` from another checkout (e.g. ``git worktree add
/tmp/before <commit>``) to measure the engine as it was; ``--known-header-only``
rewrites the documents' YAML headers to their title, for an engine that refuses
unknown header fields.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "old": (ROOT / "eval" / "ask" / "questions.jsonl", ROOT / "playbooks" / "guidelines"),
    "handbooks": (
        ROOT / "eval" / "ask" / "handbooks" / "questions.jsonl",
        ROOT / "eval" / "ask" / "handbooks",
    ),
    "tuning2": (
        ROOT / "eval" / "ask" / "tuning2" / "questions.jsonl",
        ROOT / "eval" / "ask" / "tuning2",
    ),
}
#: Files in an evaluation folder that are not guidelines.
NOT_GUIDELINES = {"README.md", "QUESTIONS.md"}


@dataclass(frozen=True)
class Question:
    """One labelled question."""

    id: str
    text: str
    answerable: bool
    targets: tuple[tuple[str, str], ...]  # (doc, section) pairs that count as a hit


@dataclass
class Outcome:
    """What retrieval did with one question."""

    question: Question
    rank: int | None  # 1-based rank of the first hit within the top 10
    features: Any
    confidence: float
    answered: bool  # what the store decides (threshold, safety topics)
    safety: bool  # a covered safety topic: answered whatever the threshold
    found: bool  # any section found at all


def load_questions(path: Path, split: str | None) -> list[Question]:
    """The labelled questions in ``path`` (only those of ``split`` if given)."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if split and item.get("split") != split:
            continue
        targets: list[tuple[str, str]] = []
        if item.get("answerable"):
            targets.append((item["doc"], item["section"]))
            targets += [(alt["doc"], alt["section"]) for alt in item.get("also", [])]
        questions.append(
            Question(item["id"], item["question"], bool(item["answerable"]), tuple(targets))
        )
    return questions


def guideline_copy(folder: Path, known_header_only: bool) -> Path:
    """The folder's guidelines copied to a temporary folder (headers cut down if asked)."""
    target = Path(tempfile.mkdtemp(prefix="ask-eval-"))
    for path in sorted(folder.glob("*.md")):
        if path.name in NOT_GUIDELINES:
            continue
        text = path.read_text(encoding="utf-8")
        if known_header_only and text.startswith("---\n"):
            header, body = text[4:].split("\n---\n", 1)
            title = re.search(r"(?m)^title:.*$", header)
            text = f"---\n{title.group(0) if title else ''}\n---\n{body}"
        (target / path.name).write_text(text, encoding="utf-8")
    return target


def is_hit(section: Any, targets: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``section`` is one of the labelled (doc, section) pairs."""
    own = " ".join(section.path[-1].split()).casefold()
    return any(
        section.doc == doc and " ".join(label.split()).casefold() == own for doc, label in targets
    )


def run(store: Any, questions: list[Question]) -> list[Outcome]:
    """Retrieve the top 10 sections for every question and record the store's decision."""
    outcomes = []
    for question in questions:
        found = store.retrieve(question.text, k=10)
        rank = next(
            (i + 1 for i, (s, _) in enumerate(found.hits) if is_hit(s, question.targets)),
            None,
        )
        safety = bool(getattr(found, "safety", False))
        answered = bool(found.hits) and (found.confidence >= store.threshold or safety)
        outcomes.append(
            Outcome(
                question,
                rank,
                found.features,
                found.confidence,
                answered,
                safety,
                bool(found.hits),
            )
        )
    return outcomes


def metrics(outcomes: list[Outcome]) -> dict[str, float]:
    """section@1, section@3, MRR; answered share and correct abstention."""
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    n = len(answerable) or 1
    return {
        "section@1": sum(o.rank == 1 for o in answerable) / n,
        "section@3": sum(o.rank is not None and o.rank <= 3 for o in answerable) / n,
        "mrr": sum(1 / o.rank for o in answerable if o.rank) / n,
        "answered": sum(o.answered for o in answerable) / n,
        "answered_right@1": sum(o.answered and o.rank == 1 for o in answerable) / n,
        "abstained": sum(not o.answered for o in unanswerable) / max(len(unanswerable), 1),
    }


# -- calibration fitting (old set only) ---------------------------------------------

FEATURE_NAMES = ("cosine", "coverage", "margin", "matched")
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "cosine": ("cosine",),
    "cosine + log(1+matched)": ("cosine", "matched"),
    "cosine + coverage": ("cosine", "coverage"),
    "cosine + margin + log(1+matched)": ("cosine", "margin", "matched"),
    "margin + log(1+matched)": ("margin", "matched"),
}


def _vector(features: Any, use: tuple[str, ...]) -> list[float]:
    if features is None:
        return [0.0 for _ in use]
    return [
        math.log1p(features.matched) if name == "matched" else float(getattr(features, name))
        for name in use
    ]


def fit_logistic(rows: list[list[float]], labels: list[bool], l2: float = 0.1) -> list[float]:
    """Weights [bias, w...] of an L2-regularised logistic regression (Newton's method)."""
    import numpy as np

    x = np.array([[1.0, *row] for row in rows])
    y = np.array(labels, dtype=float)
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        w -= np.linalg.solve(hessian, x.T @ (p - y) + penalty @ w)
    return [float(v) for v in w]


def _confidence(weights: list[float], row: list[float]) -> float:
    z = weights[0] + sum(w * v for w, v in zip(weights[1:], row, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def cross_validated(
    outcomes: list[Outcome], use: tuple[str, ...], folds: int = 5, seed: int = 7
) -> list[float]:
    """Each question's confidence from a fit made without its fold.

    The target is "answerable": the confidence decides whether to answer at all; which
    section is quoted is the ranking's job.
    """
    order = list(range(len(outcomes)))
    random.Random(seed).shuffle(order)
    confidences = [0.0] * len(outcomes)
    for fold in range(folds):
        held = set(order[fold::folds])
        train = [o for i, o in enumerate(outcomes) if i not in held]
        weights = fit_logistic(
            [_vector(o.features, use) for o in train], [o.question.answerable for o in train]
        )
        for i in held:
            confidences[i] = _confidence(weights, _vector(outcomes[i].features, use))
    return confidences


def balanced_threshold(outcomes: list[Outcome], confidences: list[float]) -> tuple[float, float]:
    """The threshold (step 0.05) with the best mean of answered share and abstention."""
    best = (0.0, 0.5)
    for step in range(1, 20):
        threshold = round(step * 0.05, 2)
        answerable = [
            c >= threshold
            for o, c in zip(outcomes, confidences, strict=True)
            if o.question.answerable
        ]
        declined = [
            c < threshold
            for o, c in zip(outcomes, confidences, strict=True)
            if not o.question.answerable
        ]
        score = (
            sum(answerable) / max(len(answerable), 1) + sum(declined) / max(len(declined), 1)
        ) / 2
        if score > best[0]:
            best = (score, threshold)
    return best[1], best[0]


def fit_report(outcomes: list[Outcome]) -> None:
    """Compare feature sets by cross-validated log loss; print the fit on all questions."""
    print("Calibration fits (target: answerable; 5-fold cross-validated)")
    for name, use in FEATURE_SETS.items():
        cv = cross_validated(outcomes, use)
        loss = -sum(
            math.log(max(c if o.question.answerable else 1 - c, 1e-6))
            for o, c in zip(outcomes, cv, strict=True)
        ) / max(len(outcomes), 1)
        threshold, balanced = balanced_threshold(outcomes, cv)
        weights = fit_logistic(
            [_vector(o.features, use) for o in outcomes], [o.question.answerable for o in outcomes]
        )
        named = ", ".join(f"{n}={w:.3f}" for n, w in zip(("bias", *use), weights, strict=True))
        print(
            f"  {name:34s} log loss {loss:.3f}  threshold {threshold:.2f} "
            f"(balanced {balanced:.3f})  fit: {named}"
        )
    print()


def threshold_sweep(outcomes: list[Outcome]) -> None:
    """Aggregate answered share and correct abstention at thresholds 0.50 to 0.90.

    Safety topics are answered whatever the threshold, as in the store. Aggregates only,
    so it may be run on the held-out dev split.
    """
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    print("    threshold  answered  abstained  mean")
    for step in range(10, 19):
        threshold = round(step * 0.05, 2)

        def says(o: Outcome, threshold: float = threshold) -> bool:
            return o.found and (o.confidence >= threshold or o.safety)

        answered = sum(says(o) for o in answerable) / max(len(answerable), 1)
        abstained = sum(not says(o) for o in unanswerable) / max(len(unanswerable), 1)
        print(
            f"    {threshold:.2f}       {answered:.3f}     {abstained:.3f}      "
            f"{(answered + abstained) / 2:.3f}"
        )


# -- main ---------------------------------------------------------------------------


def configurations(knowledge: Any) -> dict[str, Any]:
    """The retrieval configurations compared (name -> IndexOptions)."""
    options = knowledge.IndexOptions
    fields = {f.name for f in dataclasses.fields(options)}
    if "semantic_weight" not in fields:  # an engine from before the semantic stage
        return {"shipped": options()}
    bare = {"pair_weight": 0.0}
    configs = {
        "BM25 plain (title + path + body)": options(
            typo=False, shorthand=False, semantic_weight=0.0, **bare
        ),
        "BM25 + typo + shorthand": options(semantic_weight=0.0, **bare),
        "BM25 + typo + shorthand + pairs": options(semantic_weight=0.0),
        "MiniLM only (max over windows)": options(semantic_weight=1.0, **bare),
        "blend max-norm w=0.6": options(semantic_weight=0.6, blend="max", **bare),
    }
    if "rrf_k" not in fields:  # the engine before rank fusion was tuned
        configs["RRF k=60 w=0.6"] = options(semantic_weight=0.6, blend="rrf", **bare)
        configs["shipped"] = options()
        return configs
    for weight in (0.5, 0.6, 0.7, 0.8):
        configs[f"blend z w={weight}"] = options(semantic_weight=weight, blend="z", **bare)
    for rrf_k in (3.0, 5.0, 8.0, 10.0, 20.0, 60.0):
        for weight in (0.4, 0.5, 0.6):
            configs[f"RRF k={rrf_k:g} w={weight} + pairs x0.5"] = options(
                semantic_weight=weight, blend="rrf", rrf_k=rrf_k
            )
    if "heading_weight" in fields:  # third pass: shorter windows, heading cosine
        for words, step in ((128, 96), (64, 48)):
            for heading in (0.0, 0.1, 0.2, 0.3):
                configs[f"z w=0.6 + pairs, {words}-word windows, heading x{heading}"] = options(
                    window_words=words, window_step=step, heading_weight=heading
                )
    configs["shipped"] = options()
    return configs


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=sorted(SETS), default="old")
    parser.add_argument("--split", choices=["dev", "test"], help="only this split")
    parser.add_argument("--only", help="only the configuration with this name")
    parser.add_argument("--engine", type=Path, help="import bot from this checkout")
    parser.add_argument("--known-header-only", action="store_true")
    parser.add_argument("--fit", action="store_true", help="fit the calibration (old set)")
    parser.add_argument("--misses", action="store_true", help="list missed questions")
    parser.add_argument(
        "--sweep", action="store_true", help="answered / abstained at other thresholds"
    )
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / ".playcaller" / "bench-index",
        help="index cache (embeddings are computed once per document set)",
    )
    args = parser.parse_args(argv)
    if args.misses and args.set == "handbooks":
        parser.error("--misses is refused on the held-out set: report it in aggregate only")
    if args.fit and args.set != "old":
        parser.error("--fit fits on the old set only")
    sys.path.insert(0, str(args.engine.resolve() if args.engine else ROOT))
    import bot.knowledge as knowledge

    questions_path, folder = SETS[args.set]
    questions = load_questions(questions_path, args.split)
    folder = guideline_copy(folder, args.known_header_only)
    n_ans = sum(q.answerable for q in questions)
    print(
        f"{args.set} set{f' ({args.split})' if args.split else ''}: {len(questions)} "
        f"questions ({n_ans} answerable, {len(questions) - n_ans} not); engine "
        f"{args.engine or ROOT}\n"
    )
    report: dict[str, Any] = {}
    header = [
        "configuration",
        "sec@1",
        "sec@3",
        "MRR",
        "answered",
        "ans.right@1",
        "abstained",
        "p50 ms",
        "p95 ms",
    ]
    print("  ".join(header))
    try:
        for name, options in configurations(knowledge).items():
            if args.only and name != args.only:
                continue
            # One cache folder per document set and index options (the cache keeps 2 keys).
            digest = hashlib.sha256(repr(options).encode()).hexdigest()[:12]
            cache = args.cache / args.set / digest
            store = knowledge.GuidelineStore(folder, cache_dir=cache, options=options)
            latencies = []
            outcomes = []
            for question in questions:
                start = time.perf_counter()
                outcomes += run(store, [question])
                latencies.append((time.perf_counter() - start) * 1000)
            latencies.sort()
            found = metrics(outcomes)
            found["p50_ms"] = latencies[len(latencies) // 2]
            found["p95_ms"] = latencies[min(int(len(latencies) * 0.95), len(latencies) - 1)]
            report[name] = found
            print(f"{name:34s} " + "  ".join(f"{v:.3f}" for v in found.values()))
            if args.misses and name == "shipped":
                for o in outcomes:
                    if o.question.answerable and o.rank != 1:
                        print(f"    miss {o.question.id} rank={o.rank}: {o.question.text}")
            if args.sweep and name == "shipped":
                threshold_sweep(outcomes)
            if args.fit and name == "shipped":
                print()
                fit_report(outcomes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
