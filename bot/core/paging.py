"""What a page is, on its way out through a :class:`bot.core.ports.Pager`.

A page is about one incident and, for person-to-person channels (e-mail, the
page webhook), one recipient. ``action`` follows the incident: ``trigger``
when it is declared (or someone is paged), ``acknowledge`` when the lead
acknowledges, ``resolve`` when it is resolved. The words (``text``) are
rendered by the crisis feature from its templates; adapters only carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.core.playbook import Severity
from bot.core.storage import OutboxItem


class PageAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Recipient:
    person: str
    name: str
    email: str


@dataclass(frozen=True)
class Page:
    """One page. ``key`` is the same on every attempt (``<incident>:<person>:
    s<step>:r<repeat>:<channel>``, or ``<incident>:<action>`` for an
    incident-wide page), so receivers can drop repeats."""

    key: str
    incident: str
    action: PageAction
    severity: Severity
    summary: str
    text: str
    created_at: datetime
    recipient: Recipient | None = None
    room_url: str | None = None
    playbook: str = ""


@dataclass(frozen=True)
class PageSent:
    """What the receiver said: its own reference for the page, if any."""

    reference: str | None = None


# Pages ride the outbox's external-send lane ``page`` (``platform`` =
# PAGE_LANE), written in the same transaction as the incident change that
# decided them; the item id is the page key, so the same page queued twice
# while it waits is one item.
PAGE_LANE = "page"
# A page nobody could deliver within this is stale: escalation has moved on.
PAGE_WITHIN = timedelta(hours=1)


def page_item(page: Page, channel: str, *, now: datetime) -> OutboxItem:
    """The outbox item that sends ``page`` over ``channel`` (see :meth:`Turn.page`)."""
    recipient = page.recipient
    body: dict[str, Any] = {
        "channel": channel,
        "key": page.key,
        "incident": page.incident,
        "action": page.action.value,
        "severity": page.severity.value,
        "summary": page.summary,
        "text": page.text,
        "created_at": page.created_at.isoformat(),
        "recipient": None
        if recipient is None
        else {"person": recipient.person, "name": recipient.name, "email": recipient.email},
        "room_url": page.room_url,
        "playbook": page.playbook,
    }
    return OutboxItem(
        id=f"{PAGE_LANE}:{channel}:{page.key}",
        platform=PAGE_LANE,
        op="page",
        destination=channel,
        body=body,
        created_at=now,
        priority=0,
    )


def queued_page(item: OutboxItem) -> tuple[Page, str]:
    """The page an outbox item carries, and its channel."""
    body = item.body
    recipient = body.get("recipient")
    page = Page(
        key=str(body["key"]),
        incident=str(body["incident"]),
        action=PageAction(body["action"]),
        severity=Severity(body["severity"]),
        summary=str(body["summary"]),
        text=str(body["text"]),
        created_at=datetime.fromisoformat(str(body["created_at"])),
        recipient=None
        if not recipient
        else Recipient(str(recipient["person"]), str(recipient["name"]), str(recipient["email"])),
        room_url=body.get("room_url"),
        playbook=str(body.get("playbook", "")),
    )
    return page, str(body["channel"])
