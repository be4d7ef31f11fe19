"""The section index: plain BM25 and sentence embeddings over guideline sections, fused.

This module holds an index and searches it; :mod:`bot.knowledge.indexing` builds one
from documents (what a section is indexed as) and keeps it on disk, and
:mod:`bot.knowledge.bm25` holds the BM25 matrix. BM25 uses the textbook parameters
(k1 1.5, b 0.75); a query word that is not in the index is spelled out if it is chat
shorthand (:mod:`bot.knowledge.lexicon`) or else corrected if it is one typing slip
away from an indexed word (:class:`~bot.knowledge.typos.TypoIndex`).

The semantic stage embeds every section as windows of up to ``window_words`` words
(heading path first) with an :class:`~bot.knowledge.embedder.Embedder`; a section's
similarity to a question is its best window's cosine. The two scores are blended as
z-scores over the sections, ``(1 - w) * z(bm25) + w * z(cosine)`` with
``w = semantic_weight``, chosen on ``eval/ask/questions.jsonl`` (``bench/ask_eval.py``),
plus ``heading_weight * z(heading cosine)``, the question's cosine with the section's
own heading (embedded on its own). 64-word windows with the heading at 0.2 were chosen
in the third pass on the old set and the handbook dev split together; 128-word windows
without it were the first pass's choice (``docs/benchmarks.md``).
Fusion by rank, ``(1 - w) / (k + bm25 rank) + w / (k + cosine rank)`` with
``k = rrf_k`` (``blend="rrf"``), was measured and not adopted (``docs/benchmarks.md``).
The window vectors are computed on first use and persisted beside a saved index.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.knowledge.bm25 import Bm25
from bot.knowledge.documents import Document, Section
from bot.knowledge.embedder import Embedder, MemoEmbedder, Vectors
from bot.knowledge.lexicon import SHORTHAND
from bot.knowledge.text import Analyzer
from bot.knowledge.typos import TypoIndex

__all__ = ["Hit", "IndexOptions", "Query", "SectionIndex"]

log = logging.getLogger(__name__)

#: A section that shares no word with the question is a hit only if at least this similar.
MIN_COSINE = 0.2
#: How many recent questions' embeddings an index remembers.
QUESTION_MEMO = 256


@dataclass(frozen=True)
class IndexOptions:
    """How sections are indexed and queried.

    ``k1`` and ``b`` are the BM25 parameters; ``typo`` turns on typo tolerance and
    ``shorthand`` the spelling out of chat shorthand (both only for query words the
    index does not know). ``semantic_weight`` is the share of the semantic score in
    the blend (0: BM25 alone, no embeddings); ``blend`` is how the two are fused
    (``"z"``: z-scores, shipped; ``"rrf"``: reciprocal ranks with constant ``rrf_k``;
    ``"max"``: BM25 over its maximum and min-max cosines); ``window_words`` and
    ``window_step`` cut sections into the windows that are embedded;
    ``heading_weight`` adds the z-score of the question's cosine with each section's
    own heading to the z-score blend (0: headings are not embedded on their own).
    """

    k1: float = 1.5
    b: float = 0.75
    stem: bool = True
    stopwords: bool = True
    typo: bool = True
    shorthand: bool = True
    semantic_weight: float = 0.6
    blend: str = "z"
    rrf_k: float = 60.0
    pair_weight: float = 0.5
    window_words: int = 64
    window_step: int = 48
    heading_weight: float = 0.2

    def key(self) -> str:
        """The options that change the index, for the cache key."""
        fields = dataclasses.asdict(self)
        for query_time in (
            "typo",
            "shorthand",
            "semantic_weight",
            "blend",
            "rrf_k",
            "pair_weight",
            "heading_weight",
        ):
            fields.pop(query_time)
        fields["pairs"] = self.pair_weight > 0
        fields["headings"] = self.heading_weight > 0
        fields["semantic"] = self.semantic_weight > 0
        return json.dumps(fields, sort_keys=True)


@dataclass(frozen=True)
class Hit:
    """A section found for a query: blended score and the two scores it blends."""

    section: int  # position in :attr:`SectionIndex.sections`
    score: float
    bm25: float
    cosine: float | None  # None without the semantic stage


@dataclass(frozen=True)
class Query:
    """An analysed query: its text, unique terms (stems, in order) and their weights."""

    text: str
    terms: tuple[str, ...]
    weights: tuple[float, ...]
    corrected: dict[str, str]  # misspelt or shorthand word -> what was searched instead

    @property
    def meaning(self) -> str:
        """The text the embedder reads: the question with its corrections applied.

        The model reads "campain" as word pieces that mean nothing near "campaign";
        the correction the lexical stage found serves the semantic stage too.
        """
        text = self.text
        for word, replacement in self.corrected.items():
            text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", replacement, text, flags=re.I)
        return text


def windows(section: Section, words: int, step: int) -> list[str]:
    """The texts embedded for ``section``: heading path, then up to ``words`` words."""
    heading = ". ".join(section.path)
    body = section.text.split()
    if len(body) <= words:
        return [f"{heading}. {' '.join(body)}"]
    return [
        f"{heading}. {' '.join(body[start : start + words])}"
        for start in range(0, len(body) - words + step, step)
    ]


def _save_array(path: Path, array: Vectors) -> None:
    """Write ``array`` to ``path`` atomically (a temporary file, then a rename)."""
    fd, temporary = tempfile.mkstemp(prefix=".vectors-", suffix=".npy", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, array)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        log.warning("cannot save the section embeddings in %s: %s", path.parent, error)


class SectionIndex:
    """BM25 and (optionally) embeddings over sections, and their search.

    Made by :func:`~bot.knowledge.indexing.build_index` or
    :func:`~bot.knowledge.indexing.load_index`; written by
    :func:`~bot.knowledge.indexing.save_index`.
    """

    def __init__(
        self,
        documents: list[Document],
        bm25: Bm25,
        word_counts: dict[str, int],
        options: IndexOptions,
        key: str,
        embedder: Embedder | None = None,
        vectors: Vectors | None = None,
    ) -> None:
        self.documents = documents
        self.sections = [section for document in documents for section in document.sections]
        self.options = options
        self.key = key
        self.analyzer = Analyzer(stem=options.stem, stopwords=options.stopwords)
        self.embedder = embedder if options.semantic_weight > 0 else None
        # Questions get their own small memo, so that they never push the windows out of
        # the shared one: a safety question searches twice, and people repeat questions.
        inner = embedder.inner if isinstance(embedder, MemoEmbedder) else embedder
        self._questions = MemoEmbedder(inner, QUESTION_MEMO) if inner is not None else None
        self.vectors = vectors
        # Window texts, then headings: the rows of ``vectors`` (and what a loaded index
        # hands its embedder's memo, so that a rebuild re-embeds only new texts).
        self.embedded_texts: list[str] = []
        owners: list[int] = []
        for position, section in enumerate(self.sections):
            for text in windows(section, options.window_words, options.window_step):
                self.embedded_texts.append(text)
                owners.append(position)
        self.window_section = np.array(owners, dtype=np.int64)
        # Each section's own heading, embedded after the windows (one row per section).
        self._heading_from = len(owners)
        if options.heading_weight > 0:
            self.embedded_texts += [section.path[-1] for section in self.sections]
        if vectors is not None and vectors.shape[0] != len(self.embedded_texts):
            raise ValueError(f"{vectors.shape[0]} vectors for {len(self.embedded_texts)} texts")
        self._vectors_lock = threading.Lock()
        # Where the index was saved or loaded from: vectors computed later go there too.
        self.saved_at: Path | None = None
        self.bm25 = bm25
        self.word_counts = word_counts
        self._typos = TypoIndex(word_counts) if options.typo else None
        self._by_name = {document.name: document for document in documents}
        self._n = max(len(self.sections), 1)
        self._df = bm25.document_frequencies()
        self._max_idf = math.log(1.0 + (self._n + 0.5) / 0.5)
        self.loaded_from_cache = False

    @property
    def semantic(self) -> bool:
        """Whether the semantic stage is on."""
        return self.embedder is not None

    def window_vectors(self) -> Vectors | None:
        """The windows' embeddings, computed on first use (and then persisted).

        They are computed lazily so that commands that never ask (``check``,
        ``ingest``) do not pay for them; a saved index gets them written beside it.
        """
        if self.embedder is None:
            return None
        with self._vectors_lock:
            if self.vectors is None:
                self.vectors = self.embedder.embed(self.embedded_texts)
                if self.saved_at is not None:
                    _save_array(self.saved_at / "vectors.npy", self.vectors)
            return self.vectors

    # -- querying -------------------------------------------------------------

    def analyse(
        self, question: str, typo: bool | None = None, shorthand: bool | None = None
    ) -> Query:
        """The query's unique terms and weights, shorthand spelled out and typos corrected.

        Only a word that is not in the index is spelled out (see
        :mod:`bot.knowledge.lexicon`) or else corrected (see :class:`TypoIndex`).
        """
        use_typo = self.options.typo if typo is None else typo
        use_shorthand = self.options.shorthand if shorthand is None else shorthand
        terms: list[str] = []
        corrected: dict[str, str] = {}
        for word in self.analyzer.words(question):
            found = [self.analyzer.stem(word)]
            if found[0] not in self._df:
                plain = SHORTHAND.get(word) if use_shorthand else None
                fixed = None
                if use_typo and not plain and self._typos is not None:
                    fixed = self._typos.correct(word)
                if plain or fixed:
                    corrected[word] = plain or fixed or word
                    found = self.analyzer.terms(corrected[word])
            terms += [term for term in found if term not in terms]
        return Query(question, tuple(terms), tuple(1.0 for _ in terms), corrected)

    def bm25_scores(self, query: Query) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The BM25 score of every section for ``query`` (its words, and pairs if indexed)."""
        scores = self.bm25.scores(query.terms, query.weights)
        if self.options.pair_weight > 0:
            pairs = list(dict.fromkeys(self.analyzer.pairs(query.text)))
            weights = [self.options.pair_weight] * len(pairs)
            scores = scores + self.bm25.scores(pairs, weights)
        return scores

    def cosines(self, query: Query) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """Every section's best window cosine with the question, or None without embeddings."""
        found = self._cosines(query)
        return None if found is None else found[0]

    def question_vector(self, query: Query) -> Vectors | None:
        """The question's embedding (remembered), or None without the semantic stage."""
        if self._questions is None or self.embedder is None:
            return None
        vector: Vectors = self._questions.embed([query.meaning])[0]
        return vector

    def _cosines(self, query: Query) -> tuple[Vectors, Vectors | None] | None:
        """Best window cosines and, if headings are embedded, heading cosines per section."""
        vectors = self.window_vectors()
        question = self.question_vector(query)
        if question is None or vectors is None:
            return None
        per_row = vectors @ question
        best = np.full(len(self.sections), -1.0, dtype=np.float32)
        np.maximum.at(best, self.window_section, per_row[: self._heading_from])
        headings = per_row[self._heading_from :] if self.options.heading_weight > 0 else None
        return best, headings

    def search(self, query: Query, k: int = 10, every: bool = False) -> list[Hit]:
        """The ``k`` best sections, best first (see the module docstring for the blend).

        A section that shares no word with the question and is not similar enough
        (:data:`MIN_COSINE`) is left out, unless ``every``.
        """
        n = len(self.sections)
        if n == 0:
            return []
        bm25 = self.bm25_scores(query)
        top_bm25 = float(bm25.max())
        embedded = self._cosines(query) if self.options.semantic_weight > 0 else None
        cosines, headings = embedded if embedded is not None else (None, None)
        if cosines is None:
            if top_bm25 <= 0 and not every:
                return []
            scores = bm25
        else:
            w = self.options.semantic_weight
            if self.options.blend == "rrf":
                # Reciprocal-rank fusion: only the order of each stage counts, not the
                # scale of its scores, which differs from one document set to another.
                lexical_rank = np.argsort(np.argsort(-bm25, kind="stable"), kind="stable")
                semantic_rank = np.argsort(np.argsort(-cosines, kind="stable"), kind="stable")
                rrf_k = self.options.rrf_k
                scores = (1 - w) / (rrf_k + lexical_rank) + w / (rrf_k + semantic_rank)
            elif self.options.blend == "z":
                lexical = (bm25 - bm25.mean()) / (float(bm25.std()) or 1.0)
                semantic = (cosines - cosines.mean()) / (float(cosines.std()) or 1.0)
                scores = (1 - w) * lexical + w * semantic
                if headings is not None:
                    # A question often restates a section's title in other words; the
                    # heading alone is a sharper match than a window that dilutes it.
                    spread = float(headings.std()) or 1.0
                    scores = scores + self.options.heading_weight * (
                        (headings - headings.mean()) / spread
                    )
                scores = scores - float(scores.min()) + 1e-6
            else:
                lexical = bm25 / top_bm25 if top_bm25 > 0 else bm25
                low, high = float(cosines.min()), float(cosines.max())
                semantic = (cosines - low) / (high - low) if high > low else cosines * 0
                scores = (1 - w) * lexical + w * semantic
        k = min(k, n)
        top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        ranked = sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))
        return [
            Hit(i, float(scores[i]), float(bm25[i]), None if cosines is None else float(cosines[i]))
            for i in ranked
            if every or bm25[i] > 0 or (cosines is not None and cosines[i] >= MIN_COSINE)
        ]

    def section_terms(self, position: int) -> set[str]:
        """The terms indexed for one section (its headings and text)."""
        section = self.sections[position]
        return set(self.analyzer.terms("\n".join([*section.path, section.text])))

    def idf(self, term: str) -> float:
        """The term's inverse section frequency; unknown terms get the rarest term's."""
        df = self._df.get(term)
        if not df:
            return self._max_idf
        return math.log(1.0 + (self._n - df + 0.5) / (df + 0.5))

    def document(self, section: Section) -> Document:
        """The document a section belongs to."""
        return self._by_name[section.doc]
