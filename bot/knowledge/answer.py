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
import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.core.errors import ConfigError, Problem
from bot.core.knowledge import Answer, FaqEntry, GuidelineInfo, Source
from bot.knowledge.cache import content_key, read_folder, stat_signature
from bot.knowledge.documents import Section, load_files
from bot.knowledge.domain import Domain
from bot.knowledge.embedder import Embedder, shared_embedder
from bot.knowledge.index import Hit, IndexOptions, Query, SectionIndex
from bot.knowledge.indexing import FORMAT_VERSION, build_index, load_index, save_index
from bot.knowledge.passage import extract_passage
from bot.knowledge.safety import TOPICS, SafetyTopics

log = logging.getLogger(__name__)

#: Where the index is cached unless told otherwise (relative to the working directory).
DEFAULT_CACHE_DIR = Path(".playcaller/index")
#: Answer only when the confidence is at least this (chosen with
#: ``bench/ask_calibrate.py`` on the old set and the handbook dev split: the best mean
#: of answered share and correct abstention over the two, with cross-validated
#: confidences); :data:`LEXICAL_THRESHOLD` when running on BM25 alone.
DEFAULT_THRESHOLD = 0.65
LEXICAL_THRESHOLD = 0.5
#: Questions are cut to this many characters before retrieval.
MAX_QUESTION = 1000
#: The FAQ document that :meth:`GuidelineStore.save_faq` appends to.
FAQ_FILE = "faq.md"
FAQ_TITLE = "Questions answered by coaches"

#: Further sources are listed after the quoted one when they score this share of it.
SOURCE_RATIO = 0.6


@dataclass(frozen=True)
class Calibration:
    """Maps retrieval features to a confidence: a logistic model fitted by ``ask_eval``.

    The features (see :class:`Features`) are the best section's ``cosine`` with the
    question, ``coverage``, ``margin``, ``log(1 + matched)`` and the question's
    ``domain`` similarity. ``bench/ask_eval.py
    --fit`` fits the weights on ``eval/ask/questions.jsonl`` and compares feature sets
    by cross-validated log loss; :data:`SEMANTIC_CALIBRATION` is used with embeddings,
    :data:`LEXICAL_CALIBRATION` when the store runs on BM25 alone.
    """

    bias: float
    cosine: float = 0.0
    coverage: float = 0.0
    margin: float = 0.0
    matched: float = 0.0
    domain: float = 0.0

    def confidence(self, features: Features) -> float:
        """The probability that the best section answers the question."""
        z = (
            self.bias
            + self.cosine * features.cosine
            + self.coverage * features.coverage
            + self.margin * features.margin
            + self.matched * math.log1p(features.matched)
            + self.domain * features.domain
        )
        return 1.0 / (1.0 + math.exp(-z))


#: Fitted with embeddings on the old set and the handbook dev split
#: (``bench/ask_calibrate.py``): cosine, log(1+matched) and the question's domain
#: similarity, the target being "the question is answerable".
SEMANTIC_CALIBRATION = Calibration(bias=-5.551, cosine=7.076, matched=2.102, domain=5.538)
#: Fitted on BM25 alone (margin + log(1+matched)).
LEXICAL_CALIBRATION = Calibration(bias=-4.259, margin=2.141, matched=2.92)


@dataclass(frozen=True)
class Features:
    """What the confidence is computed from.

    ``cosine`` is the best section's embedding similarity to the question (0 without
    embeddings); ``coverage`` is the idf-weighted share of the question's terms (known
    to the index or not) found in the best section; ``margin`` is how far the best
    score is ahead of the second, relative to the best; ``matched`` is how many
    distinct question terms the best section contains. ``domain`` depends on the
    question alone: its best cosine with :data:`bot.knowledge.domain.DOMAIN`, what
    communication guidelines are about (0 without embeddings).
    """

    cosine: float
    coverage: float
    margin: float
    matched: int
    domain: float = 0.0


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
        An entry whose question and answer are already there is not added again.

        The entry is a ``## <question>`` section with the answer and a line "Answered by
        <owner> on <date>". A new ``faq.md`` gets a header with the entry's owner and
        date. If another guideline is malformed at that moment, the entry is saved but
        the index is kept (and the problem logged) until the file is fixed.
        """
        question = " ".join(entry.question.split())
        answer = entry.answer.strip()
        if not question or not answer:
            raise ValueError("a FAQ entry needs a question and an answer")
        with self._lock:
            path = self.folder / FAQ_FILE
            if path.exists():
                existing = path.read_text(encoding="utf-8")
                if existing and not existing.endswith("\n"):
                    existing += "\n"
            else:
                header = yaml.safe_dump(
                    {
                        "title": FAQ_TITLE,
                        "owner": entry.owner,
                        "last_reviewed": entry.saved_on,
                    },
                    sort_keys=False,
                    allow_unicode=True,
                )
                existing = f"---\n{header}---\n"
            # A line starting with # in the answer would become a heading: escape it.
            body = re.sub(r"(?m)^(\s{0,3})#", r"\1\\#", answer)
            heading = question.lstrip("#").strip() or question
            entry_text = f"\n## {heading}\n\n{body}\n\n"
            if entry_text in existing:
                # Saved already (a retried click, a second process): one copy is enough.
                log.info("FAQ entry %r is already in %s", heading, path)
                return FAQ_FILE
            addition = f"{entry_text}Answered by {entry.owner} on {entry.saved_on.isoformat()}\n"
            _write_atomically(path, existing + addition)
            log.info("saved a FAQ entry to %s", path)
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


def compute_features(
    index: SectionIndex, query: Query, hits: list[Hit], domain: float = 0.0
) -> Features:
    """Cosine, coverage, margin and matched terms of the best hit (see :class:`Features`)."""
    best = hits[0]
    present = index.section_terms(best.section)
    total = covered = 0.0
    matched = 0
    for term, weight in zip(query.terms, query.weights, strict=True):
        idf = index.idf(term) * weight
        total += idf
        if term in present:
            covered += idf
            matched += 1
    second = hits[1].score if len(hits) > 1 else 0.0
    return Features(
        cosine=best.cosine if best.cosine is not None else 0.0,
        coverage=covered / total if total else 0.0,
        margin=(best.score - second) / best.score if best.score > 0 else 0.0,
        matched=matched,
        domain=domain,
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


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and :func:`os.replace`."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
