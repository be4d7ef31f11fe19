"""The approval state machine as pure functions.

Each transition takes the draft as last read and returns the next draft, or
a :class:`Refusal` whose ``reason`` a template turns into words. Four eyes
is checked here, at every step: nobody who wrote a version of a draft
approves it, so an approver's "Edit and approve" makes them a writer and the
new version needs someone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.accounts import Account, ApprovalStep, StepMode
from bot.core.errors import InvalidInput
from bot.core.model import Mention, Priority, Role
from bot.core.settings import Settings
from handlers.approvals.records import Decision, Draft, DraftState, Step, Version

# Approvals of a scheduled post must be complete this long before it goes out.
SCHEDULE_MARGIN = timedelta(minutes=5)
LEGAL_RISK = "legal"


@dataclass(frozen=True)
class Refusal:
    """Why a transition does not apply; ``reason`` selects the words."""

    reason: str
    draft: Draft


@dataclass(frozen=True)
class Plan:
    """Who must approve a draft, or the rule that lets it go without approval."""

    steps: tuple[Step, ...]
    no_approval_rule: str | None = None
    legal_reasons: tuple[str, ...] = ()


def members_of(step: ApprovalStep, account: Account, settings: Settings) -> tuple[str, ...]:
    """The people a configured step names: ``coach`` is the account's spoke's
    coaches; another role is its holders in that spoke, else all its holders."""
    people: list[str] = []
    for member in step.members:
        if member == Role.COACH.value:
            people += settings.coaches_for(account.spoke)
        elif member in {r.value for r in Role}:
            holders = [p for p in settings.people.values() if Role(member) in p.roles]
            local = [p.id for p in holders if account.spoke in p.spokes]
            people += local or [p.id for p in holders]
        else:
            people.append(member)
    return tuple(dict.fromkeys(people))


def backups_for(settings: Settings) -> tuple[str, ...]:
    """Who takes over an expired step: the configured backups, else the hub's coaches."""
    return settings.approvals.backups or settings.coaches_for(settings.hub.id)


def plan(
    settings: Settings,
    account: Account,
    author: str,
    mention: Mention | None,
    *,
    findings_clean: bool,
    commitment: bool,
) -> Plan:
    """The steps for a draft by ``author``; an empty plan names its rule."""
    policy = settings.approvals
    legal: list[str] = []
    if mention is not None and LEGAL_RISK in mention.enrichment.risks:
        legal.append("risk")
    if commitment:
        legal.append("commitment")
    if mention is not None and author not in policy.trainees and findings_clean and not legal:
        for rule in policy.no_approval:
            applies = _low_risk(rule.max_priority, mention) and author in rule.people
            if applies and (not rule.spokes or account.spoke in rule.spokes):
                return Plan((), no_approval_rule=rule.name)
    configured = list(policy.steps) + ([policy.legal_step] if legal else [])
    steps = tuple(
        Step(s.name, s.mode, members_of(s, account, settings)) for s in configured if s.members
    )
    return Plan(steps, legal_reasons=tuple(legal))


def _low_risk(max_priority: str, mention: Mention) -> bool:
    return not mention.enrichment.risks and (
        mention.enrichment.priority.rank >= Priority(max_priority).rank
    )


def step_deadline(
    draft: Draft, settings: Settings, now: datetime, limit: datetime | None
) -> datetime:
    """The step's deadline: the configured time, never later than ``limit``
    (the mention's SLA, or a scheduled post's last moment)."""
    due = now + settings.approvals.step_deadline
    return min(due, limit) if limit is not None and limit > now else due


def eligible(step: Step, draft: Draft) -> tuple[str, ...]:
    """Who may still approve this step: its approvers who wrote no version."""
    return tuple(p for p in step.approvers if p not in draft.writers)


def with_backups_if_nobody(step: Step, draft: Draft, backups: tuple[str, ...]) -> Step:
    """A step whose only approvers wrote the draft goes to the backups at once."""
    if eligible(step, draft):
        return step
    return Step(step.name, step.mode, step.people, step.approved_by, step.due_at, backups)


def submit(draft: Draft, text: str, by: str, now: datetime, steps: tuple[Step, ...]) -> Draft:
    """A new version, sent for approval from the first step (a new text needs
    every approval again)."""
    version = Version(len(draft.versions) + 1, text, by, now)
    history = (*draft.history, Decision("submitted", by, now, version.number))
    return draft.evolve(
        versions=(*draft.versions, version),
        state=DraftState.PENDING,
        steps=steps,
        step_index=0,
        history=history,
    )


def check_approver(draft: Draft, person: str, seen_version: int | None) -> Refusal | Step:
    """The current step, if ``person`` may decide on it now."""
    if draft.state.decided or draft.state is not DraftState.PENDING:
        return Refusal("decided" if draft.state.decided else "not_waiting", draft)
    if seen_version is not None and seen_version != draft.current.number:
        return Refusal("stale_version", draft)
    step = draft.step
    assert step is not None
    if person in draft.writers:
        return Refusal("own_draft", draft)
    if person not in step.approvers:
        return Refusal("not_approver", draft)
    if person in step.approved_by:
        return Refusal("already_approved", draft)
    return step


def approve(draft: Draft, person: str, now: datetime, seen_version: int | None) -> Draft | Refusal:
    """Approve the current step; the last step approves the draft."""
    step = check_approver(draft, person, seen_version)
    if isinstance(step, Refusal):
        return step
    done = Step(
        step.name, step.mode, step.people, (*step.approved_by, person), step.due_at, step.backups
    )
    steps = tuple(done if i == draft.step_index else s for i, s in enumerate(draft.steps))
    history = (*draft.history, Decision("approved", person, now, draft.current.number, step.name))
    draft = draft.evolve(steps=steps, history=history)
    if not step_complete(done, draft):
        return draft
    if draft.step_index + 1 < len(steps):
        return draft.evolve(step_index=draft.step_index + 1)
    return draft.evolve(state=DraftState.APPROVED, step_index=len(steps))


def step_complete(step: Step, draft: Draft) -> bool:
    if step.mode is StepMode.ANY or any(b in step.approved_by for b in step.backups):
        return bool(step.approved_by)
    required = [p for p in step.people if p not in draft.writers]
    return all(p in step.approved_by for p in required)


def request_changes(
    draft: Draft, person: str, now: datetime, seen_version: int | None, note: str
) -> Draft | Refusal:
    """Back to the author with a note; a new version starts approval again."""
    step = check_approver(draft, person, seen_version)
    if isinstance(step, Refusal):
        return step
    history = (
        *draft.history,
        Decision("changes_requested", person, now, draft.current.number, note),
    )
    return draft.evolve(state=DraftState.CHANGES, history=history)


def reject(
    draft: Draft, person: str, now: datetime, seen_version: int | None, reason: str
) -> Draft | Refusal:
    """The draft will not be published."""
    step = check_approver(draft, person, seen_version)
    if isinstance(step, Refusal):
        return step
    history = (*draft.history, Decision("rejected", person, now, draft.current.number, reason))
    return draft.evolve(state=DraftState.REJECTED, history=history)


def edit_and_approve(
    draft: Draft,
    person: str,
    now: datetime,
    seen_version: int | None,
    text: str,
    steps: tuple[Step, ...],
) -> Draft | Refusal:
    """The approver's own version. They become a writer, so their approval
    does not count for it: it goes back to the first step for someone else."""
    step = check_approver(draft, person, seen_version)
    if isinstance(step, Refusal):
        return step
    if text == draft.text:
        return Refusal("unchanged", draft)
    version = Version(len(draft.versions) + 1, text, person, now)
    history = (*draft.history, Decision("edited", person, now, version.number, step.name))
    return draft.evolve(
        versions=(*draft.versions, version),
        state=DraftState.PENDING,
        steps=steps,
        step_index=0,
        history=history,
    )


def withdraw(draft: Draft, person: str, now: datetime) -> Draft | Refusal:
    """The author takes the draft back before it is decided."""
    if person != draft.author:
        return Refusal("not_author", draft)
    if draft.state.decided:
        return Refusal("decided", draft)
    history = (*draft.history, Decision("withdrawn", person, now, draft.current.number))
    return draft.evolve(state=DraftState.WITHDRAWN, history=history)


def mark_published(
    draft: Draft, person: str, now: datetime, url: str | None, *, system: bool = False
) -> Draft | Refusal:
    """Record that the approved version went out (once)."""
    if draft.state is DraftState.PUBLISHED:
        return Refusal("already_published", draft)
    if draft.state is not DraftState.APPROVED:
        return Refusal("not_approved", draft)
    if not system and person not in (draft.author, *draft.writers):
        return Refusal("not_author", draft)
    history = (*draft.history, Decision("published", person, now, draft.current.number, url or ""))
    return draft.evolve(state=DraftState.PUBLISHED, history=history, published_url=url)


def escalate_step(draft: Draft, backups: tuple[str, ...], now: datetime) -> Draft | Refusal:
    """The step's deadline passed: its backups may approve it too."""
    step = draft.step
    if step is None:
        return Refusal("decided", draft)
    if step.backups:
        return Refusal("already_escalated", draft)
    grown = Step(step.name, step.mode, step.people, step.approved_by, step.due_at, backups)
    steps = tuple(grown if i == draft.step_index else s for i, s in enumerate(draft.steps))
    note = ", ".join(backups)
    history = (*draft.history, Decision("escalated", "system", now, draft.current.number, note))
    return draft.evolve(steps=steps, history=history)


def miss(draft: Draft, now: datetime) -> Draft | Refusal:
    """A scheduled post whose approvals were not complete in time."""
    if draft.state.decided and draft.state is not DraftState.APPROVED:
        return Refusal("decided", draft)
    if draft.state is DraftState.APPROVED:
        return Refusal("in_time", draft)
    history = (*draft.history, Decision("missed", "system", now, draft.current.number))
    return draft.evolve(state=DraftState.MISSED, history=history)


def deciders(draft: Draft) -> str | None:
    """Who made the deciding call (for "already decided by ...")."""
    last = draft.last(
        "approved", "rejected", "withdrawn", "changes_requested", "published", "cancelled"
    )
    return last.by if last else None


def parse_publish_at(raw: str, now: datetime) -> datetime | None:
    """``YYYY-MM-DD HH:MM`` (UTC) or ``HH:MM`` today; None when empty. It must
    leave time for the approvals: later than the margin from now."""
    text = raw.strip()
    if not text:
        return None
    try:
        if len(text) <= 5:
            hour, _, minute = text.partition(":")
            at = now.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
        else:
            at = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=now.tzinfo)
    except ValueError as error:
        raise InvalidInput("publish_at", "write the time as YYYY-MM-DD HH:MM (UTC)") from error
    if at <= now + SCHEDULE_MARGIN:
        raise InvalidInput(
            "publish_at", "choose a time more than 5 minutes from now, to leave time for approval"
        )
    return at


def settle(
    draft: Draft, version: int, round: int, now: datetime, url: str | None, reason: str | None
) -> Draft | Refusal:
    """The publishing webhook's outcome for ``version`` (``reason`` None: published)."""
    if draft.current.number != version or draft.publish_round != round:
        return Refusal("moved_on", draft)
    if draft.state is DraftState.CANCELLED and reason is None:
        # Cancelled while its POST was in flight, and the receiver took it:
        # the post is public, so the draft says so rather than "cancelled".
        history = (*draft.history, Decision("published", "system", now, version, url or ""))
        return draft.evolve(state=DraftState.PUBLISHED, history=history, published_url=url)
    if draft.state is DraftState.CANCELLED and reason and _cancelled_on_its_way(draft):
        # Cancelled while its POST was in flight, and the receiver refused
        # it: nothing is public and the draft stays cancelled, but the
        # refusal is kept beside the cancel (once: it ends the "on its way").
        history = (*draft.history, Decision("publish_failed", "system", now, version, reason))
        return draft.evolve(failure=reason, history=history)
    if draft.state is not DraftState.APPROVED:
        return Refusal("decided", draft)
    if reason is None:
        return mark_published(draft, "system", now, url, system=True)
    history = (*draft.history, Decision("publish_failed", "system", now, version, reason))
    return draft.evolve(state=DraftState.FAILED, failure=reason, history=history)


def may_settle(draft: Draft, person: str, overrides: bool) -> bool:
    """Who may retry or cancel a failed publication: its writers, its
    approvers, and anyone who may override (coaches)."""
    return overrides or person in draft.writers or person in draft.approved_by


def retry(draft: Draft, person: str, now: datetime, overrides: bool) -> Draft | Refusal:
    """Publish a failed version again (a new round, the same Idempotency-Key)."""
    if draft.state is not DraftState.FAILED:
        return Refusal("decided" if draft.state.decided else "not_waiting", draft)
    if not may_settle(draft, person, overrides):
        return Refusal("not_author", draft)
    history = (*draft.history, Decision("publish_retried", person, now, draft.current.number))
    return draft.evolve(
        state=DraftState.APPROVED,
        publish_round=draft.publish_round + 1,
        failure="",
        history=history,
    )


def cancel(
    draft: Draft, person: str, now: datetime, overrides: bool, *, publishing: bool = False
) -> Draft | Refusal:
    """Give up a failed publication or, with a publishing webhook
    (``publishing``), an approved one still on its way: queued, retrying or
    scheduled. A POST already in flight may still go through; its settlement
    then records it published (see :func:`settle`)."""
    on_its_way = publishing and draft.state is DraftState.APPROVED
    if draft.state is DraftState.PUBLISHED:
        return Refusal("too_late", draft)
    if draft.state is not DraftState.FAILED and not on_its_way:
        return Refusal("decided" if draft.state.decided else "not_waiting", draft)
    if not may_settle(draft, person, overrides):
        return Refusal("not_author", draft)
    history = (*draft.history, Decision("cancelled", person, now, draft.current.number))
    return draft.evolve(state=DraftState.CANCELLED, history=history)


def _cancelled_on_its_way(draft: Draft) -> bool:
    """The draft's last step is a cancel of a publication on its way (not of
    a failed one, whose POST was answered already)."""
    steps = [d.what for d in draft.history[-2:]]
    return steps[-1:] == ["cancelled"] and steps[:1] != ["publish_failed"]


def refused_after_cancel(draft: Draft) -> Decision | None:
    """The receiver's refusal of a POST that was in flight when it was
    cancelled (a cancelled draft whose last step is that refusal)."""
    if draft.state is not DraftState.CANCELLED or not draft.history:
        return None
    last = draft.history[-1]
    return last if last.what == "publish_failed" else None


def cancelled_too_late(draft: Draft) -> Decision | None:
    """The cancel that came after the POST had gone through (a published
    draft with a cancel in its history: cancelling is otherwise final)."""
    if draft.state is not DraftState.PUBLISHED:
        return None
    return draft.last("cancelled")
