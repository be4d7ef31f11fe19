"""Evaluate guideline retrieval and answer abstention on the labelled questions.

Reads ``eval/ask/questions.jsonl`` and the guideline folder, and reports for each
retrieval option hit@1, hit@3 and MRR on the answerable questions (a hit is the
labelled doc and section, or one of its "also" alternatives), then for the shipped
option a confidence reliability table, a threshold sweep with abstention precision
and recall, and the threshold the sweep chooses.

    uv run python bench/ask_eval.py            # the report
    uv run python bench/ask_eval.py --fit      # also fit the calibration (5-fold CV)
    uv run python bench/ask_eval.py --json out.json

The chosen threshold is the lowest one at which at least ``--abstain-target`` of the
unanswerable questions are declined (every higher threshold only loses answers),
judged on cross-validated confidences so that the choice is not flattered by the
calibration having been fitted on the same questions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import GuidelineStore, IndexOptions  # noqa: E402
from bot.knowledge.answer import DEFAULT_THRESHOLD, Calibration, Features  # noqa: E402
from bot.knowledge.documents import Section  # noqa: E402

QUESTIONS = ROOT / "eval" / "ask" / "questions.jsonl"
GUIDELINES = ROOT / "playbooks" / "guidelines"

#: BM25 with the textbook parameters, headings x2 and title x1, and nothing else.
_PLAIN = IndexOptions(
    heading_weight=2,
    title_weight=1,
    tag_weight=0,
    doc_weight=0.0,
    typo=False,
    shorthand=False,
    k1=1.5,
    b=0.75,
)
_FULL = dataclasses.replace(_PLAIN, tag_weight=1, doc_weight=0.5, typo=True)
_with = dataclasses.replace
#: The retrieval options compared; "(shipped)" marks what GuidelineStore uses.
OPTIONS: dict[str, IndexOptions] = {
    "BM25 text only": _with(_PLAIN, heading_weight=0, title_weight=0),
    "BM25 plain (text+headings+title once)": _with(_PLAIN, heading_weight=1),
    "  no stemming": _with(_PLAIN, heading_weight=1, stem=False),
    "BM25 headings x2": _PLAIN,
    "BM25 headings x3": _with(_PLAIN, heading_weight=3),
    "BM25 headings x3, title x2": _with(_PLAIN, heading_weight=3, title_weight=2),
    "BM25 headings x2 + typo": _with(_PLAIN, typo=True),
    "BM25 headings x2 + tags": _with(_PLAIN, tag_weight=1),
    "BM25 headings x2 + doc 0.5": _with(_PLAIN, doc_weight=0.5),
    "BM25 headings x2 + doc 1.0": _with(_PLAIN, doc_weight=1.0),
    "BM25 headings x2 + tags + doc 0.5": _with(_PLAIN, tag_weight=1, doc_weight=0.5),
    "  + typo": _FULL,
    "  + typo, k1=0.9 b=0.4": _with(_FULL, k1=0.9, b=0.4),
    "  + typo, k1=0.9 b=0.4, shorthand (shipped)": _with(_FULL, k1=0.9, b=0.4, shorthand=True),
    "  shipped without typo tolerance": _with(_FULL, k1=0.9, b=0.4, shorthand=True, typo=False),
}
SHIPPED = IndexOptions()


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
    features: Features | None
    confidence: float
    corrected: dict[str, str]


def load_questions(path: Path) -> list[Question]:
    """The labelled questions in ``path``."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        targets: list[tuple[str, str]] = []
        if item.get("answerable"):
            targets.append((item["doc"], item["section"]))
            targets += [(alt["doc"], alt["section"]) for alt in item.get("also", [])]
        questions.append(
            Question(item["id"], item["question"], bool(item["answerable"]), tuple(targets))
        )
    return questions


def is_hit(section: Section, targets: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``section`` is one of the labelled (doc, section) pairs."""
    own = section.path[-1].casefold()
    full = section.heading.casefold()
    return any(section.doc == doc and label.casefold() in (own, full) for doc, label in targets)


def run(store: GuidelineStore, questions: list[Question]) -> list[Outcome]:
    """Retrieve the top 10 sections for every question."""
    outcomes = []
    for question in questions:
        found = store.retrieve(question.text, k=10)
        rank = next(
            (i + 1 for i, (s, _) in enumerate(found.hits) if is_hit(s, question.targets)),
            None,
        )
        outcomes.append(
            Outcome(question, rank, found.features, found.confidence, found.query.corrected)
        )
    return outcomes


def ranking_metrics(outcomes: list[Outcome]) -> dict[str, float]:
    """hit@1, hit@3 and MRR over the answerable questions."""
    answerable = [o for o in outcomes if o.question.answerable]
    n = len(answerable) or 1
    return {
        "hit@1": sum(o.rank == 1 for o in answerable) / n,
        "hit@3": sum(o.rank is not None and o.rank <= 3 for o in answerable) / n,
        "mrr": sum(1 / o.rank for o in answerable if o.rank) / n,
    }


def decision_metrics(outcomes: list[Outcome], threshold: float) -> dict[str, float]:
    """What answering at ``threshold`` does on answerable and unanswerable questions."""
    answerable = [o for o in outcomes if o.question.answerable]
    unanswerable = [o for o in outcomes if not o.question.answerable]
    answered = [o for o in outcomes if o.features is not None and o.confidence >= threshold]
    declined = [o for o in outcomes if o not in answered]
    good = [o for o in answered if o.question.answerable and o.rank == 1]
    good3 = [o for o in answered if o.question.answerable and o.rank and o.rank <= 3]
    declined_right = [o for o in declined if not o.question.answerable]
    return {
        "threshold": threshold,
        # answerable questions answered with the right section first / in the top 3
        "answer_recall@1": len(good) / max(len(answerable), 1),
        "answer_recall@3": len(good3) / max(len(answerable), 1),
        "answered_share": sum(o in answered for o in answerable) / max(len(answerable), 1),
        # of the questions answered, how many had the right section first
        "answer_precision": len(good) / max(len(answered), 1),
        "abstain_recall": len(declined_right) / max(len(unanswerable), 1),
        "abstain_precision": len(declined_right) / max(len(declined), 1),
    }


def choose_threshold(outcomes: list[Outcome], target: float) -> float:
    """The lowest threshold (step 0.05) declining at least ``target`` of unanswerables."""
    for step in range(1, 20):
        threshold = round(step * 0.05, 2)
        if decision_metrics(outcomes, threshold)["abstain_recall"] >= target:
            return threshold
    return 0.95


def reliability(
    pairs: list[tuple[float, bool]], bins: int = 5
) -> list[tuple[str, int, float, float]]:
    """(bin, count, mean confidence, share correct) for equal-width confidence bins."""
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [(c, y) for c, y in pairs if low <= c < high or (b == bins - 1 and c == 1.0)]
        if not members:
            table.append((f"{low:.1f}-{high:.1f}", 0, math.nan, math.nan))
            continue
        mean_c = sum(c for c, _ in members) / len(members)
        share = sum(y for _, y in members) / len(members)
        table.append((f"{low:.1f}-{high:.1f}", len(members), mean_c, share))
    return table


def expected_calibration_error(pairs: list[tuple[float, bool]], bins: int = 5) -> float:
    """Mean |confidence - accuracy| over the bins, weighted by their size."""
    total = len(pairs) or 1
    return sum(
        count / total * abs(mean_c - share)
        for _, count, mean_c, share in reliability(pairs, bins)
        if count
    )


#: Feature sets tried for the calibration: indices into :func:`_vector`.
FEATURE_SETS: dict[str, tuple[int, ...]] = {
    "margin + log(1+matched)": (1, 2),
    "coverage + margin + log(1+matched)": (0, 1, 2),
    "coverage + margin": (0, 1),
}


def _vector(features: Features | None, use: tuple[int, ...] = (0, 1, 2)) -> list[float]:
    if features is None:
        return [0.0 for _ in use]
    every = [features.coverage, features.margin, math.log1p(features.matched)]
    return [every[i] for i in use]


def fit_logistic(
    rows: list[list[float]], labels: list[bool], l2: float = 0.1, steps: int = 50
) -> list[float]:
    """Weights [bias, w...] of an L2-regularised logistic regression (Newton's method)."""
    import numpy as np

    x = np.array([[1.0, *row] for row in rows])
    y = np.array(labels, dtype=float)
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        w -= np.linalg.solve(hessian, gradient)
    return [float(v) for v in w]


def calibration_from(weights: list[float], use: tuple[int, ...]) -> Calibration:
    """A :class:`Calibration` from weights fitted on the features ``use``."""
    named = dict.fromkeys(("coverage", "margin", "matched"), 0.0)
    for index, weight in zip(use, weights[1:], strict=True):
        named[("coverage", "margin", "matched")[index]] = round(weight, 3)
    return Calibration(bias=round(weights[0], 3), **named)


def correct(outcome: Outcome) -> bool:
    """The confidence's target: the question is answerable and the first section is right."""
    return outcome.question.answerable and outcome.rank == 1


def cross_validated(
    outcomes: list[Outcome], use: tuple[int, ...], folds: int = 5, seed: int = 7
) -> list[float]:
    """Each question's confidence from a calibration fitted without its fold."""
    order = list(range(len(outcomes)))
    random.Random(seed).shuffle(order)
    confidences = [0.0] * len(outcomes)
    for fold in range(folds):
        held = set(order[fold::folds])
        train = [o for i, o in enumerate(outcomes) if i not in held]
        weights = fit_logistic(
            [_vector(o.features, use) for o in train], [correct(o) for o in train]
        )
        calibration = calibration_from(weights, use)
        for i in held:
            features = outcomes[i].features
            confidences[i] = calibration.confidence(features) if features else 0.0
    return confidences


def log_loss(pairs: list[tuple[float, bool]]) -> float:
    """Mean negative log-likelihood of the outcomes under the confidences."""
    eps = 1e-6
    return -sum(math.log(min(max(c if y else 1 - c, eps), 1.0)) for c, y in pairs) / max(
        len(pairs), 1
    )


def _print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print()


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--guidelines", type=Path, default=GUIDELINES)
    parser.add_argument("--abstain-target", type=float, default=0.8)
    parser.add_argument("--fit", action="store_true", help="fit and print a calibration")
    parser.add_argument("--misses", action="store_true", help="list the questions missed")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)

    questions = load_questions(args.questions)
    n_ans = sum(q.answerable for q in questions)
    print(
        f"{len(questions)} questions ({n_ans} answerable, {len(questions) - n_ans} not), "
        f"guidelines in {args.guidelines}\n"
    )
    report: dict[str, Any] = {"options": {}}

    rows = []
    for name, options in OPTIONS.items():
        store = GuidelineStore(args.guidelines, cache_dir=None, options=options)
        start = time.perf_counter()
        outcomes = run(store, questions)
        elapsed = (time.perf_counter() - start) / len(questions) * 1000
        metrics = ranking_metrics(outcomes)
        # Each option gets its own calibration (margin + matched, cross-validated) and
        # threshold (the same rule), and is judged at that threshold.
        cv = cross_validated(outcomes, (1, 2))
        cv_outcomes = [
            dataclasses.replace(o, confidence=c) for o, c in zip(outcomes, cv, strict=True)
        ]
        threshold = choose_threshold(cv_outcomes, args.abstain_target)
        at = decision_metrics(cv_outcomes, threshold)
        report["options"][name] = {
            **metrics,
            "decision": at,
            "options": dataclasses.asdict(options),
        }
        rows.append(
            [
                name,
                metrics["hit@1"],
                metrics["hit@3"],
                metrics["mrr"],
                threshold,
                at["answered_share"],
                at["answer_precision"],
                at["abstain_recall"],
                at["abstain_precision"],
                f"{elapsed:.2f}",
            ]
        )
    print(
        "Retrieval on the answerable questions (hit@1, hit@3, MRR); then, with a\n"
        "cross-validated calibration per option and the threshold the rule picks for it:\n"
        "answerable questions answered, answers whose first section is right, and\n"
        "abstention recall and precision on the unanswerable ones"
    )
    headers = ["option", "hit@1", "hit@3", "MRR", "thr", "answered", "prec@1", "abst.R"]
    _print_table([*headers, "abst.P", "ms/q"], rows)

    store = GuidelineStore(args.guidelines, cache_dir=None, options=SHIPPED)
    outcomes = run(store, questions)
    corrected = {w: f for o in outcomes for w, f in o.corrected.items()}
    print(f"Shipped options: {SHIPPED}")
    print(f"words rewritten (shorthand or typo): {corrected}\n")

    if args.misses:
        for o in outcomes:
            if o.question.answerable and o.rank != 1:
                print(f"  miss {o.question.id} rank={o.rank}: {o.question.text}")
        print()

    if args.fit:
        print("Calibration fits (5-fold cross-validated; threshold for the abstention target)")
        fit_rows = []
        best: tuple[float, str] | None = None
        for name, use in FEATURE_SETS.items():
            cv = cross_validated(outcomes, use)
            pairs_cv = [(c, correct(o)) for c, o in zip(cv, outcomes, strict=True)]
            cv_outcomes = [
                dataclasses.replace(o, confidence=c) for o, c in zip(outcomes, cv, strict=True)
            ]
            threshold = choose_threshold(cv_outcomes, args.abstain_target)
            at = decision_metrics(cv_outcomes, threshold)
            loss = log_loss(pairs_cv)
            fit_rows.append(
                [
                    name,
                    loss,
                    expected_calibration_error(pairs_cv),
                    threshold,
                    at["answered_share"],
                    at["answer_precision"],
                    at["abstain_recall"],
                ]
            )
            if best is None or loss < best[0]:
                best = (loss, name)
        _print_table(
            ["features", "log loss", "ECE", "threshold", "answered", "precision@1", "abstained"],
            fit_rows,
        )
        assert best is not None
        use = FEATURE_SETS[best[1]]
        cv = cross_validated(outcomes, use)
        pairs_cv = [(c, correct(o)) for c, o in zip(cv, outcomes, strict=True)]
        print(f"Reliability of {best[1]} (cross-validated confidences):")
        _print_table(
            ["confidence", "n", "mean conf", "share right"],
            [list(r) for r in reliability(pairs_cv)],
        )
        weights = fit_logistic(
            [_vector(o.features, use) for o in outcomes], [correct(o) for o in outcomes]
        )
        print(f"Fitted on all questions ({best[1]}): {calibration_from(weights, use)}\n")

    pairs = [(o.confidence, correct(o)) for o in outcomes]
    print(f"Reliability of the shipped calibration {store.calibration}:")
    _print_table(
        ["confidence", "n", "mean conf", "share right"], [list(r) for r in reliability(pairs)]
    )
    print(f"ECE: {expected_calibration_error(pairs):.3f}\n")

    sweep = [decision_metrics(outcomes, round(t * 0.05, 2)) for t in range(1, 20)]
    print("Threshold sweep (answer when confidence >= threshold)")
    _print_table(list(sweep[0]), [list(m.values()) for m in sweep])
    shipped_use = tuple(
        i
        for i, name in enumerate(("coverage", "margin", "matched"))
        if getattr(store.calibration, name)
    )
    cv = cross_validated(outcomes, shipped_use)
    cv_outcomes = [dataclasses.replace(o, confidence=c) for o, c in zip(outcomes, cv, strict=True)]
    chosen = choose_threshold(cv_outcomes, args.abstain_target)
    in_sample = choose_threshold(outcomes, args.abstain_target)
    print(
        f"Chosen threshold: {chosen}: the lowest at which >= {args.abstain_target:.0%} of the "
        "unanswerable questions are declined with cross-validated confidences (fitted "
        f"without each question; on the shipped fit the same rule gives {in_sample})."
    )
    print(f"Shipped DEFAULT_THRESHOLD = {DEFAULT_THRESHOLD}; there:")
    at_default = decision_metrics(outcomes, DEFAULT_THRESHOLD)
    at_default_cv = decision_metrics(cv_outcomes, DEFAULT_THRESHOLD)
    _print_table(
        ["confidences", *list(at_default)],
        [["shipped fit", *at_default.values()], ["cross-validated", *at_default_cv.values()]],
    )
    report.update(
        shipped=ranking_metrics(outcomes),
        chosen_threshold=chosen,
        default_threshold=DEFAULT_THRESHOLD,
        at_default=at_default,
        sweep=sweep,
        reliability=reliability(pairs),
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
