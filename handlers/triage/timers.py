"""Triage timers: the SLA reminder and breach, the owner's nudge, the idle release."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.cards import Badge, Card, TextBlock, Tone
from bot.core.events import TimerFired
from bot.core.model import SYSTEM, Mention, MentionState
from bot.core.turn import Turn
from handlers.triage import rules
from handlers.triage.cards import (
    card_key,
    mention_badges,
    mention_card,
    notice_card,
    person_name,
)
from handlers.triage.records import KIND, from_record
from handlers.triage.routes import notify_coaches, router, subject, transition
from handlers.triage.rules import Refusal

log = logging.getLogger(__name__)


@router.timer("triage.warn")
async def on_warn(turn: Turn, timer: TimerFired) -> None:
    mention = await timer_mention(turn, timer)
    if mention is None or mention.state is not MentionState.OPEN:
        return
    now = turn.now()
    spoke = mention.enrichment.spoke
    left = rules.sla_left(mention, turn.settings, now)
    if left.total_seconds() <= 0 or mention.breached_at is not None:
        # Fired late (the process was down): the breach message says it all.
        return
    if mention.surge is not None:
        # No card to answer under: the surge card counts what is still open.
        turn.audit("mention.reminder", subject(mention), spoke=spoke, surge=mention.surge)
        return
    text = turn.render(
        "triage/reminder.txt",
        priority=mention.enrichment.priority.value,
        handle=mention.author.handle,
        waited=now - mention.received_at,
        left=left,
    )
    turn.reply_in_thread(
        card_key(mention),
        notice_card(
            turn.render("triage/reminder_title.txt", left=left),
            text,
            mention,
            claim=True,
            badges=mention_badges(mention, turn.settings, now),
        ),
    )
    turn.audit("mention.reminder", subject(mention), spoke=spoke)


@router.timer("triage.breach")
async def on_breach(turn: Turn, timer: TimerFired) -> None:
    mention = await timer_mention(turn, timer)
    if mention is None or mention.state is MentionState.RESOLVED:
        return
    now = turn.now()
    coaches = turn.settings.coaches_for(mention.enrichment.spoke)
    policy = turn.settings.sla[mention.enrichment.priority]

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        if after.surge is not None:
            # One DM per breached mention of a surge would bury the coaches;
            # the surge card shows how many are past their response time.
            turn.audit("mention.breach", subject(after), to=list(coaches), surge=after.surge)
            return
        notify_coaches(
            turn,
            after,
            "triage/breach.txt",
            breached=True,
            priority=after.enrichment.priority.value,
            state_words="still unclaimed"
            if after.state is MentionState.OPEN
            else f"claimed by {person_name(turn.settings, after.owner)} but unresolved",
            waited=now - after.received_at,
            target=policy.breach,
        )
        turn.audit("mention.breach", subject(after), to=list(coaches))

    await transition(
        turn,
        mention.key,
        None,
        lambda m: _breach(m, now, coaches),
        consequences,
    )


def _breach(mention: Mention, now: datetime, coaches: tuple[str, ...]) -> Mention | Refusal:
    """Escalate once per mention at the response-time breach."""
    if mention.breached_at is not None:
        return Refusal("already_breached", mention)
    escalated = rules.escalate(mention, SYSTEM.person_id, now, "response time breached", coaches)
    if isinstance(escalated, Refusal):
        return escalated
    return escalated.evolve(breached_at=now)


@router.timer("triage.nudge")
async def on_nudge(turn: Turn, timer: TimerFired) -> None:
    mention = await timer_mention(turn, timer)
    if mention is None or not rules.same_claim(mention, timer.payload) or mention.owner is None:
        return
    assert mention.claimed_at is not None
    text = turn.render(
        "triage/nudge.txt",
        handle=mention.author.handle,
        held=turn.now() - mention.claimed_at,
        release_after=turn.settings.triage.release_idle_after,
    )
    card = mention_card(mention, turn.settings, turn.templates, turn.now())
    turn.dm_copy(
        mention.owner,
        Card(
            title="Still on it?",
            badges=card.badges,
            blocks=(TextBlock(text), card.blocks[0]),
            buttons=card.buttons,
            overflow=tuple(b for b in card.overflow if b.action_id != "triage.assign"),
            context=card.context,
            at=card.at,
            # The same key: the reminder's card changes with the shared one.
            card_key=card.card_key,
        ),
    )
    turn.audit("mention.nudge", subject(mention), owner=mention.owner)


@router.timer("triage.idle")
async def on_idle(turn: Turn, timer: TimerFired) -> None:
    mention = await timer_mention(turn, timer)
    if mention is None or not rules.same_claim(mention, timer.payload):
        return
    assert mention.last_activity_at is not None
    idle = turn.now() - mention.last_activity_at
    if idle < turn.settings.triage.release_idle_after:
        # The owner acted since this timer was set: wait for a full idle period.
        for claim_timer in rules.claim_timers(mention, turn.settings):
            if claim_timer.kind == "triage.idle":
                turn.schedule(claim_timer)
        return
    owner = mention.owner
    spoke = turn.settings.spoke(mention.enrichment.spoke).name

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        for sla_timer in rules.sla_timers(after, turn.settings, turn.now()):
            turn.schedule(sla_timer)
        if owner:
            text = turn.render(
                "triage/idle_released.txt", handle=after.author.handle, idle=idle, spoke=spoke
            )
            turn.dm(
                owner,
                Card(
                    title="Claim released",
                    badges=(Badge("Back in the queue", Tone.WARNING),),
                    blocks=(TextBlock(text), TextBlock(after.text, quote=True)),
                    buttons=tuple(
                        b
                        for b in mention_card(
                            after, turn.settings, turn.templates, turn.now()
                        ).buttons
                        if b.url or b.action_id == "triage.claim"
                    ),
                ),
            )
        turn.audit(
            "mention.auto_release",
            subject(after),
            previous_owner=owner,
            idle_seconds=int(idle.total_seconds()),
        )

    await transition(
        turn,
        mention.key,
        None,
        lambda m: (
            rules.release(m, None, turn.now())
            if rules.same_claim(m, timer.payload)
            else Refusal("moved_on", m)
        ),
        consequences,
    )


async def timer_mention(turn: Turn, timer: TimerFired) -> Mention | None:
    key = timer.payload.get("key")
    if not isinstance(key, str):
        log.warning("timer %s has no mention key", timer.key)
        return None
    record = await turn.store.get(KIND, key)
    return from_record(record) if record else None
