"""The intake's scorer (bot/core/sentiment_scorer.py) gives the logits of the
definition: the weights of sentiment_features.features() summed per head."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.core.sentiment_model import HEADS, LinearSentiment
from bot.intake.enrich import RulesReading, VaderSentiment, shipped_model

ROOT = Path(__file__).resolve().parent.parent
#: Training and tuning sets only; the held-out sets are never read.
SETS = (
    "dev",
    "test",
    "writer_dev",
    "writer_dev2",
    "holdout2",
    "corpus1",
    "corpus2",
    "corpus3",
)
ENGINE = VaderSentiment()


def reference(
    model: LinearSentiment, reading: RulesReading, text: str, network: str
) -> list[float]:
    """The definition: every feature name of the post, each weight once."""
    sums = [0.0] * len(HEADS)
    for name in reading.features(text, network):
        for head, weight in enumerate(model.weights.get(name, (0.0,) * len(HEADS))):
            sums[head] += weight
    return sums


def fast(model: LinearSentiment, reading: RulesReading, text: str, network: str) -> list[float]:
    args = (text[:5000], network, reading.compound, reading.negatives)
    return list(model.post_scores(*args, reading.signals, reading.label))


def assert_same(model: LinearSentiment, text: str, network: str) -> None:
    reading = ENGINE.read(text, network)
    expected = reference(model, reading, text, network)
    assert fast(model, reading, text, network) == pytest.approx(expected, abs=1e-9, rel=0), text


def training_posts() -> list[tuple[str, str]]:
    posts: list[tuple[str, str]] = []
    for name in SETS:
        for line in (ROOT / "eval" / "sentiment" / f"{name}.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                posts.append((str(item["text"]), str(item["network"])))
    return posts


POSTS = training_posts()

HOSTILE = [
    " ".join(f"@brand{i}" for i in range(30)) + " never again, not good!!",
    "@" + "a" * 4_999,
    "delay " * 1_000,
    "a" * 5_000,
    "\U0001f621" * 800 + " refund",
    "\U0001f600\u2764\ufe0f\U0001f44d" * 500,
    "not \U0001f600 but \u2780 \u2460 2nd 4,300 points, didn\u2019t arrive \u2026 WHY?!",
    "but but but not not not no never nothing can't won't isn't. NOT BAD, UK EU USA",
    "see https://x.example/a@b?c=1 and http://y @a@b.c 'quoted' it's'fine o'clock",
    "xhttps://a.example @xhttps://b ATM PIN FAQ DMS TV APP OK",
    "\u0130stanbul \u00c9COLE caf\u00e9 na\u00efve ABC\u00c9 ABCd _ABC_ 9ABC",
]


def test_the_scorer_gives_the_definitions_logits_for_every_training_post() -> None:
    model = shipped_model()
    assert len(POSTS) > 2_000
    for text, network in POSTS:
        assert_same(model, text, network)


def test_the_cards_are_the_ones_the_definition_decides() -> None:
    model = shipped_model()
    for text, network in POSTS + [(text, "twitter") for text in HOSTILE]:
        reading = ENGINE.read(text, network)
        found = reading.signals
        rules = (found.complaint, found.urgent, reading.label == "positive")
        by_names = model.decide(reading.features(text, network), *rules)
        assessed = ENGINE.assess(text, network)
        assert (assessed.label, assessed.complaint, assessed.urgent) == (
            by_names.label,
            by_names.complaint,
            by_names.urgent,
        ), text


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("network", ["twitter", "news"])
def test_hostile_posts_score_as_the_definition_does(text: str, network: str) -> None:
    assert_same(shipped_model(), text, network)


def test_any_vocabulary_scores_as_the_definition_does() -> None:
    """What the scorer leaves out of a vocabulary is derived from the
    vocabulary, so a retrained model file stays exact: every feature the
    posts have, plus names no post can produce, with random weights."""
    draw = random.Random(13)
    names: set[str] = set()
    for text, network in POSTS[::7] + [(text, "news") for text in HOSTILE]:
        reading = ENGINE.read(text, network)
        names |= reading.features(text, network)
    names |= {"b:a b c", "b: good", "b:good ", "w:", "but:", "e:x", "w:\U0001f600", "n:-1"}
    names |= {"v:01", "v: 1", "s:calm", "s:nothing", "r:", "but:\U0001f621", "b:. good"}
    weights = {name: tuple(draw.uniform(-2, 2) for _ in HEADS) for name in sorted(names)}
    model = LinearSentiment(weights, shipped_model().decision)
    for text, network in POSTS[::5] + [(text, "news") for text in HOSTILE]:
        assert_same(model, text, network)
