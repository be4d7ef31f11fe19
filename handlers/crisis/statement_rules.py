"""Holding statements and the publishing pause, as the incident records them
(pure). Approvals owns the drafts; the incident keeps what approvals last
told it (``StatementPost``, ``HeldPost``) so its card renders from the
incident alone, and its timeline the approvals and publications, at the
moment they happened."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from handlers.approvals.records import Draft, DraftState
from handlers.approvals.rules import eligible
from handlers.crisis.incident import (
    Happened,
    HeldPost,
    Incident,
    StatementPost,
    TimelineEntry,
)
from handlers.crisis.rules import Refusal

PREFIX = "crisis"
# A statement may be drafted again on an account whose last draft ended so.
ENDED = frozenset(
    {
        DraftState.REJECTED.value,
        DraftState.WITHDRAWN.value,
        DraftState.CANCELLED.value,
        DraftState.MISSED.value,
    }
)


def origin(incident_id: str, statement: str) -> str:
    """The draft's origin: which incident and statement it speaks for."""
    return f"{PREFIX}:{incident_id}:{statement}"


def pause_ref(incident_id: str) -> str:
    """The incident's publishing pause."""
    return f"{PREFIX}:{incident_id}"


def parse_ref(ref: str) -> tuple[str, str | None] | None:
    """``crisis:CR-4:first`` -> ("CR-4", "first"); ``crisis:CR-4`` -> ("CR-4", None)."""
    parts = ref.split(":")
    if len(parts) not in (2, 3) or parts[0] != PREFIX:
        return None
    return parts[1], parts[2] if len(parts) == 3 else None


def draft_id(incident_id: str, statement: str, account: str, round: int) -> str:
    """Deterministic, so a double click on Draft statement finds the first draft."""
    return f"{incident_id.lower()}-{statement}-{account}-{round}"


def latest(incident: Incident, statement: str, account: str) -> StatementPost | None:
    return next(
        (p for p in incident.statement_posts if p.statement == statement and p.account == account),
        None,
    )


def draftable(incident: Incident, statement: str) -> tuple[str, ...]:
    """The affected accounts this statement may be drafted on now: never
    drafted there, or the last draft ended (rejected, withdrawn, ...)."""
    return tuple(
        a
        for a in incident.accounts
        if (p := latest(incident, statement, a)) is None or p.state in ENDED
    )


def next_round(incident: Incident, statement: str, account: str) -> int:
    post = latest(incident, statement, account)
    return post.round + 1 if post else 1


def post_of(statement: str, round: int, draft: Draft) -> StatementPost:
    """What the card shows about ``draft``."""
    step = draft.step
    last = draft.last(
        "approved", "rejected", "changes_requested", "withdrawn", "published", "publish_failed"
    )
    return StatementPost(
        statement=statement,
        account=draft.account_id,
        draft_id=draft.id,
        round=round,
        state=draft.state.value,
        author=draft.author,
        waiting_for=eligible(step, draft) if step else (),
        step=step.name if step else "",
        by=last.by if last else None,
        at=last.at if last else None,
        url=draft.published_url,
        failure=draft.failure,
    )


def follow_statement(incident: Incident, statement: str, draft: Draft) -> Incident | Refusal:
    """Record the draft's state on the incident; its final approval and its
    publication go on the timeline once each, at the time they happened."""
    if not any(s.id == statement for s in incident.statements):
        return Refusal("no_such_statement", incident)
    round = int(draft.id.rsplit("-", 1)[-1]) if draft.id.rsplit("-", 1)[-1].isdigit() else 1
    post = post_of(statement, round, draft)
    earlier = latest(incident, statement, draft.account_id)
    if earlier is not None and earlier.round > round:
        return Refusal("moved_on", incident)
    posts = tuple(
        p for p in incident.statement_posts if (p.statement, p.account) != (statement, post.account)
    )
    changed = replace(incident, statement_posts=(*posts, post))
    detail = f"{statement} on {post.account}"
    approval = draft.last("approved")
    if draft.state in (DraftState.APPROVED, DraftState.PUBLISHED, DraftState.FAILED) and approval:
        changed = _once(changed, Happened.STATEMENT_APPROVED, detail, approval.by, approval.at)
    published = draft.last("published")
    if draft.state is DraftState.PUBLISHED and published:
        changed = _once(changed, Happened.STATEMENT_PUBLISHED, detail, published.by, published.at)
    if changed == incident or (earlier == post and changed.timeline == incident.timeline):
        return Refusal("unchanged", incident)
    return changed


def _once(incident: Incident, what: Happened, detail: str, by: str, at: datetime) -> Incident:
    if any(e.what is what and e.detail == detail for e in incident.timeline):
        return incident
    actor = "playcaller" if by == "system" else by
    return incident.evolve(TimelineEntry(at, actor, what, detail))


def with_held(incident: Incident, held: list[Draft]) -> Incident | Refusal:
    """The posts the incident's pause holds now."""
    posts = tuple(HeldPost(d.id, d.account_id, d.author, d.publish_at) for d in held)
    if posts == incident.held_posts:
        return Refusal("unchanged", incident)
    return replace(incident, held_posts=posts)
