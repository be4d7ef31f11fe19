"""Triage: mention cards, claims, resolution, escalation, SLA timers, /triage."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.core.cards import Button, ButtonStyle, Card, Choice, Form, Input, InputKind, TextBlock
from bot.core.errors import InvalidInput, NotFound, PlaycallerError
from bot.core.events import Action, Command, FormSubmitted, TimerFired
from bot.core.model import SYSTEM, Mention, MentionState, Outcome, Priority
from bot.core.permissions import Permission
from bot.core.router import Router
from bot.core.storage import Record
from bot.core.text import single_line, snippet
from bot.core.turn import BULK, INTERACTIVE, Turn
from handlers.triage import rules
from handlers.triage.cards import (
    button_value,
    card_key,
    mention_card,
    names,
    notice_card,
    parse_button_value,
    person_name,
    sla_text,
)
from handlers.triage.records import KIND, from_record, to_record
from handlers.triage.rules import Refusal

log = logging.getLogger(__name__)
router = Router("triage")

Change = Callable[[Mention], Mention | Refusal]
Consequences = Callable[[Turn, Mention, Mention], None]

# A handful of rereads settles any realistic race; past that something is wrong.
MAX_CAS_ATTEMPTS = 5
QUEUE_LIMIT = 10


class Busy(PlaycallerError):
    """The mention kept changing under us."""


async def admit(turn: Turn, mention: Mention) -> bool:
    """Store a new mention, post its card, start its SLA timers. False if a duplicate."""
    written = await turn.insert(admission(turn, mention))
    return written.ok


def admission(turn: Turn, mention: Mention) -> Record:
    """Buffer a new mention's card, SLA timers and audit entry on ``turn``; the
    record to insert with them (batched intake inserts many at once)."""
    stored = mention.evolve(version=1)
    turn.post(
        mention.enrichment.spoke,
        mention_card(stored, turn.settings, turn.templates, turn.now()),
        priority=BULK if mention.enrichment.priority.rank >= 2 else 1,
    )
    for timer in rules.sla_timers(stored, turn.settings, turn.now()):
        turn.schedule(timer)
    turn.audit(
        "mention.received",
        _subject(mention),
        spoke=mention.enrichment.spoke,
        priority=mention.enrichment.priority.value,
        rule=mention.enrichment.rule,
    )
    return to_record(mention)


async def _load(turn: Turn, key: str) -> Mention:
    record = await turn.store.get(KIND, key)
    if record is None:
        raise NotFound(f"I can't find mention {single_line(key, 80)}; it may have been removed.")
    return from_record(record)


async def _transition(
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
        current = await _load(turn, key)
        verdict = change(current)
        if isinstance(verdict, Refusal):
            await _refuse(turn, verdict, seen_version)
            return None
        upcoming = verdict.evolve(version=current.version + 1)
        consequences(turn, current, upcoming)
        turn.update(mention_card(upcoming, turn.settings, turn.templates, turn.now()))
        written = await turn.replace(to_record(verdict), current.version)
        if written.ok:
            return upcoming
    raise Busy("That mention is changing very fast; please try again in a moment.")


async def _refuse(turn: Turn, refusal: Refusal, seen_version: int | None) -> None:
    mention = refusal.mention
    stale = seen_version is not None and seen_version != mention.version
    if stale:
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
        )
    )


def rules_person(turn: Turn, person_id: str | None) -> str:
    return person_name(turn.settings, person_id)


def _subject(mention: Mention) -> str:
    return f"mention:{mention.key}"


# -- buttons -------------------------------------------------------------------


@router.action("triage.claim", permission=Permission.TRIAGE, doing="claim mentions")
async def on_claim(turn: Turn, action: Action) -> None:
    key, seen = parse_button_value(action.value)

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        for timer in rules.claim_timers(after, turn.settings):
            turn.schedule(timer)
        turn.audit("mention.claim", _subject(after), version=after.version)

    claimed = await _transition(
        turn, key, seen, lambda m: rules.claim(m, turn.actor, turn.now()), consequences
    )
    if claimed:
        await turn.say(turn.render("triage/done.txt", what="claimed", handle=claimed.author.handle))


@router.action("triage.release", permission=Permission.TRIAGE, doing="release mentions")
async def on_release(turn: Turn, action: Action) -> None:
    key, seen = parse_button_value(action.value)

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        turn.cancel(*rules.claim_timer_keys(after))
        for timer in rules.sla_timers(after, turn.settings, turn.now()):
            turn.schedule(timer)
        turn.audit("mention.release", _subject(after), previous_owner=before.owner)

    released = await _transition(
        turn, key, seen, lambda m: rules.release(m, turn.actor, turn.now()), consequences
    )
    if released:
        spoke = turn.settings.spoke(released.enrichment.spoke).name
        await turn.say(
            turn.render(
                "triage/done.txt", what="released", handle=released.author.handle, spoke=spoke
            )
        )


@router.action("triage.resolve", permission=Permission.TRIAGE, doing="resolve mentions")
async def on_resolve_clicked(turn: Turn, action: Action) -> None:
    key, seen = parse_button_value(action.value)
    mention = await _load(turn, key)
    verdict = rules.resolve(mention, turn.actor, turn.now(), Outcome.REPLIED, None)
    if isinstance(verdict, Refusal):
        await _refuse(turn, verdict, seen)
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
                Input("note", "Note (optional)", InputKind.MULTILINE, max_length=500),
            ),
            submit_label="Resolve",
            context=button_value(mention),
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
        turn.audit("mention.resolve", _subject(after), outcome=outcome.value, note=note)

    resolved = await _transition(
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
            )
        )


@router.action("triage.escalate", permission=Permission.TRIAGE, doing="escalate mentions")
async def on_escalate_clicked(turn: Turn, action: Action) -> None:
    key, _ = parse_button_value(action.value)
    mention = await _load(turn, key)
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
        _notify_coaches(turn, after, "triage/escalated.txt", reason=reason, by_name=turn.actor.name)
        turn.audit("mention.escalate", _subject(after), reason=reason, to=list(coaches))

    escalated = await _transition(turn, key, seen, change, consequences)
    if escalated:
        await turn.say(
            turn.render(
                "triage/done.txt",
                what="escalated",
                handle=escalated.author.handle,
                coaches=names(turn.settings, coaches),
            )
        )


def _notify_coaches(turn: Turn, mention: Mention, template: str, **words: object) -> None:
    spoke = turn.settings.spoke(mention.enrichment.spoke).name
    title_template = (
        "triage/escalated_title.txt"
        if template == "triage/escalated.txt"
        else "triage/breach_title.txt"
    )
    for coach in turn.settings.coaches_for(mention.enrichment.spoke):
        text = turn.render(template, handle=mention.author.handle, spoke=spoke, **words)
        card = mention_card(mention, turn.settings, turn.templates, turn.now())
        turn.dm(
            coach,
            Card(
                title=turn.render(title_template, spoke=spoke),
                blocks=(TextBlock(text), *card.blocks),
                fields=card.fields,
                buttons=card.buttons,
                context=card.context,
            ),
            priority=INTERACTIVE,
        )


# -- /triage -------------------------------------------------------------------


@router.command(
    "triage", permission=Permission.TRIAGE, doing="see the triage queue", usage="/triage [spoke]"
)
async def on_triage(turn: Turn, command: Command) -> None:
    settings = turn.settings
    wanted = command.text.strip().lower()
    if wanted:
        if not settings.has_spoke(wanted):
            known = ", ".join(s.id for s in settings.all_spokes())
            raise InvalidInput(
                "spoke", f"unknown spoke {single_line(wanted, 40)!r}; known: {known}"
            )
        spoke_id = wanted
    else:
        spoke_id = command.channel or (
            turn.actor.spokes[0] if turn.actor.spokes else settings.default_spoke
        )
    now = turn.now()
    mine = [
        m
        for m in (
            from_record(r) for r in await turn.store.find(KIND, f"owner:{turn.actor.person_id}")
        )
        if m.state is MentionState.CLAIMED
    ]
    waiting: list[Mention] = []
    more = False
    for priority in Priority:
        if len(waiting) > QUEUE_LIMIT:
            more = True
            break
        found = await turn.store.find(
            KIND, f"queue:{spoke_id}:open:{priority.value}", limit=QUEUE_LIMIT + 1 - len(waiting)
        )
        # Oldest first within a priority: the longest wait comes first.
        waiting += sorted((from_record(r) for r in found), key=lambda m: m.received_at)
    more = more or len(waiting) > QUEUE_LIMIT
    waiting = waiting[:QUEUE_LIMIT]
    spoke_name = settings.spoke(spoke_id).name

    def line(m: Mention) -> dict[str, str]:
        return {
            "key": m.key,
            "priority": m.enrichment.priority.value,
            "handle": m.author.handle,
            "sla": sla_text(m, settings, turn.templates, now),
            "snippet": snippet(m.text, 60),
        }

    await turn.reply(
        Card(
            title=turn.render("triage/queue_title.txt", spoke=spoke_name),
            blocks=(
                TextBlock(
                    turn.render(
                        "triage/queue.txt",
                        mine=[line(m) for m in mine],
                        waiting=[line(m) for m in waiting],
                        waiting_total=f"{QUEUE_LIMIT}+" if more else str(len(waiting)),
                        spoke=spoke_name,
                    )
                ),
            ),
            buttons=tuple(
                Button(f"Claim {n}", "triage.claim", button_value(m), ButtonStyle.PRIMARY)
                for n, m in enumerate(waiting[:5], start=1)
            ),
        ),
        ephemeral=True,
    )


# -- timers --------------------------------------------------------------------


@router.timer("triage.warn")
async def on_warn(turn: Turn, timer: TimerFired) -> None:
    mention = await _timer_mention(turn, timer)
    if mention is None or mention.state is not MentionState.OPEN:
        return
    now = turn.now()
    spoke = mention.enrichment.spoke
    text = turn.render(
        "triage/reminder.txt",
        priority=mention.enrichment.priority.value,
        handle=mention.author.handle,
        waited=now - mention.received_at,
        left=rules.sla_left(mention, turn.settings, now),
    )
    turn.reply_in_thread(
        card_key(mention), notice_card("Unclaimed mention", text, mention, claim=True)
    )
    turn.audit("mention.reminder", _subject(mention), spoke=spoke)


@router.timer("triage.breach")
async def on_breach(turn: Turn, timer: TimerFired) -> None:
    mention = await _timer_mention(turn, timer)
    if mention is None or mention.state is MentionState.RESOLVED:
        return
    now = turn.now()
    coaches = turn.settings.coaches_for(mention.enrichment.spoke)
    policy = turn.settings.sla[mention.enrichment.priority]

    def consequences(turn: Turn, before: Mention, after: Mention) -> None:
        _notify_coaches(
            turn,
            after,
            "triage/breach.txt",
            priority=after.enrichment.priority.value,
            state_words="still unclaimed"
            if after.state is MentionState.OPEN
            else f"claimed by {person_name(turn.settings, after.owner)} but unresolved",
            waited=now - after.received_at,
            target=policy.breach,
        )
        turn.audit("mention.breach", _subject(after), to=list(coaches))

    await _transition(
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
    mention = await _timer_mention(turn, timer)
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
    turn.dm(
        mention.owner, Card(title="Still on it?", blocks=(TextBlock(text),), buttons=card.buttons)
    )
    turn.audit("mention.nudge", _subject(mention), owner=mention.owner)


@router.timer("triage.idle")
async def on_idle(turn: Turn, timer: TimerFired) -> None:
    mention = await _timer_mention(turn, timer)
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
            turn.dm(owner, notice_card("Claim released", text))
        turn.audit(
            "mention.auto_release",
            _subject(after),
            previous_owner=owner,
            idle_seconds=int(idle.total_seconds()),
        )

    await _transition(
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


async def _timer_mention(turn: Turn, timer: TimerFired) -> Mention | None:
    key = timer.payload.get("key")
    if not isinstance(key, str):
        log.warning("timer %s has no mention key", timer.key)
        return None
    record = await turn.store.get(KIND, key)
    return from_record(record) if record else None
