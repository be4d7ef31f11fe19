"""Crisis cards: the incident card (updated in place), the page a person is
sent, the list of open incidents, the timeline and the summary. Structure
here, words from ``templates/crisis/``; everything people typed is plain text
that every renderer makes inert."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.core.cards import (
    Badge,
    BlockStyle,
    Button,
    ButtonStyle,
    Card,
    Field,
    Row,
    TextBlock,
    Tone,
    link,
)
from bot.core.playbook import Playbook, Severity
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.text import format_duration
from handlers.crisis.escalation import EscalationPlan
from handlers.crisis.incident import SYSTEM, Happened, Incident, IncidentState, Paged
from handlers.crisis.statement_card import pause_badge, pause_blocks, statement_rows

SEVERITY_TONES = {
    Severity.SEV1: Tone.ATTENTION,
    Severity.SEV2: Tone.WARNING,
    Severity.SEV3: Tone.ACCENT,
}
CHANNEL_WORDS = {"chat": "chat", "email": "e-mail", "webhook": "webhook", "pagerduty": "PagerDuty"}
# The timeline card shows the latest entries; the post-incident summary has all.
TIMELINE_ROWS = 30
_MINUTE = timedelta(minutes=1)


# Opens a Slack channel by its id in the reader's own workspace.
SLACK_CHANNEL = "https://slack.com/app_redirect?channel="


def card_key(incident: Incident) -> str:
    return f"incident:{incident.id}"


def page_key(page_id: str) -> str:
    """Each page DM has its own key (one message each), so an acknowledgement
    updates every page the person was sent."""
    return f"crisis-page:{page_id}"


def button_value(incident: Incident, *extra: object) -> str:
    """``CR-4|<extra>|<version>``: the incident, what on it, the version shown."""
    return "|".join([incident.id, *(str(e) for e in extra), str(incident.version)])


def parse_button_value(value: str) -> tuple[str, list[str], int | None]:
    """Inverse of :func:`button_value`: id, extras, version (None if absent)."""
    parts = value.split("|")
    incident_id, rest = parts[0], parts[1:]
    version = int(rest[-1]) if rest and rest[-1].isdigit() else None
    return incident_id, rest[:-1] if version is not None else rest, version


def person_name(settings: Settings, person_id: str | None) -> str:
    if person_id is None:
        return "nobody"
    if person_id == SYSTEM:
        return "Playcaller"
    person = settings.people.get(person_id)
    return person.name if person else person_id


def incident_title(incident: Incident, playbook_title: str) -> str:
    return f"{incident.id} · {playbook_title}"


def playbook_title(playbooks: Mapping[str, Playbook], incident: Incident) -> str:
    """The playbook's title (its id if the playbook file has since been removed)."""
    found = playbooks.get(incident.playbook)
    return found.title if found else incident.playbook


def incident_badges(incident: Incident, now: datetime) -> tuple[Badge, ...]:
    """Severity, state, acknowledgements, escalation, checklist, publishing."""
    badges = [Badge(incident.severity.value.upper(), SEVERITY_TONES[incident.severity])]
    if incident.state is IncidentState.RESOLVED:
        assert incident.resolved_at is not None
        took = format_duration(incident.resolved_at - incident.declared_at)
        badges.append(Badge(f"Resolved after {took}", Tone.GOOD))
    else:
        tone = Tone.WARNING if incident.state is IncidentState.MITIGATED else Tone.ATTENTION
        badges.append(Badge(incident.state.value.capitalize(), tone))
        acked = sum(1 for p in incident.paged if p.acked_at is not None)
        if incident.paged:
            all_in = acked == len(incident.paged)
            badges.append(
                Badge(
                    f"{acked} of {len(incident.paged)} acknowledged",
                    Tone.GOOD if all_in else Tone.WARNING,
                )
            )
        if any(e.what is Happened.ESCALATED for e in incident.timeline):
            badges.append(Badge("Escalated", Tone.ATTENTION))
    done = sum(1 for item in incident.checklist if item.done)
    badges.append(Badge(f"Checklist {done}/{len(incident.checklist)}", Tone.NEUTRAL))
    paused = pause_badge(incident)
    if paused is not None:
        badges.append(paused)
    return tuple(badges)


def _minutes(value: timedelta) -> str:
    """A wait in words, empty under a minute (shown as "just paged", "acknowledged")."""
    return format_duration(value) if value >= _MINUTE else ""


def paged_line(
    paged: Paged, settings: Settings, templates: Templates, now: datetime, open_: bool
) -> str:
    return templates.render(
        "crisis/paged_line.txt",
        name=person_name(settings, paged.person),
        channels=", ".join(CHANNEL_WORDS.get(c, c) for c in paged.channels),
        acked_after=_minutes(paged.acked_at - paged.paged_at) if paged.acked_at else None,
        waiting=_minutes(now - paged.paged_at),
        times=paged.times,
        open=open_,
    )


def room_link(incident: Incident) -> Button:
    """**Room: #name**, opening the incident's room channel: the address is
    made from the channel's id (as Slack gave it), the name is the one the
    bot asked for; nothing of the incident's own text is in either."""
    return link(f"Room: #{incident.room_name}", SLACK_CHANNEL + incident.room_channel)


def incident_card(
    incident: Incident,
    *,
    title: str,
    settings: Settings,
    templates: Templates,
    now: datetime,
) -> Card:
    """The incident's card, the same for everyone and updated in place."""
    blocks = [TextBlock(incident.summary, style=BlockStyle.PROMINENT)]
    escalations = [e for e in incident.timeline if e.what is Happened.ESCALATED]
    if escalations and incident.open:
        step = escalations[-1].detail.removeprefix("step ")
        paged = [person_name(settings, p.person) for p in incident.paged if str(p.step) == step]
        blocks.append(
            TextBlock(
                templates.render(
                    "crisis/escalated_note.txt", step=step, people=", ".join(paged) or "nobody"
                ),
                tone=Tone.ATTENTION,
            )
        )
    if incident.paged:
        blocks.append(
            TextBlock(templates.render("crisis/paged_heading.txt"), style=BlockStyle.HEADING)
        )
        blocks.append(
            TextBlock(
                "\n".join(
                    paged_line(p, settings, templates, now, incident.open) for p in incident.paged
                )
            )
        )
    for statement in incident.statements:
        blocks.append(
            TextBlock(
                templates.render(
                    "crisis/statement_heading.txt",
                    id=statement.id,
                    legal=statement.requires_legal,
                ),
                style=BlockStyle.HEADING,
            )
        )
        blocks.append(TextBlock(statement.text, quote=True))
    blocks.extend(pause_blocks(incident, settings, templates))
    rows = statement_rows(incident, settings, templates)
    for index, item in enumerate(incident.checklist):
        owner = item.owner.label.replace("_", " ") if item.owner else ""
        if item.done:
            assert item.done_at is not None
            text = templates.render(
                "crisis/item_done.txt",
                text=item.text,
                by=person_name(settings, item.done_by),
                after=format_duration(item.done_at - incident.declared_at),
            )
            rows.append(Row(text))
            continue
        button = (
            Button("Done", "crisis.done", button_value(incident, index + 1))
            if incident.open
            else None
        )
        rows.append(
            Row(
                templates.render("crisis/item_open.txt", text=item.text, owner=owner), button=button
            )
        )
    buttons: tuple[Button, ...] = ()
    overflow: tuple[Button, ...] = (Button("Timeline", "crisis.timeline", button_value(incident)),)
    if incident.open:
        overflow = (Button("Page someone", "crisis.page", button_value(incident)), *overflow)
    if incident.open:
        buttons = (
            Button("Resolve", "crisis.resolve", button_value(incident), ButtonStyle.PRIMARY),
        )
        if incident.state is IncidentState.DECLARED:
            buttons = (*buttons, Button("Mitigated", "crisis.mitigated", button_value(incident)))
    if incident.room_channel:
        buttons = (*buttons, room_link(incident))
    fields = [
        Field("Lead", person_name(settings, incident.lead)),
        Field("Accounts", ", ".join(incident.accounts) or "none named"),
    ]
    return Card(
        title=title,
        badges=incident_badges(incident, now),
        blocks=tuple(blocks),
        fields=tuple(fields),
        rows=tuple(rows),
        buttons=buttons,
        overflow=overflow,
        context=templates.render(
            "crisis/context.txt",
            by=person_name(settings, incident.declared_by),
            ago=format_duration(now - incident.declared_at),
            just_now=now - incident.declared_at < _MINUTE,
        ),
        at=incident.declared_at,
        card_key=card_key(incident),
    )


def page_card(
    incident: Incident,
    *,
    page_id: str,
    person: str,
    step: int,
    repeat: int,
    roles: str,
    title: str,
    settings: Settings,
    templates: Templates,
) -> Card:
    """The chat page: what is happening, what is asked of the person, Acknowledge."""
    paged = incident.paged_person(person)
    acked = paged is not None and paged.acked_at is not None
    badges = [Badge(incident.severity.value.upper(), SEVERITY_TONES[incident.severity])]
    if acked:
        badges.append(Badge("Acknowledged", Tone.GOOD))
    elif not incident.open:
        badges.append(Badge("Resolved", Tone.GOOD))
    elif step:
        badges.append(Badge(f"Escalation step {step}", Tone.ATTENTION))
    elif repeat:
        badges.append(Badge(f"Reminder {repeat}", Tone.WARNING))
    text = templates.render(
        "crisis/page_dm.txt",
        name=person_name(settings, person),
        lead=person_name(settings, incident.lead),
        incident=incident.id,
        roles=roles,
        step=step,
        repeat=repeat,
        acked=acked,
        open=incident.open,
    )
    buttons: tuple[Button, ...] = ()
    if not acked and incident.open:
        buttons = (Button("Acknowledge", "crisis.ack", incident.id, ButtonStyle.PRIMARY),)
    return Card(
        title=templates.render("crisis/page_title.txt", title=title),
        badges=tuple(badges),
        blocks=(TextBlock(text), TextBlock(incident.summary, style=BlockStyle.PROMINENT)),
        buttons=buttons,
        context=f"{incident.id} · led by {person_name(settings, incident.lead)}",
        at=incident.declared_at,
        card_key=page_key(page_id),
    )


def roles_asked(plan: EscalationPlan, person: str, step: int) -> str:
    """Why the person is paged: the targets of the step that reached them."""
    if step >= len(plan.waves):
        return ""
    labels = [
        t.label.replace("_", " ") for t, people in plan.waves[step].targets if person in people
    ]
    return ", ".join(labels)


def list_card(incidents: list[Incident], titles: dict[str, str], now: datetime) -> Card:
    rows = tuple(
        Row(
            f"{titles.get(i.id, i.playbook)} · {i.severity.value.upper()} · {i.state.value}"
            f" · {format_duration(now - i.declared_at)} ago",
            snippet=i.summary,
            button=Button("Show", "crisis.show", i.id),
        )
        for i in incidents
    )
    return Card(
        title=f"Open incidents ({len(incidents)})" if incidents else "No open incidents",
        rows=rows,
    )


def timeline_card(incident: Incident, title: str, settings: Settings, templates: Templates) -> Card:
    entries = incident.timeline[-TIMELINE_ROWS:]
    rows = tuple(
        Row(
            templates.render(
                "crisis/timeline_line.txt",
                after=format_duration(e.at - incident.declared_at),
                who=person_name(settings, e.actor),
                what=e.what.value,
                detail=_detail(e.what, e.detail, settings),
            )
        )
        for e in entries
    )
    hidden = len(incident.timeline) - len(entries)
    blocks = (
        (TextBlock(f"{hidden} earlier entries are in the post-incident summary."),)
        if hidden
        else ()
    )
    return Card(title=f"Timeline of {title}", blocks=blocks, rows=rows, at=incident.declared_at)


def _detail(what: Happened, detail: str, settings: Settings) -> str:
    if what is Happened.LEAD:
        return person_name(settings, detail)
    if what is Happened.PAGED:
        person, _, rest = detail.partition(" ")
        return f"{person_name(settings, person)} {rest}"
    return detail
