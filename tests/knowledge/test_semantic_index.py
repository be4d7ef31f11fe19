"""Section embeddings: computed once, persisted with the index, rebuilt for changed files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge import GuidelineStore
from bot.knowledge.domain import DOMAIN
from bot.knowledge.embedder import MemoEmbedder, Vectors, shared_embedder
from bot.knowledge.index import IndexOptions, Query

PRESS = """\
---
title: Press
---
# Press

## Reporters

Only the communications team talks to reporters. Forward every request to press@example.org.
"""
TRAVEL = """\
# Travel

## Hotels

Book hotels through the travel portal.
"""


class Counting:
    """The shared MiniLM, counting what it is asked to embed."""

    name = "all-MiniLM-L6-v2@1110a243"
    dimension = 384

    def __init__(self) -> None:
        shared = shared_embedder()
        assert shared is not None
        self.inner = shared
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts += texts
        return self.inner.embed(texts)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    guidelines = tmp_path / "guidelines"
    guidelines.mkdir()
    (guidelines / "press.md").write_text(PRESS)
    (guidelines / "travel.md").write_text(TRAVEL)
    return guidelines


def test_window_vectors_are_persisted_and_reused(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    counting = Counting()
    first = GuidelineStore(folder, cache_dir=cache, embedder=counting, check_interval=None)
    assert counting.texts == []  # nothing is embedded before the first question
    assert first.answer("who may speak to journalists?").sources[0].heading.endswith("Reporters")
    embedded = [
        t for t in counting.texts if t != "who may speak to journalists?" and t not in DOMAIN
    ]
    # One window per (short) section, then each section's own heading.
    headings = [section.path[-1] for section in first.index.sections]
    assert len(embedded) == 2 * len(headings) and embedded[-len(headings) :] == headings
    [entry] = list(cache.iterdir())
    assert np.load(entry / "vectors.npy").shape == (len(embedded), 384)

    again = Counting()
    second = GuidelineStore(folder, cache_dir=cache, embedder=again, check_interval=None)
    assert second.index.loaded_from_cache
    assert second.answer("which hotel booking site?").sources[0].heading.endswith("Hotels")
    # The windows and headings came from the cache; the domain descriptions are
    # embedded once per embedder (the bot's shared one remembers them).
    assert again.texts == ["which hotel booking site?", *DOMAIN]


def test_a_changed_file_re_embeds_only_its_new_windows(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    GuidelineStore(folder, cache_dir=cache, check_interval=None).answer("hotels?")
    counting = Counting()
    store = GuidelineStore(
        folder, cache_dir=cache, embedder=MemoEmbedder(counting), check_interval=None
    )
    (folder / "travel.md").write_text(
        TRAVEL + "\n## Trains\n\nTake the train for trips under four hours.\n"
    )
    assert store.refresh() is True
    answer = store.answer("can I go by rail?")
    assert answer.sources[0].heading.endswith("Trains")
    assert counting.texts == [
        "Travel. Trains. Take the train for trips under four hours.",
        "Trains",
        "can I go by rail?",
        *DOMAIN,
    ]


def test_without_the_heading_signal_headings_are_not_embedded(folder: Path) -> None:
    counting = Counting()
    options = IndexOptions(heading_weight=0.0)
    store = GuidelineStore(
        folder, cache_dir=None, options=options, embedder=counting, check_interval=None
    )
    vectors = store.index.window_vectors()
    assert vectors is not None and vectors.shape[0] == len(store.index.sections)
    assert "Hotels" not in counting.texts


def test_the_model_reads_the_question_with_its_typos_corrected(folder: Path) -> None:
    counting = Counting()
    store = GuidelineStore(folder, cache_dir=None, embedder=counting, check_interval=None)
    answer = store.answer("who talks to reportres?")
    assert answer.answered and answer.sources[0].heading.endswith("Reporters")
    assert "who talks to reporters?" in counting.texts
    assert "who talks to reportres?" not in counting.texts


def test_a_correction_replaces_whole_words_in_any_case() -> None:
    query = Query(
        "DMed re: the Campain? campaigns",
        (),
        (),
        {"dmed": "direct messaged", "campain": "campaign"},
    )
    assert query.meaning == "direct messaged re: the campaign? campaigns"


def test_an_off_topic_question_is_further_from_the_domain(folder: Path) -> None:
    store = GuidelineStore(folder, cache_dir=None, check_interval=None)
    on_topic = store.retrieve("can I tell a reporter about our launch?").features
    off_topic = store.retrieve("which hotel booking site do I use?").features
    assert on_topic is not None and off_topic is not None
    assert on_topic.domain > off_topic.domain + 0.1


def test_without_embeddings_the_store_runs_on_bm25(folder: Path) -> None:
    store = GuidelineStore(folder, cache_dir=None, embedder=None, check_interval=None)
    assert not store.index.semantic
    answer = store.answer("who talks to reporters?")
    assert answer.answered and answer.sources[0].heading.endswith("Reporters")
    off = GuidelineStore(
        folder, cache_dir=None, options=IndexOptions(semantic_weight=0), check_interval=None
    )
    assert not off.index.semantic


THREATS = """\
# Threats

## Threats of violence

If someone threatens violence against staff, call security on 555-0100 first.
"""


def test_a_question_is_embedded_once_even_when_asked_again(folder: Path) -> None:
    (folder / "threats.md").write_text(THREATS)
    counting = Counting()
    store = GuidelineStore(folder, cache_dir=None, embedder=counting, check_interval=None)
    question = "someone threatened to hurt me in a reply, what now?"
    first = store.answer(question)  # a safety topic: the index is searched twice
    assert first.answered and first.sources[0].heading.endswith("Threats of violence")
    assert "555-0100" in first.passage
    second = store.answer(question)
    assert second == first
    assert counting.texts.count(question) == 1


def test_rank_fusion_puts_a_section_first_in_both_rankings_first(folder: Path) -> None:
    options = IndexOptions(blend="rrf", rrf_k=5.0, semantic_weight=0.5)
    store = GuidelineStore(folder, cache_dir=None, options=options, check_interval=None)
    query = store.index.analyse("where do I book a hotel?")
    hits = store.index.search(query, k=2, every=True)
    best, other = hits
    assert store.index.sections[best.section].heading.endswith("Hotels")
    # First in both rankings: 1/k, whatever the scale of the BM25 and cosine scores.
    assert best.score == pytest.approx(1 / store.options.rrf_k)
    assert best.bm25 > other.bm25 and best.cosine is not None and other.cosine is not None
    assert best.cosine > other.cosine
