"""Crisis incidents: /crisis declares from a playbook, pages its people,
tracks acknowledgements, escalates on durable timers, runs the checklist and
posts the post-incident summary. The pure core is ``incident``, ``rules``,
``escalation``, ``pages``, ``summary``; the chat workflow is ``flow`` (the
router and the compare-and-set loop), ``declare``, ``commands``, ``actions``."""

from handlers.crisis import actions, commands, statements, triage_link
from handlers.crisis.flow import router

__all__ = ["actions", "commands", "router", "statements", "triage_link"]
