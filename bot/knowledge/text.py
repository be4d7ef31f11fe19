"""Text processing shared by the index and the passage choice: words, stop words, stems.

Text is normalised (lower case, accents stripped, plain apostrophes), split into
words, English stop words are dropped and the rest stemmed with Snowball (PyStemmer).
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata

import Stemmer  # type: ignore[import-not-found]
from bm25s.stopwords import STOPWORDS_EN_PLUS  # type: ignore[import-untyped]

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

    def pairs(self, text: str) -> list[str]:
        """Adjacent word pairs of ``text`` (stop words kept, at least one word not one).

        Indexed beside the single words, they reward a section that says what the
        question says in the same order ("I work", "work here"), a simple form of the
        sequential dependence model; pairs of two stop words carry nothing.
        """
        words = [w.split("'", 1)[0] for w in _WORD.findall(normalise(text))]
        found = []
        for first, second in itertools.pairwise(words):
            if first in self._stopwords and second in self._stopwords:
                continue
            found.append(f"{self.stem(first)}_{self.stem(second)}")
        return found
