"""The crisis router and what every incident change shares: read, decide
with the pure rules, write with compare-and-set, and let the change's
consequences (pages due, the escalation timer, the card) ride on the write."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from bot.core.cards import Card, Tone
from bot.core.errors import NotFound, NotPermitted, PlaycallerError
from bot.core.model import SYSTEM as SYSTEM_ACTOR
from bot.core.paging import PageAction
from bot.core.permissions import Permission, role_names
from bot.core.playbook import Playbook
from bot.core.router import Router
from bot.core.storage import Timer
from bot.core.text import single_line
from bot.core.turn import INTERACTIVE, Turn
from handlers.crisis import escalation, reminders, rooms, rules
from handlers.crisis.cards import (
    incident_card,
    page_card,
    playbook_title,
    roles_asked,
)
from handlers.crisis.incident import Incident, parse_incident_id
from handlers.crisis.pages import (
    CHAT,
    PAGERDUTY,
    incident_page,
    person_channels,
    person_page,
    uses_pagerduty,
)
from handlers.crisis.records import KIND, from_record, to_record
from handlers.crisis.rules import Refusal

router = Router("crisis")

ESCALATION_TIMER = "crisis.escalate"
PUBLISHING_TIMER = "crisis.publishing"
# The inline path follows a pause or resume at once; its backstop waits this long.
PUBLISHING_BACKSTOP = timedelta(seconds=30)
# A handful of rereads settles any realistic race; past that something is wrong.
MAX_CAS_ATTEMPTS = 5

Change = Callable[[Incident], Incident | Refusal]
Consequences = Callable[[Turn, Incident, Incident], None]


class Busy(PlaycallerError):
    """The incident kept changing under us."""


def subject(incident_id: str) -> str:
    """The audit subject of an incident (its timeline in the audit log)."""
    return f"incident:{incident_id}"


def require(turn: Turn, permission: Permission, doing: str) -> None:
    """Refuse with the roles named unless the actor may."""
    if not turn.actor.may(permission):
        raise NotPermitted(doing, role_names(turn.settings.permissions, permission))


async def load_incident(turn: Turn, incident_id: str) -> Incident:
    number = parse_incident_id(incident_id)
    record = await turn.store.get(KIND, f"CR-{number}") if number else None
    if record is None:
        raise NotFound(
            f"There is no incident {single_line(incident_id, 40)}. "
            "/crisis list shows the open ones."
        )
    return from_record(record)


async def open_incidents(turn: Turn) -> list[Incident]:
    return [from_record(r) for r in await turn.store.find(KIND, "open")]


def playbook_for(turn: Turn, incident: Incident) -> Playbook | None:
    return turn.playbooks.get(incident.playbook)


def title_of(turn: Turn, incident: Incident) -> str:
    return f"{incident.id} · {playbook_title(turn.playbooks, incident)}"


def card_for(turn: Turn, incident: Incident) -> Card:
    return incident_card(
        incident,
        title=title_of(turn, incident),
        settings=turn.settings,
        templates=turn.templates,
        now=turn.now(),
    )


def plan_for(turn: Turn, incident: Incident) -> escalation.EscalationPlan | None:
    playbook = playbook_for(turn, incident)
    if playbook is None:
        return None
    return escalation.plan(playbook, incident.id, incident.declared_at, turn.settings.people)


def with_due_pages(turn: Turn, incident: Incident) -> Incident:
    """``incident`` with every page due now recorded (and the escalation steps
    that fired); :func:`follow_up` sends what this recorded."""
    plan = plan_for(turn, incident)
    playbook = playbook_for(turn, incident)
    if plan is None or playbook is None or not incident.open:
        return incident
    now = turn.now()
    incident = reminders.with_due_reminder(playbook, incident, now)
    due = escalation.pages_due(plan, incident.acks(), incident.pages_sent, now)
    for step in escalation.steps_fired(due):
        fired = rules.record_escalation(incident, step, now)
        incident = fired if isinstance(fired, Incident) else incident
    for page in due:
        person = turn.settings.people.get(page.person)
        if person is None:
            continue
        channels = person_channels(person, turn.pagers)
        recorded = rules.record_page(
            incident,
            person=page.person,
            page_id=page.id,
            step=page.step,
            channels=channels,
            now=now,
        )
        incident = recorded if isinstance(recorded, Incident) else incident
    return incident


_PAGE_ID = re.compile(r"^(?P<person>.+):s(?P<step>\d+):(?P<kind>[rm])(?P<n>\d+)$")


def parse_page_id(incident_id: str, page_id: str) -> tuple[str, int, int] | None:
    """``CR-4:sam:s1:r0`` -> ("sam", 1, 0); a page the lead sent by hand
    (``CR-4:lee:s0:m1``) -> ("lee", 0, 0); None for other sent ids (reminders)."""
    if not page_id.startswith(f"{incident_id}:"):
        return None
    match = _PAGE_ID.match(page_id.removeprefix(f"{incident_id}:"))
    if match is None:
        return None
    repeat = int(match["n"]) if match["kind"] == "r" else 0
    return match["person"], int(match["step"]), repeat


def manual_page_id(incident: Incident, person: str) -> str:
    """The id of the next page the lead sends ``person`` by hand; escalation
    never sends these ids, so a hand page neither counts as one of its pages
    nor stops one."""
    sent = sum(1 for p in incident.pages_sent if p.startswith(f"{incident.id}:{person}:s0:m"))
    return f"{incident.id}:{person}:s0:m{sent + 1}"


def follow_up(turn: Turn, before: Incident, after: Incident, *, update_card: bool = True) -> None:
    """What any change brings with it: the pages it recorded go out, the page
    cards of people who acknowledged show it, the escalation timer is set for
    the next page due (or cancelled), and the incident card is updated."""
    plan = plan_for(turn, after)
    title = title_of(turn, after)
    for page_id in after.pages_sent:
        if page_id in before.pages_sent:
            continue
        parsed = parse_page_id(after.id, page_id)
        if parsed is None:
            continue
        person, step, repeat = parsed
        turn.audit("incident.paged", subject(after.id), person=person, step=step, repeat=repeat)
        if person in after.acks():
            continue  # (the declarer, acknowledged as they declared)
        _page_beyond_chat(
            turn,
            after,
            escalation.DuePage(after.id, person, step, repeat, turn.now()),
            page_id,
            title,
        )
        turn.dm(
            person,
            page_card(
                after,
                page_id=page_id,
                person=person,
                step=step,
                repeat=repeat,
                roles=roles_asked(plan, person, step) if plan else "",
                title=title,
                settings=turn.settings,
                templates=turn.templates,
            ),
            priority=INTERACTIVE,
        )
    acked_before = before.acks()
    for person in after.acks():
        if person not in acked_before:
            refresh_pages(turn, after, person)
    _pagerduty(turn, before, after, plan)
    reminders.send_reminders(turn, before, after, title)
    timer_key = f"{ESCALATION_TIMER}:{after.id}"
    playbook = playbook_for(turn, after)
    candidates = (
        [
            escalation.next_due(plan, after.acks(), after.pages_sent),
            reminders.next_reminder(playbook, after),
        ]
        if plan is not None and playbook is not None and after.open
        else []
    )
    due = min((c for c in candidates if c is not None), default=None)
    if due is None:
        turn.cancel(timer_key)
    else:
        turn.schedule(Timer(timer_key, ESCALATION_TIMER, due, {"incident": after.id}))
    _publishing_backstop(turn, before, after)
    rooms.invite_newcomers(turn, before, after)
    if update_card:
        turn.update(card_for(turn, after))


def publishing_timer_key(incident: Incident) -> str:
    return f"{PUBLISHING_TIMER}:{incident.id}:{incident.version}"


def _publishing_backstop(turn: Turn, before: Incident, after: Incident) -> None:
    """A change of the publishing pause carries a timer that makes approvals
    follow it if the inline path (``statements.sync_publishing``) dies."""
    starts = before.version == 0 and after.publishing_paused
    changes = before.version > 0 and before.publishing_paused != after.publishing_paused
    if starts or changes:
        turn.schedule(
            Timer(
                publishing_timer_key(after),
                PUBLISHING_TIMER,
                turn.now() + PUBLISHING_BACKSTOP,
                {"incident": after.id},
            )
        )


def refresh_pages(turn: Turn, incident: Incident, person: str) -> None:
    """Show ``person``'s page cards as they are now (acknowledged, or without
    the button once resolved). The declarer was never sent one."""
    if person == incident.declared_by:
        return
    title = title_of(turn, incident)
    for page_id in incident.pages_sent:
        parsed = parse_page_id(incident.id, page_id)
        if parsed is None or parsed[0] != person:
            continue
        turn.update(
            page_card(
                incident,
                page_id=page_id,
                person=person,
                step=parsed[1],
                repeat=parsed[2],
                roles="",
                title=title,
                settings=turn.settings,
                templates=turn.templates,
            )
        )


def _page_beyond_chat(
    turn: Turn, incident: Incident, due: escalation.DuePage, page_id: str, title: str
) -> None:
    """E-mail and the page webhook, where configured, for one person's page."""
    person = turn.settings.people.get(due.person)
    if person is None:
        return
    for channel in person_channels(person, turn.pagers):
        if channel == CHAT:
            continue
        page = person_page(
            incident,
            due,
            person,
            channel,
            title=title,
            templates=turn.templates,
            room_url=None,
            now=turn.now(),
        )
        # (Keyed by the page's own id: a page sent by hand is not an escalation page.)
        turn.page(replace(page, key=f"{page_id}:{channel}"), channel)


def _pagerduty(
    turn: Turn, before: Incident, after: Incident, plan: escalation.EscalationPlan | None
) -> None:
    """One PagerDuty alert per incident (dedup_key = the incident id):
    triggered on declaration, acknowledged once everyone required has
    acknowledged (escalation stops there too), resolved on resolve."""
    playbook = playbook_for(turn, after)
    if playbook is None or plan is None or not uses_pagerduty(playbook, turn.pagers):
        return
    action = None
    if before.version == 0:
        action = PageAction.TRIGGER
    elif before.open and not after.open:
        action = PageAction.RESOLVE
    elif escalation.satisfied(plan, after.acks()) and not escalation.satisfied(plan, before.acks()):
        action = PageAction.ACKNOWLEDGE
    if action is None:
        return
    page = incident_page(after, action, templates=turn.templates, room_url=None, now=turn.now())
    turn.page(page, PAGERDUTY)


async def transition(
    turn: Turn,
    incident_id: str,
    change: Change,
    consequences: Consequences | None = None,
    seen_version: int | None = None,
    *,
    read: Incident | None = None,
) -> Incident | None:
    """Read, decide, write with compare-and-set; reread and decide again on a
    race. Returns the stored incident, or None when the change was refused
    (the actor has been told why). ``read``: the incident as the caller just
    read it, used for the first attempt instead of reading it again."""
    for _ in range(MAX_CAS_ATTEMPTS):
        current = read if read is not None else await load_incident(turn, incident_id)
        read = None
        verdict = change(current)
        if isinstance(verdict, Refusal):
            await refuse(turn, verdict, seen_version)
            return None
        upcoming = replace(verdict, version=current.version + 1)
        follow_up(turn, current, upcoming)
        if consequences is not None:
            consequences(turn, current, upcoming)
        written = await turn.replace(to_record(verdict), current.version)
        if written.ok:
            return upcoming
    raise Busy("That incident is changing very fast; please try again in a moment.")


async def refuse(turn: Turn, refusal: Refusal, seen_version: int | None) -> None:
    incident = refusal.incident
    stale = seen_version is not None and seen_version != incident.version
    if stale:
        turn.update(card_for(turn, incident))
    if turn.actor.person_id == SYSTEM_ACTOR.person_id:
        return
    await turn.say(
        turn.render("crisis/refusal.txt", reason=refusal.reason, incident=incident.id),
        tone=Tone.ATTENTION,
    )
