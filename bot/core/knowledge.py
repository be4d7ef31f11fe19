"""The Knowledge port: answers about the guidelines from the playbook store.

Answers are extractive: the passage is quoted from a guideline section, and an
answer never comes without its sources. Below the confidence threshold the
store says it does not know and offers the nearest sections as leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class Source:
    """A guideline section that supports (or is near to) an answer."""

    doc: str  # file name, e.g. "press-enquiries.md"
    title: str
    heading: str  # the section's heading path, e.g. "Journalists > Direct messages"
    score: float
    owner: str | None = None
    last_reviewed: date | None = None


@dataclass(frozen=True)
class Answer:
    """The store's answer to one question. ``sources`` are best first."""

    answered: bool
    confidence: float
    passage: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class GuidelineInfo:
    """What review reminders need to know about a document."""

    doc: str
    title: str
    owner: str | None
    last_reviewed: date | None


@dataclass(frozen=True)
class FaqEntry:
    """A coach's answer saved as guidance."""

    question: str
    answer: str
    owner: str
    saved_on: date


class Knowledge(Protocol):
    """Answers questions from the guidelines."""

    def answer(self, question: str) -> Answer:
        """The best supported answer, or an honest "I don't know" with leads."""

    def guidelines(self) -> list[GuidelineInfo]:
        """Every document in the store."""

    def save_faq(self, entry: FaqEntry) -> str:
        """Append ``entry`` to the store's FAQ document; return that document's name."""
