"""The approvers' buttons: Approve, Request changes, Edit and approve, Reject.

Each is a compare-and-set on the draft: of two approvers at the same moment
one decides, the other (and any later click on an old card) is told who did.
"""

from __future__ import annotations

from bot.core.cards import Tone
from bot.core.errors import InvalidInput
from bot.core.events import Action, FormSubmitted
from bot.core.permissions import Permission
from bot.core.turn import Turn
from handlers.approvals import rules
from handlers.approvals.cards import draft_form, findings_card, note_form, parse_button_value
from handlers.approvals.lint import Severity, blocking, explain, lint, needs_legal_step
from handlers.approvals.records import Draft, DraftState, Step
from handlers.approvals.routes import (
    account_of,
    author_notice,
    change_draft,
    deciding,
    draft_after_wait,
    load_draft,
    load_mention,
    notify_approvers,
    refuse,
    router,
    show,
    subject,
    update_mention,
)
from handlers.approvals.rules import Refusal
from handlers.approvals.sending import after_approval
from handlers.approvals.timers import step_timer_keys, step_timers
from handlers.triage import rules as triage_rules
from handlers.triage.cards import person_name


async def _check(turn: Turn, value: str) -> Draft | None:
    """The draft, if the clicker may decide on it now (else they are told why)."""
    draft_id, seen = parse_button_value(value)
    draft = await load_draft(turn, draft_id)
    verdict = rules.check_approver(draft, turn.actor.person_id, seen)
    if isinstance(verdict, Refusal):
        await refuse(turn, verdict)
        return None
    return draft


def _next_step(turn: Turn, before: Draft, after: Draft) -> Draft:
    """Start the step the draft moved to: its deadline, its approvers' cards."""
    if after.state is not DraftState.PENDING or after.step_index == before.step_index:
        return after
    mention_limit = None
    step = after.steps[after.step_index]
    due = rules.step_deadline(after, turn.settings, turn.now(), mention_limit)
    started = rules.with_backups_if_nobody(
        Step(step.name, step.mode, step.people, step.approved_by, due),
        after,
        rules.backups_for(turn.settings),
    )
    return after.evolve(
        steps=tuple(started if i == after.step_index else s for i, s in enumerate(after.steps))
    )


@router.action("approvals.approve", permission=Permission.APPROVALS, doing="approve drafts")
async def on_approve(turn: Turn, action: Action) -> None:
    draft_id, seen = parse_button_value(action.value)
    me = turn.actor.person_id
    mention = None

    def change(draft: Draft) -> Draft | Refusal:
        approved = rules.approve(draft, me, turn.now(), seen)
        return approved if isinstance(approved, Refusal) else _next_step(turn, draft, approved)

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        step = before.step
        turn.audit(
            "draft.step_approved",
            subject(after),
            version=after.current.number,
            step=step.name if step else "",
        )
        turn.cancel(*step_timer_keys(before))
        show(turn, after, mention)
        if after.state is DraftState.APPROVED:
            after_approval(turn, after, mention)
        elif after.step_index != before.step_index:
            notify_approvers(turn, after, mention)
            for timer in step_timers(after):
                turn.schedule(timer)

    async with deciding(turn, draft_id) as slot:
        draft = await draft_after_wait(turn, draft_id, slot)
        mention = await load_mention(turn, draft.mention_key)
        decided = await change_draft(turn, draft_id, change, consequences, first=draft)
        if decided is None:
            return
        await update_mention(turn, decided)
    step = decided.step
    await turn.say(
        turn.render(
            "approvals/done.txt",
            what="approved" if decided.state is DraftState.APPROVED else "step_approved",
            step=step.name if step else "",
            webhook=turn.settings.publish_webhook
            and not (decided.publish_at and decided.publish_at > turn.now()),
        ),
        tone=Tone.GOOD,
    )


@router.action(
    "approvals.changes", permission=Permission.APPROVALS, doing="request changes to drafts"
)
async def on_changes_clicked(turn: Turn, action: Action) -> None:
    if await _check(turn, action.value):
        await turn.open_form(
            note_form(
                "approvals.changes",
                "Request changes",
                "What should change",
                action.value,
                "Send to the author",
            )
        )


@router.action("approvals.reject", permission=Permission.APPROVALS, doing="reject drafts")
async def on_reject_clicked(turn: Turn, action: Action) -> None:
    if await _check(turn, action.value):
        await turn.open_form(
            note_form("approvals.reject", "Reject draft", "Reason", action.value, "Reject")
        )


@router.form(
    "approvals.changes", permission=Permission.APPROVALS, doing="request changes to drafts"
)
async def on_changes(turn: Turn, form: FormSubmitted) -> None:
    await _close(turn, form, "changes_requested")


@router.form("approvals.reject", permission=Permission.APPROVALS, doing="reject drafts")
async def on_reject(turn: Turn, form: FormSubmitted) -> None:
    await _close(turn, form, "rejected")


async def _close(turn: Turn, form: FormSubmitted, what: str) -> None:
    draft_id, seen = parse_button_value(form.context)
    note = form.values.get("note", "").strip()[:1000]
    if not note:
        raise InvalidInput(
            "note", "say what should change" if what != "rejected" else "give a reason"
        )
    async with deciding(turn, draft_id):
        decided = await _decide(turn, draft_id, what, note, seen)
    if decided is not None:
        await turn.say(
            turn.render(
                "approvals/done.txt", what=what, author=person_name(turn.settings, decided.author)
            ),
            tone=Tone.GOOD,
        )


async def _decide(
    turn: Turn, draft_id: str, what: str, note: str, seen: int | None
) -> Draft | None:
    me = turn.actor.person_id
    draft = await load_draft(turn, draft_id)
    mention = await load_mention(turn, draft.mention_key)

    def change(draft: Draft) -> Draft | Refusal:
        if what == "rejected":
            return rules.reject(draft, me, turn.now(), seen, note)
        return rules.request_changes(draft, me, turn.now(), seen, note)

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        turn.audit(f"draft.{what}", subject(after), version=after.current.number, note=note)
        turn.cancel(*step_timer_keys(before))
        show(turn, after, mention)
        author_notice(turn, after, what, note)

    decided = await change_draft(turn, draft_id, change, consequences, first=draft)
    if decided is not None:
        await update_mention(turn, decided)
    return decided


@router.action("approvals.edit", permission=Permission.APPROVALS, doing="edit and approve drafts")
async def on_edit_clicked(turn: Turn, action: Action) -> None:
    draft = await _check(turn, action.value)
    if draft is None:
        return
    form = draft_form(
        context=action.value,
        title="Edit and approve",
        intro=turn.render("approvals/edit_intro.txt"),
        initial=draft.text,
    )
    await turn.open_form(
        type(form)(
            form_id="approvals.edit",
            title=form.title,
            intro=form.intro,
            inputs=form.inputs,
            submit_label="Save and approve",
            context=form.context,
            return_to=f"draft:{draft.id}",
        )
    )


@router.form("approvals.edit", permission=Permission.APPROVALS, doing="edit and approve drafts")
async def on_edit(turn: Turn, form: FormSubmitted) -> None:
    draft_id, seen = parse_button_value(form.context)
    text = form.values.get("text", "").strip()
    if not text:
        raise InvalidInput("text", "the text cannot be empty")
    me = turn.actor.person_id
    now = turn.now()
    draft = await load_draft(turn, draft_id)
    account = account_of(turn, draft)
    mention = await load_mention(turn, draft.mention_key)
    findings = lint(
        text,
        account=account,
        policy=turn.settings.approvals.lint,
        reply_to=mention.author.handle if mention else None,
    )
    stopping = blocking(findings)
    if stopping:
        await turn.reply(
            findings_card(
                turn.render("approvals/blocked_title.txt", count=len(stopping)),
                turn.render("approvals/blocked_edit.txt"),
                [explain(f, turn.templates) for f in stopping],
            ),
            ephemeral=True,
        )
        return
    planned = rules.plan(
        turn.settings,
        account,
        draft.author,
        mention,
        findings_clean=False,
        commitment=needs_legal_step(findings),
    )
    limit = triage_rules.sla_deadlines(mention, turn.settings)[1] if mention else None
    if draft.publish_at is not None:
        limit = draft.publish_at - rules.SCHEDULE_MARGIN
    warnings = tuple(
        explain(f, turn.templates) for f in findings if f.severity is not Severity.BLOCKING
    )

    def change(current: Draft) -> Draft | Refusal:
        edited = rules.edit_and_approve(current, me, now, seen, text, planned.steps)
        if isinstance(edited, Refusal):
            return edited
        first = edited.steps[0]
        due = rules.step_deadline(edited, turn.settings, now, limit)
        first = rules.with_backups_if_nobody(
            Step(first.name, first.mode, first.people, (), due),
            edited,
            rules.backups_for(turn.settings),
        )
        return edited.evolve(
            steps=(first, *edited.steps[1:]), warnings=warnings, legal_reasons=planned.legal_reasons
        )

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        turn.audit(
            "draft.edited",
            subject(after),
            version=after.current.number,
            previous=before.current.number,
        )
        turn.cancel(*step_timer_keys(before))
        show(turn, after, mention)
        notify_approvers(turn, after, mention)
        for timer in step_timers(after):
            turn.schedule(timer)
        author_notice(turn, after, "edited")

    edited = await change_draft(turn, draft_id, change, consequences, first=draft)
    if edited is None:
        return
    await update_mention(turn, edited)
    step = edited.step
    await turn.say(
        turn.render(
            "approvals/done.txt",
            what="edited",
            approvers=", ".join(person_name(turn.settings, p) for p in rules.eligible(step, edited))
            if step
            else "",
        ),
        tone=Tone.GOOD,
    )
