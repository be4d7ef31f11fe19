"""Reply approvals: drafts with versions, policy lint on submit, approval
steps with four eyes, decisions, deadlines, publishing, /approvals, /draft.

Modules share one router (``routes.router``): ``drafting`` (Draft reply,
the form, withdraw), ``decisions`` (the approvers' buttons), ``sending``
(publishing), ``timers`` (deadlines), ``listing`` (the commands)."""

from handlers.approvals import decisions, drafting, listing, sending, settling, timers
from handlers.approvals.routes import router

__all__ = ["decisions", "drafting", "listing", "router", "sending", "settling", "timers"]
