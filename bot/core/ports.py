"""Ports: what core and handlers need from the outside, as Protocols."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.cards import Card, Form
from bot.core.events import Event
from bot.core.paging import Page, PageSent
from bot.core.playbook import Statement
from bot.core.publishing import Publication, Published
from bot.core.storage import JSON, Effects, OutboxItem


class Responder(Protocol):
    """Immediate answers to the person who caused an event.

    These are not durable: they are feedback for one person (an ephemeral
    note, a form opening within the platform's trigger window). Anything that
    must survive a restart goes through the outbox instead.
    """

    async def reply(self, event: Event, card: Card, *, ephemeral: bool) -> None:
        """Answer in the event's conversation (only to the actor if ephemeral)."""

    async def open_form(self, event: Event, form: Form) -> None:
        """Show a form to the actor."""


class Publisher(Protocol):
    """Publishes approved replies and posts through the company's system.

    Raises :class:`bot.core.errors.RetryLater` when the attempt may be
    repeated later (with the same key), and
    :class:`bot.core.errors.Undeliverable` when the receiver refused it.
    """

    async def publish(self, publication: Publication, *, attempt: int) -> Published:
        """Publish ``publication`` (``attempt`` counts from 1)."""


class Templates(Protocol):
    """Words come from templates; structure stays in code."""

    def render(self, name: str, /, **context: Any) -> str:
        """Render template ``name`` (e.g. ``triage/claimed.txt``) to plain text."""


class PacingBudget(Protocol):
    """Spacing between calls in named lanes (one channel's posts, a
    workspace's updates), shared by every process that shares the budget.

    Times come from the caller's clock, so processes sharing a budget need
    synchronised clocks (as they do for timers and leases).
    """

    async def reserve(self, lane: str, spacing: timedelta, now: datetime) -> timedelta:
        """If ``lane`` is free at ``now``, close it for ``spacing`` and return
        zero; otherwise change nothing and return how long until it opens."""

    async def hold(self, lane: str, until: datetime, now: datetime) -> None:
        """Keep ``lane`` closed until ``until`` (a platform's Retry-After);
        never opens a lane earlier than it would have opened."""


class StatementRenderer(Protocol):
    """Renders a playbook's holding statement (customer-written text) in a
    sandbox, never through :class:`Templates`.

    Raises :class:`bot.core.playbook.StatementError` naming every missing
    variable, so a blank never reaches the public.
    """

    def render(self, statement: Statement, variables: Mapping[str, str]) -> str:
        """The statement's text with ``variables`` filled in."""

    def variables_of(self, statement: Statement) -> frozenset[str]:
        """The variable names the statement uses."""


class Pager(Protocol):
    """Sends a page through one channel (PagerDuty, e-mail, a signed webhook).

    Raises :class:`bot.core.errors.RetryLater` when the same page may be
    sent again later (with the same key) and
    :class:`bot.core.errors.Undeliverable` when it never can be, so pages
    ride the outbox like cards and publications.
    """

    channel: str

    async def send(self, page: Page, *, attempt: int) -> PageSent:
        """Send ``page`` (``attempt`` counts from 1)."""


@dataclass(frozen=True)
class SendOutcome:
    """How an external send ended, for good: accepted (``ok``, with what the
    receiver said in ``detail``) or failed (``reason``, the receiver's words
    or why retrying stopped). ``attempts`` counts the tries, ``at`` is when."""

    ok: bool
    attempts: int
    at: datetime
    detail: JSON = field(default_factory=dict)
    reason: str = ""


class ExternalLane(Protocol):
    """One kind of send to a system outside chat (a publication, a page),
    delivered through the outbox by :class:`bot.external_sends.ExternalSender`.

    Items of the lane are outbox items whose ``platform`` is ``lane``. ``send``
    raises :class:`bot.core.errors.RetryLater` to be tried again (with the
    same key) and :class:`bot.core.errors.Undeliverable` when the receiver
    refused; after ``give_up_after`` from the item's creation, retrying stops
    and the item fails. ``settled`` says what is written with the item's
    fenced completion, in one transaction: usually a timer that brings the
    outcome to the routers, and an audit entry.
    """

    lane: str
    give_up_after: timedelta
    # How long one process holds an item: longer than one send can take.
    lease_for: timedelta

    async def send(self, item: OutboxItem, *, attempt: int) -> JSON:
        """Send ``item`` (``attempt`` counts from 1); return what the receiver said."""

    def settled(self, item: OutboxItem, outcome: SendOutcome) -> Effects:
        """The effects that record ``outcome`` with the item's completion."""
