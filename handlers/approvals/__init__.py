"""Reply approvals: drafts, policy lint, approval steps, publishing.

So far only the pure policy lint (``lint.py``); the routes, cards and records
come with the chat workflow."""
