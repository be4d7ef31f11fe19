"""Typing slips in questions: the indexed word a misspelt query word was meant to be."""

from __future__ import annotations

_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, set[str]]:
    """Keys next to each other on a QWERTY keyboard, whose rows are staggered."""
    neighbours: dict[str, set[str]] = {}
    for r, row in enumerate(_KEYBOARD_ROWS):
        for i, key in enumerate(row):
            near = {(r, i - 1), (r, i + 1), (r - 1, i), (r - 1, i + 1), (r + 1, i - 1), (r + 1, i)}
            neighbours[key] = {
                _KEYBOARD_ROWS[nr][ni]
                for nr, ni in near
                if 0 <= nr < len(_KEYBOARD_ROWS) and 0 <= ni < len(_KEYBOARD_ROWS[nr])
            }
    return neighbours


_NEIGHBOURS = _keyboard_neighbours()


def _near(a: str, b: str) -> bool:
    return a == b or b in _NEIGHBOURS.get(a, ())


def plausible_typo(typed: str, word: str) -> bool:
    """Whether ``typed`` is ``word`` with one typical typing slip.

    The slips: a letter left out, two neighbouring letters swapped, a letter replaced
    by a key next to it, or an extra letter that repeats or neighbours a letter beside
    it. Replacing a letter by a distant key usually makes another real word
    ("guest" for "guess"), so that is not treated as a typo.
    """
    if len(typed) + 1 == len(word):
        return any(word[:i] + word[i + 1 :] == typed for i in range(len(word)))
    if len(typed) == len(word) + 1:
        for i in range(len(typed)):
            if typed[:i] + typed[i + 1 :] != word:
                continue
            around = typed[max(i - 1, 0) : i] + typed[i + 1 : i + 2]
            if any(_near(typed[i], c) for c in around):
                return True
        return False
    if len(typed) != len(word):
        return False
    diffs = [i for i in range(len(word)) if typed[i] != word[i]]
    if len(diffs) == 1:
        return _near(typed[diffs[0]], word[diffs[0]])
    if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
        i = diffs[0]
        return typed[i] == word[i + 1] and typed[i + 1] == word[i]
    return False


class TypoIndex:
    """Finds the indexed word a misspelt query word was meant to be.

    A query word of at least ``min_length`` characters that is not indexed is matched
    to an indexed word one typing slip away (see :func:`plausible_typo`) with the same
    first letter; ties go to the word in more sections. Candidates come from a
    symmetric-delete table (each word with each one letter left out).
    """

    def __init__(self, word_counts: dict[str, int], min_length: int = 5) -> None:
        self.min_length = min_length
        self._counts = word_counts
        self._deletes: dict[str, list[str]] = {}
        for word in word_counts:
            if len(word) < min_length - 1:
                continue
            for variant in _deletes(word):
                self._deletes.setdefault(variant, []).append(word)

    def correct(self, word: str) -> str | None:
        """The intended indexed word, or None if none is one slip away."""
        if len(word) < self.min_length or word in self._counts:
            return None
        candidates: set[str] = set()
        for variant in _deletes(word):
            candidates.update(self._deletes.get(variant, ()))
        best: tuple[int, str] | None = None
        for candidate in candidates:
            if candidate[0] != word[0] or not plausible_typo(word, candidate):
                continue
            key = (-self._counts[candidate], candidate)
            if best is None or key < best:
                best = key
        return best[1] if best else None


def _deletes(word: str) -> set[str]:
    """``word`` and every string made by leaving one letter out."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}
