"""A word diff between two versions of a draft, for the approval card.

Words are compared with :mod:`difflib` (whitespace runs kept with the word
before them, so the text reads as written); the result is plain text in the
wdiff convention, ``[-removed-] {+added+}``, which every renderer shows
literally.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORDS = re.compile(r"\S+\s*|\s+")
# A diff longer than this says only that the text was rewritten.
MAX_CHANGES = 40


def words(text: str) -> list[str]:
    return _WORDS.findall(text)


def word_diff(old: str, new: str) -> str:
    """``new`` with what changed from ``old`` marked; "" when nothing changed."""
    before, after = words(old), words(new)
    matcher = SequenceMatcher(
        a=[w.strip() for w in before], b=[w.strip() for w in after], autojunk=False
    )
    pieces: list[str] = []
    changes = 0
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            pieces.append("".join(after[b0:b1]))
            continue
        changes += 1
        removed = "".join(before[a0:a1]).strip()
        added = "".join(after[b0:b1]).strip()
        trailing = after[b1 - 1][len(after[b1 - 1].rstrip()) :] if b1 > b0 else " "
        marked = []
        if removed:
            marked.append(f"[-{removed}-]")
        if added:
            marked.append(f"{{+{added}+}}")
        pieces.append(" ".join(marked) + trailing)
    if changes == 0:
        return ""
    if changes > MAX_CHANGES:
        return "(rewritten)"
    return "".join(pieces).strip()
