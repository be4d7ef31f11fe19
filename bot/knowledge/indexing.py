"""Making a section index: built from documents, or loaded from the cache on disk.

Building is the tokenising side of :mod:`bot.knowledge.index`: each section is
indexed once as its document title, its heading path and its text (no repetition, no
tags, no document-level boost: tuning of that kind was measured to help on our own
guidelines and hurt on other organisations', see ``docs/benchmarks.md``), as stemmed,
stop-word-free words (:mod:`bot.knowledge.text`) plus word pairs when they are weighted.

An index is persisted in ``cache_dir/<key>/`` (:mod:`bot.knowledge.cache` keeps the
key and the pruning): the BM25 matrix, ``meta.json`` with the documents, and the window
vectors (``vectors.npy``), so a start with unchanged files loads them, and a rebuild
after a file changed embeds only the windows whose text is new
(:class:`~bot.knowledge.embedder.MemoEmbedder`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from bot.knowledge.bm25 import Bm25
from bot.knowledge.cache import document_from_json, document_to_json, prune
from bot.knowledge.documents import Document
from bot.knowledge.embedder import Embedder, MemoEmbedder
from bot.knowledge.index import IndexOptions, SectionIndex
from bot.knowledge.text import Analyzer

# The index's own logger name: these messages said "bot.knowledge.index" before the
# building moved here, and log filters may name it.
log = logging.getLogger("bot.knowledge.index")

#: Bump when the cached format or the text processing changes.
FORMAT_VERSION = 3


def build_index(
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
    return SectionIndex(
        documents, Bm25.build(corpus, options), dict(word_counts), options, key, embedder
    )


def save_index(index: SectionIndex, cache_dir: Path, keep: int = 2) -> Path:
    """Write ``index`` to ``cache_dir/<key>/`` atomically; prune older entries."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / index.key
    if target.is_dir():
        index.saved_at = target
        return target
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_dir))
    try:
        index.bm25.save(staging / "sections")
        if index.vectors is not None:
            np.save(staging / "vectors.npy", index.vectors)
        meta = {
            "format": FORMAT_VERSION,
            "key": index.key,
            "options": dataclasses.asdict(index.options),
            "model": index.embedder.name if index.embedder else None,  # of vectors.npy
            "word_counts": index.word_counts,
            "documents": [document_to_json(d) for d in index.documents],
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
    index.saved_at = target
    return target


def load_index(
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
        index = SectionIndex(
            documents,
            Bm25.load(target / "sections", n_sections, options),
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
        embedder.remember(index.embedded_texts, vectors)
    index.saved_at = target
    os.utime(target)  # most recently used, for pruning
    index.loaded_from_cache = True
    return index
