"""``/approvals`` (what waits for me, and my drafts) and ``/draft ACCOUNT``
(a new post on a company account, with an optional publish time)."""

from __future__ import annotations

from bot.core.accounts import draftable_accounts, may_draft
from bot.core.cards import Card, Row, TextBlock
from bot.core.errors import PlaycallerError
from bot.core.events import Command
from bot.core.permissions import Permission
from bot.core.turn import Turn
from handlers.approvals import rules
from handlers.approvals.cards import account_line, draft_form, list_row
from handlers.approvals.records import KIND, OPEN_STATES, Draft, from_record
from handlers.approvals.routes import router
from handlers.triage.cards import person_name

SHOWN = 10


@router.command(
    "approvals", permission=Permission.APPROVALS, doing="see approvals", usage="/approvals"
)
async def on_approvals(turn: Turn, command: Command) -> None:
    me = turn.actor.person_id
    waiting = [from_record(r) for r in await turn.store.find(KIND, f"approver:{me}")]
    waiting = [d for d in waiting if d.step is not None and me in rules.eligible(d.step, d)]
    waiting.sort(key=lambda d: d.step.due_at if d.step and d.step.due_at else d.created_at)
    mine = [from_record(r) for r in await turn.store.find(KIND, f"author:{me}")]
    mine = [d for d in mine if d.state in OPEN_STATES]
    mine.sort(key=lambda d: d.current.at, reverse=True)
    rows: list[Row] = []
    for draft in waiting[:SHOWN]:
        rows.append(list_row(draft, _line(turn, draft, waiting=True), open_it=True))
    for draft in mine[:SHOWN]:
        rows.append(
            list_row(
                draft,
                _line(turn, draft, waiting=False),
                open_it=bool(draft.steps),
                withdraw=not draft.state.decided,
            )
        )
    text = turn.render("approvals/list.txt", waiting=len(waiting), mine=len(mine))
    await turn.reply(
        Card(title="Approvals", blocks=(TextBlock(text),), rows=tuple(rows)), ephemeral=True
    )


def _line(turn: Turn, draft: Draft, *, waiting: bool) -> str:
    account = turn.settings.accounts.get(draft.account_id)
    step = draft.step
    return turn.render(
        "approvals/list_row.txt",
        waiting=waiting,
        state=draft.state.value,
        author=person_name(turn.settings, draft.author),
        account=account_line(account) if account else draft.account_id,
        step=step.name if step else "",
        approvers=", ".join(person_name(turn.settings, p) for p in rules.eligible(step, draft))
        if step
        else "",
        left=(step.due_at - turn.now()) if step and step.due_at else None,
        version=draft.current.number,
    )


@router.command("draft", permission=Permission.DRAFT, doing="draft posts", usage="/draft ACCOUNT")
async def on_draft(turn: Turn, command: Command) -> None:
    wanted = command.text.strip().lower().lstrip("@")
    hub = turn.settings.hub.id
    mine = draftable_accounts(turn.actor, turn.settings.accounts, hub_id=hub)
    choices = ", ".join(a.id for a in mine) or "none"
    if not wanted:
        raise PlaycallerError(turn.render("approvals/draft_usage.txt", accounts=choices))
    account = next(
        (
            a
            for a in turn.settings.accounts.values()
            if wanted in (a.id.lower(), a.handle.lower().lstrip("@"))
        ),
        None,
    )
    if account is None:
        raise PlaycallerError(turn.render("approvals/draft_usage.txt", accounts=choices))
    if not may_draft(turn.actor, account, hub_id=hub):
        raise PlaycallerError(
            turn.render("approvals/draft_refused.txt", state="not_drafter", owner=account.handle)
        )
    await turn.open_form(
        draft_form(
            context=f"post|{account.id}",
            title="New post",
            intro=turn.render(
                "approvals/draft_intro.txt", handle="", account=account_line(account), reply=False
            ),
            accounts=(account,),
        )
    )
