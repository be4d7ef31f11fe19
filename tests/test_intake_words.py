"""The configured word lists (brands, competitors, risks, routing keywords):
whole words in any case, the same whichever shortcut finds them."""

from __future__ import annotations

import dataclasses
import random
import re

from bot.app import Loaded
from bot.intake.enrich import VaderSentiment, enrich
from bot.intake.feed import parse_mention
from bot.intake.words import Probe, WordList
from tests.conftest import START

LISTS = (
    ("Acme", "AcmePay", "@acme"),
    ("lawsuit", "sue", "class action", "gdpr"),
    ("data breach", "hacked", "leak", "outage"),
    ("café", "Straße", "kelvin"),  # not all ASCII: no substring shortcut
    ("K9", "is"),
    ("class action", "action", "acme pay", "pay"),  # words inside longer ones
)
# Pieces a text is made of: the words in several spellings, words that hold
# them, handles, hashtags, and the characters that IGNORECASE folds to ASCII
# letters (dotted I, dotless i, long s, Kelvin sign).
PIECES = (
    "acme",
    "ACME",
    "Acme's",
    "acmeish",
    "@acme",
    "@Acme",
    "#acme",
    "AcmePay",
    "acmepay",
    "sue",
    "SUE",
    "ſue",
    "suing",
    "pursue",
    "class action",
    "Class  action",
    "CLASS ACTION",
    "gdpr",
    "GDPR!",
    "data breach",
    "data-breach",
    "hacked.",
    "leaky",
    "leak",
    "café",
    "CAFÉ",
    "cafe",
    "Straße",
    "STRASSE",
    "\u212aelvin",
    "kelvin",
    "\u212a9",
    "k9",
    "İs",
    "ıs",
    "is",
    "this",
    "outage?",
    "ok",
    "the",
    "and",
    "🙂",
    "—",
)


# Only ASCII (the common case, matched without the regex's look-behind): words
# glued to letters, digits, underscores, handles, hashtags and each other.
ASCII_PIECES = (
    "acme",
    "Acme",
    "xacme",
    "_acme",
    "acme_",
    "9acme",
    "acme9",
    "@acmepay",
    "#AcmePay",
    "acme-pay",
    "acmeacme",
    "acme.",
    "(acme)",
    "AcmePay's",
    "@",
    "#",
    "_",
    "sue",
    "suesue",
    "class action",
    "classaction",
    "Class",
    "action",
    "k9",
    "K9s",
    "is",
    "IS.",
    "@is",
    "x",
)


def reference(words: tuple[str, ...], text: str) -> tuple[str, ...]:
    """The rule itself, without shortcuts: each listed word the text holds as
    a whole word (not inside a word, a handle or a hashtag), any case."""
    alternatives = "|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w@#])(?:{alternatives})(?!\w)", re.IGNORECASE)
    found = {m.lower() for m in pattern.findall(text)}
    return tuple(w for w in words if w.lower() in found)


def test_every_list_finds_exactly_what_the_rule_finds_in_generated_texts() -> None:
    rng = random.Random(20261130)
    compiled = [(words, WordList(words)) for words in LISTS]
    hits = 0
    for _ in range(4000):
        text = rng.choice(("", " ", ", ")).join(rng.choices(PIECES, k=rng.randint(1, 12)))
        probe = Probe(text)
        for words, word_list in compiled:
            expected = reference(words, text)
            assert word_list.found_in(probe) == expected, (words, text)
            hits += bool(expected)
    assert hits > 2000  # the texts do name the words, often


def test_ascii_texts_give_exactly_what_the_rule_finds() -> None:
    rng = random.Random(3000)
    compiled = [(words, WordList(words)) for words in LISTS if all(w.isascii() for w in words)]
    hits = 0
    for _ in range(6000):
        text = rng.choice(("", " ", ",", "-")).join(rng.choices(ASCII_PIECES, k=rng.randint(1, 10)))
        probe = Probe(text)
        for words, word_list in compiled:
            expected = reference(words, text)
            assert word_list.found_in(probe) == expected, (words, text)
            hits += bool(expected)
    assert hits > 3000


def test_words_are_found_whole_in_config_order() -> None:
    brands = WordList(("Acme", "AcmePay", "@acme", ""))
    assert brands.found_in(Probe("ACMEPAY and @Acme beat acmeish")) == ("AcmePay", "@acme")
    assert brands.found_in(Probe("Nothing here")) == ()
    assert WordList(()).found_in(Probe("acme")) == ()
    assert WordList(("kelvin",)).found_in(Probe("\u212aELVIN")) == ("kelvin",)


def test_enrichment_follows_a_change_of_settings(loaded: Loaded) -> None:
    incoming = parse_mention(
        {
            "network": "x",
            "id": "1",
            "text": "Switched from Globex to Hooli, the Hooli outage was shorter",
            "created_at": "2026-03-02T08:00:00Z",
            "author": {"handle": "a"},
        }
    )
    model = VaderSentiment()
    before = enrich(incoming, loaded.settings, model, START).enrichment
    assert before.competitors == ("Globex",) and before.risks == ("crisis",)
    changed = dataclasses.replace(
        loaded.settings, competitors=("Hooli",), risk_words={"outages": ("shorter",)}
    )
    after = enrich(incoming, changed, model, START).enrichment
    assert after.competitors == ("Hooli",) and after.risks == ("outages",)
    again = enrich(incoming, loaded.settings, model, START).enrichment
    assert again.competitors == ("Globex",) and again.risks == ("crisis",)
