"""The one-scan matcher behind :mod:`bot.core.complaints`.

A few hundred phrases, one plain regular expression per group, cost several
times VADER per post: Python's ``re`` tries the alternatives of an alternation
one after the other at every position. :func:`scanner` builds one expression
that stops only at words where some phrase can start, bucketed by the first
two characters of the phrases, and names the group that matched there.
``tests/test_complaints.py`` checks it finds exactly what :func:`plain` finds.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any


def _structure(pattern: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """Each ``(``, ``)`` and ``|`` of ``pattern`` from ``start`` that is not
    escaped or in a character class: (index, character, depth after it)."""
    depth, in_class, i = 0, False, start
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch in "()|":
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth
        i += 1


def branches(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|``."""
    parts, start = [], 0
    for i, ch, depth in _structure(pattern):
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


def _group_end(pattern: str, start: int) -> int:
    """The index of the ``)`` closing the group opened at ``start``."""
    for i, ch, depth in _structure(pattern, start):
        if ch == ")" and depth == 0:
            return i
    return -1


def distributed(branch: str, limit: int = 200) -> list[str]:
    """``branch`` as alternatives that each start with one literal word:
    ``\\b(?:a|b)c`` becomes ``\\bac`` and ``\\bbc``. The same matches, but a
    bucket then holds only the alternatives that start with its characters,
    not the whole group once per prefix."""
    anchor = "\\b" if branch.startswith("\\b") else ""
    body = branch[len(anchor) :]
    if not body.startswith("(?:"):
        return [branch]
    end = _group_end(body, 0)
    rest = body[end + 1 :]
    if end < 0 or rest[:1] in ("?", "*", "+", "{"):
        return [branch]
    inner = branches(body[3:end])
    if len(inner) > limit:
        return [branch]
    return [part for alt in inner for part in distributed(anchor + alt + rest, limit)]


def prefixes(branch: str, size: int) -> frozenset[str] | None:
    """Every string of ``size`` characters a match of ``branch`` can start
    with; None when that cannot be told (the branch is then tried with a
    shorter prefix, or at every word)."""
    try:
        parsed = importlib.import_module("re._parser").parse(branch)
        names = importlib.import_module("re._constants")
    except Exception:  # another interpreter's internals: stay correct, be slower
        return None

    def expand(items: list[Any], size: int) -> frozenset[str] | None:
        if size == 0:
            return frozenset({""})
        if not items:
            return None  # the match may be shorter than ``size``
        (op, arg), rest = items[0], items[1:]
        heads: frozenset[str] | None
        if op in (names.AT, names.ASSERT, names.ASSERT_NOT):
            return expand(rest, size)  # zero width: \b, lookarounds
        if op is names.SUBPATTERN:
            return expand(list(arg[3]) + rest, size)
        if op is names.BRANCH:
            found: set[str] = set()
            for alternative in arg[1]:
                more = expand(list(alternative) + rest, size)
                if more is None:
                    return None
                found |= more
            return frozenset(found)
        if op is names.MAX_REPEAT and arg[0] == 0 and arg[1] == 1:
            skipped, taken = expand(rest, size), expand(list(arg[2]) + rest, size)
            return None if skipped is None or taken is None else skipped | taken
        if op is names.LITERAL:
            heads = frozenset(chr(arg))
        elif op is names.IN and all(kind is names.LITERAL for kind, _ in arg):
            heads = frozenset(chr(code) for _, code in arg)
        else:
            return None
        tails = expand(rest, size - 1)
        if tails is None or len(heads) * len(tails) > 64:
            return None
        return frozenset(h + t for h in heads for t in tails)

    return expand(list(parsed), size)


def plain(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """A group as one plain alternation anchored at a word."""
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + ")")


Entry = tuple[str, str]  # (group, phrase)


def _buckets(
    kinds: dict[str, tuple[str, ...]],
) -> tuple[dict[str, dict[str, list[Entry]]], list[Entry]]:
    """first character -> second character ("" when only the first is known)
    -> the phrases that can start there; and the phrases whose start cannot
    be told (they start with a number)."""
    buckets: dict[str, dict[str, list[Entry]]] = {}
    anywhere: list[Entry] = []
    for kind, patterns in kinds.items():
        for pattern in patterns:
            for branch in (d for b in branches(pattern) for d in distributed(b)):
                two = prefixes(branch, 2)
                one = None if two is not None else prefixes(branch, 1)
                if two is None and one is None:
                    anywhere.append((kind, branch))
                for prefix in two or one or ():
                    second = buckets.setdefault(prefix[0], {})
                    second.setdefault(prefix[1:], []).append((kind, branch))
    return buckets, anywhere


Checks = tuple[tuple[str, re.Pattern[str]], ...]


def by_word(kinds: dict[str, tuple[str, ...]]) -> tuple[dict[str, Checks], dict[str, Checks]]:
    """For the first two characters of a word (else its first character),
    one expression per group holding only the phrases that can start there:
    after the scan stopped at a word, the other groups are tried with these,
    not with a scan of each group."""
    buckets, anywhere = _buckets(kinds)

    def checks(entries: list[Entry]) -> Checks:
        by_kind: dict[str, list[str]] = {}
        for kind, branch in entries:
            by_kind.setdefault(kind, []).append(branch)
        return tuple(
            (kind, re.compile("|".join(f"(?:{b})" for b in found)))
            for kind, found in by_kind.items()
        )

    two: dict[str, Checks] = {}
    one: dict[str, Checks] = {}
    for first in {*buckets, *"0123456789"}:
        seconds = buckets.get(first, {})
        shared = seconds.get("", []) + (anywhere if first.isdigit() else [])
        one[first] = checks(shared)
        for second, entries in seconds.items():
            if second:
                two[first + second] = checks(entries + shared)
    return two, one


def scanner(kinds: dict[str, tuple[str, ...]]) -> re.Pattern[str]:
    """One regex that stops at every word where a phrase of some group starts.

    Python's ``re`` tries the alternatives of an alternation one after the
    other at every position: one regex per group, a few hundred phrases,
    cost several times VADER. Here every phrase starts at a word, so the
    scan is tried at word starts only; phrases are bucketed by their first
    two characters, so at each word the engine rejects the other buckets on a
    character and tries the few phrases of one; and the whole is a
    lookahead, so a match is empty and names (``lastgroup``) the first group
    that matched there. The other groups are tried at the few words where
    the scan stopped, with :func:`by_word`. ``tests/test_complaints.py``
    checks the result equals one plain regex per group.
    """
    buckets, anywhere = _buckets(kinds)
    names = iter(range(1_000_000))

    def grouped(entries: list[tuple[str, str]]) -> str:
        by_kind: dict[str, list[str]] = {}
        for kind, branch in entries:
            by_kind.setdefault(kind, []).append(branch)
        return "|".join(
            f"(?P<{kind}__{next(names)}>{'|'.join(branches)})" for kind, branches in by_kind.items()
        )

    # ``a(?:b(?<=(?=…)ab)|…)``: each level starts with a literal character,
    # which the engine rejects in one step when the text has another one
    # there; the lookbehind steps back over the prefix to try the bucket's
    # phrases from the start of the word.
    parts = []
    for first, seconds in sorted(buckets.items()):
        inner = [
            f"{re.escape(second)}(?<=(?=(?:{grouped(entries)})){re.escape(first + second)})"
            for second, entries in sorted(seconds.items())
        ]
        parts.append(f"{re.escape(first)}(?:{'|'.join(inner)})")
    # Phrases whose start cannot be told (they start with a number) are
    # tried only at words that start with a digit.
    if anywhere:
        parts.append(f"(?=\\d)(?:{grouped(anywhere)})")
    # Tried at word starts only (every phrase starts with a word character),
    # not at word ends as well, which ``\b`` would.
    return re.compile(r"(?<!\w)(?=\w)(?=" + "|".join(parts) + ")")
