"""Declaring an incident: the form, the numbering and the declare race.

One counter record holds the next incident number and, per playbook, the
incident declared from it in the last :data:`DECLARE_WINDOW`. Taking a
number is a compare-and-set on that record, so two leads declaring the same
playbook at once (or one person's double submit) get one incident: the
second is told which one. After the window a second incident of the same
playbook may be declared (two different outages are two incidents).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.cards import Choice, Form, Input, InputKind, Tone
from bot.core.errors import InvalidInput
from bot.core.playbook import Playbook, Severity, StatementError
from bot.core.storage import Record
from bot.core.text import single_line
from bot.core.turn import INTERACTIVE, Turn
from handlers.crisis import rooms, rules
from handlers.crisis.cards import person_name
from handlers.crisis.flow import (
    MAX_CAS_ATTEMPTS,
    Busy,
    card_for,
    follow_up,
    subject,
    title_of,
    with_due_pages,
)
from handlers.crisis.incident import Incident
from handlers.crisis.records import KIND, from_record, to_record

COUNTER_KIND = "crisis_counter"
COUNTER_KEY = "incidents"
DECLARE_WINDOW = timedelta(minutes=10)
# A number taken by a process that died before storing its incident is given
# up after this long (the inbox hands the request to another process sooner).
RESERVATION_PATIENCE = timedelta(minutes=2)
DEFAULT_SEVERITY = "default"
VARIABLE_PREFIX = "var_"


def declare_form(turn: Turn, playbook: Playbook | None) -> Form:
    """What a playbook asks: the summary, the severity and its variables.

    Without a chosen playbook the form offers every playbook and every
    variable any of them uses; the submission keeps the chosen playbook's."""
    playbooks = [playbook] if playbook else list(turn.playbooks.values())
    inputs: list[Input] = []
    if playbook is None:
        inputs.append(
            Input(
                "playbook",
                "Playbook",
                InputKind.CHOICE,
                required=True,
                choices=tuple(Choice(p.id, p.title) for p in playbooks),
            )
        )
    inputs.append(
        Input(
            "summary",
            "What is happening, in one line",
            required=True,
            max_length=rules.MAX_SUMMARY,
        )
    )
    inputs.append(
        Input(
            "severity",
            "Severity",
            InputKind.CHOICE,
            required=True,
            choices=(
                Choice(DEFAULT_SEVERITY, "As the playbook says"),
                *(Choice(s.value, s.value.upper()) for s in Severity),
            ),
            initial=DEFAULT_SEVERITY,
        )
    )
    seen: set[str] = set()
    for each in playbooks:
        for variable in each.variables:
            if variable.name in seen:
                continue
            seen.add(variable.name)
            inputs.append(
                Input(
                    VARIABLE_PREFIX + variable.name,
                    single_line(variable.description, 150),
                    placeholder=variable.example or "",
                    max_length=rules.MAX_VARIABLE,
                )
            )
    return Form(
        form_id="crisis.declare",
        title="Declare a crisis",
        intro=turn.render(
            "crisis/declare_form.txt",
            title=playbook.title if playbook else "",
            count=len(playbooks),
        ),
        inputs=tuple(inputs),
        submit_label="Declare",
        context=playbook.id if playbook else "",
    )


def playbook_named(turn: Turn, name: str) -> Playbook:
    found = turn.playbooks.get(name.strip().lower())
    if found is None:
        offered = ", ".join(turn.playbooks) or "none are loaded"
        raise InvalidInput(
            "playbook", f"there is no playbook {single_line(name, 60)!r} ({offered})"
        )
    return found


def chosen_severity(value: str) -> Severity | None:
    cleaned = value.strip().lower()
    if cleaned in ("", DEFAULT_SEVERITY):
        return None
    try:
        return Severity(cleaned)
    except ValueError:
        raise InvalidInput("severity", "choose sev1, sev2 or sev3") from None


def form_variables(playbook: Playbook, values: dict[str, str]) -> dict[str, str]:
    """The chosen playbook's variables from a submission (others are ignored)."""
    found = {}
    for variable in playbook.variables:
        value = values.get(VARIABLE_PREFIX + variable.name, "").strip()
        if value:
            found[variable.name] = value
    return found


async def declare(
    turn: Turn,
    playbook: Playbook,
    *,
    summary: str,
    variables: dict[str, str],
    severity: Severity | None,
) -> Incident | None:
    """Declare an incident from ``playbook`` and page its people; None when
    the same playbook was declared moments ago (the actor is told which)."""
    now = turn.now()
    _check_declaration(turn, playbook, summary, variables, severity, now)
    for _ in range(MAX_CAS_ATTEMPTS):
        counter = await turn.store.get(COUNTER_KIND, COUNTER_KEY)
        data: dict[str, Any] = dict(counter.data) if counter else {"next": 1, "recent": {}}
        recent = {
            playbook_id: entry
            for playbook_id, entry in data["recent"].items()
            if datetime.fromisoformat(entry["at"]) > now - DECLARE_WINDOW
        }
        earlier = recent.get(playbook.id)
        if earlier is not None and await _still_current(turn, earlier, now):
            return None
        number = int(data["next"])
        recent[playbook.id] = {
            "incident": f"CR-{number}",
            "at": now.isoformat(),
            "by": turn.actor.person_id,
        }
        taken = Record(COUNTER_KIND, COUNTER_KEY, {"next": number + 1, "recent": recent})
        # The number is taken on its own; the incident and its effects (the
        # card, the pages, the timer, the audit) are written together next.
        written = await (
            turn.store.replace(taken, counter.version) if counter else turn.store.insert(taken)
        )
        if written.ok:
            return await _store_incident(turn, playbook, number, summary, variables, severity)
    raise Busy("Many incidents are being declared right now; please try again in a moment.")


def _check_declaration(
    turn: Turn,
    playbook: Playbook,
    summary: str,
    variables: dict[str, str],
    severity: Severity | None,
    now: datetime,
) -> Incident:
    """Everything wrong with the declaration, before a number is taken."""
    try:
        return rules.declare(
            1,
            playbook,
            summary=summary,
            lead=turn.actor.person_id,
            declared_by=turn.actor.person_id,
            variables=variables,
            accounts=turn.settings.accounts,
            renderer=turn.statements,
            now=now,
            severity=severity,
        )
    except StatementError as error:
        if error.missing:
            field = VARIABLE_PREFIX + error.missing[0]
            raise InvalidInput(
                field,
                turn.render(
                    "crisis/missing_variable.txt",
                    statement=error.statement_id,
                    missing=", ".join(error.missing),
                ),
            ) from error
        raise


async def _still_current(turn: Turn, earlier: dict[str, str], now: datetime) -> bool:
    """Tell the actor about an incident of the same playbook declared within
    the window; False when it is resolved or was never stored."""
    record = await turn.store.get(KIND, earlier["incident"])
    by = person_name(turn.settings, earlier.get("by"))
    if record is None:
        if now - datetime.fromisoformat(earlier["at"]) > RESERVATION_PATIENCE:
            return False
        await turn.say(
            turn.render("crisis/being_declared.txt", incident=earlier["incident"], by=by),
            tone=Tone.ATTENTION,
        )
        return True
    incident = from_record(record)
    if not incident.open:
        return False
    await turn.say(
        turn.render(
            "crisis/already_declared.txt",
            incident=incident.id,
            by=by,
            mine=earlier.get("by") == turn.actor.person_id,
            ago=now - incident.declared_at,
        ),
        tone=Tone.ATTENTION,
    )
    await turn.reply(card_for(turn, incident), ephemeral=True)
    return True


async def _store_incident(
    turn: Turn,
    playbook: Playbook,
    number: int,
    summary: str,
    variables: dict[str, str],
    severity: Severity | None,
) -> Incident:
    now = turn.now()
    declared = rules.declare(
        number,
        playbook,
        summary=summary,
        lead=turn.actor.person_id,
        declared_by=turn.actor.person_id,
        variables=variables,
        accounts=turn.settings.accounts,
        renderer=turn.statements,
        now=now,
        severity=severity,
    )
    paged = with_due_pages(turn, declared)
    # The person declaring knows already: their own page counts as acknowledged.
    acked = rules.acknowledge(paged, turn.actor.person_id, now)
    paged = acked if isinstance(acked, Incident) else paged
    stored = replace(paged, version=1)
    turn.audit(
        "incident.declared",
        subject(stored.id),
        playbook=playbook.id,
        severity=stored.severity.value,
        summary=stored.summary,
        variables=dict(stored.variables),
        room=rooms.spec_for(turn, stored, title_of(turn, stored)).name,
    )
    card = card_for(turn, stored)
    turn.post(turn.settings.hub.id, card, priority=INTERACTIVE)
    rooms.open_room(turn, stored, card, title_of(turn, stored))
    follow_up(turn, declared, stored, update_card=False)
    written = await turn.insert(to_record(paged))
    if not written.ok:
        raise Busy(f"{stored.id} exists already; please try again.")
    return stored
