"""The features the trained sentiment model reads (issue 13, point 4).

The rule lexicon of :mod:`bot.core.complaints` knows its authors' phrasing;
a linear model over words generalizes to writers it has not seen. Both read
the same post: the model's features are its words (lower-cased unigrams and
bigrams, words after a negation marked ``NOT_``), its emojis, punctuation
cues, and what the rules and VADER already found (their signals, the
bucketed compound, the count of clearly negative words).

The training script (``eval/sentiment/train.py``) and the runtime scorer
call the same :func:`features`, so a feature means the same thing in both.
Pure and deterministic; every expression here is linear in the text (no
nested quantifier), and the caller cuts the text to 5,000 characters.
"""

from __future__ import annotations

import re
from collections.abc import Collection

#: Words after which a word's sense flips ("not good", "never arrived").
NEGATIONS = frozenset(
    (
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nowhere",
        "neither",
        "nor",
        "cannot",
        "without",
        "hardly",
        "barely",
    )
)
#: A negation's scope: at most this many words, and never past punctuation.
NEGATION_SCOPE = 3

# A link, a handle, a word (with its inner apostrophes: "didn't", "o'clock"),
# a clause mark, or one emoji-like symbol. Each alternative consumes at least
# one character and none can overlap another's start, so the scan is linear.
_TOKEN = re.compile(
    r"https?://\S+"
    r"|@[\w.\-]+"
    r"|[a-z0-9]+(?:'[a-z]+)*"
    r"|[.,!?;:()]"
    r"|[\u2600-\u27bf\U0001f000-\U0001faff]"
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_CAPS = re.compile(r"\b[A-Z]{3,}\b")
_CLAUSE_MARKS = frozenset(".,!?;:()")
# Acronyms that are capitals by convention, not shouting.
_NOT_SHOUTING = frozenset(("USA", "UK", "EU", "ATM", "APP", "FAQ", "DM", "DMS", "PIN", "TV"))

#: The rule signals (:class:`bot.core.complaints.Signals`) the model reads.
SIGNAL_NAMES = (
    "complaint",
    "urgent",
    "trouble",
    "warm",
    "praise",
    "acclaim",
    "bad_news",
    "good_news",
    "question",
    "news",
)


def _vader_bucket(compound: float) -> str:
    """VADER's compound in ten bands of 0.2: the model learns its own
    thresholds instead of VADER's conventional ±0.05."""
    band = min(9, max(0, int((compound + 1.0) * 5.0)))
    return f"v:{band}"


def tokens(text: str) -> list[str]:
    """The lower-cased tokens of ``text``: links and handles folded to one
    token each (a name says nothing about tone), words after a negation
    prefixed with ``NOT_`` until a clause mark or :data:`NEGATION_SCOPE`
    words."""
    low = text.lower()
    if not low.isascii():
        low = low.translate(_APOSTROPHES)
    out: list[str] = []
    scope = 0
    for token in _TOKEN.findall(low):
        if token[0] == "h" and token.startswith("http"):
            out.append("<url>")
            scope = 0
        elif token[0] == "@":
            out.append("<handle>")
        elif token in _CLAUSE_MARKS:
            out.append(token)
            scope = 0
        elif scope > 0:
            out.append("NOT_" + token)
            scope -= 1
        else:
            out.append(token)
            if token in NEGATIONS or token.endswith("n't"):
                scope = NEGATION_SCOPE
    return out


def features(
    text: str,
    network: str,
    compound: float,
    negatives: int,
    signals: Collection[str],
    rules_label: str,
) -> set[str]:
    """The feature names present in one post (each counts once).

    ``compound`` is VADER's score, ``negatives`` how many clearly negative
    words VADER's lexicon found, ``signals`` the names of the rule engine's
    signals that fired (of :data:`SIGNAL_NAMES`), ``rules_label`` the label
    the rules alone would show.
    """
    found = {"bias", _vader_bucket(compound), f"n:{min(negatives, 3)}", "r:" + rules_label}
    if network == "news":
        found.add("net:news")
    for name in signals:
        found.add("s:" + name)
    if "complaint" not in signals and "trouble" not in signals:
        found.add("s:calm")
    add = found.add
    # One pass over the tokens of :func:`tokens`, inlined: this runs for
    # every admitted mention, and a second list of tokens costs as much as
    # the rest of the model.
    low = text.lower()
    if not low.isascii():
        low = low.translate(_APOSTROPHES)
    previous = ""
    scope = 0
    # Words after "but" are what the author wants heard ("the food was great
    # but 50 minutes late"): they count once more, marked, so the model can
    # weigh a complaint turned by "but" apart from the praise before it.
    after_but = False
    for token in _TOKEN.findall(low):
        first = token[0]
        if first == "h" and token.startswith("http"):
            token = "<url>"
            scope = 0
        elif first == "@":
            token = "<handle>"
        elif token in _CLAUSE_MARKS:
            previous = ""
            scope = 0
            continue
        elif scope > 0:
            token = "NOT_" + token
            scope -= 1
        else:
            if token in NEGATIONS or token.endswith("n't"):
                scope = NEGATION_SCOPE
            if first.isdigit():
                # "50 minutes", "4,300 points": the amount varies, the pattern not.
                token = "<num>"
        if len(token) == 1 and not token.isascii():
            add("e:" + token)
        else:
            add("w:" + token)
            if after_but:
                add("but:" + token)
        if previous:
            add(f"b:{previous} {token}")
        previous = token
        after_but = after_but or token == "but"
    if "?" in text:
        found.add("p:?")
    if "\u2026" in text or "..." in text:
        # A trailing-off ellipsis marks irony ("delivered… at room temperature…").
        found.add("p:...")
    if "!!" in text or "?!" in text or "!?" in text:
        found.add("p:!!")
    if any(word not in _NOT_SHOUTING for word in _CAPS.findall(text)):
        found.add("p:caps")
    return found
