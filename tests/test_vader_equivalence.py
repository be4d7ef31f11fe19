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


def emoji_corpus(count: int, seed: int) -> list[str]:
    """Non-ASCII texts: emojis of the lexicon (one and several code points)
    next to words, spaces and punctuation, accents, curly quotes and
    characters the lexicon does not know."""
    rng = random.Random(seed)
    lexicon = sorted(LIBRARY.lexicon)
    emojis = sorted(LIBRARY.emojis)
    others = ["café", "naïve", "“quoted”", "’s", "—", "ß", "İstanbul", "日本", "\u00a0", "\t"]
    texts = []
    for _ in range(count):
        pieces = []
        for _ in range(rng.randint(1, 30)):
            roll = rng.random()
            if roll < 0.3:
                piece = rng.choice(emojis)
            elif roll < 0.5:
                piece = rng.choice(others)
            else:
                piece = rng.choice(lexicon)
            pieces.append(piece)
            pieces.append(rng.choice([" ", " ", "", "  ", "! ", ", "]))
        texts.append("".join(pieces))
    return texts


def test_texts_with_emojis_and_accents_score_the_same() -> None:
    texts = emoji_corpus(1500, seed=29)
    assert sum(any(c in LIBRARY.emojis for c in t) for t in texts) > 1000
    for text in texts:
        assert FAST.polarity_scores(text) == LIBRARY.polarity_scores(text), text


def test_the_enrichment_model_uses_it() -> None:
    text = "I will sue you, this is NOT okay!!!"
    assert VaderSentiment().compound(text) == LIBRARY.polarity_scores(text)["compound"]
