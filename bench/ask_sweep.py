"""Ranking weights of the shipped engine on the three tuning sets (issue 15, fourth pass).

For the old set, the handbook **dev** split (aggregates only; the test split is never
read) and the second tuning set ``eval/ask/tuning2``, it takes the shipped index's own
BM25 scores, best window cosines and heading cosines for every question, and adds a
document-level BM25 score (each document's whole text as one BM25 row, given to each
of its sections). It then ranks in memory with the z-score blend for a grid of
weights and prints section@1 / section@3 per set and section@3 over the three pooled.

    uv run python bench/ask_sweep.py

``w`` is ``IndexOptions.semantic_weight``, ``h`` ``heading_weight`` (shipped: 0.6,
0.2); ``doc`` the weight of the document-level BM25 z-score (not shipped: 0).
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ask_eval  # noqa: E402

from bot.knowledge import GuidelineStore, IndexOptions  # noqa: E402
from bot.knowledge.bm25 import Bm25  # noqa: E402

Matrix = np.ndarray[Any, np.dtype[np.float64]]
SETS = (("old", None), ("handbooks", "dev"), ("tuning2", None))


@dataclass
class Scores:
    """One answerable question's per-section scores and the positions that are hits."""

    bm25: Matrix
    cosine: Matrix
    heading: Matrix
    document: Matrix
    targets: list[int]


def z(values: Matrix) -> Matrix:
    spread = float(values.std()) or 1.0
    return (values - values.mean()) / spread


def scores_of(name: str, split: str | None) -> list[Scores]:
    """Every answerable question's scores from the shipped index of the set's documents."""
    questions_path, folder = ask_eval.SETS[name]
    questions = [q for q in ask_eval.load_questions(questions_path, split) if q.answerable]
    copy = ask_eval.guideline_copy(folder, known_header_only=False)
    options = IndexOptions()
    # ask_eval's cache folder for the shipped options: the embeddings are reused.
    digest = hashlib.sha256(repr(options).encode()).hexdigest()[:12]
    cache = ROOT / ".playcaller" / "bench-index" / name / digest
    index = GuidelineStore(copy, cache_dir=cache, options=options).index
    sections, analyzer = index.sections, index.analyzer
    names = sorted({s.doc for s in sections})
    rows = []
    for doc in names:
        text = "\n".join("\n".join([*s.path, s.text]) for s in sections if s.doc == doc)
        rows.append([analyzer.stem(w) for w in analyzer.words(text)] + analyzer.pairs(text))
    documents = Bm25.build(rows, IndexOptions())
    owner = np.array([names.index(s.doc) for s in sections])
    out = []
    for question in questions:
        query = index.analyse(question.text)
        found = index._cosines(query)
        assert found is not None and found[1] is not None, "the shipped engine embeds headings"
        pairs = list(dict.fromkeys(analyzer.pairs(query.text)))
        by_doc = documents.scores(query.terms, query.weights) + documents.scores(
            pairs, [IndexOptions().pair_weight] * len(pairs)
        )
        out.append(
            Scores(
                index.bm25_scores(query).astype(np.float64),
                found[0].astype(np.float64),
                found[1].astype(np.float64),
                by_doc[owner].astype(np.float64),
                [i for i, s in enumerate(sections) if ask_eval.is_hit(s, question.targets)],
            )
        )
    return out


def ranks(data: list[Scores], w: float, h: float, doc: float) -> list[int]:
    """The rank of the best-placed hit for each question under the given weights."""
    found = []
    for s in data:
        fused = (1 - w) * z(s.bm25) + w * z(s.cosine) + h * z(s.heading) + doc * z(s.document)
        found.append(min(int((fused > fused[t]).sum()) + 1 for t in s.targets))
    return found


def main() -> int:
    data = {f"{name}{'-' + split if split else ''}": scores_of(name, split) for name, split in SETS}
    print("weights                 " + "  ".join(f"{n} @1/@3" for n in data) + "  pooled @3")
    for w in (0.5, 0.6, 0.7):
        for h in (0.0, 0.1, 0.2, 0.3):
            for doc in (0.0, 0.1, 0.2, 0.3):
                parts, hits3, total = [], 0, 0
                for questions in data.values():
                    found = ranks(questions, w, h, doc)
                    at1 = sum(r == 1 for r in found) / len(found)
                    at3 = sum(r <= 3 for r in found) / len(found)
                    parts.append(f"{at1:.3f}/{at3:.3f}")
                    hits3 += sum(r <= 3 for r in found)
                    total += len(found)
                label = f"w={w} h={h} doc={doc}"
                print(f"{label:22s}  " + "  ".join(parts) + f"  {hits3 / total:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
