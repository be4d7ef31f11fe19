"""Weekly reminders to review guidelines, and the daily clean-up of old questions."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.cards import Card, TextBlock
from bot.core.events import TimerFired
from bot.core.storage import Timer
from bot.core.turn import Turn
from handlers.ask.retention import RETENTION_TIMER, clean_up
from handlers.ask.routes import router

REVIEW_TIMER = "ask.review"
REVIEW_AFTER = timedelta(days=90)


def review_timer(now: datetime) -> Timer:
    """Next Monday 09:00 UTC: the weekly check for guidelines due a review."""
    days = (7 - now.weekday()) % 7 or 7
    due = (now + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    return Timer(REVIEW_TIMER, REVIEW_TIMER, due)


@router.timer(RETENTION_TIMER)
async def on_retention(turn: Turn, timer: TimerFired) -> None:
    await clean_up(turn)


@router.timer(REVIEW_TIMER)
async def on_review(turn: Turn, timer: TimerFired) -> None:
    today = turn.now().date()
    overdue: dict[str, list[dict[str, str]]] = {}
    for doc in turn.knowledge.guidelines():
        due = doc.last_reviewed is not None and today - doc.last_reviewed > REVIEW_AFTER
        if doc.owner and doc.owner in turn.settings.people and due:
            assert doc.last_reviewed is not None
            overdue.setdefault(doc.owner, []).append(
                {"title": doc.title, "doc": doc.doc, "reviewed": doc.last_reviewed.isoformat()}
            )
    for owner, docs in sorted(overdue.items()):
        turn.dm(
            owner,
            Card(
                title=turn.render("ask/review_title.txt", count=len(docs)),
                blocks=(
                    TextBlock(turn.render("ask/review.txt", docs=docs, days=REVIEW_AFTER.days)),
                ),
            ),
        )
        turn.audit("guideline.review_reminder", f"person:{owner}", docs=[d["doc"] for d in docs])
    turn.schedule(review_timer(turn.now()))
