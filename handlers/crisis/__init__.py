"""Crisis incidents: the pure core (model, transitions, escalation plan,
holding statements, post-incident summary).

The chat workflow (routes, cards, records, timers) comes next; nothing here
is wired to a command yet."""
