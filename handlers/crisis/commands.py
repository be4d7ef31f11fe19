"""``/crisis``: declare (a form, or the words), list, and run an incident.

``/crisis`` alone opens the declare form (inside an incident's room it shows
that incident's card); ``/crisis PLAYBOOK`` the form for that playbook;
``/crisis PLAYBOOK name=value ... SUMMARY`` declares at once. Commands about
an incident take its id first (``/crisis CR-4 resolve``); without one they
act on the incident whose room they are typed in, else the only open one.
"""

from __future__ import annotations

import shlex

from bot.core.cards import Tone
from bot.core.errors import InvalidInput
from bot.core.events import Command, FormSubmitted
from bot.core.permissions import Permission
from bot.core.playbook import Severity
from bot.core.text import single_line
from bot.core.turn import Turn
from handlers.crisis import actions, raising, rooms, rules, statements
from handlers.crisis.cards import list_card, person_name, timeline_card
from handlers.crisis.declare import (
    chosen_severity,
    declare,
    declare_form,
    form_variables,
    playbook_named,
)
from handlers.crisis.flow import (
    card_for,
    load_incident,
    open_incidents,
    require,
    router,
    subject,
    title_of,
    transition,
)
from handlers.crisis.incident import Incident, parse_incident_id

DECLARING = "declare a crisis (anyone can /crisis raise WHAT IS HAPPENING to alert them)"
RUNNING = "run an incident"
FOLLOWING = "follow an incident"
INCIDENT_VERBS = (
    "status",
    "resolve",
    "mitigated",
    "severity",
    "lead",
    "note",
    "add",
    "timeline",
    "pause",
    "resume",
)


@router.command(
    "crisis",
    doing="declare a crisis from a playbook, or follow one",
    usage="/crisis [PLAYBOOK | list | CR-N ...]",
)
async def on_crisis(turn: Turn, command: Command) -> None:
    text = command.text.strip()
    first, _, rest = text.partition(" ")
    verb = first.lower()
    if not text:
        here = await rooms.incident_here(turn)
        if here is not None:
            await _about(turn, here, "")
            return
        require(turn, Permission.DECLARE_CRISIS, DECLARING)
        await turn.open_form(declare_form(turn, None))
    elif verb == "list":
        require(turn, Permission.CRISIS, FOLLOWING)
        incidents = await open_incidents(turn)
        titles = {i.id: title_of(turn, i) for i in incidents}
        await turn.reply(list_card(incidents, titles, turn.now()), ephemeral=True)
    elif verb == "raise":
        require(turn, Permission.RAISE_CRISIS, "raise a possible crisis")
        await raising.raise_situation(turn, rest)
    elif verb == "help":
        await turn.say(turn.render("crisis/usage.txt"))
    elif parse_incident_id(first) is not None:
        await _about(turn, await load_incident(turn, first), rest.strip())
    elif verb in INCIDENT_VERBS:
        await _about(turn, await _the_open_incident(turn), text)
    else:
        require(turn, Permission.DECLARE_CRISIS, DECLARING)
        await _declare_from_words(turn, text)


async def _declare_from_words(turn: Turn, text: str) -> None:
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise InvalidInput("text", f"check the quotes ({error})") from error
    playbook = playbook_named(turn, words[0])
    variables: dict[str, str] = {}
    rest = words[1:]
    while rest and "=" in rest[0] and not rest[0].startswith("="):
        name, _, value = rest.pop(0).partition("=")
        variables[name.strip().lower()] = value
    if not rest:
        if variables:
            raise InvalidInput("summary", "say in one line what is happening, after the variables")
        await turn.open_form(declare_form(turn, playbook))
        return
    incident = await declare(
        turn, playbook, summary=" ".join(rest), variables=variables, severity=None
    )
    if incident is not None:
        await _declared(turn, incident)


@router.form("crisis.declare", permission=Permission.DECLARE_CRISIS, doing=DECLARING)
async def on_declare(turn: Turn, form: FormSubmitted) -> None:
    raised = (
        form.context.removeprefix(raising.RAISE_CONTEXT)
        if form.context.startswith(raising.RAISE_CONTEXT)
        else None
    )
    chosen = form.values.get("playbook", "") if raised else form.context
    playbook = playbook_named(turn, chosen or form.values.get("playbook", ""))
    incident = await declare(
        turn,
        playbook,
        summary=form.values.get("summary", ""),
        variables=form_variables(playbook, form.values),
        severity=chosen_severity(form.values.get("severity", "")),
    )
    if incident is not None:
        await _declared(turn, incident)
        if raised:
            await raising.decide(turn, raised, "declared", incident.id)


async def _declared(turn: Turn, incident: Incident) -> None:
    if incident.publishing_paused:  # the playbook's pause_publishing
        await statements.sync_publishing(turn, incident)
    await turn.say(
        turn.render(
            "crisis/declared.txt",
            incident=incident.id,
            title=title_of(turn, incident),
            paged=", ".join(
                person_name(turn.settings, p.person)
                for p in incident.paged
                if p.person != turn.actor.person_id
            ),
            hub=turn.settings.hub.name,
            room=_room_name(turn, incident),
        ),
        tone=Tone.GOOD,
    )


def _room_name(turn: Turn, incident: Incident) -> str:
    """The room's channel as the declarer's platform shows it (Slack only)."""
    if turn.event.platform != "slack":
        return ""
    name = rooms.spec_for(turn, incident, title_of(turn, incident)).name
    return f"#{name}" if name else ""


async def _the_open_incident(turn: Turn) -> Incident:
    incidents = await open_incidents(turn)
    here = await rooms.incident_here(turn, incidents)
    if here is not None:
        return here
    if len(incidents) == 1:
        return incidents[0]
    if not incidents:
        raise InvalidInput("incident", "no incident is open; name one, e.g. /crisis CR-4 timeline")
    ids = ", ".join(i.id for i in incidents)
    raise InvalidInput(
        "incident", f"{ids} are open: say which, e.g. /crisis {incidents[0].id} status"
    )


async def _about(turn: Turn, incident: Incident, text: str) -> None:
    verb, _, rest = text.partition(" ")
    verb, rest = verb.lower(), rest.strip()
    if verb in ("", "status"):
        require(turn, Permission.CRISIS, FOLLOWING)
        await turn.reply(card_for(turn, incident), ephemeral=True)
    elif verb == "timeline":
        require(turn, Permission.CRISIS, FOLLOWING)
        await turn.reply(
            timeline_card(incident, title_of(turn, incident), turn.settings, turn.templates),
            ephemeral=True,
        )
    elif verb == "resolve":
        await actions.resolve(turn, incident.id, None)
    elif verb == "mitigated":
        await actions.mitigate(turn, incident.id, None)
    elif verb == "note":
        require(turn, Permission.CRISIS, FOLLOWING)
        await _note(turn, incident.id, rest)
    elif verb == "add":
        require(turn, Permission.CRISIS, FOLLOWING)
        await _add(turn, incident.id, rest)
    elif verb == "severity":
        require(turn, Permission.RUN_CRISIS, RUNNING)
        await _severity(turn, incident.id, rest)
    elif verb == "lead":
        require(turn, Permission.RUN_CRISIS, RUNNING)
        await _lead(turn, incident.id, rest)
    elif verb in ("pause", "resume"):
        await statements.pause_command(turn, incident.id, paused=verb == "pause")
    else:
        raise InvalidInput("text", turn.render("crisis/usage.txt"))


async def _note(turn: Turn, incident_id: str, text: str) -> None:
    actor, now = turn.actor.person_id, turn.now()

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit("incident.note", subject(after.id), text=text)

    done = await transition(
        turn, incident_id, lambda i: rules.add_note(i, text, actor, now), audited
    )
    if done:
        await turn.say(
            turn.render("crisis/done.txt", what="note", incident=done.id), tone=Tone.GOOD
        )


async def _add(turn: Turn, incident_id: str, text: str) -> None:
    actor, now = turn.actor.person_id, turn.now()

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit("incident.checklist_added", subject(after.id), text=after.checklist[-1].text)

    done = await transition(
        turn, incident_id, lambda i: rules.add_item(i, text, actor, now), audited
    )
    if done:
        await turn.say(
            turn.render("crisis/done.txt", what="add", incident=done.id, item=len(done.checklist)),
            tone=Tone.GOOD,
        )


async def _severity(turn: Turn, incident_id: str, text: str) -> None:
    try:
        severity = Severity(text.strip().lower())
    except ValueError:
        raise InvalidInput("severity", "choose sev1, sev2 or sev3") from None
    actor, now = turn.actor.person_id, turn.now()

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit(
            "incident.severity",
            subject(after.id),
            before=before.severity.value,
            after=severity.value,
        )

    done = await transition(
        turn, incident_id, lambda i: rules.set_severity(i, severity, actor, now), audited
    )
    if done:
        await turn.say(
            turn.render("crisis/done.txt", what="severity", incident=done.id, severity=severity),
            tone=Tone.GOOD,
        )


async def _lead(turn: Turn, incident_id: str, text: str) -> None:
    wanted = text.strip().lstrip("@").lower()
    person = turn.settings.people.get(wanted) or turn.settings.person_by_email(wanted)
    if person is None:
        raise InvalidInput("lead", f"{single_line(text, 60)!r} is nobody in the config")
    actor, now = turn.actor.person_id, turn.now()

    def audited(turn: Turn, before: Incident, after: Incident) -> None:
        turn.audit("incident.lead", subject(after.id), before=before.lead, after=person.id)

    done = await transition(
        turn, incident_id, lambda i: rules.set_lead(i, person.id, actor, now), audited
    )
    if done:
        await turn.say(
            turn.render("crisis/done.txt", what="lead", incident=done.id, name=person.name),
            tone=Tone.GOOD,
        )
