"""Drafting: Draft reply on the mention card, the draft form, lint on
submit, revise after changes were requested, withdraw."""

from __future__ import annotations

import uuid
from datetime import datetime

from bot.core.accounts import Account, may_draft
from bot.core.cards import Tone
from bot.core.errors import InvalidInput, NotFound, PlaycallerError
from bot.core.events import Action, FormSubmitted
from bot.core.model import Mention, MentionState
from bot.core.permissions import Permission
from bot.core.turn import Turn
from handlers.approvals import rules
from handlers.approvals.cards import button_value, draft_form, parse_button_value, problems_card
from handlers.approvals.lint import Severity, blocking, explain, lint, needs_legal_step
from handlers.approvals.records import KIND, Draft, DraftState, Step, from_record, to_record
from handlers.approvals.routes import (
    account_of,
    change_draft,
    follow_mention,
    follow_watchers,
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
from handlers.approvals.timers import step_timers
from handlers.triage import rules as triage_rules
from handlers.triage.cards import DRAFT_REPLY_ACTION, person_name

# -- drafting -------------------------------------------------------------------


def reply_account(turn: Turn, mention: Mention) -> Account | None:
    """The company account a reply to ``mention`` goes out from: one on the
    mention's network that the actor may draft for, the mention's spoke first."""
    hub = turn.settings.hub.id
    candidates = [
        a
        for a in turn.settings.accounts.values()
        if a.network.value == mention.network and may_draft(turn.actor, a, hub_id=hub)
    ]
    candidates.sort(key=lambda a: a.spoke != mention.enrichment.spoke)
    return candidates[0] if candidates else None


async def open_drafts(turn: Turn, mention_key: str) -> list[Draft]:
    found = await turn.store.find(KIND, f"mention:{mention_key}")
    return [
        d for d in map(from_record, found) if not d.state.decided or d.state is DraftState.APPROVED
    ]


@router.action(DRAFT_REPLY_ACTION, permission=Permission.DRAFT, doing="draft replies")
async def on_draft_reply(turn: Turn, action: Action) -> None:
    key, _ = triage_rules_key(action.value)
    mention = await load_mention(turn, key)
    if mention is None:
        raise NotFound("I can't find that mention; it may have been removed.")
    if mention.state is not MentionState.CLAIMED or mention.owner != turn.actor.person_id:
        raise PlaycallerError(
            turn.render(
                "approvals/draft_refused.txt",
                state=mention.state.value,
                owner=person_name(turn.settings, mention.owner),
            )
        )
    for draft in await open_drafts(turn, mention.key):
        if draft.author == turn.actor.person_id and draft.state in (
            DraftState.EDITING,
            DraftState.CHANGES,
        ):
            await open_revision(turn, draft)
            return
        raise PlaycallerError(
            turn.render(
                "approvals/draft_refused.txt",
                state="has_draft",
                owner=person_name(turn.settings, draft.author),
            )
        )
    account = reply_account(turn, mention)
    if account is None:
        raise PlaycallerError(
            turn.render("approvals/draft_refused.txt", state="no_account", owner=mention.network)
        )
    await turn.open_form(
        draft_form(
            context=f"reply|{mention.key}",
            title="Draft reply",
            intro=turn.render(
                "approvals/draft_intro.txt",
                handle=mention.author.handle,
                account=account.handle,
                reply=True,
            ),
        )
    )


def triage_rules_key(value: str) -> tuple[str, int | None]:
    key, _, version = value.rpartition("|")
    return (key, int(version)) if key and version.isdigit() else (value, None)


async def open_revision(turn: Turn, draft: Draft) -> None:
    await turn.open_form(
        draft_form(
            context=f"revise|{button_value(draft)}",
            title="Edit draft",
            intro=turn.render("approvals/draft_intro.txt", handle="", account="", reply=False),
            initial=draft.text,
        )
    )


@router.action("approvals.revise", permission=Permission.DRAFT, doing="edit drafts")
async def on_revise(turn: Turn, action: Action) -> None:
    draft_id, _ = parse_button_value(action.value)
    draft = await load_draft(turn, draft_id)
    if draft.author != turn.actor.person_id:
        await refuse(turn, Refusal("not_author", draft), refresh=False)
        return
    if draft.state not in (DraftState.EDITING, DraftState.CHANGES):
        await refuse(turn, Refusal("decided" if draft.state.decided else "not_editable", draft))
        return
    await open_revision(turn, draft)


@router.action("approvals.withdraw", permission=Permission.DRAFT, doing="withdraw drafts")
async def on_withdraw(turn: Turn, action: Action) -> None:
    draft_id, _ = parse_button_value(action.value)

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        turn.audit("draft.withdrawn", subject(after), version=after.current.number)

    withdrawn = await change_draft(
        turn, draft_id, lambda d: rules.withdraw(d, turn.actor.person_id, turn.now()), consequences
    )
    if withdrawn is None:
        return
    mention = await load_mention(turn, withdrawn.mention_key)
    if withdrawn.steps:
        show(turn, withdrawn, mention)
    await update_mention(turn, withdrawn)
    await turn.say(turn.render("approvals/done.txt", what="withdrawn"), tone=Tone.GOOD)


@router.form("approvals.draft", permission=Permission.DRAFT, doing="submit drafts")
async def on_draft_submitted(turn: Turn, form: FormSubmitted) -> None:
    text = form.values.get("text", "").strip()
    if not text:
        raise InvalidInput("text", "write the reply first")
    kind, _, rest = form.context.partition("|")
    now = turn.now()
    me = turn.actor.person_id
    publish_at: datetime | None = None
    if kind == "reply":
        mention = await load_mention(turn, rest)
        if mention is None:
            raise NotFound("I can't find that mention; it may have been removed.")
        account = reply_account(turn, mention)
        if account is None:
            raise PlaycallerError("You may not draft for any company account on that network.")
        if mention.owner != me or mention.state is not MentionState.CLAIMED:
            raise PlaycallerError(
                turn.render(
                    "approvals/draft_refused.txt",
                    state=mention.state.value,
                    owner=person_name(turn.settings, mention.owner),
                )
            )
        draft = Draft(
            id=uuid.uuid4().hex[:8],
            account_id=account.id,
            spoke=mention.enrichment.spoke,
            author=me,
            created_at=now,
            versions=(),
            mention_key=mention.key,
        )
    elif kind == "post":
        account = turn.settings.accounts.get(rest)
        if account is None or not may_draft(turn.actor, account, hub_id=turn.settings.hub.id):
            raise PlaycallerError("You may not draft for that account.")
        publish_at = rules.parse_publish_at(form.values.get("publish_at", ""), now)
        mention = None
        draft = Draft(
            id=uuid.uuid4().hex[:8],
            account_id=account.id,
            spoke=account.spoke,
            author=me,
            created_at=now,
            versions=(),
            publish_at=publish_at,
        )
    elif kind == "revise":
        draft_id, _ = parse_button_value(rest)
        draft = await load_draft(turn, draft_id)
        if draft.author != me:
            await refuse(turn, Refusal("not_author", draft), refresh=False)
            return
        if draft.state not in (DraftState.EDITING, DraftState.CHANGES):
            await refuse(turn, Refusal("decided" if draft.state.decided else "not_editable", draft))
            return
        account = account_of(turn, draft)
        mention = await load_mention(turn, draft.mention_key)
        publish_at = draft.publish_at
    else:
        raise InvalidInput("context", "this form is out of date; open it again")

    findings = lint(
        text,
        account=account,
        policy=turn.settings.approvals.lint,
        reply_to=mention.author.handle if mention else None,
    )
    stopping = blocking(findings)
    words = [explain(f, turn.templates) for f in findings]
    if stopping:
        saved = rules.submit(draft, text, me, now, ()).evolve(state=DraftState.EDITING)
        saved = saved.evolve(history=saved.history[:-1])
        turn.audit(
            "draft.linted",
            subject(saved),
            version=saved.current.number,
            blocking=[f.rule.value for f in stopping],
        )
        await _write(turn, draft, saved)
        await turn.reply(
            problems_card(
                turn.render("approvals/blocked_title.txt", count=len(stopping)),
                turn.render("approvals/blocked.txt"),
                [explain(f, turn.templates) for f in stopping],
                saved,
            ),
            ephemeral=True,
        )
        return
    limit = triage_rules.sla_deadlines(mention, turn.settings)[1] if mention else None
    if publish_at is not None:
        limit = publish_at - rules.SCHEDULE_MARGIN
    planned = rules.plan(
        turn.settings,
        account,
        me,
        mention,
        findings_clean=not findings,
        commitment=needs_legal_step(findings),
    )
    backups = rules.backups_for(turn.settings)
    steps = planned.steps
    submitted = rules.submit(draft, text, me, now, steps)
    if steps:
        first = rules.with_backups_if_nobody(steps[0], submitted, backups)
        first = Step(
            first.name,
            first.mode,
            first.people,
            (),
            rules.step_deadline(submitted, turn.settings, now, limit),
            first.backups,
        )
        submitted = submitted.evolve(steps=(first, *steps[1:]))
    submitted = submitted.evolve(
        warnings=tuple(
            w for f, w in zip(findings, words, strict=True) if f.severity is not Severity.BLOCKING
        ),
        legal_reasons=planned.legal_reasons,
    )
    if not steps:
        submitted = submitted.evolve(
            state=DraftState.APPROVED, no_approval_rule=planned.no_approval_rule
        )
    turn.audit(
        "draft.submitted",
        subject(submitted),
        version=submitted.current.number,
        account=account.id,
        steps=[s.name for s in steps],
        warnings=[f.rule.value for f in findings],
        rule=planned.no_approval_rule,
    )
    upcoming = submitted.evolve(version=draft.version + 1)
    if steps:
        notify_approvers(turn, upcoming, mention)
        for timer in step_timers(upcoming):
            turn.schedule(timer)
        if draft.state is DraftState.CHANGES:
            show(turn, upcoming, mention)
    else:
        after_approval(turn, upcoming, mention)
    follow_mention(turn, upcoming)
    follow_watchers(turn, draft if draft.versions else None, upcoming)
    if not await _write(turn, draft, submitted):
        return
    await update_mention(turn, upcoming)
    await turn.say(
        turn.render(
            "approvals/done.txt",
            what="submitted" if steps else "no_approval",
            approvers=", ".join(
                person_name(turn.settings, p) for p in rules.eligible(upcoming.steps[0], upcoming)
            )
            if steps
            else "",
            rule=planned.no_approval_rule or "",
            step=steps[0].name if steps else "",
        ),
        tone=Tone.GOOD,
    )


async def _write(turn: Turn, before: Draft, after: Draft) -> bool:
    """Insert a new draft or replace the one read; False (and the author told) on a race."""
    if not before.versions and before.version == 0:
        written = await turn.insert(to_record(after))
    else:
        written = await turn.replace(to_record(after), before.version)
    if not written.ok:
        turn.discard()
        await turn.say(
            "That draft changed while you were editing it; open it again.", tone=Tone.ATTENTION
        )
    return written.ok
