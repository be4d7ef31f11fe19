"""Mention triage: cards in spoke channels, claims, SLA timers, escalation."""

from handlers.triage.routes import admit, router

__all__ = ["admit", "router"]
