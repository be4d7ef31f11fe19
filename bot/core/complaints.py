"""Complaint and urgency signals from the lexicon in :mod:`bot.core.complaint_lexicon`.

VADER scores words, not intent: "my order never arrived and nobody answers. I
want a refund now!" reads as positive (+0.15), since "want" and "refund" carry
no valence. Customer care needs two other answers: is the author dissatisfied
with us (a complaint), and does the post need a human fast (urgent)?
:func:`signals` finds them; :func:`polarity` turns VADER's score and the
signals into the label a card shows, never positive for a complaint.

Pure and deterministic: no I/O, no randomness, one lower-cased copy of the
text and one scan of it (see :mod:`bot.core.complaint_scan`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core import complaint_doubt as doubt
from bot.core import complaint_lexicon as lexicon
from bot.core import complaint_urgency as urgency
from bot.core.complaint_scan import Checks, by_word, plain, scanner

#: The groups found by the one scan, in the order they are tried at a word.
KINDS: dict[str, tuple[str, ...]] = {
    "complaint": lexicon.COMPLAINT,
    "sarcasm": lexicon.SARCASM,
    "praise": lexicon.PRAISE + lexicon.RESOLVED,
    "urgent": urgency.URGENT,
    "press": urgency.PRESS,
    "stakes": urgency.STAKES,
    "warm": lexicon.WARM,
    "weak": lexicon.WEAK,
}
#: Scanned (in one pass, "soft") only when a post could still be shown
#: positive: most posts are complaints, negative or plain neutral.
ACCLAIM_KINDS: dict[str, tuple[str, ...]] = {"acclaim": doubt.ACCLAIM}
DOUBT_KINDS: dict[str, tuple[str, ...]] = {"doubt": doubt.DOUBT}


Scan = tuple[re.Pattern[str], dict[str, Checks], dict[str, Checks]]


def _scan(kinds: dict[str, tuple[str, ...]]) -> Scan:
    return (scanner(kinds), *by_word(kinds))


SCANS: dict[str, Scan] = {
    "main": _scan(KINDS),
    "soft": _scan(ACCLAIM_KINDS | DOUBT_KINDS),
}
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
# food arrived defrosted", "perfect, another signalling problem". Each
# leading handle is taken one way only ("@" is itself \W: "(?:@\W*)*"
# backtracked through 2^n splits of n handles, minutes for thirty).
_OPENER = re.compile(
    r"^(?:@[^\w@]*)*(?:oh |well |just )?(?:wonderful|perfect|great|brilliant|lovely|cool|fantastic|"
    r"marvellous|splendid|super|amazing|nice|excellent|fab|awesome|what a treat|how lovely)\s*[,.!]"
)
# A question mark that ends a question, not the "??" of disbelief.
_QUESTION = re.compile(r"(?<!\?)\?(?!\?)")
# Patterns are written with straight apostrophes; phones send curly ones.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


#: Groups whose every match is kept: counted, and compared with "but" and
#: with each other ("10/10 would not book again": the complaint comes last).
PLACED = ("weak", "complaint", "praise", "warm")


def _kinds_in(low: str, scan: str = "main") -> dict[str, list[int]]:
    """Where each group of the scan (``SCANS``) matches in ``low``: the
    positions of its matches for the groups in ``PLACED``, the first for the
    others."""
    found: dict[str, list[int]] = {}
    scanning, by_two, by_one = SCANS[scan]
    for match in scanning.finditer(low):
        at = match.start()
        first = str(match.lastgroup).partition("__")[0]
        found.setdefault(first, []).append(at)
        # Another group may match at the same word; the scan names only one.
        for kind, check in by_two.get(low[at : at + 2]) or by_one.get(low[at], ()):
            if kind != first and (kind in PLACED or kind not in found) and check.match(low, at):
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
    #: An expression of praise (``complaint_doubt.ACCLAIM``): positive needs one.
    acclaim: bool
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
    worded = len(found.get("weak", ())) + negatives
    weak = worded + ("!!" in low or "?!" in low)
    question = "?" in text and _QUESTION.search(text) is not None
    # "love the rebrand but the app is slower than ever": what follows "but"
    # is what the author wants us to hear.
    but = low.find(" but ")
    turned = but >= 0 and any(
        at > but for kind in ("weak", "complaint") for at in found.get(kind, ())
    )
    # "ready to complain about the delay but the crew were great": trouble
    # only before "but", and praise after it, is a story that ended well.
    came_good = (
        but >= 0
        and not (turned or strong or sarcasm)
        and any(at > but for kind in ("praise", "warm") for at in found.get(kind, ()))
    )
    # A polite smiley on a problem ("gap in the middle 🙂"), praise alone
    # first ("Wonderful, dinner is now soup"): irony when trouble follows.
    polite = any(e in low for e in lexicon.POLITE_EMOJI) or _OPENER.search(low) is not None
    # Irony after trouble: praise alone at the end ("… 9 hours. great.").
    # ("thank you!!" is excitement, not a sign of trouble before irony.)
    ironic = worded > 0 and (polite or _IRONIC_END.search(low) is not None)
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
    trouble = (
        complaint
        or sarcasm
        or strong
        or (worded > 0 and not came_good)
        or polite
        or _QUOTED.search(text) is not None
        # "Lovely staff, but the room was not cleaned once", "cute cups
        # but they burn your hand": what follows "but" is not praise.
        or (but >= 0 and not came_good)
    )
    # "Not complaining, I left on good terms, but the targets were brutal":
    # praise that a "but" turns away from is not the last word.
    praise = praise and not complaint and not (but > praises[-1] and not came_good)
    acclaim = False
    # Below 0.3, or in a question, an urgent post or a headline under
    # polarity()'s thresholds, VADER's score alone never shows positive.
    shown_by_score = (
        compound >= 0.3
        and not (question and compound < 0.6)
        and not (urgent and compound < 0.5)
        and not (news and compound < 0.4)
    )
    if praise or (not trouble and ("warm" in found or shown_by_score)):
        # The post could still show positive: it must praise, and show no
        # soft trouble (a wait, a question about a problem, understatement,
        # a loss, irony after praise; bot/core/complaint_doubt.py).
        soft = _kinds_in(low, "soft")
        acclaim = "acclaim" in soft or "warm" in found or any(e in low for e in doubt.ACCLAIM_EMOJI)
        if praise or acclaim:
            doubted = (
                "doubt" in soft
                or any(e in low for e in doubt.DOUBT_EMOJI)
                or ("\U0001f44f" in low and (worded > 0 or question))
            )
            trouble = trouble or doubted
            praise = praise and not doubted
    return Signals(
        complaint=complaint,
        urgent=urgent or (complaint and "stakes" in found),
        warm="warm" in found,
        trouble=trouble,
        praise=praise,
        acclaim=acclaim,
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
        if found.trouble or not found.acclaim:
            return "neutral"
        return "positive" if compound >= 0.3 or found.warm else "neutral"
    if found.warm and not found.trouble:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"
