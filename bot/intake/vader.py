"""VADER with the same scores at about a third of the CPU.

``vaderSentiment`` 3.3.2 (MIT licence, C.J. Hutto) spends most of its time in
work that does not change the result: it copies the text one character at a
time to swap emojis for words, and lower-cases the whole word list again for
every sentiment word it checks for negation and idioms (quadratic in the
length), calls its per-word scoring for every word although a word outside
its lexicon always scores 0, and tests a word for negation by looping over
its 59 negation words. :class:`FastVader` skips the copy when the text holds
no emoji (one set test; most non-ASCII texts hold accents or curly quotes,
not emojis), swaps them in one pass of joined pieces when it does, scores
only lexicon words, hands the idiom check only the words it reads, and tests
negation with a set. Every score is equal to the library's;
``tests/test_vader_equivalence.py`` checks that on thousands of texts.
"""

from __future__ import annotations

from typing import Any

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    N_SCALAR,
    NEGATE,
    SentimentIntensityAnalyzer,
    SentiText,
)

_NEGATE = frozenset(NEGATE)


def _negated(word: str) -> bool:
    """The library's ``negated([word])`` for one lower-cased word."""
    return word in _NEGATE or "n't" in word


class FastVader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """``SentimentIntensityAnalyzer`` with the same ``polarity_scores``, faster."""

    def __init__(self) -> None:
        super().__init__()
        # The library swaps a character when it is a key of the emoji
        # lexicon; only one-character keys can ever be such a character.
        self._emoji_chars = frozenset(emoji for emoji in self.emojis if len(emoji) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        # From here on the library's own polarity_scores (3.3.2); its emoji
        # step leaves a text without an emoji as text.strip().
        emoji_free = self._emoji_chars.isdisjoint(text)
        text = text.strip() if emoji_free else self._emojis_as_words(text)
        sentitext = SentiText(text)
        sentiments: list[float] = []
        words_and_emoticons = sentitext.words_and_emoticons
        lexicon = self.lexicon
        last = len(words_and_emoticons) - 1
        for i, item in enumerate(words_and_emoticons):
            low = item.lower()
            # A word outside the lexicon scores 0 whatever surrounds it (the
            # library's sentiment_valence appends 0 for it): most words of a
            # post, so skipping the call for them is most of the saving.
            if low not in lexicon or low in BOOSTER_DICT:
                sentiments.append(0)
                continue
            if i < last and low == "kind" and words_and_emoticons[i + 1].lower() == "of":
                sentiments.append(0)
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        sentiments = self._but_check(words_and_emoticons, sentiments)
        return dict(self.score_valence(sentiments, text))

    def _emojis_as_words(self, text: str) -> str:
        """The library's emoji step (each emoji becomes its description, after
        a space unless one precedes it), with the pieces joined once instead
        of the text copied once per character."""
        pieces: list[str] = []
        prev_space = True
        for char in text:
            description = self.emojis.get(char)
            if description is not None:
                if not prev_space:
                    pieces.append(" ")
                pieces.append(description)
                prev_space = False
            else:
                pieces.append(char)
                prev_space = char == " "
        return "".join(pieces).strip()

    @staticmethod
    def _negation_check(
        valence: float, words_and_emoticons: list[str], start_i: int, i: int
    ) -> Any:
        # The library's check, word for word, reading only words i-3 .. i-1
        # (it is called only with i > start_i) and testing a word for
        # negation with one set look-up instead of a loop over ``NEGATE``.
        words = words_and_emoticons
        if start_i == 0:
            if _negated(words[i - 1].lower()):
                valence = valence * N_SCALAR
        elif start_i == 1:
            two, one = words[i - 2].lower(), words[i - 1].lower()
            if two == "never" and (one == "so" or one == "this"):
                valence = valence * 1.25
            elif two == "without" and one == "doubt":
                pass
            elif _negated(two):
                valence = valence * N_SCALAR
        elif start_i == 2:
            three, two, one = words[i - 3].lower(), words[i - 2].lower(), words[i - 1].lower()
            if (three == "never" and (two == "so" or two == "this")) or (
                one == "so" or one == "this"
            ):
                valence = valence * 1.25
            elif three == "without" and (two == "doubt" or one == "doubt"):
                pass
            elif _negated(three):
                valence = valence * N_SCALAR
        return valence

    @staticmethod
    def _special_idioms_check(valence: float, words_and_emoticons: list[str], i: int) -> Any:
        # Called only with i > 2; reads the words i-3 .. i+2 and whether i+1
        # and i+2 exist, all of which the window keeps.
        return SentimentIntensityAnalyzer._special_idioms_check(
            valence, words_and_emoticons[i - 3 : i + 3], 3
        )
