"""Questions are personal data: each is deleted once its retention period has passed.

A daily timer deletes question records whose last activity (asked, handed to
a coach, replied) is older than ``retention.questions`` (default 90 days).
Each deletion is a compare-and-set with its audit entry, so a question that
changes meanwhile (a late vote) is kept until the next run. The audit log
keeps that a question existed, never its text.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.storage import Timer
from bot.core.turn import Turn
from handlers.ask.records import KIND, Question, from_record

RETENTION_TIMER = "ask.retention"
# Every question carries exactly one status tag; together they reach them all.
STATUSES = ("unanswered", "answered", "handed_off", "replied")
BATCH = 200


def retention_timer(now: datetime) -> Timer:
    """Tomorrow 03:00 UTC: the daily clean-up."""
    due = (now + timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    return Timer(RETENTION_TIMER, RETENTION_TIMER, due)


def last_activity(question: Question) -> datetime:
    return max(t for t in (question.asked_at, question.handed_off_at, question.replied_at) if t)


async def clean_up(turn: Turn) -> int:
    """Delete the questions past retention; return how many were deleted."""
    keep = turn.settings.retention.questions
    cutoff = turn.now() - keep
    # The next run is committed first, with this timer's completion, so a
    # refused deletion below can never lose it.
    turn.schedule(retention_timer(turn.now()))
    await turn.flush()
    deleted = 0
    for status in STATUSES:
        while True:
            # Oldest insert first: the expired ones lead each tag's list.
            batch = await turn.store.find(KIND, f"status:{status}", limit=BATCH)
            progress = 0
            for record in batch:
                if last_activity(from_record(record)) >= cutoff:
                    continue
                turn.audit(
                    "question.deleted", f"question:{record.key}", reason="retention", days=keep.days
                )
                if (await turn.delete(record)).ok:
                    progress += 1
            deleted += progress
            if len(batch) < BATCH or not progress:
                break
    return deleted
