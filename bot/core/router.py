"""Routers declare what they handle; the Dispatcher composes them.

Matching is declared at registration (``@router.action("triage.claim")``),
the permission it needs is declared there too, and the dispatcher is the single boundary
that turns a :class:`PlaycallerError` into a short message for the person.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from bot.core.cards import Tone
from bot.core.errors import NotPermitted, PlaycallerError
from bot.core.events import (
    Action,
    Command,
    Event,
    FormSubmitted,
    Message,
    PublicationSettled,
    TimerFired,
)
from bot.core.permissions import Permission, role_names
from bot.core.turn import Turn

log = logging.getLogger(__name__)

# Slack retries an event for up to ~6 minutes; keys outlive that comfortably.
DELIVERY_KEY_TTL = timedelta(minutes=15)
# Slack's first retry after a crash comes a minute later; a live handler is
# done long before this lapses.
DELIVERY_IN_PROGRESS_TTL = timedelta(seconds=45)

# The one route key of PublicationSettled.
SETTLED_ROUTE = "publication"

E = TypeVar("E", bound=Event)
Handler = Callable[[Turn, Any], Awaitable[None]]
Next = Callable[[Turn, Event], Awaitable[None]]
Middleware = Callable[[Turn, Event, Next], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """One registration: which event, which key, who may, what runs."""

    event_type: type[Event]
    key: str | None
    handler: Handler
    permission: Permission | None
    doing: str
    pattern: re.Pattern[str] | None = None
    usage: str = ""


class Router:
    """A feature's routes. Compose several in a :class:`Dispatcher`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []

    def _register(
        self,
        event_type: type[Event],
        key: str | None,
        permission: Permission | None,
        doing: str,
        pattern: re.Pattern[str] | None = None,
        usage: str = "",
    ) -> Callable[[Callable[[Turn, E], Awaitable[None]]], Callable[[Turn, E], Awaitable[None]]]:
        def decorate(
            handler: Callable[[Turn, E], Awaitable[None]],
        ) -> Callable[[Turn, E], Awaitable[None]]:
            self.routes.append(
                Route(event_type, key, handler, permission, doing or key or "", pattern, usage)
            )
            return handler

        return decorate

    def command(
        self,
        name: str,
        *,
        permission: Permission | None = None,
        doing: str = "",
        usage: str = "",
    ) -> Callable[
        [Callable[[Turn, Command], Awaitable[None]]], Callable[[Turn, Command], Awaitable[None]]
    ]:
        """Handle ``/name``."""
        return self._register(Command, name, permission, doing or f"use /{name}", usage=usage)

    def action(
        self, action_id: str, *, permission: Permission | None = None, doing: str = ""
    ) -> Callable[
        [Callable[[Turn, Action], Awaitable[None]]], Callable[[Turn, Action], Awaitable[None]]
    ]:
        """Handle a button press with this action id."""
        return self._register(Action, action_id, permission, doing)

    def form(
        self, form_id: str, *, permission: Permission | None = None, doing: str = ""
    ) -> Callable[
        [Callable[[Turn, FormSubmitted], Awaitable[None]]],
        Callable[[Turn, FormSubmitted], Awaitable[None]],
    ]:
        """Handle a submitted form with this id."""
        return self._register(FormSubmitted, form_id, permission, doing)

    def timer(
        self, kind: str
    ) -> Callable[
        [Callable[[Turn, TimerFired], Awaitable[None]]],
        Callable[[Turn, TimerFired], Awaitable[None]],
    ]:
        """Handle a durable timer of this kind coming due."""
        return self._register(TimerFired, kind, None, kind)

    def publication_settled(
        self,
    ) -> Callable[
        [Callable[[Turn, PublicationSettled], Awaitable[None]]],
        Callable[[Turn, PublicationSettled], Awaitable[None]],
    ]:
        """Handle the outcome of a publication queued with :meth:`Turn.publish`
        (one router per dispatcher: the feature that publishes)."""
        return self._register(PublicationSettled, SETTLED_ROUTE, None, "record a publication")

    def message(
        self,
        pattern: str | None = None,
        *,
        permission: Permission | None = None,
        doing: str = "",
    ) -> Callable[
        [Callable[[Turn, Message], Awaitable[None]]], Callable[[Turn, Message], Awaitable[None]]
    ]:
        """Handle a message to the bot matching ``pattern`` (None: any message,
        tried after every pattern)."""
        compiled = re.compile(pattern, re.IGNORECASE) if pattern else None
        return self._register(Message, None, permission, doing, compiled)


class UnknownRoute(PlaycallerError):
    """Nothing handles this event."""


class Dispatcher:
    """Finds the route for an event and runs it through the middleware."""

    def __init__(self, routers: Sequence[Router], middleware: Sequence[Middleware] = ()) -> None:
        self.routers = tuple(routers)
        self.middleware = tuple(middleware)
        self._keyed: dict[tuple[type[Event], str], Route] = {}
        self._messages: list[Route] = []
        self._fallbacks: list[Route] = []
        for router in self.routers:
            for route in router.routes:
                if route.event_type is Message:
                    (self._messages if route.pattern else self._fallbacks).append(route)
                    continue
                assert route.key is not None
                slot = (route.event_type, route.key)
                if slot in self._keyed:
                    raise ValueError(f"{route.event_type.__name__} {route.key!r} registered twice")
                self._keyed[slot] = route

    def commands(self) -> list[Route]:
        """Every command route, in registration order."""
        return [r for r in self._keyed.values() if r.event_type is Command]

    def route_for(self, event: Event) -> Route | None:
        """The route that handles ``event``, or None."""
        if isinstance(event, Message):
            for route in self._messages:
                if route.pattern and route.pattern.search(event.text.strip()):
                    return route
            return self._fallbacks[0] if self._fallbacks else None
        key = _event_key(event)
        return self._keyed.get((type(event), key))

    async def dispatch(self, turn: Turn, event: Event) -> None:
        """Run ``event``; any failure becomes a short message to the actor."""
        try:
            await self._chain(0)(turn, event)
            await turn.flush()
        except PlaycallerError as error:
            turn.discard()
            await turn.say(error.user_message(), tone=Tone.ATTENTION)
        except Exception:
            turn.discard()
            error_id = uuid.uuid4().hex[:8]
            log.exception("handler failed (error id %s) for %s", error_id, type(event).__name__)
            await turn.say(
                f"Something went wrong on our side (error id {error_id}).", tone=Tone.ATTENTION
            )
            raise

    def _chain(self, index: int) -> Next:
        if index == len(self.middleware):
            return self._run
        middleware = self.middleware[index]
        rest = self._chain(index + 1)

        async def step(turn: Turn, event: Event) -> None:
            await middleware(turn, event, rest)

        return step

    async def _run(self, turn: Turn, event: Event) -> None:
        route = self.route_for(event)
        if route is None:
            raise UnknownRoute(f"I don't know how to handle {_describe(event)}.")
        if route.permission is not None and not turn.actor.may(route.permission):
            raise NotPermitted(route.doing, role_names(turn.settings.permissions, route.permission))
        await route.handler(turn, event)


def _event_key(event: Event) -> str:
    if isinstance(event, Command):
        return event.name
    if isinstance(event, Action):
        return event.action_id
    if isinstance(event, FormSubmitted):
        return event.form_id
    if isinstance(event, TimerFired):
        return event.kind
    if isinstance(event, PublicationSettled):
        return SETTLED_ROUTE
    return ""


def _describe(event: Event) -> str:
    if isinstance(event, Command):
        return f"/{event.name}"
    return f"{type(event).__name__} {_event_key(event)!r}"


async def dedupe_deliveries(turn: Turn, event: Event, call_next: Next) -> None:
    """Middleware: one effect per delivery key (platform retries, double clicks).

    A delivery is marked *in progress* for a short while and *done* once
    handled. A duplicate arriving during either is dropped; a retry whose first
    delivery died mid-way (the process crashed, or the work failed) finds no
    done mark once the in-progress mark has lapsed, and is processed.
    """
    if event.dedupe_key is None or event.inbox_lease is not None:
        # (The inbox deduplicated it when it was stored.)
        await call_next(turn, event)
        return
    key = f"delivery:{event.platform}:{event.dedupe_key}"
    now = turn.now()
    if await turn.store.remembered(f"{key}:done", now):
        log.info("dropped duplicate delivery %s (already handled)", key)
        return
    if not await turn.store.put_once(f"{key}:busy", DELIVERY_IN_PROGRESS_TTL, now):
        log.info("dropped duplicate delivery %s (being handled)", key)
        return
    try:
        await call_next(turn, event)
        # The work's effects are committed before the delivery counts as done.
        await turn.flush()
    except PlaycallerError:
        # The person gets an answer at the boundary: the delivery is handled.
        await turn.store.put_once(f"{key}:done", DELIVERY_KEY_TTL, turn.now())
        raise
    except BaseException:
        await turn.store.forget(f"{key}:busy")
        raise
    await turn.store.put_once(f"{key}:done", DELIVERY_KEY_TTL, turn.now())
