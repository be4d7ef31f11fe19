"""Questions about the guidelines: answers with sources, votes, hand-off to coaches."""

from handlers.ask.routes import REVIEW_TIMER, review_timer, router

__all__ = ["REVIEW_TIMER", "review_timer", "router"]
