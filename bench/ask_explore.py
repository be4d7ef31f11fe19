"""Variants of the semantic stage that were measured and not shipped (issue 15, second pass).

For the old set and the handbook dev split it computes, once, every section's BM25
scores (the shipped analysis: typos, shorthand, word pairs) and the question and
window embeddings for several ways of cutting sections into windows, then scores
fusions of them in memory: section@1, section@3 and MRR on the answerable questions.
Only aggregates are printed (the dev split is never shown per question); the test
split is refused.

    uv run python bench/ask_explore.py

Window schemes: ``words N`` (N-word windows, 3/4 overlap, as shipped with N = 128)
and ``paragraphs N`` (paragraphs and bold-led lines packed into windows of up to N
words, so a window does not straddle two topics of a long section). Extra signals: the
question's cosine with the section's own heading (``heading``) or its heading path
(``path``); the best fused score of the section's document (``doc``). Fusions: the
z-score blend (shipped) and reciprocal-rank fusion with its ``k``.
"""

from __future__ import annotations

import pickle
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ask_eval  # noqa: E402

from bot.knowledge import GuidelineStore, IndexOptions  # noqa: E402
from bot.knowledge.bm25 import Bm25  # noqa: E402
from bot.knowledge.documents import Section  # noqa: E402
from bot.knowledge.embedder import shared_embedder  # noqa: E402

MEMO = ROOT / ".playcaller" / "bench-explore" / "vectors.pickle"
_BOLD_LED = re.compile(r"^\s*(?:[-*+]\s+)?\*\*[^*]+\*\*")
Matrix = np.ndarray[Any, np.dtype[np.float64]]


class Vectors:
    """Embeddings by text, kept on disk between runs (the model is slow on this VM)."""

    def __init__(self) -> None:
        self.memo: dict[str, Any] = pickle.loads(MEMO.read_bytes()) if MEMO.exists() else {}
        encoder = shared_embedder()
        assert encoder is not None, "the model package must be installed"
        self.encoder = encoder

    def __call__(self, texts: list[str]) -> Matrix:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.encoder.embed(missing), strict=True))
            MEMO.parent.mkdir(parents=True, exist_ok=True)
            MEMO.write_bytes(pickle.dumps(self.memo))
        return np.array([self.memo[t] for t in texts], dtype=np.float64)


def blocks(text: str) -> list[str]:
    """The section's paragraphs; a line led by bold text starts a new one."""
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        current: list[str] = []
        for line in paragraph.split("\n"):
            if _BOLD_LED.match(line) and current:
                out.append("\n".join(current))
                current = []
            current.append(line)
        out.append("\n".join(current))
    return [b for b in out if b.strip()]


def word_windows(section: Section, words: int) -> list[str]:
    """As shipped: the heading path, then windows of ``words`` words, 3/4 overlap."""
    head, body = ". ".join(section.path), section.text.split()
    step = words * 3 // 4
    starts = range(0, max(len(body) - words, 0) + step, step) if len(body) > words else [0]
    return [f"{head}. {' '.join(body[s : s + words])}" for s in starts]


def paragraph_windows(section: Section, words: int) -> list[str]:
    """The heading path, then whole paragraphs packed up to ``words`` words."""
    head, body = ". ".join(section.path), section.text.split()
    if len(body) <= words:
        return [f"{head}. {' '.join(body)}"]
    packed: list[list[str]] = []
    current: list[str] = []
    for block in blocks(section.text):
        block_words = block.split()
        if current and len(current) + len(block_words) > words:
            packed.append(current)
            current = []
        if len(block_words) > words:  # one long paragraph: cut it in word windows
            step = words * 3 // 4
            packed += [block_words[s : s + words] for s in range(0, len(block_words), step)]
            continue
        current += block_words
    if current:
        packed.append(current)
    return [f"{head}. {' '.join(chunk)}" for chunk in packed]


class Set:
    """One question set: BM25 scores, labels and embeddings."""

    def __init__(self, name: str, split: str | None, vectors: Vectors) -> None:
        questions_path, folder = ask_eval.SETS[name]
        self.questions = ask_eval.load_questions(questions_path, split)
        copy = ask_eval.guideline_copy(folder, known_header_only=False)
        options = IndexOptions(semantic_weight=0.0)  # the shipped BM25 stage alone
        self.index = GuidelineStore(copy, cache_dir=None, options=options, embedder=None).index
        self.sections = self.index.sections
        self.bm25 = np.array(
            [self.index.bm25_scores(self.index.analyse(q.text)) for q in self.questions]
        )
        self.hits = np.array(
            [[ask_eval.is_hit(s, q.targets) for s in self.sections] for q in self.questions]
        )
        self.answerable = np.array([q.answerable for q in self.questions])
        self.vectors = vectors
        self.question_vectors = vectors([q.text for q in self.questions])
        self.docs = np.array([s.doc for s in self.sections])

    def cosines(self, cut: Callable[[Section], list[str]]) -> Matrix:
        """Every section's best window cosine with every question."""
        texts, owners = [], []
        for position, section in enumerate(self.sections):
            for text in cut(section):
                texts.append(text)
                owners.append(position)
        per_window = self.question_vectors @ self.vectors(texts).T
        best = np.full((len(self.questions), len(self.sections)), -1.0)
        for column, owner in enumerate(owners):
            best[:, owner] = np.maximum(best[:, owner], per_window[:, column])
        return best

    def window_bm25(self, cut: Callable[[Section], list[str]]) -> Matrix:
        """Every section's best window BM25 score (a long section is not diluted)."""
        analyzer, corpus, owners = self.index.analyzer, [], []
        for position, section in enumerate(self.sections):
            for text in cut(section):
                words = analyzer.words(text)
                corpus.append([analyzer.stem(w) for w in words] + analyzer.pairs(text) or [""])
                owners.append(position)
        bm25 = Bm25.build(corpus, IndexOptions())
        best = np.zeros((len(self.questions), len(self.sections)))
        for row, question in enumerate(self.questions):
            query = self.index.analyse(question.text)
            scores = bm25.scores(query.terms, query.weights)
            pairs = list(dict.fromkeys(analyzer.pairs(question.text)))
            scores = scores + bm25.scores(pairs, [0.5] * len(pairs))
            np.maximum.at(best[row], np.array(owners), scores)
        return best

    def heading_bm25(self) -> Matrix:
        """BM25 over the sections' own headings alone (a lexical title match)."""
        analyzer = self.index.analyzer
        corpus = [
            [analyzer.stem(w) for w in analyzer.words(s.path[-1])] or [""] for s in self.sections
        ]
        bm25 = Bm25.build(corpus, IndexOptions())
        out = np.zeros((len(self.questions), len(self.sections)))
        for row, question in enumerate(self.questions):
            query = self.index.analyse(question.text)
            out[row] = bm25.scores(query.terms, query.weights)
        return out

    def top_mean(self, cut: Callable[[Section], list[str]], n: int) -> Matrix:
        """Every section's mean of its ``n`` best window cosines."""
        texts, owners = [], []
        for position, section in enumerate(self.sections):
            for text in cut(section):
                texts.append(text)
                owners.append(position)
        per_window = self.question_vectors @ self.vectors(texts).T
        owners_array = np.array(owners)
        out = np.zeros((len(self.questions), len(self.sections)))
        for position in range(len(self.sections)):
            block = np.sort(per_window[:, owners_array == position], axis=1)[:, ::-1][:, :n]
            out[:, position] = block.mean(axis=1)
        return out

    def headings(self, full_path: bool) -> Matrix:
        texts = [". ".join(s.path) if full_path else s.path[-1] for s in self.sections]
        return self.question_vectors @ self.vectors(texts).T

    def doc_best(self, scores: Matrix) -> Matrix:
        """Each section's document's best score."""
        out = np.zeros_like(scores)
        for doc in set(self.docs):
            mask = self.docs == doc
            out[:, mask] = scores[:, mask].max(axis=1, keepdims=True)
        return out

    def metrics(self, scores: Matrix) -> tuple[float, float, float]:
        """section@1, section@3 and MRR over the answerable questions."""
        ranks = []
        for hits, row in zip(self.hits[self.answerable], scores[self.answerable], strict=True):
            found = np.nonzero(hits[np.argsort(-row, kind="stable")])[0]
            ranks.append(found[0] + 1 if len(found) else None)
        n = max(len(ranks), 1)
        return (
            sum(r == 1 for r in ranks) / n,
            sum(r is not None and r <= 3 for r in ranks) / n,
            sum(1 / r for r in ranks if r) / n,
        )


def z(scores: Matrix) -> Matrix:
    return (scores - scores.mean(1, keepdims=True)) / (scores.std(1, keepdims=True) + 1e-9)


def rank(scores: Matrix) -> Matrix:
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.argsort(order, axis=1, kind="stable").astype(np.float64)


def third_pass(
    sets: dict[str, Set], cos: dict[str, dict[str, Matrix]], heading: dict[str, Matrix]
) -> list[tuple[str, Callable[[str, Set], Matrix]]]:
    """Window-level BM25 and top-2 window cosines, beside 64-word windows + heading x0.2."""
    w64 = {n: d.window_bm25(lambda s: word_windows(s, 64)) for n, d in sets.items()}
    w128 = {n: d.window_bm25(lambda s: word_windows(s, 128)) for n, d in sets.items()}
    top2 = {n: d.top_mean(lambda s: word_windows(s, 64), 2) for n, d in sets.items()}
    c64, c128 = "words 64", "words 128 (shipped)"

    def base(n: str, d: Set, c: str = c64, h: float = 0.2, w: float = 0.6) -> Matrix:
        return (1 - w) * z(d.bm25) + w * z(cos[n][c]) + h * z(heading[n])

    rows: list[tuple[str, Callable[[str, Set], Matrix]]] = [
        ("shipped (128 words)", lambda n, d: base(n, d, c128, 0.0)),
        ("64 words + heading x0.2", lambda n, d: base(n, d)),
    ]
    for x in (0.2, 0.4):
        rows.append(
            (f"64+h0.2, + window BM25 (64) x{x}", lambda n, d, x=x: base(n, d) + x * z(w64[n]))
        )
        rows.append(
            (f"64+h0.2, + window BM25 (128) x{x}", lambda n, d, x=x: base(n, d) + x * z(w128[n]))
        )
        rows.append(
            (
                f"64+h0.2, BM25 = window BM25 (64) x{x}",
                lambda n, d, x=x: base(n, d) - x * z(d.bm25) + x * z(w64[n]),
            )
        )
    hb = {n: d.heading_bm25() for n, d in sets.items()}
    for x in (0.1, 0.2, 0.3):
        rows.append((f"64+h0.2, + heading BM25 x{x}", lambda n, d, x=x: base(n, d) + x * z(hb[n])))
        rows.append(
            (
                f"64, + heading BM25 x{x} (no heading cos)",
                lambda n, d, x=x: base(n, d, h=0.0) + x * z(hb[n]),
            )
        )
    for w in (0.5, 0.7):
        rows.append((f"64+h0.2, w={w}", lambda n, d, w=w: base(n, d, w=w)))
    rows.append(
        (
            "64+h0.2, cosine = top-2 mean",
            lambda n, d: 0.4 * z(d.bm25) + 0.6 * z(top2[n]) + 0.2 * z(heading[n]),
        )
    )
    rows.append(
        (
            "64+h0.2, + top-2 mean x0.2",
            lambda n, d: base(n, d) + 0.2 * z(top2[n]),
        )
    )
    return rows


def main() -> int:
    vectors = Vectors()
    sets = {"old": Set("old", None, vectors), "dev": Set("handbooks", "dev", vectors)}
    cuts: dict[str, Callable[[Section], list[str]]] = {
        "words 128 (shipped)": lambda s: word_windows(s, 128),
        "words 64": lambda s: word_windows(s, 64),
        "paragraphs 128": lambda s: paragraph_windows(s, 128),
        "paragraphs 96": lambda s: paragraph_windows(s, 96),
        "paragraphs 64": lambda s: paragraph_windows(s, 64),
    }
    cos = {name: {cut: data.cosines(f) for cut, f in cuts.items()} for name, data in sets.items()}
    heading = {name: data.headings(False) for name, data in sets.items()}
    path = {name: data.headings(True) for name, data in sets.items()}
    Fusion = Callable[[str, Set], Matrix]
    rows: list[tuple[str, Fusion]] = []

    def blend(cut: str, w: float) -> Fusion:
        return lambda n, d: (1 - w) * z(d.bm25) + w * z(cos[n][cut])

    for cut in cuts:
        for w in (0.5, 0.6, 0.7):
            rows.append((f"z, {cut}, w={w}", blend(cut, w)))
        for extra in (0.1, 0.2, 0.3):
            rows.append(
                (
                    f"z, {cut}, w=0.6 + heading x{extra}",
                    lambda n, d, c=cut, x=extra: blend(c, 0.6)(n, d) + x * z(heading[n]),
                )
            )
            rows.append(
                (
                    f"z, {cut}, w=0.6 + path x{extra}",
                    lambda n, d, c=cut, x=extra: blend(c, 0.6)(n, d) + x * z(path[n]),
                )
            )
    shipped = blend("words 128 (shipped)", 0.6)
    for extra in (0.1, 0.2, 0.3, 0.5):
        rows.append(
            (
                f"z shipped + doc best x{extra}",
                lambda n, d, x=extra: shipped(n, d) + x * d.doc_best(shipped(n, d)),
            )
        )
    for k in (3, 5, 8, 10, 20, 60):
        for w in (0.4, 0.5, 0.6):
            rows.append(
                (
                    f"RRF k={k} w={w}",
                    lambda n, d, k=k, w=w: (
                        (1 - w) / (k + rank(d.bm25)) + w / (k + rank(cos[n]["words 128 (shipped)"]))
                    ),
                )
            )
    if "--third" in sys.argv:  # third pass: only the variants it added
        rows = third_pass(sets, cos, heading)
    print(f"{'variant':44s} old: s@1   s@3   MRR | dev: s@1  s@3   MRR")
    for label, fusion in rows:
        values = [v for name, data in sets.items() for v in data.metrics(fusion(name, data))]
        print(f"{label:44s} " + " ".join(f"{v:.3f}" for v in values), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
