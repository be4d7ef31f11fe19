"""What a page is, on its way out through a :class:`bot.core.ports.Pager`.

A page is about one incident and, for person-to-person channels (e-mail, the
page webhook), one recipient. ``action`` follows the incident: ``trigger``
when it is declared (or someone is paged), ``acknowledge`` when the lead
acknowledges, ``resolve`` when it is resolved. The words (``text``) are
rendered by the crisis feature from its templates; adapters only carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.playbook import Severity


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
