"""Step deadlines: a reminder to the approvers at half time, and on expiry
the step goes to the backup approvers (once), shown on the card. A scheduled
post whose approvals are not complete 5 minutes before its time is not
published, and its author is told."""

from __future__ import annotations

from dataclasses import replace

from bot.core.cards import Card, TextBlock, Tone
from bot.core.events import TimerFired
from bot.core.storage import Timer
from bot.core.turn import INTERACTIVE, Turn
from handlers.approvals import rules
from handlers.approvals.cards import approval_card
from handlers.approvals.records import KIND, Draft, DraftState, from_record
from handlers.approvals.routes import (
    account_of,
    author_notice,
    change_draft,
    load_mention,
    router,
    show,
    subject,
)
from handlers.triage.cards import names

REMIND = "approvals.remind"
EXPIRE = "approvals.expire"
CUTOFF = "approvals.cutoff"


def with_note(card: Card, text: str, tone: Tone, *, card_key: str | None) -> Card:
    """The approval card for one approver, with why they get it on top (and
    without the details and rows only the shared card shows)."""
    return replace(
        card,
        blocks=(TextBlock(text, tone=tone), *card.blocks),
        details=(),
        rows=(),
        card_key=card_key,
    )


def step_timers(draft: Draft) -> list[Timer]:
    """The current step's reminder and expiry, fenced by version and step."""
    step = draft.step
    if step is None or step.due_at is None:
        return []
    started = draft.history[-1].at if draft.history else draft.created_at
    payload = {"id": draft.id, "version": draft.current.number, "step": draft.step_index}
    half = started + (step.due_at - started) / 2
    timers = [
        Timer(f"{REMIND}:{draft.id}", REMIND, half, payload),
        Timer(f"{EXPIRE}:{draft.id}", EXPIRE, step.due_at, payload),
    ]
    if draft.publish_at is not None:
        cutoff = draft.publish_at - rules.SCHEDULE_MARGIN
        timers.append(Timer(f"{CUTOFF}:{draft.id}", CUTOFF, cutoff, payload))
    return timers


def step_timer_keys(draft: Draft) -> tuple[str, ...]:
    return (f"{REMIND}:{draft.id}", f"{EXPIRE}:{draft.id}")


async def _current(turn: Turn, timer: TimerFired) -> Draft | None:
    """The draft, if the timer still refers to its current version and step."""
    record = await turn.store.get(KIND, str(timer.payload.get("id")))
    if record is None:
        return None
    draft = from_record(record)
    if (
        draft.state is not DraftState.PENDING
        or draft.current.number != timer.payload.get("version")
        or draft.step_index != timer.payload.get("step")
    ):
        return None
    return draft


@router.timer(REMIND)
async def on_remind(turn: Turn, timer: TimerFired) -> None:
    draft = await _current(turn, timer)
    step = draft.step if draft else None
    if draft is None or step is None or step.due_at is None:
        return
    mention = await load_mention(turn, draft.mention_key)
    card = approval_card(
        draft, account_of(turn, draft), mention, turn.settings, turn.templates, turn.now()
    )
    text = turn.render("approvals/reminder.txt", left=step.due_at - turn.now(), step=step.name)
    for person in rules.eligible(step, draft):
        # A message of its own (no card key): the reminder is not updated with the card.
        turn.dm(person, with_note(card, text, Tone.WARNING, card_key=None))
    turn.audit("draft.reminder", subject(draft), step=step.name)


@router.timer(EXPIRE)
async def on_expire(turn: Turn, timer: TimerFired) -> None:
    draft = await _current(turn, timer)
    if draft is None:
        return
    backups = rules.backups_for(turn.settings)
    mention = await load_mention(turn, draft.mention_key)

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        step = after.step
        assert step is not None
        turn.audit("draft.escalated", subject(after), step=step.name, to=list(backups))
        show(turn, after, mention)
        card = approval_card(
            after, account_of(turn, after), mention, turn.settings, turn.templates, turn.now()
        )
        text = turn.render(
            "approvals/escalated.txt",
            step=step.name,
            waited=names(turn.settings, step.people),
        )
        for person in step.backups:
            if person in after.writers:
                continue
            turn.dm(
                person,
                with_note(card, text, Tone.ATTENTION, card_key=card.card_key),
                priority=INTERACTIVE,
            )

    await change_draft(
        turn, draft.id, lambda d: rules.escalate_step(d, backups, turn.now()), consequences
    )


@router.timer(CUTOFF)
async def on_cutoff(turn: Turn, timer: TimerFired) -> None:
    record = await turn.store.get(KIND, str(timer.payload.get("id")))
    if record is None:
        return
    draft = from_record(record)

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        turn.audit("draft.missed", subject(after), publish_at=str(after.publish_at))
        turn.cancel(*step_timer_keys(after))
        show(turn, after, None)
        author_notice(turn, after, "missed")

    await change_draft(
        turn, draft.id, lambda d: rules.miss(d, turn.now()), consequences, first=draft
    )
