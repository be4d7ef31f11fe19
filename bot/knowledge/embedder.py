"""The Embedder port: text to unit-length vectors, for the semantic stage of retrieval.

The port lives with the guideline store rather than in ``bot/core`` because only
:mod:`bot.knowledge` uses it and its values are numpy arrays, which the pure core
does not import. :class:`~bot.knowledge.minilm.MiniLM` implements it;
:class:`MemoEmbedder` remembers the vectors of texts already embedded, so that a
rebuilt index embeds only the windows whose text changed and a process (a test
session, a bench) loads the model once: :func:`shared_embedder`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

Vectors = np.ndarray[Any, np.dtype[np.float32]]


class Embedder(Protocol):
    """Turns texts into unit-length vectors whose dot product is their similarity."""

    @property
    def name(self) -> str:
        """Identifies the model and revision (part of the index cache key)."""

    @property
    def dimension(self) -> int:
        """The length of each vector."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One row per text, float32, unit length."""


class MemoEmbedder:
    """An :class:`Embedder` that remembers up to ``capacity`` vectors by their text."""

    def __init__(self, inner: Embedder, capacity: int = 50_000) -> None:
        self.inner = inner
        self.capacity = capacity
        self._memo: OrderedDict[bytes, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        keys = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        missing: dict[bytes, list[int]] = {}
        with self._lock:
            for row, key in enumerate(keys):
                found = self._memo.get(key)
                if found is None:
                    missing.setdefault(key, []).append(row)
                else:
                    self._memo.move_to_end(key)
                    out[row] = found
        if missing:
            computed = self.inner.embed([texts[rows[0]] for rows in missing.values()])
            for vector, rows in zip(computed, missing.values(), strict=True):
                out[rows] = vector
            self.remember([texts[rows[0]] for rows in missing.values()], computed)
        return out

    def remember(self, texts: Sequence[str], vectors: Vectors) -> None:
        """Keep ``vectors`` as the embeddings of ``texts`` (e.g. loaded from a cache)."""
        keys = [hashlib.blake2b(text.encode(), digest_size=16).digest() for text in texts]
        self._store(keys, vectors)

    def export(self) -> tuple[list[bytes], Vectors]:
        """Every remembered (text hash, vector), to persist a memo between processes."""
        with self._lock:
            keys = list(self._memo)
            vectors = np.array([self._memo[k] for k in keys], dtype=np.float32)
        return keys, vectors.reshape(len(keys), self.dimension)

    def restore(self, keys: Sequence[bytes], vectors: Vectors) -> None:
        """Remember what :meth:`export` returned (from the same model)."""
        self._store(keys, vectors)

    def _store(self, keys: Sequence[bytes], vectors: Vectors) -> None:
        with self._lock:
            for key, vector in zip(keys, vectors, strict=True):
                self._memo[key] = np.array(vector, dtype=np.float32)
                self._memo.move_to_end(key)
            while len(self._memo) > self.capacity:
                self._memo.popitem(last=False)


_shared: MemoEmbedder | None = None
_shared_failed = False
_shared_lock = threading.Lock()


def shared_embedder() -> MemoEmbedder | None:
    """The process's MiniLM encoder, loaded on first use; None if it cannot be loaded.

    Without the model package (or with a model file that is not the published one)
    the guideline store works on BM25 alone, and says so once in the log.
    """
    global _shared, _shared_failed
    with _shared_lock:
        if _shared is None and not _shared_failed:
            from bot.knowledge.minilm import MiniLM, ModelUnavailable

            try:
                _shared = MemoEmbedder(MiniLM())
            except ModelUnavailable as error:
                _shared_failed = True
                log.warning("semantic search off, using BM25 only: %s", error)
        return _shared
