"""Whole-word matching of the configured word lists (brands, competitors,
risk words, routing keywords), each list compiled once per settings.

A word matches where the text holds it as a whole word, in any case
(``re.IGNORECASE``), not inside a longer word, a handle or a hashtag. The
lists are compiled when a :class:`Settings` is first used, not per mention:
intake matches every mention against all of them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from bot.core.settings import Settings

# The only non-ASCII characters that ``re.IGNORECASE`` matches with an ASCII
# letter (the ``re`` docs list them under IGNORECASE): capital I with dot
# above, dotless i, long s and the Kelvin sign.
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")
# The ASCII characters a word may not follow: ``\w`` (for ASCII, letters,
# digits and the underscore), a handle's ``@``, a hashtag's ``#``.
_NOT_BEFORE_A_WORD = frozenset(string.ascii_letters + string.digits + "_@#")


class Probe:
    """One text as the word lists read it: lower-cased once for all of them."""

    __slots__ = ("ascii", "folds", "lowered", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.lowered = text.lower()
        self.ascii = text.isascii()
        # Whether a character that folds to an ASCII letter could make a
        # match that the lower-cased text does not show.
        self.folds = not self.ascii and any(c in text for c in _FOLDS_TO_ASCII)


class WordList:
    """One configured list, compiled: :meth:`found_in` gives the words (as
    configured, in config order) that a text holds as whole words."""

    __slots__ = ("_ascii", "_pairs", "_pattern", "_plain")

    def __init__(self, words: Iterable[str]) -> None:
        listed = tuple(w for w in words if w)
        self._pairs = tuple((w, w.lower()) for w in listed)
        # Lower-cased words to look for in the lower-cased text first, when
        # every word is ASCII (see :meth:`found_in`); None otherwise.
        self._ascii = (
            tuple(low for _, low in self._pairs) if all(w.isascii() for w in listed) else None
        )
        alternatives = "|".join(re.escape(w.lower()) for w in sorted(listed, key=len, reverse=True))
        self._pattern = (
            re.compile(rf"(?<![\w@#])(?:{alternatives})(?!\w)", re.IGNORECASE) if listed else None
        )
        # The same without the look-behind, for lower-cased ASCII text (see
        # :meth:`_found_in_ascii`); only for a list of ASCII words.
        self._plain = re.compile(rf"(?:{alternatives})(?!\w)") if self._ascii else None

    def found_in(self, probe: Probe) -> tuple[str, ...]:
        """The words of this list found in ``probe``'s text."""
        if self._pattern is None:
            return ()
        if self._ascii is not None and not probe.folds:
            # A match's span equals a word ignoring case; with ASCII words and
            # no character that folds to ASCII, that span lower-cased is a
            # substring of the lower-cased text. The substring test is far
            # cheaper than the regex, and most texts name none of the words.
            lowered = probe.lowered
            for word in self._ascii:
                if word in lowered:
                    break
            else:
                return ()
            if probe.ascii and self._plain is not None:
                return self._found_in_ascii(lowered, self._plain)
        found = {m.lower() for m in self._pattern.findall(probe.text)}
        return tuple(w for w, low in self._pairs if low in found)

    def _found_in_ascii(self, lowered: str, plain: re.Pattern[str]) -> tuple[str, ...]:
        """:meth:`found_in` for an ASCII text (``lowered``: lower-cased),
        the same matches as the pattern's ``findall``, about three times as fast.

        The pattern's look-behind is tried at every position of the text,
        which keeps the regex engine from skipping ahead to where a word can
        start. Here the engine finds the leftmost candidate and the
        look-behind is checked on it: failing, the scan goes on one character
        later, as ``findall`` does; holding, the match is ``findall``'s (the
        same alternatives in the same order) and the scan goes on after it.
        With ASCII on both sides, matching the lower-cased text is matching
        the text ignoring case, and a character is a word character in both
        or in neither.
        """
        found: set[str] = set()
        position = 0
        while (candidate := plain.search(lowered, position)) is not None:
            start = candidate.start()
            if start and lowered[start - 1] in _NOT_BEFORE_A_WORD:
                position = start + 1
                continue
            found.add(candidate.group())
            position = candidate.end()
        return tuple(w for w, low in self._pairs if low in found)


class Vocabulary:
    """Every word list of one :class:`Settings`, compiled."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.brands = WordList(settings.brands)
        self.competitors = WordList(settings.competitors)
        self.risks = tuple((name, WordList(words)) for name, words in settings.risk_words.items())
        # By routing rule, in rule order (an empty list for a rule without keywords).
        self.keywords = tuple(WordList(rule.keywords) for rule in settings.rules)

    def risks_in(self, probe: Probe) -> tuple[str, ...]:
        """The names of the risk lists with a word in ``probe``'s text."""
        return tuple(name for name, words in self.risks if words.found_in(probe))


_last: list[Vocabulary] = []


def vocabulary(settings: Settings) -> Vocabulary:
    """The compiled word lists of ``settings`` (compiled again only when the
    settings object changes: a runtime keeps its settings)."""
    if _last and _last[0].settings is settings:
        return _last[0]
    compiled = Vocabulary(settings)
    _last[:] = [compiled]
    return compiled
