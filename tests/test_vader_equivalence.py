"""The faster VADER (``bot.intake.vader``) scores every text exactly as the library does."""

from __future__ import annotations

import random

import pytest
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from bot.intake.enrich import VaderSentiment
from bot.intake.vader import FastVader

LIBRARY = SentimentIntensityAnalyzer()
FAST = FastVader()

HAND_WRITTEN = [
    "",
    "   ",
    "my order never arrived and nobody answers. I want a refund now!",
    "I will sue you, this is NOT okay!!!",
    "The food was not bad at all, but the service was kind of slow",
    "not the best, at least it was cheap. least helpful staff ever",
    "no no NO. never so good. without doubt the best. yeah right",
    "the shit hit the fan, cut the mustard, hand to mouth",
    "Great :) :( :D <3 ... ??? !!!! ?!",
    "I love it 😍 but the app 💩 crashes 😡",
    "café naïve résumé were GREAT and TERRIBLE",
    "but",
    "kind of",
    "oh well we all got the kiss of death today",
    "so many people call it a broken heart and yeah right",
    "@acme #fail http://x.example/a?b=c isn't good, doesn't work, can't login",
]


def corpus(count: int, seed: int) -> list[str]:
    """Texts that exercise every rule: lexicon words, boosters, negations,
    idioms, 'but', 'least', 'kind of', capitals and punctuation."""
    rng = random.Random(seed)
    lexicon = sorted(LIBRARY.lexicon)
    glue = [*sorted(BOOSTER_DICT), *NEGATE, *SPECIAL_CASES, *" ".join(SPECIAL_CASES).split()]
    glue += ["but", "least", "at", "very", "kind", "of", "no", "or", "nor", "so", "this"]
    glue += ["never", "without", "doubt", "the", "order", "refund", "acme", "!", "?", ":)"]
    texts = []
    for _ in range(count):
        words = []
        for _ in range(rng.randint(1, 40)):
            word = rng.choice(lexicon) if rng.random() < 0.4 else rng.choice(glue)
            if rng.random() < 0.1:
                word = word.upper()
            if rng.random() < 0.1:
                word += rng.choice(["!", "!!", "?", ".", ",", "..."])
            words.append(word)
        texts.append(" ".join(words))
    return texts


@pytest.mark.parametrize("text", HAND_WRITTEN)
def test_hand_written_texts_score_the_same(text: str) -> None:
    assert FAST.polarity_scores(text) == LIBRARY.polarity_scores(text)


def test_thousands_of_rule_heavy_texts_score_the_same() -> None:
    for text in corpus(3000, seed=13):
        assert FAST.polarity_scores(text) == LIBRARY.polarity_scores(text), text


def test_the_enrichment_model_uses_it() -> None:
    text = "I will sue you, this is NOT okay!!!"
    assert VaderSentiment().compound(text) == LIBRARY.polarity_scores(text)["compound"]
