"""A BM25 index over guideline sections, persisted to a cache keyed by the files' content.

Text is normalised before indexing and querying: lower case, accents stripped,
English stop words removed, English (Snowball) stemming. Each section is indexed as
its own text plus its heading path, its document's title and tags, repeated to weight
them, and a section's score adds a share of its whole document's score (see
:class:`IndexOptions`). A query word that is not in the index is spelled out if it
is chat shorthand (:mod:`bot.knowledge.lexicon`) or else corrected if it is one
typing slip away from an indexed word (:class:`TypoIndex`).

The index is persisted in ``cache_dir/<key>/`` where the key hashes the file names,
sizes and content hashes (and the index options and format version), so a second
start with the same files loads instead of building. Modification times are only used
to notice cheaply that something may have changed (:func:`stat_signature`); they are
not part of the key, so a fresh checkout of the same files still hits the cache.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s  # type: ignore[import-untyped]
import numpy as np
import Stemmer  # type: ignore[import-not-found]
from bm25s.stopwords import STOPWORDS_EN_PLUS  # type: ignore[import-untyped]

from bot.knowledge.documents import PATH_SEPARATOR, Document, Section
from bot.knowledge.lexicon import SHORTHAND

log = logging.getLogger(__name__)

#: Bump when the cached format or the text processing changes.
FORMAT_VERSION = 1

_EXTRA_STOPWORDS = frozenset(
    {
        "also",
        "anyone",
        "anything",
        "could",
        "etc",
        "may",
        "might",
        "must",
        "ok",
        "okay",
        "please",
        "shall",
        "someone",
        "something",
        "us",
        "would",
    }
)
STOPWORDS: frozenset[str] = frozenset(STOPWORDS_EN_PLUS) | _EXTRA_STOPWORDS
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalise(text: str) -> str:
    """Lower case, accents stripped, typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("\u2019", "'").replace("\u2018", "'")


class Analyzer:
    """Turns text into index terms: normalise, split, drop stop words, stem."""

    def __init__(self, stem: bool = True, stopwords: bool = True) -> None:
        self._stemmer = Stemmer.Stemmer("english") if stem else None
        self._stemmer_lock = threading.Lock()  # a PyStemmer object is not thread-safe
        self._stopwords = STOPWORDS if stopwords else frozenset()
        self._cache: dict[str, str] = {}

    def words(self, text: str) -> list[str]:
        """The normalised words of ``text`` that are not stop words (unstemmed)."""
        found = []
        for word in _WORD.findall(normalise(text)):
            if word in self._stopwords:
                continue
            word = word.split("'", 1)[0]  # "company's" -> "company"
            if len(word) > 1 and word not in self._stopwords:
                found.append(word)
        return found

    def stem(self, word: str) -> str:
        """The stem of one normalised word."""
        if self._stemmer is None:
            return word
        stem = self._cache.get(word)
        if stem is None:
            with self._stemmer_lock:
                stem = str(self._stemmer.stemWord(word))
            if len(self._cache) < 100_000:
                self._cache[word] = stem
        return stem

    def terms(self, text: str) -> list[str]:
        """The index terms of ``text``, in order, with repeats."""
        return [self.stem(word) for word in self.words(text)]


_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, set[str]]:
    """Keys next to each other on a QWERTY keyboard, whose rows are staggered."""
    neighbours: dict[str, set[str]] = {}
    for r, row in enumerate(_KEYBOARD_ROWS):
        for i, key in enumerate(row):
            near = {(r, i - 1), (r, i + 1), (r - 1, i), (r - 1, i + 1), (r + 1, i - 1), (r + 1, i)}
            neighbours[key] = {
                _KEYBOARD_ROWS[nr][ni]
                for nr, ni in near
                if 0 <= nr < len(_KEYBOARD_ROWS) and 0 <= ni < len(_KEYBOARD_ROWS[nr])
            }
    return neighbours


_NEIGHBOURS = _keyboard_neighbours()


def _near(a: str, b: str) -> bool:
    return a == b or b in _NEIGHBOURS.get(a, ())


def plausible_typo(typed: str, word: str) -> bool:
    """Whether ``typed`` is ``word`` with one typical typing slip.

    The slips: a letter left out, two neighbouring letters swapped, a letter replaced
    by a key next to it, or an extra letter that repeats or neighbours a letter beside
    it. Replacing a letter by a distant key usually makes another real word
    ("guest" for "guess"), so that is not treated as a typo.
    """
    if len(typed) + 1 == len(word):
        return any(word[:i] + word[i + 1 :] == typed for i in range(len(word)))
    if len(typed) == len(word) + 1:
        for i in range(len(typed)):
            if typed[:i] + typed[i + 1 :] != word:
                continue
            around = typed[max(i - 1, 0) : i] + typed[i + 1 : i + 2]
            if any(_near(typed[i], c) for c in around):
                return True
        return False
    if len(typed) != len(word):
        return False
    diffs = [i for i in range(len(word)) if typed[i] != word[i]]
    if len(diffs) == 1:
        return _near(typed[diffs[0]], word[diffs[0]])
    if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
        i = diffs[0]
        return typed[i] == word[i + 1] and typed[i + 1] == word[i]
    return False


class TypoIndex:
    """Finds the indexed word a misspelt query word was meant to be.

    A query word of at least ``min_length`` characters that is not indexed is matched
    to an indexed word one typing slip away (see :func:`plausible_typo`) with the same
    first letter; ties go to the word in more sections. Candidates come from a
    symmetric-delete table (each word with each one letter left out).
    """

    def __init__(self, word_counts: dict[str, int], min_length: int = 5) -> None:
        self.min_length = min_length
        self._counts = word_counts
        self._deletes: dict[str, list[str]] = {}
        for word in word_counts:
            if len(word) < min_length - 1:
                continue
            for variant in _deletes(word):
                self._deletes.setdefault(variant, []).append(word)

    def correct(self, word: str) -> str | None:
        """The intended indexed word, or None if none is one slip away."""
        if len(word) < self.min_length or word in self._counts:
            return None
        candidates: set[str] = set()
        for variant in _deletes(word):
            candidates.update(self._deletes.get(variant, ()))
        best: tuple[int, str] | None = None
        for candidate in candidates:
            if candidate[0] != word[0] or not plausible_typo(word, candidate):
                continue
            key = (-self._counts[candidate], candidate)
            if best is None or key < best:
                best = key
        return best[1] if best else None


def _deletes(word: str) -> set[str]:
    """``word`` and every string made by leaving one letter out."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True)
class IndexOptions:
    """How sections are indexed and queried.

    ``heading_weight`` and ``title_weight`` repeat the section's own headings and the
    document title that many times in the indexed text (0 leaves them out);
    ``tag_weight`` does the same for the document's tags; ``doc_weight`` adds that
    share of the whole document's score to each section's; ``typo`` turns on typo
    tolerance and ``shorthand`` the spelling out of chat shorthand. ``k1`` and ``b``
    are the BM25 parameters (0.9 and 0.4 as in Anserini). The defaults are what
    ``bench/ask_eval.py`` measured best; it reports the alternatives.
    """

    heading_weight: int = 2
    title_weight: int = 1
    tag_weight: int = 1
    doc_weight: float = 0.5
    stem: bool = True
    stopwords: bool = True
    typo: bool = True
    shorthand: bool = True
    k1: float = 0.9
    b: float = 0.4

    def key(self) -> str:
        """The options that change the index, for the cache key."""
        fields = dataclasses.asdict(self)
        fields.pop("typo")  # query-time options
        fields.pop("shorthand")
        return json.dumps(fields, sort_keys=True)


def stat_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the ``*.md`` files: a cheap change check."""
    signature = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return ()
    for entry in entries:
        if entry.name.endswith(".md") and entry.is_file():
            try:
                info = entry.stat()
            except OSError:
                continue
            signature.append((entry.name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(signature))


def read_folder(folder: Path) -> list[tuple[Path, bytes]]:
    """The ``*.md`` files directly in ``folder`` and their bytes, sorted by name."""
    files = []
    for path in sorted(folder.glob("*.md")):
        try:
            files.append((path, path.read_bytes()))
        except OSError as error:
            log.warning("cannot read %s: %s", path, error)
    return files


def content_key(files: list[tuple[Path, bytes]], options: IndexOptions) -> str:
    """A hash of the files' names, sizes and contents, and of the index options."""
    digest = hashlib.sha256(f"v{FORMAT_VERSION}\n{options.key()}\n".encode())
    for path, data in files:
        content = hashlib.sha256(data).hexdigest()
        digest.update(f"{path.name}\0{len(data)}\0{content}\n".encode())
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Hit:
    """A section found for a query, with its BM25 score."""

    section: int  # position in :attr:`SectionIndex.sections`
    score: float


@dataclass(frozen=True)
class Query:
    """An analysed query: its unique terms (stems, in order) and their weights."""

    terms: tuple[str, ...]
    weights: tuple[float, ...]
    corrected: dict[str, str]  # misspelt or shorthand word -> what was searched instead


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


class SectionIndex:
    """BM25 over sections; build with :meth:`build`, persist with :meth:`save`/:meth:`load`.

    A section's score is its own BM25 score plus ``options.doc_weight`` times the BM25
    score of its whole document (all its sections, title and tags), so that a
    question about a document's topic favours that document's sections.
    """

    def __init__(
        self,
        documents: list[Document],
        sections_bm25: _Bm25,
        documents_bm25: _Bm25,
        word_counts: dict[str, int],
        options: IndexOptions,
        key: str,
    ) -> None:
        self.documents = documents
        self.sections = [section for document in documents for section in document.sections]
        self.options = options
        self.key = key
        self.analyzer = Analyzer(stem=options.stem, stopwords=options.stopwords)
        self._sections_bm25 = sections_bm25
        self._documents_bm25 = documents_bm25
        self._section_doc = np.array(
            [i for i, document in enumerate(documents) for _ in document.sections], dtype=np.int64
        )
        self._word_counts = word_counts
        self._typos: TypoIndex | None = None
        self._by_name = {document.name: document for document in documents}
        n = max(len(self.sections), 1)
        self._df = sections_bm25.document_frequencies()
        self._max_idf = math.log(1.0 + (n + 0.5) / 0.5)
        self._n = n
        self.loaded_from_cache = False
        if options.typo:
            self._typo_index()  # built now, not on the first misspelt question

    # -- building -------------------------------------------------------------

    @classmethod
    def build(cls, documents: list[Document], options: IndexOptions, key: str) -> SectionIndex:
        """Index every section of ``documents``."""
        analyzer = Analyzer(stem=options.stem, stopwords=options.stopwords)
        section_corpus: list[list[str]] = []
        document_corpus: list[list[str]] = []
        word_counts: Counter[str] = Counter()
        for document in documents:
            document_words: list[str] = []
            document_words += analyzer.words(document.title) * max(options.title_weight, 1)
            document_words += analyzer.words(" ".join(document.tags)) * options.tag_weight
            for section in document.sections:
                parts = [section.text]
                parts += [PATH_SEPARATOR.join(section.path[1:])] * options.heading_weight
                parts += [document.title] * options.title_weight
                parts += [" ".join(document.tags)] * options.tag_weight
                words = [w for part in parts for w in analyzer.words(part)]
                word_counts.update(set(words))
                section_corpus.append([analyzer.stem(w) for w in words] or [""])
                document_words += analyzer.words(section.text)
                document_words += analyzer.words(PATH_SEPARATOR.join(section.path[1:]))
            document_corpus.append([analyzer.stem(w) for w in document_words] or [""])
        return cls(
            documents,
            _Bm25.build(section_corpus, options),
            _Bm25.build(document_corpus, options),
            dict(word_counts),
            options,
            key,
        )

    # -- persistence ----------------------------------------------------------

    def save(self, cache_dir: Path, keep: int = 2) -> Path:
        """Write the index to ``cache_dir/<key>/`` atomically; prune older entries."""
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = cache_dir / self.key
        if target.is_dir():
            return target
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_dir))
        try:
            self._sections_bm25.save(staging / "sections")
            self._documents_bm25.save(staging / "documents")
            meta = {
                "format": FORMAT_VERSION,
                "key": self.key,
                "options": dataclasses.asdict(self.options),
                "word_counts": self._word_counts,
                "documents": [_document_to_json(d) for d in self.documents],
            }
            (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            try:
                os.replace(staging, target)
            except OSError:  # another process wrote the same key first
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _prune(cache_dir, keep)
        return target

    @classmethod
    def load(
        cls, cache_dir: Path, key: str, options: IndexOptions, folder: Path
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
            documents = [_document_from_json(d, folder) for d in meta["documents"]]
            n_sections = sum(len(d.sections) for d in documents)
            index = cls(
                documents,
                _Bm25.load(target / "sections", n_sections, options),
                _Bm25.load(target / "documents", len(documents), options),
                meta["word_counts"],
                options,
                key,
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("ignoring unreadable index cache %s: %s", target, error)
            return None
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
        weights: list[float] = []
        corrected: dict[str, str] = {}
        for word in self.analyzer.words(question):
            found = [self.analyzer.stem(word)]
            if found[0] not in self._df:
                plain = SHORTHAND.get(word) if use_shorthand else None
                fixed = self._typo_index().correct(word) if use_typo and not plain else None
                if plain or fixed:
                    corrected[word] = plain or fixed or word
                    found = self.analyzer.terms(corrected[word])
            for term in found:
                if term not in terms:
                    terms.append(term)
                    weights.append(1.0)
        return Query(tuple(terms), tuple(weights), corrected)

    def scores(self, query: Query) -> np.ndarray[Any, Any]:
        """The score of every section for ``query`` (see the class docstring)."""
        scores = self._sections_bm25.scores(query.terms, query.weights)
        if self.options.doc_weight and len(self.documents) > 1:
            by_document = self._documents_bm25.scores(query.terms, query.weights)
            scores += self.options.doc_weight * by_document[self._section_doc]
        return scores

    def search(self, query: Query, k: int = 10) -> list[Hit]:
        """The ``k`` best sections with a positive score, best first."""
        n = len(self.sections)
        if n == 0:
            return []
        scores = self.scores(query)
        k = min(k, n)
        top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        ranked = sorted(top.tolist(), key=lambda i: (-float(scores[i]), i))
        return [Hit(i, float(scores[i])) for i in ranked if scores[i] > 0]

    def section_terms(self, position: int) -> set[str]:
        """The terms indexed for one section (its text, headings and title)."""
        section = self.sections[position]
        document = self._by_name[section.doc]
        text = " ".join(
            [
                section.text,
                PATH_SEPARATOR.join(section.path[1:]),
                document.title,
                *(document.tags if self.options.tag_weight else ()),
            ]
        )
        return set(self.analyzer.terms(text))

    def idf(self, term: str) -> float:
        """The term's inverse section frequency; unknown terms get the rarest term's."""
        df = self._df.get(term)
        if not df:
            return self._max_idf
        return math.log(1.0 + (self._n - df + 0.5) / (df + 0.5))

    def document(self, section: Section) -> Document:
        """The document a section belongs to."""
        return self._by_name[section.doc]

    # -- internals ------------------------------------------------------------

    def _typo_index(self) -> TypoIndex:
        if self._typos is None:
            self._typos = TypoIndex(self._word_counts)
        return self._typos


def _prune(cache_dir: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used cache entries."""
    entries = []
    for child in cache_dir.iterdir():
        if child.is_dir() and not child.name.startswith(".tmp-"):
            try:
                entries.append((child.stat().st_mtime_ns, child))
            except OSError:
                continue
    entries.sort(reverse=True)
    for _, child in entries[keep:]:
        shutil.rmtree(child, ignore_errors=True)


def _document_to_json(document: Document) -> dict[str, Any]:
    return {
        "name": document.name,
        "title": document.title,
        "owner": document.owner,
        "last_reviewed": document.last_reviewed.isoformat() if document.last_reviewed else None,
        "audience": list(document.audience),
        "tags": list(document.tags),
        "sections": [[list(s.path), s.text, s.line] for s in document.sections],
    }


def _document_from_json(data: dict[str, Any], folder: Path) -> Document:
    path = folder / data["name"]
    reviewed = data["last_reviewed"]
    return Document(
        path=path,
        title=data["title"],
        owner=data["owner"],
        last_reviewed=dt.date.fromisoformat(reviewed) if reviewed else None,
        audience=tuple(data["audience"]),
        tags=tuple(data["tags"]),
        sections=tuple(
            Section(path.name, tuple(p), text, line) for p, text, line in data["sections"]
        ),
    )
