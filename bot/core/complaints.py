"""Complaint and urgency signals from the lexicon in :mod:`bot.core.complaint_lexicon`.

VADER scores words, not intent: "my order never arrived and nobody answers. I
want a refund now!" reads as positive (+0.15), since "want" and "refund" carry
no valence. Customer care needs two other answers: is the author dissatisfied
with us (a complaint), and does the post need a human fast (urgent)?
:func:`signals` finds them; :func:`polarity` turns VADER's score and the
signals into the label a card shows, never positive for a complaint.

Pure and deterministic: no I/O, no randomness, one lower-cased copy of the
text and one scan of it (see :func:`_scanner`).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from bot.core import complaint_lexicon as lexicon


def _branches(pattern: str) -> list[str]:
    """``pattern`` split at its top-level ``|``."""
    parts, depth, in_class, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _group_end(pattern: str, start: int) -> int:
    """The index of the ``)`` closing the group opened at ``start``."""
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
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _distributed(branch: str, limit: int = 200) -> list[str]:
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
    inner = _branches(body[3:end])
    if len(inner) > limit:
        return [branch]
    return [part for alt in inner for part in _distributed(anchor + alt + rest, limit)]


def _prefixes(branch: str, size: int) -> frozenset[str] | None:
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


#: The groups found by the one scan, in the order they are tried at a word.
KINDS: dict[str, tuple[str, ...]] = {
    "complaint": lexicon.COMPLAINT,
    "sarcasm": lexicon.SARCASM,
    "praise": lexicon.PRAISE + lexicon.RESOLVED,
    "urgent": lexicon.URGENT,
    "press": lexicon.PRESS,
    "stakes": lexicon.STAKES,
    "warm": lexicon.WARM,
    "weak": lexicon.WEAK,
}


def plain(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """A group as one plain alternation anchored at a word."""
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + ")")


def _scanner(kinds: dict[str, tuple[str, ...]]) -> re.Pattern[str]:
    """One regex that stops at every word where a phrase of some group starts.

    Python's ``re`` tries the alternatives of an alternation one after the
    other at every position: one regex per group, a few hundred phrases,
    cost several times VADER. Here every phrase starts at a word, so the
    scan is anchored with ``\\b``; phrases are bucketed by their first two
    characters, so at each word the engine rejects the other buckets on a
    character and tries the few phrases of one; and the whole is a
    lookahead, so a match is empty and names (``lastgroup``) the first group
    that matched there. :func:`_kinds_in` looks for the other groups at the
    few words where the scan stopped. ``tests/test_complaints.py`` checks the
    result equals one plain regex per group.
    """
    # first character -> second character ("" when only the first is
    # known) -> (group, phrase) pairs
    buckets: dict[str, dict[str, list[tuple[str, str]]]] = {}
    anywhere: list[tuple[str, str]] = []
    for kind, patterns in kinds.items():
        for pattern in patterns:
            for branch in (d for b in _branches(pattern) for d in _distributed(b)):
                two = _prefixes(branch, 2)
                one = None if two is not None else _prefixes(branch, 1)
                if two is None and one is None:
                    anywhere.append((kind, branch))
                for prefix in two or one or ():
                    second = buckets.setdefault(prefix[0], {})
                    second.setdefault(prefix[1:], []).append((kind, branch))
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


_SCAN = _scanner(KINDS)
_SINGLE = {kind: _scanner({kind: patterns}) for kind, patterns in KINDS.items()}
_BAD_NEWS = plain(lexicon.BAD_NEWS)
_GOOD_NEWS = plain(lexicon.GOOD_NEWS)
_ADDRESSED = re.compile(lexicon.ADDRESSED)
_PERSONAL = re.compile(lexicon.PERSONAL)
_IRONIC_END = re.compile(lexicon.IRONIC_END)
# 'Scare quotes' around a word or two: "the 'fresh' strawberries", "'delivered'".
_QUOTED = re.compile(
    r"(?:^|[\s(])['\u2018\u201c\"][^'\u2019\u201d\"\n]{2,30}['\u2019\u201d\"](?=$|[\s.,!?;:)])"
)
# A handle splits a phrase ("thanks @AcmeAir for nothing"); the scan sees "@".
_HANDLE = re.compile(r"@[\w.\-]+(?:@[\w\-]+(?:\.[\w\-]+)+)?")
# Praise alone as the first word, before a problem: "Wonderful, my frozen
# food arrived defrosted", "perfect, another signalling problem".
_OPENER = re.compile(
    r"^(?:@\W*)*(?:oh |well |just )?(?:wonderful|perfect|great|brilliant|lovely|cool|fantastic|"
    r"marvellous|splendid|super|amazing|nice|excellent|fab|awesome)\s*[,.!]"
)
# A question mark that ends a question, not the "??" of disbelief.
_QUESTION = re.compile(r"(?<!\?)\?(?!\?)")
# Patterns are written with straight apostrophes; phones send curly ones.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


#: Groups whose every match is kept: counted, and compared with "but" and
#: with each other ("10/10 would not book again": the complaint comes last).
PLACED = ("weak", "complaint", "praise")


def _kinds_in(low: str) -> dict[str, list[int]]:
    """Where each group matches in ``low``: the positions of its matches for
    the groups in ``PLACED``, the first for the others."""
    found: dict[str, list[int]] = {}
    for match in _SCAN.finditer(low):
        at = match.start()
        first = str(match.lastgroup).partition("__")[0]
        found.setdefault(first, []).append(at)
        # Another group may match at the same word; the scan names only one.
        for kind, single in _SINGLE.items():
            counted = kind in PLACED or kind not in found
            if kind != first and counted and single.match(low, at):
                found.setdefault(kind, []).append(at)
    return found


@dataclass(frozen=True)
class Signals:
    """What the lexicon found in one text."""

    complaint: bool
    urgent: bool
    #: Some sign of trouble (a complaint word, a negative word VADER knows):
    #: enough to keep mild praise from showing as positive.
    trouble: bool
    warm: bool
    praise: bool
    bad_news: bool
    good_news: bool
    question: bool
    news: bool


def signals(text: str, network: str = "", compound: float = 0.0, negatives: int = 0) -> Signals:
    """The complaint and urgency signals of ``text``.

    ``compound`` is VADER's score and ``negatives`` how many of its words
    VADER's lexicon holds as clearly negative (not negated): the weak cues
    count only beside them.
    """
    low = text.lower()
    if not low.isascii():
        low = low.translate(_APOSTROPHES)
    if "@" in low:
        low = _HANDLE.sub("@", low)
    found = _kinds_in(low)
    # Praise cancels complaint cues ("can't complain"), unless one comes
    # after it ("10/10 would not book again", "refunded... 2 of the 5").
    praises = found.get("praise", [])
    praise = bool(praises) and not any(at > praises[-1] for at in found.get("complaint", ()))
    sarcasm = "sarcasm" in found or any(s in low for s in lexicon.IRONY_SIGNS)
    news = network == "news"
    # A journalist asking for comment reports; the story is not their complaint.
    press = "press" in found
    # Press coverage reaches comms through routing (network news); a
    # headline's "regulator" or "police" is not a reader who needs us now.
    urgent = not news and (press or "urgent" in found)
    strong = "complaint" in found or any(e in low for e in lexicon.ANGRY_EMOJI)
    weak = len(found.get("weak", ())) + negatives + ("!!" in low or "?!" in low)
    question = "?" in text and _QUESTION.search(text) is not None
    # "love the rebrand but the app is slower than ever": what follows "but"
    # is what the author wants us to hear.
    but = low.find(" but ")
    turned = but >= 0 and any(
        at > but for kind in ("weak", "complaint") for at in found.get(kind, ())
    )
    # "ready to complain about the delay but the crew were great": trouble
    # only before "but", and praise after it, is a story that ended well.
    came_good = but >= 0 and not turned and not strong and compound >= 0.3 and not sarcasm
    # A polite smiley on a problem ("gap in the middle 🙂"), praise alone
    # first ("Wonderful, dinner is now soup"): irony when trouble follows.
    polite = any(e in low for e in lexicon.POLITE_EMOJI) or _OPENER.search(low) is not None
    # Irony after trouble: praise alone at the end ("… 9 hours. great.").
    ironic = weak > 0 and (polite or _IRONIC_END.search(low) is not None)
    likely = (
        strong
        or ironic
        or turned
        or (
            not came_good
            and (weak >= 2 or (weak >= 1 and compound <= -0.05 and not question))
            and _ADDRESSED.search(low) is not None
            # Weak cues in an urgent post by a bystander ("someone is posting
            # a manager's address, please report") are alarm, not dissatisfaction.
            and not (urgent and _PERSONAL.search(low) is None)
        )
    )
    # Irony is a complaint ("thanks for nothing"); a cue beside praise or a
    # fix ("refunded in 2 minutes, impressed") is not.
    complaint = (
        not (news or press)
        and "not a complaint" not in low
        and (sarcasm or (likely and not praise))
    )
    return Signals(
        complaint=complaint,
        urgent=urgent or (complaint and "stakes" in found),
        warm="warm" in found,
        trouble=(
            complaint
            or sarcasm
            or strong
            or (weak > 0 and not came_good)
            or polite
            or _QUOTED.search(text) is not None
        ),
        praise=praise and not complaint,
        bad_news=news and _BAD_NEWS.search(low) is not None,
        good_news=news and _GOOD_NEWS.search(low) is not None,
        question=question,
        news=news,
    )


def polarity(compound: float, found: Signals) -> str:
    """The label a card shows: VADER's thresholds, overruled by the signals.

    A complaint is negative whatever its words; praise in negated words
    ("can't complain") is positive; a bad-news report is negative; an urgent
    post that is not a complaint (a bystander's warning, a journalist's
    deadline) is neutral toward the company; mild praise beside a sign of
    trouble is neutral, so that a complaint the lexicon missed is not shown
    as positive.
    """
    if found.complaint:
        return "negative"
    if found.praise:
        return "positive"
    if found.bad_news:
        return "negative"
    if found.good_news:
        return "positive"
    if found.urgent and compound < 0.5:
        return "neutral"
    if found.question and compound < 0.6:
        # An information request ("is parking free?") is neutral; VADER
        # scores "free" and "please".
        return "neutral"
    if found.news and -0.4 < compound < 0.4:
        # Headlines report; mild words ("in talks", "opens") are not a tone.
        return "neutral"
    if compound >= 0.05:
        # Positive needs evidence: a card that shows praise for a complaint
        # the lexicon missed is the harmful error, praise shown as neutral the
        # cheap one. Any sign of trouble, or mild words, read as neutral.
        if found.trouble:
            return "neutral"
        return "positive" if compound >= 0.3 or found.warm else "neutral"
    if found.warm and not found.trouble:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"
