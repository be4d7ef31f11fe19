"""Publishing an approved draft.

Webhook mode (``PLAYCALLER_PUBLISH_URL``): the deciding write queues the
publication in the outbox's publish lane (``turn.publish``), which POSTs it
exactly once per version; its outcome comes back as ``PublicationSettled``
and is recorded by ``settling`` (with Retry and Cancel publishing).
Manual mode (no URL, and the console demo): the approved text goes to the
author with **Mark as sent** and an optional link; marking it records it
published, once."""

from __future__ import annotations

from bot.core.cards import Tone
from bot.core.errors import InvalidInput
from bot.core.events import Action, FormSubmitted, TimerFired
from bot.core.later import LaterCard
from bot.core.model import Mention
from bot.core.publishing import Publication, ReplyTarget
from bot.core.text import safe_url
from bot.core.turn import INTERACTIVE, Turn
from handlers.approvals import pause, rules
from handlers.approvals.cards import (
    account_line,
    parse_button_value,
    publishing_key,
    send_card,
    sent_form,
)
from handlers.approvals.later import PUBLISHING_CARD
from handlers.approvals.pause import PUBLISH_TIMER
from handlers.approvals.records import Decision, Draft, DraftState
from handlers.approvals.routes import (
    change_draft,
    load_draft,
    load_mention,
    refuse,
    router,
    show,
    subject,
    update_mention,
)
from handlers.approvals.rules import Refusal
from handlers.triage.cards import local_time, person_name


def after_approval(turn: Turn, draft: Draft, mention: Mention | None) -> None:
    """Buffer what follows the final approval: the text to the author now, or
    at the scheduled time."""
    turn.audit(
        "draft.approved",
        subject(draft),
        version=draft.current.number,
        approved_by=list(draft.approved_by),
        rule=draft.no_approval_rule,
    )
    if draft.publish_at is not None and draft.publish_at > turn.now():
        turn.schedule(pause.publish_timer(draft))
        return
    release(turn, draft, mention)


def release(turn: Turn, draft: Draft, mention: Mention | None) -> None:
    """Send the approved version out: through the webhook, or to the author.

    Through the webhook, the author gets a card that follows the publication
    (with Cancel publishing while it is on its way); a retry turns that card
    back in place rather than sending another."""
    if turn.settings.publish_webhook:
        turn.publish(publication(turn, draft, mention), round=draft.publish_round)
        turn.audit("draft.publish_queued", subject(draft), round=draft.publish_round)
        # Rendered when sent, from the stored draft (``handlers/approvals/later.py``).
        later = LaterCard(PUBLISHING_CARD, draft.id, turn.now())
        if draft.publish_round == 0:
            turn.dm_later(draft.author, later, publishing_key(draft), priority=INTERACTIVE)
        else:
            turn.update_later(later, publishing_key(draft))
        return
    hand_to_author(turn, draft, mention)


def publication(turn: Turn, draft: Draft, mention: Mention | None) -> Publication:
    approval = draft.last("approved")
    account = turn.settings.accounts[draft.account_id]
    return Publication(
        draft_id=draft.id,
        version=draft.current.number,
        account=account,
        text=draft.text,
        drafted_by=draft.author,
        approved_by=draft.approved_by,
        approved_at=approval.at if approval else turn.now(),
        in_reply_to=ReplyTarget(mention.network, mention.external_id, safe_url(mention.url))
        if mention
        else None,
    )


def hand_to_author(turn: Turn, draft: Draft, mention: Mention | None) -> None:
    approval = draft.last("approved")
    account = turn.settings.accounts.get(draft.account_id)
    turn.dm(
        draft.author,
        send_card(
            turn.render("approvals/send_title.txt", reply=mention is not None),
            turn.render(
                "approvals/send.txt",
                rule=draft.no_approval_rule or "",
                by=person_name(turn.settings, approval.by) if approval else "",
                at=local_time(turn.settings, approval.at) if approval else "",
                handle=mention.author.handle if mention else "",
                url=safe_url(mention.url) if mention else None,
                account=account_line(account) if account else "",
            ),
            draft,
        ),
        priority=INTERACTIVE,
    )


@router.timer(PUBLISH_TIMER)
async def on_publish_time(turn: Turn, timer: TimerFired) -> None:
    """A scheduled post's time: publish it, unless a publishing pause covers
    its account. Either way the decision is one compare-and-set on the draft
    (the publish request or the hold rides on it), in both publishing modes,
    so a pause that starts meanwhile and this timer cannot both win."""
    payload = timer.payload
    draft = await load_draft(turn, str(payload.get("id")))
    if draft.state is not DraftState.APPROVED or draft.current.number != payload.get("version"):
        return
    pauses = await pause.active_pauses(turn)
    holding = pause.covering(pauses, draft.account_id)
    labels = ", ".join(p.label for p in pauses if p.ref in holding)
    now = turn.now()

    def change(d: Draft) -> Draft | Refusal:
        if d.state is not DraftState.APPROVED or pause.releasing(d):
            return Refusal("decided", d)
        if holding:
            return pause.hold(d, holding, "system", now)
        return d.evolve(
            held_by=(),
            history=(*d.history, Decision("publish_due", "system", now, d.current.number)),
        )

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        if holding:
            pause.held_notice(turn, before, after, labels)
            return
        turn.audit("draft.publish_due", subject(after), version=after.current.number)
        release(turn, after, None)

    await change_draft(turn, draft.id, change, consequences, stale_refresh=False, first=draft)


@router.action("approvals.sent", doing="mark replies as sent")
async def on_sent_clicked(turn: Turn, action: Action) -> None:
    draft = await load_draft(turn, parse_button_value(action.value)[0])
    verdict = rules.mark_published(draft, turn.actor.person_id, turn.now(), None)
    if isinstance(verdict, Refusal):
        await refuse(turn, verdict, refresh=False)
        return
    await turn.open_form(sent_form(action.value))


@router.form("approvals.sent", doing="mark replies as sent")
async def on_sent(turn: Turn, form: FormSubmitted) -> None:
    draft_id, _ = parse_button_value(form.context)
    raw = form.values.get("url", "").strip()
    url = safe_url(raw) if raw else None
    if raw and url is None:
        raise InvalidInput("url", "give a plain https:// link to the post, or leave it empty")

    def consequences(turn: Turn, before: Draft, after: Draft) -> None:
        turn.audit(
            "draft.published", subject(after), version=after.current.number, url=url, manual=True
        )
        turn.update(
            send_card(
                turn.render("approvals/send_title.txt", reply=after.mention_key is not None),
                turn.render("approvals/done.txt", what="sent"),
                after,
                sent=f"Sent by {person_name(turn.settings, turn.actor.person_id)} "
                f"{local_time(turn.settings, turn.now())}",
            )
        )

    published = await change_draft(
        turn,
        draft_id,
        lambda d: rules.mark_published(d, turn.actor.person_id, turn.now(), url),
        consequences,
        stale_refresh=False,
    )
    if published is None:
        return
    mention = await load_mention(turn, published.mention_key)
    if published.steps:
        show(turn, published, mention)
    await update_mention(turn, published)
    await turn.say(turn.render("approvals/done.txt", what="sent"), tone=Tone.GOOD)


@router.action("draftsend.refresh", doing="see a reply to send")
async def on_send_refresh(turn: Turn, action: Action) -> None:
    """The Mark as sent card again, for one person (Cancel on a Teams form)."""
    draft = await load_draft(turn, action.value.removeprefix("draftsend:"))
    mention = await load_mention(turn, draft.mention_key)
    sent = draft.last("published")
    card = send_card(
        turn.render("approvals/send_title.txt", reply=mention is not None),
        turn.render("approvals/done.txt", what="sent") if sent else "",
        draft,
        sent=f"Sent by {person_name(turn.settings, sent.by)} {local_time(turn.settings, sent.at)}"
        if sent
        else "",
    )
    await turn.reply(card, ephemeral=True)
