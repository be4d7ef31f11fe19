"""What is sent when a page falls due: which channels, and the page itself.

Chat (a DM card with **Acknowledge**) is always used; e-mail and the page
webhook when configured; PagerDuty is incident-wide (one alert per incident,
``trigger``/``acknowledge``/``resolve``) and only for playbooks that ask for
it. Keys are deterministic, so a retried or duplicated send is the same page.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.core.model import Person
from bot.core.paging import Page, PageAction, Recipient
from bot.core.playbook import Playbook
from bot.core.ports import Templates
from handlers.crisis.escalation import DuePage
from handlers.crisis.incident import Incident

CHAT = "chat"
EMAIL = "email"
WEBHOOK = "webhook"
PAGERDUTY = "pagerduty"


def person_channels(person: Person, configured: Collection[str]) -> tuple[str, ...]:
    """The channels one person is paged over, chat first."""
    channels = [CHAT]
    if EMAIL in configured and person.email:
        channels.append(EMAIL)
    if WEBHOOK in configured:
        channels.append(WEBHOOK)
    return tuple(channels)


def uses_pagerduty(playbook: Playbook, configured: Collection[str]) -> bool:
    return playbook.pagerduty and PAGERDUTY in configured


def person_page(
    incident: Incident,
    due: DuePage,
    person: Person,
    channel: str,
    *,
    title: str,
    templates: Templates,
    room_url: str | None,
    now: datetime,
) -> Page:
    """The page ``due`` for ``person`` over ``channel`` (e-mail or webhook)."""
    text = templates.render(
        "crisis/page.txt",
        incident=incident.id,
        title=title,
        summary=incident.summary,
        severity=incident.severity.value,
        name=person.name,
        step=due.step,
        repeat=due.repeat,
        room_url=room_url,
    )
    return Page(
        key=f"{due.id}:{channel}",
        incident=incident.id,
        action=PageAction.TRIGGER,
        severity=incident.severity,
        summary=incident.summary,
        text=text,
        created_at=now,
        recipient=Recipient(person.id, person.name, person.email),
        room_url=room_url,
        playbook=incident.playbook,
    )


def incident_page(
    incident: Incident,
    action: PageAction,
    *,
    templates: Templates,
    room_url: str | None,
    now: datetime,
) -> Page:
    """The incident-wide page (PagerDuty) for ``action``; one key per action."""
    text = templates.render(
        "crisis/incident_page.txt",
        incident=incident.id,
        action=action.value,
        summary=incident.summary,
        severity=incident.severity.value,
        room_url=room_url,
    )
    return Page(
        key=f"{incident.id}:{action.value}",
        incident=incident.id,
        action=action,
        severity=incident.severity,
        summary=incident.summary,
        text=text,
        created_at=now,
        room_url=room_url,
        playbook=incident.playbook,
    )
