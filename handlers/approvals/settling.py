"""A webhook publication after it was queued: its outcome, and the people
who may act on it (the author, its approvers, anyone who may override).

**Cancel publishing** stops a publication on its way (queued, retrying 5xx
and timeouts, scheduled) or gives up a failed one. The draft is written
cancelled first, and that write carries a durable timer due at once that
withdraws the outbox item (``Store.cancel_outbox``): the handler does it
right after the write and cancels the timer, and if the process dies in
between the timer does it. A POST already in flight cannot be called back,
so its settlement is recorded as it happened: a receiver that took it makes
the draft published, and the cards say the cancel came too late; a receiver
that refused it leaves the draft cancelled, and the refusal is audited (with
who cancelled) and shown on the cards."""

from __future__ import annotations

from bot.core.cards import Tone
from bot.core.events import Action, PublicationSettled, TimerFired
from bot.core.model import Mention
from bot.core.permissions import Permission
from bot.core.publishing import item_id
from bot.core.storage import Timer
from bot.core.text import safe_url
from bot.core.turn import Turn
from handlers.approvals import rules
from handlers.approvals.cards import parse_button_value, publishing_card
from handlers.approvals.pause import PUBLISH_TIMER
from handlers.approvals.records import Draft, DraftState
from handlers.approvals.routes import (
    change_draft,
    load_draft,
    load_mention,
    router,
    show,
    subject,
    update_mention,
)
from handlers.approvals.sending import release

WITHDRAW = "approvals.withdraw_publication"


def outbox_item(draft: Draft) -> str:
    """The publish lane's item of the draft's current version and round."""
    return item_id(f"{draft.id}:{draft.current.number}", draft.publish_round)


def _withdraw_key(draft: Draft) -> str:
    return f"{WITHDRAW}:{outbox_item(draft)}"


@router.publication_settled()
async def on_settled(turn: Turn, event: PublicationSettled) -> None:
    """The webhook's answer: published (with its link) or failed (with the reason)."""
    reason = None if event.published else (event.reason or "the receiver refused it")
    mention: Mention | None = None

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        late = before.state is DraftState.CANCELLED
        if after.state is DraftState.PUBLISHED:
            turn.audit(
                "draft.published",
                subject(after),
                version=event.version,
                url=event.url,
                post_id=event.post_id,
                attempts=event.attempts,
                **({"cancel_too_late": True} if late else {}),
            )
        else:
            cancel = before.last("cancelled") if late else None
            turn.audit(
                "draft.publish_failed",
                subject(after),
                version=event.version,
                reason=reason,
                attempts=event.attempts,
                # The receiver refused a POST that was in flight when it was cancelled.
                **({"after_cancel": True, "cancelled_by": cancel.by} if cancel else {}),
            )
        show(turn, after, mention)
        # The author's card from the release, in place (one card per draft:
        # a second copy would double every later update of it).
        turn.update(publishing_card(after, mention, turn.settings, turn.templates))

    draft = await load_draft(turn, event.draft_id)
    mention = await load_mention(turn, draft.mention_key)
    settled = await change_draft(
        turn,
        event.draft_id,
        lambda d: rules.settle(
            d, event.version, event.round, turn.now(), safe_url(event.url), reason
        ),
        consequences,
        stale_refresh=False,
        first=draft,
    )
    if settled is not None:
        await update_mention(turn, settled)


@router.action("approvals.retry", doing="retry publishing")
async def on_retry(turn: Turn, action: Action) -> None:
    await _by_hand(turn, action, retry=True)


@router.action("approvals.cancel", doing="cancel publishing")
async def on_cancel(turn: Turn, action: Action) -> None:
    await _by_hand(turn, action, retry=False)


async def _by_hand(turn: Turn, action: Action, *, retry: bool) -> None:
    draft_id, _ = parse_button_value(action.value)
    me = turn.actor.person_id
    overrides = turn.actor.may(Permission.OVERRIDE)
    webhook = turn.settings.publish_webhook
    draft = await load_draft(turn, draft_id)
    mention = await load_mention(turn, draft.mention_key)

    def change(d: Draft) -> Draft | rules.Refusal:
        if retry:
            return rules.retry(d, me, turn.now(), overrides)
        return rules.cancel(d, me, turn.now(), overrides, publishing=webhook)

    # Whether the cancel that was written stopped a publication on its way
    # (decided on the draft as compare-and-set found it, not as first read).
    on_its_way = False

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        nonlocal on_its_way
        on_its_way = not retry and before.state is DraftState.APPROVED
        turn.audit(
            "draft.publish_retried" if retry else "draft.cancelled",
            subject(after),
            round=after.publish_round,
            **({} if retry else {"was": before.state.value}),
        )
        if retry:
            release(turn, after, mention)
        elif on_its_way:
            # The backstop for the withdrawal below (see the module's note).
            turn.cancel(f"{PUBLISH_TIMER}:{after.id}")
            turn.schedule(
                Timer(_withdraw_key(after), WITHDRAW, turn.now(), {"item": outbox_item(after)})
            )
        show(turn, after, mention)
        if not retry:
            turn.update(publishing_card(after, mention, turn.settings, turn.templates))

    done = await change_draft(
        turn, draft_id, change, consequences, stale_refresh=False, first=draft
    )
    if done is None:
        return
    if on_its_way:
        await turn.store.cancel_outbox(outbox_item(done))
        turn.cancel(_withdraw_key(done))
    await update_mention(turn, done)
    what = "retried" if retry else "cancelled_publishing" if on_its_way else "cancelled"
    await turn.say(turn.render("approvals/done.txt", what=what), tone=Tone.GOOD)


@router.timer(WITHDRAW)
async def on_withdraw(turn: Turn, fired: TimerFired) -> None:
    """The backstop: withdraw a cancelled publication's outbox item (nothing
    when it is gone already: sent, settled, or withdrawn inline)."""
    await turn.store.cancel_outbox(str(fired.payload["item"]))
