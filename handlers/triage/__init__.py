"""Mention triage: cards in spoke channels, claims, SLA timers, escalation."""

from handlers.triage import assign, queue, timers
from handlers.triage.routes import admit, router

__all__ = ["admit", "assign", "queue", "router", "timers"]
