"""Mention triage: cards in spoke channels, claims, SLA timers, escalation."""

from handlers.triage.routes import admission, admit, router

__all__ = ["admission", "admit", "router"]
