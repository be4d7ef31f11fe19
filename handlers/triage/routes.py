"""Triage: mention cards, claims, resolution, escalation, SLA timers, /triage."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.core.cards import DETAILS_ACTION, Card, Choice, Form, Input, InputKind, TextBlock, Tone
from bot.core.errors import InvalidInput, NotFound, PlaycallerError
from bot.core.events import Action, FormSubmitted
from bot.core.later import LaterCard
from bot.core.model import SYSTEM, Mention, Outcome
from bot.core.permissions import Permission
from bot.core.rooms import room_key
from bot.core.router import Router
from bot.core.storage import Record
from bot.core.text import single_line
from bot.core.turn import BULK, INTERACTIVE, Turn
from handlers.triage import rules
from handlers.triage.cards import (
    button_value,
    card_key,
    details_card,
    mention_card,
    names,
    parse_button_value,
    person_name,
)
from handlers.triage.later import MENTION_CARD
from handlers.triage.records import KIND, from_record, to_record
from handlers.triage.rules import Refusal

log = logging.getLogger(__name__)
router = Router("triage")

Change = Callable[[Mention], Mention | Refusal]
Consequences = Callable[[Turn, Mention, Mention], None]

# A handful of rereads settles any realistic race; past that something is wrong.
MAX_CAS_ATTEMPTS = 5


class Busy(PlaycallerError):
    """The mention kept changing under us."""


async def admit(turn: Turn, mention: Mention) -> bool:
    """Store a new mention, post its card, start its SLA timers. False if a duplicate."""
    written = await turn.insert(admission(turn, mention))
    return written.ok


def admission(turn: Turn, mention: Mention, card_priority: int | None = None) -> Record:
    """Buffer a new mention's card, SLA timers and audit entry on ``turn``; the
    record to insert with them (batched intake inserts many at once). A
    mention in a surge (``mention.surge``) gets no card of its own: the surge
    card stands for it; ``card_priority`` puts a card ahead of the others."""
    if mention.surge is None:
        # Rendered when sent: a channel takes about a card a second, intake
        # admits thousands of mentions a second (bot/core/later.py).
        turn.post_later(
            mention.enrichment.spoke,
            LaterCard(MENTION_CARD, mention.key, turn.now()),
            card_key(mention),
            priority=card_priority
            if card_priority is not None
            else BULK
            if mention.enrichment.priority.rank >= 2
            else 1,
        )
        if mention.crisis and rules.high_risk(mention):
            # Also in the crisis room, as the same card (claims show in both);
            # rendered now: these are few, and the room needs them at once.
            # (The stored version, 1, shows only on a rendered card's buttons.)
            stored = mention.evolve(version=1)
            card = mention_card(stored, turn.settings, turn.templates, turn.now())
            turn.reply_in_thread(room_key(mention.crisis), card, priority=INTERACTIVE)
    for timer in rules.sla_timers(mention, turn.settings, turn.now()):
        turn.schedule(timer)
    turn.audit(
        "mention.received",
        subject(mention),
        spoke=mention.enrichment.spoke,
        priority=mention.enrichment.priority.value,
        rule=mention.enrichment.rule,
        **({"surge": mention.surge} if mention.surge else {}),
        **({"crisis": mention.crisis} if mention.crisis else {}),
    )
    return to_record(mention)


async def load_mention(turn: Turn, key: str) -> Mention:
    record = await turn.store.get(KIND, key)
    if record is None:
        raise NotFound(f"I can't find mention {single_line(key, 80)}; it may have been removed.")
    return from_record(record)


async def transition(
    turn: Turn,
    key: str,
    seen_version: int | None,
    change: Change,
    consequences: Consequences,
) -> Mention | None:
    """Read, decide, write with compare-and-set; reread and decide again on a race.

    Returns the stored mention, or None when the change was refused (the
    actor has been told why, and a stale card is refreshed).
    """
    for _ in range(MAX_CAS_ATTEMPTS):
        current = await load_mention(turn, key)
        verdict = change(current)
        if isinstance(verdict, Refusal):
            await refuse(turn, verdict, seen_version)
            return None
        upcoming = verdict.evolve(version=current.version + 1)
        consequences(turn, current, upcoming)
        if upcoming.surge is None:
            turn.update(mention_card(upcoming, turn.settings, turn.templates, turn.now()))
        written = await turn.replace(to_record(verdict), current.version)
        if written.ok:
            return upcoming
    raise Busy("That mention is changing very fast; please try again in a moment.")


async def refuse(turn: Turn, refusal: Refusal, seen_version: int | None) -> None:
    mention = refusal.mention
    stale = seen_version is not None and seen_version != mention.version
    if stale and mention.surge is None:
        turn.update(mention_card(mention, turn.settings, turn.templates, turn.now()))
    if turn.event.actor.person_id == SYSTEM.person_id:
        return
    await turn.say(
        turn.render(
            "triage/refusal.txt",
            reason=refusal.reason,
            owner=rules_person(turn, mention.owner),
            resolver=rules_person(turn, mention.resolved_by),
            coaches=names(turn.settings, mention.escalation.to) if mention.escalation else "",
            stale=stale,
        ),
        tone=Tone.ATTENTION,
    )


def rules_person(turn: Turn, person_id: str | None) -> str:
    return person_name(turn.settings, person_id)


def subject(mention: Mention) -> str:
    return f"mention:{mention.key}"


# -- buttons -------------------------------------------------------------------


@router.action("triage.claim", permission=Permission.TRIAGE, doing="claim mentions")
async def on_claim(turn: Turn, action: Action) -> None:
    key, seen = parse_button_value(action.value)

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        for timer in rules.claim_timers(after, turn.settings):
            turn.schedule(timer)
        turn.audit("mention.claim", subject(after), version=after.version)

    claimed = await transition(
        turn, key, seen, lambda m: rules.claim(m, turn.actor, turn.now()), consequences
    )
    if claimed:
        await turn.say(
            turn.render("triage/done.txt", what="claimed", handle=claimed.author.handle),
            tone=Tone.GOOD,
        )


@router.action("triage.release", permission=Permission.TRIAGE, doing="release mentions")
async def on_release(turn: Turn, action: Action) -> None:
    key, seen = parse_button_value(action.value)

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        turn.cancel(*rules.claim_timer_keys(after))
        for timer in rules.sla_timers(after, turn.settings, turn.now()):
            turn.schedule(timer)
        turn.audit("mention.release", subject(after), previous_owner=before.owner)

    released = await transition(
        turn, key, seen, lambda m: rules.release(m, turn.actor, turn.now()), consequences
    )
    if released:
        spoke = turn.settings.spoke(released.enrichment.spoke).name
        await turn.say(
            turn.render(
                "triage/done.txt", what="released", handle=released.author.handle, spoke=spoke
            ),
            tone=Tone.GOOD,
        )


@router.action("triage.resolve", permission=Permission.TRIAGE, doing="resolve mentions")
async def on_resolve_clicked(turn: Turn, action: Action) -> None:
    key, seen = parse_button_value(action.value)
    mention = await load_mention(turn, key)
    verdict = rules.resolve(mention, turn.actor, turn.now(), Outcome.REPLIED, None)
    if isinstance(verdict, Refusal):
        await refuse(turn, verdict, seen)
        return
    await turn.open_form(
        Form(
            form_id="triage.resolve",
            title="Resolve mention",
            intro=turn.render("triage/resolve_form.txt", handle=mention.author.handle),
            inputs=(
                Input(
                    "outcome",
                    "Outcome",
                    InputKind.CHOICE,
                    required=True,
                    choices=tuple(Choice(o.value, o.label) for o in Outcome),
                    initial=Outcome.REPLIED.value,
                ),
                Input("note", "Note", InputKind.MULTILINE, max_length=500),
            ),
            submit_label="Resolve",
            context=button_value(mention),
            return_to=card_key(mention),
        )
    )


@router.form("triage.resolve", permission=Permission.TRIAGE, doing="resolve mentions")
async def on_resolve(turn: Turn, form: FormSubmitted) -> None:
    key, seen = parse_button_value(form.context)
    choice = form.values.get("outcome", "").strip()
    outcome = rules.OUTCOMES.get(choice)
    if outcome is None:
        allowed = ", ".join(rules.OUTCOMES)
        raise InvalidInput("outcome", f"choose one of {allowed}")
    note = form.values.get("note", "").strip()[:500] or None

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        turn.cancel(*rules.all_timer_keys(after))
        turn.audit("mention.resolve", subject(after), outcome=outcome.value, note=note)

    resolved = await transition(
        turn,
        key,
        seen,
        lambda m: rules.resolve(m, turn.actor, turn.now(), outcome, note),
        consequences,
    )
    if resolved:
        await turn.say(
            turn.render(
                "triage/done.txt",
                what="resolved",
                handle=resolved.author.handle,
                outcome=outcome.label,
            ),
            tone=Tone.GOOD,
        )


@router.action("triage.escalate", permission=Permission.TRIAGE, doing="escalate mentions")
async def on_escalate_clicked(turn: Turn, action: Action) -> None:
    key, _ = parse_button_value(action.value)
    mention = await load_mention(turn, key)
    coaches = turn.settings.coaches_for(mention.enrichment.spoke)
    await turn.open_form(
        Form(
            form_id="triage.escalate",
            title="Escalate to coach",
            intro=turn.render(
                "triage/escalate_form.txt",
                coaches=names(turn.settings, coaches),
                handle=mention.author.handle,
            ),
            inputs=(Input("reason", "Reason", InputKind.MULTILINE, required=True, max_length=500),),
            submit_label="Escalate",
            context=button_value(mention),
            return_to=card_key(mention),
        )
    )


@router.form("triage.escalate", permission=Permission.TRIAGE, doing="escalate mentions")
async def on_escalate(turn: Turn, form: FormSubmitted) -> None:
    key, seen = parse_button_value(form.context)
    reason = form.values.get("reason", "").strip()
    if not reason:
        raise InvalidInput("reason", "say why the coach is needed")
    reason = reason[:500]
    coaches: tuple[str, ...] = ()

    def change(m: Mention) -> Mention | Refusal:
        nonlocal coaches
        coaches = turn.settings.coaches_for(m.enrichment.spoke)
        return rules.escalate(m, turn.actor.person_id, turn.now(), reason, coaches)

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        notify_coaches(turn, after, "triage/escalated.txt", reason=reason, by_name=turn.actor.name)
        turn.audit("mention.escalate", subject(after), reason=reason, to=list(coaches))

    escalated = await transition(turn, key, seen, change, consequences)
    if escalated:
        await turn.say(
            turn.render(
                "triage/done.txt",
                what="escalated",
                handle=escalated.author.handle,
                coaches=names(turn.settings, coaches),
            ),
            tone=Tone.GOOD,
        )


def notify_coaches(turn: Turn, mention: Mention, template: str, **words: object) -> None:
    """Tell each coach of the mention's spoke, by DM, with the mention's actions
    (without "Escalate to coach": they are the coach)."""
    settings = turn.settings
    spoke_id = mention.enrichment.spoke
    spoke = settings.spoke(spoke_id).name
    own = settings.spoke(spoke_id).coaches if settings.has_spoke(spoke_id) else ()
    title_template = (
        "triage/escalated_title.txt"
        if template == "triage/escalated.txt"
        else "triage/breach_title.txt"
    )
    card = mention_card(mention, settings, turn.templates, turn.now())
    for coach in settings.coaches_for(spoke_id):
        text = turn.render(
            template, handle=mention.author.handle, spoke=spoke, own=coach in own, **words
        )
        turn.dm_copy(
            coach,
            Card(
                title=turn.render(title_template, spoke=spoke),
                badges=card.badges,
                blocks=(TextBlock(text, tone=Tone.ATTENTION), card.blocks[0]),
                fields=card.fields,
                buttons=card.buttons,
                overflow=tuple(b for b in card.overflow if b.action_id != "triage.escalate"),
                details=card.details,
                context=card.context,
                at=card.at,
                # The same key: the copy is updated in place with the card.
                card_key=card.card_key,
            ),
            priority=INTERACTIVE,
        )


@router.action(DETAILS_ACTION, doing="see a card's details")
async def on_details(turn: Turn, action: Action) -> None:
    """The Details view of a mention card (Slack and the console open it with a click)."""
    key = action.value.removeprefix("mention:")
    key, _ = parse_button_value(key)
    mention = await load_mention(turn, key)
    card = mention_card(mention, turn.settings, turn.templates, turn.now())
    await turn.reply(details_card(card), ephemeral=True)


@router.action("mention.refresh", doing="see a mention card")
async def on_refresh(turn: Turn, action: Action) -> None:
    """The mention's card again, for one person (Cancel on a Teams form)."""
    mention = await load_mention(turn, action.value.removeprefix("mention:"))
    await turn.reply(
        mention_card(mention, turn.settings, turn.templates, turn.now()), ephemeral=True
    )
