"""The trained sentiment model's logits for a post, without its feature names.

:func:`bot.core.sentiment_features.features` is the definition (the training
script calls it): it spells out every feature of a post as a string, and
:meth:`bot.core.sentiment_model.LinearSentiment.scores` sums the weights of
those in the vocabulary. On the intake path that cost more than the rules
it sits beside: about 47 strings built, hashed and looked up per mention.

:class:`PostScorer` gives the same sums without building a name: the
model's vocabulary is split once, at load, by the kind of feature (a word,
a word pair, a word after "but", a signal, ...) into look-ups keyed by what
the post already holds (a token, a pair of tokens, a signal's name), so a
post costs one scan of its tokens and a look-up per token and pair. Which
look-ups exist is derived from the loaded weights, so a retrained model file
stays exact; names no post can produce are left out, as they never counted.

Equal to the definition for any vocabulary, up to the order of the float
additions (a set's iteration order there): ``tests/test_sentiment_scorer.py``
compares the two on every training text and on hostile input. A change to
the features must be made in both places.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise

from bot.core.complaints import Signals
from bot.core.sentiment_features import (
    _APOSTROPHES,
    _CAPS,
    _CLAUSE_MARKS,
    _NOT_SHOUTING,
    _TOKEN,
    NEGATION_SCOPE,
    NEGATIONS,
    SIGNAL_NAMES,
)

Weights = tuple[float, ...]

# Tokens the definition renames start with one of these ("http", "@", a
# digit) or are not ASCII (an emoji that is a digit); the rest need only
# the check below for a clause mark or a negation.
_FOLDED_FIRST = frozenset("h@0123456789")
_THREE_CAPITALS = re.compile("[A-Z][A-Z][A-Z]")
_MARK, _NEGATION = "mark", "negation"
_PLAIN_KIND = dict.fromkeys(_CLAUSE_MARKS, _MARK) | dict.fromkeys(NEGATIONS, _NEGATION)
Scores = tuple[float, float, float, float]


def _is_emoji(token: str) -> bool:
    """Whether the definition names ``token`` ``e:`` (else ``w:``)."""
    return len(token) == 1 and not token.isascii()


def _numbered(weights: Mapping[str, Weights], prefix: str) -> dict[int, Weights]:
    """The weights of the names ``prefix`` + an integer as written by ``f"{n}"``."""
    out: dict[int, Weights] = {}
    for name, w in weights.items():
        if name.startswith(prefix):
            try:
                number = int(name[len(prefix) :])
            except ValueError:
                continue
            if f"{prefix}{number}" == name:
                out[number] = w
    return out


def _suffixed(weights: Mapping[str, Weights], prefix: str) -> dict[str, Weights]:
    return {name[len(prefix) :]: w for name, w in weights.items() if name.startswith(prefix)}


class PostScorer:
    """The logits of :meth:`LinearSentiment.scores` over the features of
    :func:`bot.core.sentiment_features.features`, for given weights."""

    def __init__(self, weights: Mapping[str, Weights]) -> None:
        zero: Weights = (0.0, 0.0, 0.0, 0.0)
        self._bias = weights.get("bias", zero)
        self._bands = _numbered(weights, "v:")
        self._negatives = _numbered(weights, "n:")
        self._labels = _suffixed(weights, "r:")
        self._news = weights.get("net:news")
        self._calm = weights.get("s:calm")
        signal_weights = _suffixed(weights, "s:")
        self._signals = tuple(
            (name, signal_weights[name]) for name in SIGNAL_NAMES if name in signal_weights
        )
        self._question = weights.get("p:?")
        self._ellipsis = weights.get("p:...")
        self._exclaim = weights.get("p:!!")
        self._caps = weights.get("p:caps")
        # A token is named "e:" when it is one non-ASCII character, "w:"
        # otherwise: one look-up by token holds both, each only where the
        # definition can produce it. Empty tokens never occur.
        self._unigrams: dict[str, Weights] = {
            token: w
            for token, w in _suffixed(weights, "w:").items()
            if token and not _is_emoji(token)
        }
        self._unigrams.update(
            (token, w) for token, w in _suffixed(weights, "e:").items() if _is_emoji(token)
        )
        # Emojis are not copied after "but".
        self._after_but = {
            token: w
            for token, w in _suffixed(weights, "but:").items()
            if token and not _is_emoji(token)
        }
        # "b:first second": tokens hold no space, so the first one splits a
        # pair; the scan names a clause mark "", which no pair may hold.
        self._bigrams: dict[tuple[str, str], Weights] = {}
        for pair, w in _suffixed(weights, "b:").items():
            first, _, second = pair.partition(" ")
            if first and second:
                self._bigrams[(first, second)] = w

    def scores(
        self,
        text: str,
        network: str,
        compound: float,
        negatives: int,
        signals: Signals,
        rules_label: str,
    ) -> Scores:
        """The logits of the model's heads for ``text`` (already cut as the
        definition's caller cuts it) and the rules' reading of it."""
        found: list[Weights] = [self._bias]
        band = self._bands.get(min(9, max(0, int((compound + 1.0) * 5.0))))
        if band is not None:
            found.append(band)
        count = self._negatives.get(min(negatives, 3))
        if count is not None:
            found.append(count)
        label = self._labels.get(rules_label)
        if label is not None:
            found.append(label)
        if self._news is not None and network == "news":
            found.append(self._news)
        for name, w in self._signals:
            if getattr(signals, name):
                found.append(w)
        if self._calm is not None and not (signals.complaint or signals.trouble):
            found.append(self._calm)
        low = text.lower()
        self._words(low, found)
        if self._question is not None and "?" in text:
            found.append(self._question)
        if self._ellipsis is not None and ("\u2026" in text or "..." in text):
            found.append(self._ellipsis)
        if self._exclaim is not None and ("!!" in text or "?!" in text or "!?" in text):
            found.append(self._exclaim)
        if (
            self._caps is not None
            # Every word the definition's pattern finds holds three capitals
            # in a row: a plain scan for them skips the pattern's word
            # boundary tests at every character of most posts.
            and _THREE_CAPITALS.search(text) is not None
            and any(word not in _NOT_SHOUTING for word in _CAPS.findall(text))
        ):
            found.append(self._caps)
        c = p = n = u = 0.0
        for complaint, positive, negative, urgent in found:
            c += complaint
            p += positive
            n += negative
            u += urgent
        return c, p, n, u

    def _words(self, low: str, found: list[Weights]) -> None:
        """Append the weights of the words, emojis, word pairs and words
        after "but" of the lower-cased post ``low`` (each feature once) to
        ``found``."""
        if not low.isascii():
            # str.translate goes through a dict per character; the same
            # table applied by str.replace costs a tenth of it.
            for code, straight in _APOSTROPHES.items():
                low = low.replace(chr(code), straight)
        # The tokens as the definition names them, "" for a clause mark (it
        # ends a pair and is no feature itself).
        named: list[str] = []
        append = named.append
        scope = 0
        contracted = "n't" in low
        plain = _PLAIN_KIND.get
        for token in _TOKEN.findall(low):
            first = token[0]
            if scope or first in _FOLDED_FIRST or first > "\x7f":
                # The definition's own steps, for the tokens it renames.
                if first == "h" and token.startswith("http"):
                    token = "<url>"
                    scope = 0
                elif first == "@":
                    token = "<handle>"
                elif token in _CLAUSE_MARKS:
                    token = ""
                    scope = 0
                elif scope > 0:
                    token = "NOT_" + token
                    scope -= 1
                else:
                    if token in NEGATIONS or (contracted and token.endswith("n't")):
                        scope = NEGATION_SCOPE
                    if first.isdigit():
                        token = "<num>"
            else:
                # Most tokens: an ASCII word or mark outside a negation's
                # scope, not a link, handle or number.
                kind = plain(token)
                if kind is _MARK:
                    token = ""
                elif kind is _NEGATION or (contracted and token.endswith("n't")):
                    scope = NEGATION_SCOPE
            append(token)
        distinct = set(named)
        found.extend(filter(None, map(self._unigrams.get, distinct)))
        found.extend(filter(None, map(self._bigrams.get, set(pairwise(named)))))
        if "but" in distinct and self._after_but:
            after = set(named[named.index("but") + 1 :])
            found.extend(filter(None, map(self._after_but.get, after)))
