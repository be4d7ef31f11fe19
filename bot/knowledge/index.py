"""The section index: plain BM25 and sentence embeddings over guideline sections, fused.

Each section is indexed once as its document title, its heading path and its text
(no repetition, no tags, no document-level boost: tuning of that kind was measured to
help on our own guidelines and hurt on other organisations', see
``docs/benchmarks.md``). BM25 uses the textbook parameters (k1 1.5, b 0.75) over
stemmed, stop-word-free words (:mod:`bot.knowledge.text`); a query word that is not in
the index is spelled out if it is chat shorthand (:mod:`bot.knowledge.lexicon`) or
else corrected if it is one typing slip away from an indexed word
(:class:`~bot.knowledge.typos.TypoIndex`).

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
The window vectors are
computed when the index is built and persisted with it (``vectors.npy``), so a start
with unchanged files loads them, and a rebuild after a file changed embeds only the
windows whose text is new (:class:`~bot.knowledge.embedder.MemoEmbedder`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s  # type: ignore[import-untyped]
import numpy as np

from bot.knowledge.cache import document_from_json, document_to_json, prune
from bot.knowledge.documents import Document, Section
from bot.knowledge.embedder import Embedder, MemoEmbedder, Vectors
from bot.knowledge.lexicon import SHORTHAND
from bot.knowledge.text import STOPWORDS, Analyzer, normalise
from bot.knowledge.typos import TypoIndex, plausible_typo

__all__ = [
    "STOPWORDS",
    "Analyzer",
    "Hit",
    "IndexOptions",
    "Query",
    "SectionIndex",
    "TypoIndex",
    "normalise",
    "plausible_typo",
]

log = logging.getLogger(__name__)

#: Bump when the cached format or the text processing changes.
FORMAT_VERSION = 3
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
    """BM25 and (optionally) embeddings over sections; :meth:`build`, :meth:`save`, :meth:`load`."""

    def __init__(
        self,
        documents: list[Document],
        bm25: _Bm25,
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
        self._embedded_texts: list[str] = []
        owners: list[int] = []
        for position, section in enumerate(self.sections):
            for text in windows(section, options.window_words, options.window_step):
                self._embedded_texts.append(text)
                owners.append(position)
        self.window_section = np.array(owners, dtype=np.int64)
        # Each section's own heading, embedded after the windows (one row per section).
        self._heading_from = len(owners)
        if options.heading_weight > 0:
            self._embedded_texts += [section.path[-1] for section in self.sections]
        if vectors is not None and vectors.shape[0] != len(self._embedded_texts):
            raise ValueError(f"{vectors.shape[0]} vectors for {len(self._embedded_texts)} texts")
        self._vectors_lock = threading.Lock()
        self._saved_at: Path | None = None
        self._bm25 = bm25
        self._word_counts = word_counts
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
                self.vectors = self.embedder.embed(self._embedded_texts)
                if self._saved_at is not None:
                    _save_array(self._saved_at / "vectors.npy", self.vectors)
            return self.vectors

    # -- building -------------------------------------------------------------

    @classmethod
    def build(
        cls,
        documents: list[Document],
        options: IndexOptions,
        key: str,
        embedder: Embedder | None = None,
    ) -> SectionIndex:
        """Index every section of ``documents`` (and embed them if ``embedder``)."""
        analyzer = Analyzer(stem=options.stem, stopwords=options.stopwords)
        corpus: list[list[str]] = []
        word_counts: Counter[str] = Counter()
        for document in documents:
            for section in document.sections:
                text = "\n".join([*section.path, section.text])
                words = analyzer.words(text)
                word_counts.update(set(words))
                pairs = analyzer.pairs(text) if options.pair_weight > 0 else []
                corpus.append([analyzer.stem(w) for w in words] + pairs or [""])
        return cls(
            documents, _Bm25.build(corpus, options), dict(word_counts), options, key, embedder
        )

    # -- persistence ----------------------------------------------------------

    def save(self, cache_dir: Path, keep: int = 2) -> Path:
        """Write the index to ``cache_dir/<key>/`` atomically; prune older entries."""
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = cache_dir / self.key
        if target.is_dir():
            self._saved_at = target
            return target
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_dir))
        try:
            self._bm25.save(staging / "sections")
            if self.vectors is not None:
                np.save(staging / "vectors.npy", self.vectors)
            meta = {
                "format": FORMAT_VERSION,
                "key": self.key,
                "options": dataclasses.asdict(self.options),
                "model": self.embedder.name if self.embedder else None,  # of vectors.npy
                "word_counts": self._word_counts,
                "documents": [document_to_json(d) for d in self.documents],
            }
            (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            try:
                os.replace(staging, target)
            except OSError:  # another process wrote the same key first
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        prune(cache_dir, keep)
        self._saved_at = target
        return target

    @classmethod
    def load(
        cls,
        cache_dir: Path,
        key: str,
        options: IndexOptions,
        folder: Path,
        embedder: Embedder | None = None,
    ) -> SectionIndex | None:
        """The index of ``folder`` cached under ``key``, or None if absent or unreadable."""
        target = cache_dir / key
        meta_path = target / "meta.json"
        if not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT_VERSION or meta.get("key") != key:
                return None
            documents = [document_from_json(d, folder) for d in meta["documents"]]
            n_sections = sum(len(d.sections) for d in documents)
            vectors = None
            stored = target / "vectors.npy"
            if embedder is not None and meta.get("model") == embedder.name and stored.is_file():
                vectors = np.load(stored)
            index = cls(
                documents,
                _Bm25.load(target / "sections", n_sections, options),
                meta["word_counts"],
                options,
                key,
                embedder,
                vectors,
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("ignoring unreadable index cache %s: %s", target, error)
            return None
        if isinstance(embedder, MemoEmbedder) and vectors is not None:
            # A later rebuild (one file changed) then embeds only the changed windows.
            embedder.remember(index._embedded_texts, vectors)
        index._saved_at = target
        os.utime(target)  # most recently used, for pruning
        index.loaded_from_cache = True
        return index

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
        scores = self._bm25.scores(query.terms, query.weights)
        if self.options.pair_weight > 0:
            pairs = list(dict.fromkeys(self.analyzer.pairs(query.text)))
            weights = [self.options.pair_weight] * len(pairs)
            scores = scores + self._bm25.scores(pairs, weights)
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


class _Bm25:
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
    def build(cls, corpus: list[list[str]], options: IndexOptions) -> _Bm25:
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
    def load(cls, folder: Path, rows: int, options: IndexOptions) -> _Bm25:
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
