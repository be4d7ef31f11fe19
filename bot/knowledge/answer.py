"""The guideline store: extractive answers from the guidelines, with sources and confidence.

:class:`GuidelineStore` implements :class:`bot.core.knowledge.Knowledge`. It builds
(or loads from its cache) the section index of the guideline folder (BM25 and
embeddings, :mod:`bot.knowledge.index`, :mod:`bot.knowledge.indexing`) when it is created and
raises :class:`~bot.core.errors.ConfigError` if a guideline is malformed, so start-up
stops. Afterwards it notices changed files by itself: :meth:`GuidelineStore.answer`
checks the files' names, sizes and modification times at most once per
``check_interval`` seconds (1 s by default; ``None`` turns the check off) and
rebuilds the index when their content changed; :meth:`GuidelineStore.refresh` does the
same on demand. A change that makes a guideline malformed is logged with its file and
line and the previous index stays in use until the file is fixed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.core.errors import ConfigError, Problem
from bot.core.knowledge import Answer, FaqEntry, GuidelineInfo, Source
from bot.knowledge.cache import content_key, read_folder, stat_signature
from bot.knowledge.confidence import (
    DEFAULT_THRESHOLD,
    LEXICAL_CALIBRATION,
    LEXICAL_THRESHOLD,
    SEMANTIC_CALIBRATION,
    Calibration,
    Features,
    compute_features,
)
from bot.knowledge.documents import Section, load_files
from bot.knowledge.domain import Domain
from bot.knowledge.embedder import Embedder, shared_embedder
from bot.knowledge.faq import FAQ_FILE, append_entry
from bot.knowledge.index import IndexOptions, Query, SectionIndex
from bot.knowledge.indexing import FORMAT_VERSION, build_index, load_index, save_index
from bot.knowledge.passage import extract_passage
from bot.knowledge.safety import TOPICS, SafetyTopics

log = logging.getLogger(__name__)

#: Where the index is cached unless told otherwise (relative to the working directory).
DEFAULT_CACHE_DIR = Path(".playcaller/index")
#: Questions are cut to this many characters before retrieval.
MAX_QUESTION = 1000
#: Further sources are listed after the quoted one when they score this share of it.
SOURCE_RATIO = 0.6


@dataclass(frozen=True)
class Retrieval:
    """Everything :meth:`GuidelineStore.retrieve` found for a question, best first."""

    index: SectionIndex  # the index searched (a refresh may replace the store's)
    query: Query
    hits: list[tuple[Section, float]]
    features: Features | None
    confidence: float
    safety: frozenset[str] = frozenset()  # safety topics named by the question and the best hit


class GuidelineStore:
    """Answers questions from a folder of Markdown guidelines (the Knowledge port).

    ``folder`` holds the ``*.md`` guidelines. ``cache_dir`` is where indexes are
    persisted (``None``: not persisted). ``threshold`` is the confidence below which the
    store does not answer, unless the question and the best section name the same
    safety topic (:mod:`bot.knowledge.safety`). ``embedder`` is the semantic stage's
    encoder: by default the process's shared MiniLM (:func:`shared_embedder`); ``None``
    or ``options.semantic_weight == 0`` runs on BM25 alone. ``check_interval`` is how
    often (seconds, at most) :meth:`answer` checks the files for changes; ``None`` means
    only :meth:`refresh`.
    Raises :class:`~bot.core.errors.ConfigError` if the folder or a guideline is invalid.
    """

    def __init__(
        self,
        folder: Path,
        *,
        cache_dir: Path | None = DEFAULT_CACHE_DIR,
        options: IndexOptions | None = None,
        threshold: float | None = None,
        calibration: Calibration | None = None,
        embedder: Embedder | Literal["shared"] | None = "shared",
        check_interval: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.cache_dir = cache_dir
        self.options = options or IndexOptions()
        self._threshold = threshold
        self._calibration = calibration
        if embedder == "shared":
            embedder = shared_embedder() if self.options.semantic_weight > 0 else None
        self.embedder: Embedder | None = embedder
        self._safety_topics: SafetyTopics | None = None
        self._domain = Domain(self.embedder) if self.embedder is not None else None
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.RLock()
        self.problems: list[Problem] = []
        if not folder.is_dir():
            raise ConfigError([Problem(str(folder), None, "guideline folder not found")])
        signature = stat_signature(folder)
        index = self._load_index(read_folder(folder))
        if index is None:
            raise ConfigError(self.problems)
        self._index = index
        self._signature = signature
        self._checked_at = clock()

    # -- the Knowledge port ---------------------------------------------------

    def answer(self, question: str) -> Answer:
        """The best section's most relevant sentences, or "don't know" with leads."""
        question = question[:MAX_QUESTION]
        if not question.strip():
            return Answer(False, 0.0, "", ())
        self._maybe_refresh()
        found = self.retrieve(question, k=10)
        index = found.index
        if not found.hits:
            return Answer(False, 0.0, "", ())
        confidence = round(found.confidence, 4)
        if confidence < self.threshold and not found.safety:
            leads = tuple(self._source(index, s, score) for s, score in found.hits[:3])
            return Answer(False, confidence, "", leads)
        best, best_score = found.hits[0]
        passage = extract_passage(index, best, found.query, self._safety(index).stems(found.safety))
        sources = [self._source(index, best, best_score)]
        for section, score in found.hits[1:3]:
            if score >= SOURCE_RATIO * best_score:
                sources.append(self._source(index, section, score))
        return Answer(True, confidence, passage, tuple(sources))

    def guidelines(self) -> list[GuidelineInfo]:
        """Every document in the store, by file name."""
        self._maybe_refresh()
        return [
            GuidelineInfo(d.name, d.title, d.owner, d.last_reviewed)
            for d in sorted(self._index.documents, key=lambda d: d.name)
        ]

    def save_faq(self, entry: FaqEntry) -> str:
        """Append ``entry`` to ``faq.md`` (created if absent) atomically; rebuild the index.
        An entry whose question and answer are already there is not added again
        (:func:`bot.knowledge.faq.append_entry` lays it out).

        If another guideline is malformed at that moment, the entry is saved but the
        index is kept (and the problem logged) until the file is fixed.
        """
        with self._lock:
            if append_entry(self.folder / FAQ_FILE, entry):
                self.refresh(force=True)
        return FAQ_FILE

    # -- more -----------------------------------------------------------------

    def retrieve(self, question: str, k: int = 10, typo: bool | None = None) -> Retrieval:
        """The ranked sections for ``question`` and the confidence in the first one.

        No refresh and no threshold: :meth:`answer` builds on this, and so do benches.
        """
        index = self._index
        query = index.analyse(question[:MAX_QUESTION], typo=typo)
        hits = index.search(query, k=k)
        safety = self._safety(index)
        topics = safety.of_text(question[:MAX_QUESTION])
        domain = self._domain_of(index, query)
        # A safety topic the question names: the best-ranked section that names it too
        # (the most specific topic first, among all sections) goes first.
        for topic in (t for t in TOPICS if t in topics):
            chosen = next(
                (
                    hit
                    for hit in index.search(query, k=len(index.sections), every=True)
                    if topic in safety.of_terms(index.section_terms(hit.section))
                ),
                None,
            )
            if chosen is not None:
                hits = [chosen, *(h for h in hits if h.section != chosen.section)][:k]
                features = compute_features(index, query, hits, domain)
                confidence = self.calibration_for(index).confidence(features)
                ranked = [(index.sections[h.section], h.score) for h in hits]
                return Retrieval(index, query, ranked, features, confidence, frozenset([topic]))
        if not hits:
            return Retrieval(index, query, [], None, 0.0)
        features = compute_features(index, query, hits, domain)
        ranked = [(index.sections[h.section], h.score) for h in hits]
        confidence = self.calibration_for(index).confidence(features)
        return Retrieval(index, query, ranked, features, confidence)

    @property
    def threshold(self) -> float:
        """The confidence below which the store does not answer (see ``__init__``)."""
        if self._threshold is not None:
            return self._threshold
        return DEFAULT_THRESHOLD if self._index.semantic else LEXICAL_THRESHOLD

    def calibration_for(self, index: SectionIndex) -> Calibration:
        """The calibration given to the store, else the one fitted for the index's stages."""
        if self._calibration is not None:
            return self._calibration
        return SEMANTIC_CALIBRATION if index.semantic else LEXICAL_CALIBRATION

    @property
    def notes(self) -> list[Problem]:
        """Remarks on the guidelines that are not problems (e.g. header fields not used)."""
        return [note for document in self._index.documents for note in document.notes]

    def refresh(self, force: bool = False) -> bool:
        """Rebuild the index if the files changed (or if ``force``); True if it was."""
        with self._lock:
            signature = stat_signature(self.folder)
            self._checked_at = self._clock()
            if signature == self._signature and not force:
                return False
            files = read_folder(self.folder)
            self._signature = signature
            if self._key(files) == self._index.key:
                return False
            index = self._load_index(files)
            if index is None:
                log.error(
                    "guidelines not reloaded, keeping the previous index:\n%s",
                    "\n".join(str(p) for p in self.problems),
                )
                return False
            self._index = index
            log.info("guideline index rebuilt: %d sections", len(index.sections))
            return True

    @property
    def index(self) -> SectionIndex:
        """The index in use."""
        return self._index

    # -- internals ------------------------------------------------------------

    def _maybe_refresh(self) -> None:
        if self.check_interval is None:
            return
        if self._clock() - self._checked_at < self.check_interval:
            return
        self.refresh()

    def _load_index(self, files: list[tuple[Path, bytes]]) -> SectionIndex | None:
        """The index for ``files``: from the cache, else built; None if they are invalid."""
        key = self._key(files)
        if self.cache_dir is not None:
            cached = load_index(self.cache_dir, key, self.options, self.folder, self.embedder)
            if cached is not None:
                log.debug("guideline index loaded from %s", self.cache_dir / key)
                self.problems = []
                return cached
        documents, problems = load_files(files)
        self.problems = problems
        if problems:
            return None
        index = build_index(documents, self.options, key, self.embedder)
        if self.cache_dir is not None:
            try:
                save_index(index, self.cache_dir)
            except OSError as error:
                log.warning("cannot cache the guideline index in %s: %s", self.cache_dir, error)
        return index

    def _key(self, files: list[tuple[Path, bytes]]) -> str:
        model = self.embedder.name if self.embedder is not None else "none"
        return content_key(files, f"v{FORMAT_VERSION}\n{self.options.key()}\n{model}")

    def _domain_of(self, index: SectionIndex, query: Query) -> float:
        """How close the question is to the guidelines' field (0 without embeddings)."""
        vector = index.question_vector(query) if index.semantic else None
        if self._domain is None or vector is None:
            return 0.0
        return self._domain.similarity(vector)

    def _safety(self, index: SectionIndex) -> SafetyTopics:
        if self._safety_topics is None:
            self._safety_topics = SafetyTopics(index.analyzer)
        return self._safety_topics

    @staticmethod
    def _source(index: SectionIndex, section: Section, score: float) -> Source:
        document = index.document(section)
        return Source(
            doc=section.doc,
            title=document.title,
            heading=section.heading,
            score=round(score, 4),
            owner=document.owner,
            last_reviewed=document.last_reviewed,
        )


def ask_json(answer: Answer) -> dict[str, Any]:
    """The answer as the CLI prints it: answered, confidence, answer and sources (best first)."""
    return {
        "answered": answer.answered,
        "confidence": round(float(answer.confidence), 3),
        "answer": answer.passage,
        "sources": [
            {"doc": s.doc, "heading": s.heading, "score": round(float(s.score), 3)}
            for s in answer.sources
        ],
    }
