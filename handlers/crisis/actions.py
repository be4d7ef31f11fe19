"""Buttons on crisis cards (Acknowledge, Done, Mitigated, Resolve, Timeline,
Show), resolving with its summary, and the escalation timer."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.core.cards import Choice, Form, Input, InputKind, Tone
from bot.core.errors import InvalidInput
from bot.core.events import Action, FormSubmitted, TimerFired
from bot.core.permissions import Permission
from bot.core.turn import ROUTINE, Turn
from handlers.crisis import rooms, rules
from handlers.crisis.cards import (
    card_key,
    parse_button_value,
    timeline_card,
)
from handlers.crisis.flow import (
    card_for,
    follow_up,
    load_incident,
    manual_page_id,
    plan_for,
    refresh_pages,
    require,
    router,
    subject,
    title_of,
    transition,
    with_due_pages,
)
from handlers.crisis.incident import Incident
from handlers.crisis.pages import person_channels
from handlers.crisis.statements import sync_publishing
from handlers.crisis.summary_card import summary_card, summary_key

log = logging.getLogger(__name__)
RUNNING = "run an incident"
FOLLOWING = "follow an incident"


@router.action("crisis.ack", doing="acknowledge a page")
async def on_acknowledge(turn: Turn, action: Action) -> None:
    """One click: the person paged acknowledges (once, whoever clicks twice)."""
    incident_id, _, _ = parse_button_value(action.value)
    person, now = turn.actor.person_id, turn.now()

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit("incident.acknowledged", subject(after.id))

    done = await transition(turn, incident_id, lambda i: rules.acknowledge(i, person, now), audited)
    if done:
        await turn.say(turn.render("crisis/done.txt", what="ack", incident=done.id), tone=Tone.GOOD)


@router.action("crisis.done", permission=Permission.CRISIS, doing="tick a checklist item")
async def on_done(turn: Turn, action: Action) -> None:
    incident_id, extra, seen = parse_button_value(action.value)
    if not extra or not extra[0].isdigit():
        raise InvalidInput("item", "that button names no checklist item")
    number = int(extra[0])
    actor, now = turn.actor.person_id, turn.now()

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit("incident.checklist_done", subject(after.id), item=number)

    done = await transition(
        turn, incident_id, lambda i: rules.complete_item(i, number - 1, actor, now), audited, seen
    )
    if done:
        await turn.say(
            turn.render(
                "crisis/done.txt",
                what="item",
                incident=done.id,
                item=number,
                left=sum(1 for item in done.checklist if not item.done),
            ),
            tone=Tone.GOOD,
        )


@router.action("crisis.mitigated", permission=Permission.RUN_CRISIS, doing=RUNNING)
async def on_mitigated(turn: Turn, action: Action) -> None:
    incident_id, _, seen = parse_button_value(action.value)
    await mitigate(turn, incident_id, seen)


@router.action("crisis.resolve", permission=Permission.RUN_CRISIS, doing=RUNNING)
async def on_resolve(turn: Turn, action: Action) -> None:
    incident_id, _, seen = parse_button_value(action.value)
    await resolve(turn, incident_id, seen)


async def mitigate(turn: Turn, incident_id: str, seen: int | None) -> None:
    require(turn, Permission.RUN_CRISIS, RUNNING)
    actor, now = turn.actor.person_id, turn.now()

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit("incident.mitigated", subject(after.id))

    done = await transition(
        turn, incident_id, lambda i: rules.mitigate(i, actor, now), audited, seen
    )
    if done:
        await turn.say(
            turn.render("crisis/done.txt", what="mitigated", incident=done.id), tone=Tone.GOOD
        )


async def resolve(turn: Turn, incident_id: str, seen: int | None) -> None:
    """Resolve: escalation stops, unanswered pages lose their button, and the
    post-incident summary is posted in the incident's room (under its card
    where the room is the card's thread, or where no room was opened)."""
    require(turn, Permission.RUN_CRISIS, RUNNING)
    actor, now = turn.actor.person_id, turn.now()
    room = await rooms.where(turn, incident_id)

    was_paused = False

    def consequences(turn: Turn, before: Incident, after: Incident) -> None:
        nonlocal was_paused
        was_paused = before.publishing_paused
        turn.audit("incident.resolved", subject(after.id))
        title = title_of(turn, after)
        for paged in after.paged:
            if paged.acked_at is None:
                refresh_pages(turn, after, paged.person)
        summary = summary_card(after, title=title, settings=turn.settings, templates=turn.templates)
        if room is not None:
            rooms.post(turn, after.id, summary, priority=ROUTINE)
            if room != "thread" and turn.settings.crisis_rooms.archive_on_resolve:
                # Once the summary is in it: the room's work is done (a room
                # still opening then runs in the incident card's thread).
                turn.archive_room(
                    after.id, after_card_key=summary_key(after), cards=[card_key(after)]
                )
        else:
            turn.reply_in_thread(card_key(after), summary)

    done = await transition(
        turn, incident_id, lambda i: rules.resolve(i, actor, now), consequences, seen
    )
    if done and was_paused:
        # Resolving ends the pause: approvals lets the held posts go.
        await sync_publishing(turn, done)
    if done:
        await turn.say(
            turn.render("crisis/done.txt", what="resolved", incident=done.id, room=room),
            tone=Tone.GOOD,
        )


@router.timer(rooms.OPENED)
async def on_room_opened(turn: Turn, timer: TimerFired) -> None:
    """The room is open: where it is a channel of its own, the incident card
    links to it (on every later update too)."""
    channel = rooms.channel_of(timer.payload.get("place"))
    incident_id = timer.payload.get("room")
    if channel is None or not isinstance(incident_id, str):
        return
    room_channel, room_name = channel

    def linked(incident: Incident) -> Incident | rules.Refusal:
        if (incident.room_channel, incident.room_name) == channel:
            return rules.Refusal("unchanged", incident)
        return replace(incident, room_channel=room_channel, room_name=room_name)

    await transition(turn, incident_id, linked)


@router.action("crisis.timeline", permission=Permission.CRISIS, doing=FOLLOWING)
async def on_timeline(turn: Turn, action: Action) -> None:
    incident = await load_incident(turn, parse_button_value(action.value)[0])
    await turn.reply(
        timeline_card(incident, title_of(turn, incident), turn.settings, turn.templates),
        ephemeral=True,
    )


@router.action("crisis.show", permission=Permission.CRISIS, doing=FOLLOWING)
async def on_show(turn: Turn, action: Action) -> None:
    incident = await load_incident(turn, parse_button_value(action.value)[0])
    await turn.reply(card_for(turn, incident), ephemeral=True)


@router.action("incident.refresh", doing="see an incident card")
async def on_refresh(turn: Turn, action: Action) -> None:
    """The incident's card again, for one person (Cancel on a Teams form)."""
    incident = await load_incident(turn, action.value.removeprefix("incident:"))
    await turn.reply(card_for(turn, incident), ephemeral=True)


@router.timer("crisis.escalate")
async def on_escalation_due(turn: Turn, timer: TimerFired) -> None:
    """Pages that fell due: reminders to whoever has not acknowledged and the
    next escalation step. Each page id is recorded with the send, so a timer
    that fires again (a crash, a second process) pages nobody twice."""
    incident_id = timer.payload.get("incident")
    if not isinstance(incident_id, str):
        log.warning("escalation timer %s names no incident", timer.key)
        return
    incident = await load_incident(turn, incident_id)
    if plan_for(turn, incident) is None:
        log.warning("%s: playbook %s is no longer loaded", incident.id, incident.playbook)
        return

    def due(current: Incident) -> Incident | rules.Refusal:
        paged = with_due_pages(turn, current)
        return paged if paged != current else rules.Refusal("nothing_due", current)

    if await transition(turn, incident_id, due, read=incident) is None:
        # Nothing was due (an acknowledgement came first): set the timer for
        # whatever is next, if anything; the flush completes this one.
        current = await load_incident(turn, incident_id)
        follow_up(turn, current, current, update_card=False)


@router.action("crisis.page", permission=Permission.RUN_CRISIS, doing=RUNNING)
async def on_page_clicked(turn: Turn, action: Action) -> None:
    """**Page someone**: the lead pages a person the playbook did not name."""
    incident = await load_incident(turn, parse_button_value(action.value)[0])
    if not incident.open:
        await turn.say(
            turn.render("crisis/refusal.txt", reason="already_resolved", incident=incident.id),
            tone=Tone.ATTENTION,
        )
        return
    waiting = {p.person for p in incident.paged if p.acked_at is None}
    people = [p for p in turn.settings.people.values() if p.id not in incident.acks()]
    await turn.open_form(
        Form(
            form_id="crisis.page",
            title=f"Page someone for {incident.id}",
            intro=turn.render("crisis/page_form.txt", incident=incident.id),
            inputs=(
                Input(
                    "person",
                    "Who",
                    InputKind.CHOICE,
                    required=True,
                    choices=tuple(
                        Choice(p.id, f"{p.name} (paged, waiting)" if p.id in waiting else p.name)
                        for p in people
                    ),
                ),
            ),
            submit_label="Page",
            context=incident.id,
            return_to=card_key(incident),
        )
    )


@router.form("crisis.page", permission=Permission.RUN_CRISIS, doing=RUNNING)
async def on_page(turn: Turn, form: FormSubmitted) -> None:
    person = turn.settings.people.get(form.values.get("person", "").strip())
    if person is None:
        raise InvalidInput("person", "choose someone from the list")
    now = turn.now()

    def page(incident: Incident) -> Incident | rules.Refusal:
        if person.id in incident.acks():
            return rules.Refusal("already_acknowledged_other", incident)
        return rules.record_page(
            incident,
            person=person.id,
            page_id=manual_page_id(incident, person.id),
            step=0,
            channels=person_channels(person, turn.pagers),
            now=now,
        )

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit("incident.paged_by_hand", subject(after.id), person=person.id)

    done = await transition(turn, form.context, page, audited)
    if done:
        await turn.say(
            turn.render("crisis/done.txt", what="paged", incident=done.id, name=person.name),
            tone=Tone.GOOD,
        )
