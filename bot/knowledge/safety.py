"""Safety topics: questions the store must answer whenever a guideline covers them.

Someone asking about a threat of violence, self-harm, doxxing or a legal threat
needs the guideline now, not "not sure" and a list of leads. When a question names
one of these topics and one of the best sections names it too, the store answers
from that section whatever its confidence (see
:meth:`bot.knowledge.answer.GuidelineStore.answer`).

Each topic is a set of words, matched on their stems, so "threatened", "threats"
and "threatening" all match "threat".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.knowledge.text import Analyzer

#: Each topic's phrases; a phrase is named when all of its words are (stems compared).
TOPICS: dict[str, tuple[str, ...]] = {
    # Most specific first: a question on self-harm is answered from a self-harm section.
    "self-harm": ("self harm", "self-harm", "selfharm", "suicide", "suicidal", "overdose"),
    "violence": (
        "threat",
        "threaten",
        "violence",
        "violent",
        "kill",
        "shoot",
        "shooting",
        "bomb",
        "stab",
        "weapon",
        "gun",
        "assault",
    ),
    "doxxing": ("doxx", "doxxing", "doxxed", "dox", "doxing", "home address", "private address"),
    "legal threats": (
        "sue",
        "suing",
        "sued",
        "lawsuit",
        "lawyer",
        "attorney",
        "legal action",
        "legal threat",
        "defamation",
        "defamatory",
        "libel",
        "slander",
        "cease and desist",
        "subpoena",
    ),
}


#: Self-harm said with a reflexive pronoun, which stop-word removal would lose.
_SELF_HARM = re.compile(
    r"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting)\s+"
    r"(?:myself|yourself|himself|herself|themselves|themself)\b",
    re.IGNORECASE,
)


class SafetyTopics:
    """Finds the safety topics of a text by the stems of its words."""

    def __init__(self, analyzer: Analyzer) -> None:
        self._analyzer = analyzer
        self._phrases = {
            topic: [frozenset(analyzer.terms(phrase.replace("-", " "))) for phrase in phrases]
            for topic, phrases in TOPICS.items()
        }

    def of_terms(self, terms: Iterable[str]) -> set[str]:
        """The topics named by these stems."""
        present = set(terms)
        return {
            topic
            for topic, phrases in self._phrases.items()
            if any(phrase and phrase <= present for phrase in phrases)
        }

    def stems(self, topics: set[str] | frozenset[str]) -> frozenset[str]:
        """Every stem of the phrases of ``topics``."""
        return frozenset(stem for t in topics for phrase in self._phrases[t] for stem in phrase)

    def of_text(self, text: str) -> set[str]:
        """The topics named in ``text``."""
        found = self.of_terms(self._analyzer.terms(text))
        if _SELF_HARM.search(text):
            found.add("self-harm")
        return found
