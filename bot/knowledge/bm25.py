"""The lexical stage's matrix: BM25 weights of every term in every section, from bm25s.

Kept apart from :mod:`bot.knowledge.index` because it is the one place that knows
bm25s's storage (a CSC matrix of precomputed term weights): the index asks it for
scores and document frequencies only, and the benches build it on their own corpora.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bm25s  # type: ignore[import-untyped]
import numpy as np

if TYPE_CHECKING:  # the index imports this module: only the type, to avoid a cycle
    from bot.knowledge.index import IndexOptions


class Bm25:
    """One bm25s matrix (terms by rows of the corpus) and its vocabulary."""

    def __init__(self, retriever: Any, rows: int) -> None:
        self.retriever = retriever
        self.vocab: dict[str, int] = retriever.vocab_dict
        scores = retriever.scores
        self.data: np.ndarray[Any, Any] = np.asarray(scores["data"], dtype=np.float32)
        self.indices: np.ndarray[Any, Any] = np.asarray(scores["indices"], dtype=np.int64)
        self.indptr: np.ndarray[Any, Any] = np.asarray(scores["indptr"], dtype=np.int64)
        self.rows = rows

    @classmethod
    def build(cls, corpus: list[list[str]], options: IndexOptions) -> Bm25:
        retriever = bm25s.BM25(k1=options.k1, b=options.b)
        if corpus:
            retriever.index(corpus, show_progress=False)
        else:
            retriever.vocab_dict = {"": 0}
            retriever.scores = {
                "data": np.zeros(0, dtype=np.float32),
                "indices": np.zeros(0, dtype=np.int32),
                "indptr": np.zeros(2, dtype=np.int32),
                "num_docs": 0,
            }
        return cls(retriever, len(corpus))

    def save(self, folder: Path) -> None:
        if self.rows:
            self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, rows: int, options: IndexOptions) -> Bm25:
        if not rows:
            return cls.build([], options)
        return cls(bm25s.BM25.load(str(folder), load_corpus=False), rows)

    def scores(self, terms: Sequence[str], weights: Sequence[float]) -> np.ndarray[Any, Any]:
        scores = np.zeros(self.rows, dtype=np.float32)
        for term, weight in zip(terms, weights, strict=True):
            term_id = self.vocab.get(term)
            if term_id is None or not term:
                continue
            start, end = self.indptr[term_id], self.indptr[term_id + 1]
            scores[self.indices[start:end]] += weight * self.data[start:end]
        return scores

    def document_frequencies(self) -> dict[str, int]:
        counts = np.diff(self.indptr)
        return {term: int(counts[i]) for term, i in self.vocab.items() if term}
