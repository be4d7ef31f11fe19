"""Mention triage: cards in spoke channels, claims, SLA timers, escalation."""

from handlers.triage import assign, queue, timers
from handlers.triage.routes import admission, admit, router

__all__ = ["admission", "admit", "assign", "queue", "router", "timers"]
