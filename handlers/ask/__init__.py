"""Questions about the guidelines: answers with sources, votes, hand-off to coaches."""

from handlers.ask.retention import RETENTION_TIMER, retention_timer
from handlers.ask.routes import REVIEW_TIMER, review_timer, router

__all__ = ["RETENTION_TIMER", "REVIEW_TIMER", "retention_timer", "review_timer", "router"]
