"""Mention triage: cards in spoke channels, claims, SLA timers, escalation."""

from handlers.triage import queue, timers
from handlers.triage.routes import admit, router

__all__ = ["admit", "queue", "router", "timers"]
