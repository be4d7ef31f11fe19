"""The triage state machine as pure functions.

Each transition takes the mention as last read and returns the next mention,
or a :class:`Refusal` explaining (with a reason code a template turns into
words) why nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.model import Actor, Escalation, Mention, MentionState, Outcome, Priority
from bot.core.permissions import Permission
from bot.core.settings import Settings
from bot.core.storage import Timer


@dataclass(frozen=True)
class Refusal:
    """Why a transition does not apply; ``reason`` selects the words."""

    reason: str
    mention: Mention


def high_risk(mention: Mention) -> bool:
    """A mention a crisis room sees at once: a risk flag (legal, safety,
    crisis words) or urgent priority."""
    return bool(mention.enrichment.risks) or mention.enrichment.priority is Priority.URGENT


def claim(mention: Mention, actor: Actor, now: datetime) -> Mention | Refusal:
    """Take ownership of an open mention."""
    if mention.state is MentionState.RESOLVED:
        return Refusal("already_resolved", mention)
    if mention.state is MentionState.CLAIMED:
        if mention.owner == actor.person_id:
            return Refusal("already_yours", mention)
        return Refusal("claimed_by_other", mention)
    return mention.evolve(
        state=MentionState.CLAIMED, owner=actor.person_id, claimed_at=now, last_activity_at=now
    )


def assign(mention: Mention, person_id: str, now: datetime) -> Mention | Refusal:
    """A coach gives the mention to ``person_id`` (open or held by someone else)."""
    if mention.state is MentionState.RESOLVED:
        return Refusal("already_resolved", mention)
    if mention.state is MentionState.CLAIMED and mention.owner == person_id:
        return Refusal("already_assigned", mention)
    return mention.evolve(
        state=MentionState.CLAIMED, owner=person_id, claimed_at=now, last_activity_at=now
    )


def release(mention: Mention, actor: Actor | None, now: datetime) -> Mention | Refusal:
    """Give a claim back to the queue (``actor`` None: released by the bot)."""
    if mention.state is not MentionState.CLAIMED:
        return Refusal("not_claimed", mention)
    if (
        actor is not None
        and mention.owner != actor.person_id
        and not actor.may(Permission.OVERRIDE)
    ):
        return Refusal("not_yours", mention)
    return mention.evolve(
        state=MentionState.OPEN, owner=None, claimed_at=None, last_activity_at=now
    )


def resolve(
    mention: Mention, actor: Actor, now: datetime, outcome: Outcome, note: str | None
) -> Mention | Refusal:
    """Close a mention with an outcome. The owner, a coach, or anyone when unclaimed."""
    if mention.state is MentionState.RESOLVED:
        return Refusal("already_resolved", mention)
    if (
        mention.state is MentionState.CLAIMED
        and mention.owner != actor.person_id
        and not actor.may(Permission.OVERRIDE)
    ):
        return Refusal("claimed_by_other", mention)
    return mention.evolve(
        state=MentionState.RESOLVED,
        owner=mention.owner or actor.person_id,
        resolved_by=actor.person_id,
        resolved_at=now,
        outcome=outcome,
        note=note or None,
        last_activity_at=now,
    )


def escalate(
    mention: Mention, by: str, now: datetime, reason: str, coaches: tuple[str, ...]
) -> Mention | Refusal:
    """Hand a mention to the spoke's coaches (it keeps its state and owner)."""
    if mention.state is MentionState.RESOLVED:
        return Refusal("already_resolved", mention)
    if mention.escalation is not None and mention.escalation.by == by and by != "system":
        return Refusal("already_escalated", mention)
    # Only the owner's own escalation counts as activity on the claim.
    active = now if by == mention.owner else mention.last_activity_at
    return mention.evolve(
        escalation=Escalation(by=by, at=now, reason=reason, to=coaches), last_activity_at=active
    )


# -- SLA -----------------------------------------------------------------------


def sla_deadlines(mention: Mention, settings: Settings) -> tuple[datetime, datetime]:
    """(warn at, breach at), counted from when the mention was received."""
    policy = settings.sla[mention.enrichment.priority]
    return mention.received_at + policy.warn, mention.received_at + policy.breach


def sla_left(mention: Mention, settings: Settings, now: datetime) -> timedelta:
    """Time until breach (negative once breached)."""
    return sla_deadlines(mention, settings)[1] - now


def timer_key(kind: str, mention: Mention) -> str:
    """One timer of each kind per mention, so rescheduling replaces it."""
    return f"{kind}:{mention.key}"


def sla_timers(mention: Mention, settings: Settings, now: datetime) -> list[Timer]:
    """Reminder at warn (only while unclaimed) and escalation at breach.

    After a release, a warn already passed is not repeated; the breach fires
    as soon as possible if it passed while the mention was claimed.
    """
    warn_at, breach_at = sla_deadlines(mention, settings)
    timers = []
    if warn_at > now:
        timers.append(
            Timer(timer_key("triage.warn", mention), "triage.warn", warn_at, {"key": mention.key})
        )
    if mention.breached_at is None:
        timers.append(
            Timer(
                timer_key("triage.breach", mention),
                "triage.breach",
                max(breach_at, now),
                {"key": mention.key},
            )
        )
    return timers


def claim_timers(mention: Mention, settings: Settings) -> list[Timer]:
    """Nudge the owner, then release an idle claim. Fenced by the claim's start."""
    assert mention.claimed_at is not None and mention.last_activity_at is not None
    payload = {
        "key": mention.key,
        "owner": mention.owner,
        "claimed_at": mention.claimed_at.isoformat(),
    }
    timings = settings.triage
    return [
        Timer(
            timer_key("triage.nudge", mention),
            "triage.nudge",
            mention.last_activity_at + timings.nudge_owner_after,
            payload,
        ),
        Timer(
            timer_key("triage.idle", mention),
            "triage.idle",
            mention.last_activity_at + timings.release_idle_after,
            payload,
        ),
    ]


def claim_timer_keys(mention: Mention) -> tuple[str, ...]:
    return (timer_key("triage.nudge", mention), timer_key("triage.idle", mention))


def all_timer_keys(mention: Mention) -> tuple[str, ...]:
    return (
        timer_key("triage.warn", mention),
        timer_key("triage.breach", mention),
        *claim_timer_keys(mention),
    )


def same_claim(mention: Mention, payload: dict[str, object]) -> bool:
    """True when a claim timer still refers to the claim that is current."""
    return (
        mention.state is MentionState.CLAIMED
        and mention.owner == payload.get("owner")
        and mention.claimed_at is not None
        and mention.claimed_at.isoformat() == payload.get("claimed_at")
    )


OUTCOMES = {outcome.value: outcome for outcome in Outcome}
