"""The Turn: everything a handler may do while handling one event.

Durable effects (posting or updating a card, a DM, timers, audit entries) are
buffered and committed atomically with the turn's next store write, or on
their own when the handler finishes. Immediate feedback (an ephemeral note,
opening a form) goes straight to the platform's :class:`Responder`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.core.cards import Card, Form, TextBlock, Tone
from bot.core.clock import Clock
from bot.core.errors import PlaycallerError
from bot.core.events import Event, PublicationSettled, TimerFired
from bot.core.knowledge import Knowledge
from bot.core.later import LaterCard
from bot.core.model import Actor
from bot.core.paging import Page, page_item
from bot.core.playbook import Playbook
from bot.core.ports import Responder, StatementRenderer, Templates
from bot.core.publishing import Publication, publication_item
from bot.core.rooms import RoomSpec, room_key
from bot.core.settings import Settings
from bot.core.storage import (
    JSON,
    AuditEntry,
    Effects,
    EffectsBuffer,
    OutboxItem,
    Record,
    Store,
    Timer,
    Written,
)
from bot.core.taking import NoTurns, Slot, Turns

# Outbox priorities: what a human just did goes before routine and bulk posts.
INTERACTIVE = 0
ROUTINE = 1
BULK = 2


def _interactive(priority: int | None) -> int:
    """An update's priority: what a human just changed goes first unless told."""
    return INTERACTIVE if priority is None else priority


class Turn:
    """The handler's view of the world for one event."""

    def __init__(
        self,
        *,
        event: Event,
        store: Store,
        clock: Clock,
        templates: Templates,
        responder: Responder,
        settings: Settings,
        platforms: Sequence[str],
        knowledge: Knowledge | None = None,
        playbooks: Mapping[str, Playbook] | None = None,
        statements: StatementRenderer | None = None,
        pagers: frozenset[str] = frozenset(),
        turns: Turns | None = None,
    ) -> None:
        self.event = event
        self.store = store
        self.clock = clock
        self.templates = templates
        self.responder = responder
        self.settings = settings
        self.platforms = tuple(platforms)
        self._knowledge = knowledge
        self.playbooks: Mapping[str, Playbook] = playbooks or {}
        self._statements = statements
        # The page channels beyond chat this deployment has (email, webhook, pagerduty).
        self.pagers = pagers
        self._turns: Turns = turns or NoTurns()
        # How many turns on keys this turn holds, and the answers to the
        # actor that wait for their release (see :meth:`hold`).
        self._holding = 0
        self._held_answers: list[Callable[[], Awaitable[None]]] = []
        self._buffer = EffectsBuffer()
        self._complete_timer: tuple[str, int] | None = None
        if isinstance(event, TimerFired):
            self._complete_timer = (event.key, event.token)
        elif isinstance(event, PublicationSettled):
            # A settlement arrives on a timer: handled once, like any timer.
            self._complete_timer = event.settlement
        # The inbox entry this event came from is completed with the first
        # committed write, so a crash after it never runs the event again.
        self._complete_inbox = event.inbox_lease
        # Set once a chat card is queued: the runtime then wakes its outbox
        # senders instead of leaving the card to their next poll.
        self.queued_cards = False

    @property
    def actor(self) -> Actor:
        """Who caused this event (verified by the platform)."""
        return self.event.actor

    @property
    def knowledge(self) -> Knowledge:
        """The guideline store (see :mod:`bot.core.knowledge`)."""
        if self._knowledge is None:
            raise PlaycallerError("The guideline store is not available right now.")
        return self._knowledge

    @property
    def statements(self) -> StatementRenderer:
        """Renders playbooks' holding statements in a sandbox."""
        if self._statements is None:
            raise PlaycallerError("Holding statements cannot be rendered right now.")
        return self._statements

    def now(self) -> datetime:
        """The injected clock's time."""
        return self.clock.now()

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[Slot]:
        """Hold ``key``'s turn in this process for this turn (see
        :mod:`bot.core.taking`): a second holder waits for the first.

        Answers to the actor given meanwhile (``say``, ``reply``,
        ``open_form``) go out once the last held turn is released: a slow
        Slack or Teams answer must not keep the next decision on the key
        waiting. (A holder that fails drops them; the failure is answered.)"""
        async with self._turns.hold(key, self) as slot:
            self._holding += 1
            try:
                yield slot
            except BaseException:
                if self._holding == 1:
                    self._held_answers = []  # (never a success the write did not make)
                raise
            finally:
                self._holding -= 1
        if not self._holding:
            answers, self._held_answers = self._held_answers, []
            for answer in answers:
                await answer()

    def held(self, key: str) -> Slot | None:
        """``key``'s slot if this turn holds it now."""
        return self._turns.held(key, self)

    def render(self, name: str, /, **context: Any) -> str:
        """Render a template to plain text."""
        return self.templates.render(name, **context)

    # -- immediate feedback -------------------------------------------------

    async def say(self, text: str, *, ephemeral: bool = True, tone: Tone = Tone.NEUTRAL) -> None:
        """A short text answer to the actor: ``Tone.GOOD`` for a success,
        ``Tone.ATTENTION`` for a refusal or an error."""
        await self.reply(Card(title="", blocks=(TextBlock(text, tone=tone),)), ephemeral=ephemeral)

    async def reply(self, card: Card, *, ephemeral: bool = False) -> None:
        """Answer with a card in the event's conversation."""
        await self._answer(lambda: self.responder.reply(self.event, card, ephemeral=ephemeral))

    async def open_form(self, form: Form) -> None:
        """Show a form to the actor."""
        await self._answer(lambda: self.responder.open_form(self.event, form))

    async def _answer(self, send: Callable[[], Awaitable[None]]) -> None:
        if self._holding:
            self._held_answers.append(send)  # (sent when the turn is released)
        else:
            await send()

    # -- durable effects ----------------------------------------------------

    def post(self, destination: str, card: Card, *, priority: int = ROUTINE) -> None:
        """Post ``card`` to a neutral channel (a spoke id or ``hub``)."""
        self._outbox("post", destination, card, priority)

    def post_later(
        self, destination: str, later: LaterCard, card_key: str, *, priority: int = ROUTINE
    ) -> None:
        """Post to ``destination`` a card that the outbox sender renders when it
        sends it (see :mod:`bot.core.later`); ``card_key`` is the key the
        rendered card carries, for later updates and thread replies."""
        self._queue("post", destination, later.to_json(), card_key, priority)

    def update_later(self, later: LaterCard, card_key: str, *, priority: int | None = None) -> None:
        """:meth:`update` with a card that the outbox sender renders when it
        sends it (see :mod:`bot.core.later`)."""
        self._queue("update", "", later.to_json(), card_key, _interactive(priority))

    def dm_later(
        self, person_id: str, later: LaterCard, card_key: str, *, priority: int = ROUTINE
    ) -> None:
        """:meth:`dm` with a card that the outbox sender renders when it sends it."""
        self._queue("dm", f"person:{person_id}", later.to_json(), card_key, priority)

    def update(self, card: Card, *, priority: int | None = None) -> None:
        """Replace, for everyone, the card posted earlier under ``card.card_key``."""
        if card.card_key is None:
            raise ValueError("only a card with a card_key can be updated")
        self._outbox("update", "", card, _interactive(priority))

    def reply_in_thread(self, card_key: str, card: Card, *, priority: int = ROUTINE) -> None:
        """Post ``card`` as a reply under the card posted earlier as ``card_key``
        (where a platform has no threads, next to it)."""
        self._outbox("thread", f"thread:{card_key}", card, priority)

    def dm(self, person_id: str, card: Card, *, priority: int = ROUTINE) -> None:
        """Send ``card`` to one person directly."""
        self._outbox("dm", f"person:{person_id}", card, priority)

    def dm_copy(self, person_id: str, card: Card, *, priority: int = ROUTINE) -> None:
        """Send one person their own copy of a card posted for everyone under
        the same ``card.card_key``: the copy changes with the shared card (by
        newer states only), and thread replies hang under the shared card.
        A plain :meth:`dm` with a card key is a card of its own (an approval
        card, a page) that updates in place wherever it was sent."""
        if card.card_key is None:
            raise ValueError("a copy needs the card_key of the shared card")
        self._outbox("copy", f"person:{person_id}", card, priority)

    def open_room(self, spec: RoomSpec, *, priority: int = INTERACTIVE) -> None:
        """Open a room (a channel where the platform can make one, else the
        thread under ``spec.fallback_card_key``'s card) once, with the turn's
        next write; ``thread:room:<id>`` (:meth:`reply_in_thread` with
        :func:`bot.core.rooms.room_key`) then posts into it."""
        self._outbox_items(
            "room", f"room:{spec.room_id}", spec.to_json(), room_key(spec.room_id), priority
        )

    def invite_to_room(self, room_id: str, members: Sequence[str]) -> None:
        """Bring people (person ids) into a room opened earlier; nothing where
        the room is a thread. Inviting someone already there is no error."""
        if members:
            body = {"members": list(dict.fromkeys(members))}
            self._outbox_items("invite", f"room:{room_id}", body, None, INTERACTIVE)

    def archive_room(self, room_id: str, after_card_key: str, cards: Sequence[str] = ()) -> None:
        """Archive a room's channel once the card ``after_card_key`` (posted
        in it) is out and nothing more waits to go into it (no post into the
        room, no update of ``cards``, the cards shown in it); nothing where
        the room is a thread."""
        body = {"after": after_card_key, "cards": list(cards)}
        self._outbox_items("archive", f"room:{room_id}", body, None, ROUTINE)

    def page(self, page: Page, channel: str) -> None:
        """Send ``page`` over ``channel`` through the outbox's page lane, with
        the turn's next write (the incident change that decided it). A sender
        retries it with the same key (PagerDuty's ``dedup_key``, the e-mail's
        Message-ID, the webhook's Idempotency-Key) until it is accepted or an
        hour has passed; the outcome is written to the audit log."""
        self._buffer.outbox.append(page_item(page, channel, now=self.now()))

    def publish(self, publication: Publication, *, round: int = 0) -> None:
        """Publish ``publication`` through the outbox's publish lane, exactly once.

        The item is committed with the turn's next write (the record change
        that approved this version), so the approval and the publish request
        exist together or not at all. A sender then POSTs it with
        ``Idempotency-Key: <draft id>:<version>``, retrying connection errors,
        timeouts, 429 and 5xx for up to 24 hours; the outcome comes back as a
        :class:`~bot.core.events.PublicationSettled` event for the routers.

        ``round`` numbers the attempts a person asked for: 0 when approved,
        1 for the first authorised "retry" after a failure, and so on. The
        same round queued twice while it waits is one item; a new round is a
        new item with the same Idempotency-Key (a receiver that did publish
        the version answers the repeat without posting again). Call this only
        from the write that decides (compare-and-set on the draft), so a
        double click cannot queue it twice after the first has settled.
        """
        self._buffer.outbox.append(publication_item(publication, round=round, now=self.now()))

    def schedule(self, timer: Timer) -> None:
        """Schedule (or reschedule) a durable timer."""
        self._buffer.timers.append(timer)

    def cancel(self, *timer_keys: str) -> None:
        """Cancel durable timers (unknown keys are ignored)."""
        self._buffer.cancel_timers += timer_keys

    def audit(self, action: str, subject: str, **detail: Any) -> None:
        """Record who did what, in the same transaction as the change."""
        entry = AuditEntry(
            at=self.now(), actor=self.actor.person_id, action=action, subject=subject, detail=detail
        )
        self._buffer.audit.append(entry)

    def add_counts(self, counts: Sequence[tuple[str, int]]) -> None:
        """Add ``(counter, amount)`` pairs with the turn's next write."""
        self._buffer.counts += counts

    async def insert(self, record: Record) -> Written:
        """Create ``record`` with the buffered effects (see :meth:`Store.insert`)."""
        written = await self.store.insert(record, self._take())
        return self._settle(written)

    async def replace(self, record: Record, expected_version: int) -> Written:
        """Compare-and-set ``record`` with the buffered effects."""
        written = await self.store.replace(record, expected_version, self._take())
        return self._settle(written)

    async def delete(self, record: Record) -> Written:
        """Delete ``record`` if it is still at its version, with the buffered effects."""
        written = await self.store.delete(record.kind, record.key, record.version, self._take())
        return self._settle(written)

    def take_effects(self) -> Effects:
        """The buffered effects, for a caller that writes them itself (batched
        intake's :meth:`Store.insert_many`); the buffer is left empty."""
        return self._take()

    async def flush(self) -> None:
        """Commit whatever effects are still buffered."""
        effects = self._take()
        if effects:
            await self.store.apply(effects)
        self._complete_timer = None
        self._complete_inbox = None

    def discard(self) -> None:
        """Drop buffered effects (the handler failed)."""
        self._buffer = EffectsBuffer()

    # -- internals ----------------------------------------------------------

    def _outbox(self, op: str, destination: str, card: Card, priority: int) -> None:
        # One body for every platform: the store encodes it once too.
        self._queue(op, destination, card.to_json(), card.card_key, priority)

    def _queue(
        self, op: str, destination: str, body: JSON, card_key: str | None, priority: int
    ) -> None:
        platforms = self.platforms
        person = destination.removeprefix("person:")
        if destination.startswith("person:") and person not in self.settings.people:
            # Someone the config does not know exists on one platform only
            # (their id is "<platform>:<user id>").
            platforms = tuple(p for p in platforms if person.startswith(f"{p}:"))
        self._outbox_items(op, destination, body, card_key, priority, platforms)

    def _outbox_items(
        self,
        op: str,
        destination: str,
        body: Mapping[str, Any],
        card_key: str | None,
        priority: int,
        platforms: Sequence[str] | None = None,
    ) -> None:
        now = self.now()
        self._buffer.outbox += [
            OutboxItem(
                # 128 random bits (a uuid4 has 122) without uuid4's overhead.
                id=os.urandom(16).hex(),
                platform=platform,
                op=op,
                destination=destination,
                body=body,
                created_at=now,
                card_key=card_key,
                priority=priority,
            )
            for platform in (self.platforms if platforms is None else platforms)
        ]
        self.queued_cards = True

    def _take(self) -> Effects:
        buffer, self._buffer = self._buffer, EffectsBuffer()
        return buffer.effects(self._complete_timer, self._complete_inbox)

    def _settle(self, written: Written) -> Written:
        # The timer's (or inbox entry's) completion rode on a write that
        # happened; on a rejected write it stays pending for the next one (or
        # the final flush).
        if written.ok:
            self._complete_timer = None
            self._complete_inbox = None
        return written
