"""Fit the answer/abstain calibration on the old set, the handbook dev split and tuning2.

Issue 15, third pass. The first two passes fitted the confidence on the old set alone
(22 unanswerable questions); this script pools the old set with the held-out set's
**dev** split (the only part of it that may be tuned on) and compares feature sets by
cross-validated log loss (5 folds, stratified by set and answerability, repeated over
seeds). For each feature set it prints, in aggregate only, the balanced threshold on
the pooled cross-validated confidences and the answered share / correct abstention
that threshold gives on each set. The test split is refused; nothing is printed per
question.

    uv run python bench/ask_calibrate.py
    uv run python bench/ask_calibrate.py --words 128 --step 96 --heading 0

Features (of the best section unless said): ``cosine`` (best window cosine),
``matched`` (log(1 + distinct question terms in it)), ``margin``, ``coverage``,
``heading`` (cosine of the question with the section's own heading) and ``domain``,
a feature of the question alone: its best cosine with the descriptions of what
communication guidelines are about in :data:`bot.knowledge.answer.DOMAIN` (does the
question concern the guidelines' field at all).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ask_eval  # noqa: E402

from bot.knowledge import GuidelineStore, IndexOptions  # noqa: E402
from bot.knowledge.domain import DOMAIN  # noqa: E402
from bot.knowledge.embedder import shared_embedder  # noqa: E402

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "cosine + matched (first passes)": ("cosine", "matched"),
    "cosine + matched + heading": ("cosine", "matched", "heading"),
    "cosine + matched + domain (shipped)": ("cosine", "matched", "domain"),
    "cosine + matched + heading + domain": ("cosine", "matched", "heading", "domain"),
    "cosine + matched + coverage": ("cosine", "matched", "coverage"),
    "cosine + domain": ("cosine", "domain"),
    # Fourth pass: features of the match beyond the best section's own scores.
    "cosine + matched + domain + margin": ("cosine", "matched", "domain", "margin"),
    "cosine + matched + domain + agree": ("cosine", "matched", "domain", "agree"),
    "cosine + matched + domain + cosine z": ("cosine", "matched", "domain", "cosine_z"),
    "cosine + matched + domain + bm25 z": ("cosine", "matched", "domain", "bm25_z"),
    "cosine + matched + domain + cosine gap": ("cosine", "matched", "domain", "cosine_gap"),
    "cosine + matched + domain + agree + cosine z": (
        "cosine",
        "matched",
        "domain",
        "agree",
        "cosine_z",
    ),
    "all": ("cosine", "matched", "domain", "margin", "agree", "cosine_z", "bm25_z", "cosine_gap"),
}
#: The pooled sets: the old set, the handbook dev split, the second tuning set.
POOLED = (("old", None), ("handbooks", "dev"), ("tuning2", None))


def rows_for(
    name: str, split: str | None, options: IndexOptions, cache: Path
) -> tuple[list[dict[str, float]], list[bool], list[bool]]:
    """Each question's features, whether it is answerable, whether it is a safety answer."""
    questions_path, folder = ask_eval.SETS[name]
    questions = ask_eval.load_questions(questions_path, split)
    copy = ask_eval.guideline_copy(folder, known_header_only=False)
    store = GuidelineStore(copy, cache_dir=cache / name, options=options)
    encoder = shared_embedder()
    assert encoder is not None, "the model package must be installed"
    domain = encoder.embed(list(DOMAIN))
    index = store.index
    headings = encoder.embed([s.path[-1] for s in index.sections])
    position = {id(s): i for i, s in enumerate(index.sections)}
    rows, labels, safety = [], [], []
    for question in questions:
        found = store.retrieve(question.text, k=10)
        vector = index.question_vector(found.query)  # the question as the model reads it
        assert vector is not None
        f = found.features
        best = found.hits[0][0] if found.hits else None
        bm25 = index.bm25_scores(found.query)
        cosines = index.cosines(found.query)
        assert cosines is not None
        ranked = np.sort(cosines)[::-1]
        rows.append(
            {
                "cosine": f.cosine if f else 0.0,
                "matched": math.log1p(f.matched) if f else 0.0,
                "margin": f.margin if f else 0.0,
                "coverage": f.coverage if f else 0.0,
                "heading": float(headings[position[id(best)]] @ vector) if best else 0.0,
                "domain": f.domain if f else float((domain @ vector).max()),
                # Lexical and semantic stages pick the same section.
                "agree": float(int(np.argmax(bm25)) == int(np.argmax(cosines))),
                # How far the best cosine stands out from the corpus, in spreads.
                "cosine_z": float((ranked[0] - cosines.mean()) / (cosines.std() or 1.0)),
                "bm25_z": float((bm25.max() - bm25.mean()) / (bm25.std() or 1.0)),
                "cosine_gap": float(ranked[0] - ranked[1]) if len(ranked) > 1 else 0.0,
            }
        )
        labels.append(question.answerable)
        safety.append(bool(found.safety))
    return rows, labels, safety


def folds_of(groups: list[str], labels: list[bool], folds: int, seed: int) -> list[int]:
    """A fold per row, stratified by (group, label)."""
    assigned = [0] * len(labels)
    rng = random.Random(seed)
    # Sorted: a set's order changes with the hash seed, and with it the folds.
    for key in sorted({(g, lab) for g, lab in zip(groups, labels, strict=True)}):
        members = [
            i for i, (g, lab) in enumerate(zip(groups, labels, strict=True)) if (g, lab) == key
        ]
        rng.shuffle(members)
        for n, i in enumerate(members):
            assigned[i] = n % folds
    return assigned


def cross_validated(x: np.ndarray[Any, Any], y: list[bool], fold: list[int]) -> list[float]:
    out = [0.0] * len(y)
    for held in set(fold):
        train = [i for i in range(len(y)) if fold[i] != held]
        weights = ask_eval.fit_logistic([list(x[i]) for i in train], [y[i] for i in train])
        for i in (i for i in range(len(y)) if fold[i] == held):
            out[i] = ask_eval._confidence(weights, list(x[i]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=IndexOptions().window_words)
    parser.add_argument("--step", type=int, default=IndexOptions().window_step)
    parser.add_argument("--heading", type=float, default=IndexOptions().heading_weight)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    options = IndexOptions(
        window_words=args.words, window_step=args.step, heading_weight=args.heading
    )
    cache = ROOT / ".playcaller" / "bench-calibrate"
    groups: list[str] = []
    rows: list[dict[str, float]] = []
    labels: list[bool] = []
    safety: list[bool] = []
    for name, split in POOLED:
        r, lab, saf = rows_for(name, split, options, cache)
        groups += [name] * len(r)
        rows += r
        labels += lab
        safety += saf
    print(f"{options}\npooled: {len(rows)} questions, {sum(labels)} answerable\n")
    for label, use in FEATURE_SETS.items():
        x = np.array([[row[n] for n in use] for row in rows])
        losses, confidences = [], np.zeros(len(rows))
        for seed in range(args.seeds):
            cv = cross_validated(x, labels, folds_of(groups, labels, 5, seed))
            confidences += np.array(cv) / args.seeds
            losses.append(
                -sum(
                    math.log(max(c if y else 1 - c, 1e-6)) for c, y in zip(cv, labels, strict=True)
                )
                / len(cv)
            )
        weights = ask_eval.fit_logistic([list(v) for v in x], labels)
        named = ", ".join(f"{n}={w:.3f}" for n, w in zip(("bias", *use), weights, strict=True))
        print(f"{label:38s} CV log loss {np.mean(losses):.4f}  fit: {named}")
        for step in range(10, 19):
            threshold = step * 0.05
            parts: list[str] = []
            pooled_parts: list[tuple[float, float]] = []
            for group, _ in POOLED:
                said = [
                    (c >= threshold or s, y)
                    for c, s, y, g in zip(confidences, safety, labels, groups, strict=True)
                    if g == group
                ]
                answered = sum(a for a, y in said if y) / max(sum(y for _, y in said), 1)
                declined = sum(not a for a, y in said if not y) / max(
                    sum(not y for _, y in said), 1
                )
                parts.append(f"{group} {answered:.3f}/{declined:.3f}")
                pooled_parts.append((answered, declined))
            mean = sum(a + d for a, d in pooled_parts) / (2 * len(pooled_parts))
            print(
                f"    threshold {threshold:.2f} (answered/abstained): "
                + " | ".join(parts)
                + f" | mean of sets {mean:.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
