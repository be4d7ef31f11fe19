"""Questions about the guidelines: answers with sources, votes, hand-off to coaches."""

from handlers.ask import review
from handlers.ask.retention import RETENTION_TIMER, retention_timer
from handlers.ask.review import REVIEW_TIMER, review_timer
from handlers.ask.routes import router

__all__ = ["RETENTION_TIMER", "REVIEW_TIMER", "retention_timer", "review", "review_timer", "router"]
