"""New posts another feature asks for (a crisis's holding statement): the
same draft, lint, approval steps, four eyes and publishing as ``/draft``,
with the text given instead of typed, and the asking feature recorded as
the draft's ``origin`` so it hears of every change (``routes.follow_watchers``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.accounts import Account, StepMode, may_draft
from bot.core.turn import Turn
from handlers.approvals import rules
from handlers.approvals.lint import Severity, blocking, explain, lint, needs_legal_step
from handlers.approvals.records import Draft, Step, from_record, to_record
from handlers.approvals.routes import follow_watchers, notify_approvers, subject
from handlers.approvals.timers import step_timers

LEGAL_STATEMENT = "statement"


@dataclass(frozen=True)
class Submitted:
    """What became of a request: the draft (new, or the one that existed
    under that id: ``existed``), or why there is none (``refused``: the
    actor may not draft for the account; ``blocked``: the lint's findings)."""

    draft: Draft | None
    existed: bool = False
    refused: bool = False
    blocked: tuple[str, ...] = ()


async def submit_post(
    turn: Turn, *, draft_id: str, account: Account, text: str, origin: str, legal: bool
) -> Submitted:
    """Draft ``text`` as a new post on ``account`` by the actor and send it
    for approval: the configured steps (a coach step when none is
    configured), plus the legal step when ``legal`` or the lint finds a
    commitment. Never without approval. A second call with the same
    ``draft_id`` (a double click) finds the first draft and sends nothing."""
    me, now, settings = turn.actor.person_id, turn.now(), turn.settings
    existing = await turn.store.get("draft", draft_id)
    if existing is not None:
        return Submitted(from_record(existing), existed=True)
    if not may_draft(turn.actor, account, hub_id=settings.hub.id):
        return Submitted(None, refused=True)
    findings = lint(text, account=account, policy=settings.approvals.lint, reply_to=None)
    stopping = blocking(findings)
    if stopping:
        return Submitted(None, blocked=tuple(explain(f, turn.templates) for f in stopping))
    commitment = needs_legal_step(findings)
    planned = rules.plan(
        settings, account, me, None, findings_clean=not findings, commitment=legal or commitment
    )
    steps = planned.steps or (Step("Coach", StepMode.ANY, settings.coaches_for(account.spoke)),)
    draft = Draft(
        id=draft_id,
        account_id=account.id,
        spoke=account.spoke,
        author=me,
        created_at=now,
        versions=(),
        origin=origin,
    )
    submitted = rules.submit(draft, text, me, now, steps)
    first = rules.with_backups_if_nobody(steps[0], submitted, rules.backups_for(settings))
    first = Step(
        first.name,
        first.mode,
        first.people,
        (),
        rules.step_deadline(submitted, settings, now, None),
        first.backups,
    )
    submitted = submitted.evolve(
        steps=(first, *steps[1:]),
        warnings=tuple(
            explain(f, turn.templates) for f in findings if f.severity is not Severity.BLOCKING
        ),
        legal_reasons=(LEGAL_STATEMENT,) * legal + ("commitment",) * commitment,
    )
    turn.audit(
        "draft.submitted",
        subject(submitted),
        version=1,
        account=account.id,
        steps=[s.name for s in submitted.steps],
        warnings=[f.rule.value for f in findings],
        origin=origin,
    )
    upcoming = submitted.evolve(version=1)
    notify_approvers(turn, upcoming, None)
    for timer in step_timers(upcoming):
        turn.schedule(timer)
    follow_watchers(turn, None, upcoming)
    written = await turn.insert(to_record(submitted))
    if not written.ok:
        turn.discard()
        return Submitted(from_record(written.record) if written.record else None, existed=True)
    return Submitted(upcoming)
