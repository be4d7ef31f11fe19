"""Questions as store records: what was asked, answered, voted and handed off."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.core.storage import Record

KIND = "question"
MAX_QUESTION = 1000


@dataclass(frozen=True)
class Question:
    """One question to the guideline store and what became of it."""

    key: str
    text: str
    asker: str
    asker_name: str
    asked_at: datetime
    answered: bool
    confidence: float
    sources: tuple[str, ...] = ()
    votes: dict[str, str] = field(default_factory=dict)
    handed_off_at: datetime | None = None
    reply: str | None = None
    replied_by: str | None = None
    replied_at: datetime | None = None
    saved_as: str | None = None
    version: int = 0

    @property
    def status(self) -> str:
        if self.reply:
            return "replied"
        if self.handed_off_at:
            return "handed_off"
        return "answered" if self.answered else "unanswered"

    @property
    def unhelpful(self) -> int:
        return sum(1 for vote in self.votes.values() if vote == "not_helpful")

    def evolve(self, **changes: Any) -> Question:
        return replace(self, **changes)


def to_record(question: Question) -> Record:
    tags = {f"status:{question.status}", f"asker:{question.asker}"}
    if question.unhelpful:
        tags.add("unhelpful")
    if not question.answered and not question.reply:
        tags.add("open")
    data = {
        "text": question.text,
        "asker": question.asker,
        "asker_name": question.asker_name,
        "asked_at": question.asked_at.isoformat(),
        "answered": question.answered,
        "confidence": question.confidence,
        "sources": list(question.sources),
        "votes": dict(question.votes),
        "handed_off_at": _iso(question.handed_off_at),
        "reply": question.reply,
        "replied_by": question.replied_by,
        "replied_at": _iso(question.replied_at),
        "saved_as": question.saved_as,
    }
    return Record(KIND, question.key, data, question.version, frozenset(tags))


def from_record(record: Record) -> Question:
    d = record.data
    return Question(
        key=record.key,
        text=d["text"],
        asker=d["asker"],
        asker_name=d["asker_name"],
        asked_at=datetime.fromisoformat(d["asked_at"]),
        answered=bool(d["answered"]),
        confidence=float(d["confidence"]),
        sources=tuple(d.get("sources") or ()),
        votes=dict(d.get("votes") or {}),
        handed_off_at=_dt(d.get("handed_off_at")),
        reply=d.get("reply"),
        replied_by=d.get("replied_by"),
        replied_at=_dt(d.get("replied_at")),
        saved_as=d.get("saved_as"),
        version=record.version,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
