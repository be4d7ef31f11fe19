"""The running bot: settings, store, templates and routers wired together.

Routers are composed here, in one place; nothing is started at import time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import handlers.admin
import handlers.approvals
import handlers.ask
import handlers.crisis
import handlers.help
import handlers.surge
import handlers.triage
from bot.core.cards import Card
from bot.core.clock import Clock
from bot.core.errors import Undeliverable
from bot.core.events import Event, MentionArrived, TimerFired
from bot.core.knowledge import Knowledge
from bot.core.later import LaterCard, later_card
from bot.core.model import SYSTEM, Mention
from bot.core.playbook import Playbook
from bot.core.ports import ExternalLane, PacingBudget, Responder, StatementRenderer
from bot.core.publishing import SETTLED_TIMER, settled_event
from bot.core.router import Dispatcher, dedupe_deliveries
from bot.core.settings import Settings
from bot.core.storage import JSON, Effects, Store
from bot.core.turn import INTERACTIVE, Turn
from bot.external_sends import ExternalSender
from bot.intake.enrich import SentimentModel, enrich
from bot.intake.feed import IncomingMention
from bot.metrics import Metrics
from bot.outbox import Delivery, OutboxSender
from bot.scheduler import Scheduler
from bot.statements import SandboxedStatements
from bot.store.pacing import LocalPacing
from bot.templates import JinjaTemplates
from bot.turns import KeyedTurns
from handlers.approvals.later import (
    APPROVAL_CARD,
    PUBLISHING_CARD,
    render_approval_card,
    render_publishing_card,
)
from handlers.triage.later import MENTION_CARD, render_mention_card

log = logging.getLogger(__name__)


def build_dispatcher() -> Dispatcher:
    """Every feature's router, in the order messages are tried."""
    return Dispatcher(
        [
            handlers.triage.router,
            handlers.surge.router,
            handlers.approvals.router,
            handlers.crisis.router,
            handlers.admin.router,
            handlers.help.router,
            handlers.ask.router,
        ],
        middleware=[dedupe_deliveries],
    )


# Renderers of cards rendered when sent (bot/core/later.py), by name.
LATER_RENDERERS = {
    MENTION_CARD: render_mention_card,
    APPROVAL_CARD: render_approval_card,
    PUBLISHING_CARD: render_publishing_card,
}


def process_owner() -> str:
    """A name for this process in leases: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SilentResponder:
    """For events nobody is waiting on (timers, intake): log instead of replying."""

    async def reply(self, event: Event, card: object, *, ephemeral: bool) -> None:
        log.info("no one to answer for %s: %s", type(event).__name__, getattr(card, "title", card))

    async def open_form(self, event: Event, form: object) -> None:
        log.warning("cannot open a form for %s", type(event).__name__)


@dataclass
class Runtime:
    """One bot process's view of its world."""

    settings: Settings
    store: Store
    clock: Clock
    templates: JinjaTemplates
    platforms: tuple[str, ...]
    sentiment: SentimentModel
    knowledge: Knowledge | None = None
    dispatcher: Dispatcher = field(default_factory=build_dispatcher)
    owner: str = field(default_factory=process_owner)
    metrics: Metrics = field(default_factory=Metrics)
    # Posting budgets: shared by every process on a Redis store.
    pacing: PacingBudget = field(default_factory=LocalPacing)
    # Crisis playbooks by id, and the sandbox their holding statements render in.
    playbooks: dict[str, Playbook] = field(default_factory=dict)
    statements: StatementRenderer = field(default_factory=SandboxedStatements)
    # Page channels beyond chat configured in this deployment's environment.
    pagers: frozenset[str] = frozenset()
    # Set when this process queues a chat card: one event per outbox sender
    # (weakly held: a sender that is gone needs no waking).
    _card_wakers: weakref.WeakSet[asyncio.Event] = field(
        default_factory=weakref.WeakSet, init=False, repr=False
    )
    # Decisions on one key (a draft) take turns within this process.
    turns: KeyedTurns = field(default_factory=KeyedTurns)

    def turn(self, event: Event, responder: Responder) -> Turn:
        return Turn(
            event=event,
            store=self.store,
            clock=self.clock,
            templates=self.templates,
            responder=responder,
            settings=self.settings,
            platforms=self.platforms,
            knowledge=self.knowledge,
            playbooks=self.playbooks,
            statements=self.statements,
            pagers=self.pagers,
            turns=self.turns,
        )

    async def handle(self, event: Event, responder: Responder, *, wake: bool = True) -> None:
        """Run one inbound event through the routers. ``wake=False``: the
        caller delivers the cards it queued itself (a Teams click answered
        with its updated card) and wakes the senders afterwards."""
        turn = self.turn(event, responder)
        try:
            await self.dispatcher.dispatch(turn, event)
        finally:
            if turn.queued_cards and wake:
                self.cards_queued()

    def cards_queued(self) -> None:
        """Wake this process's outbox senders: a card was just queued (a page
        or an answer someone waits for goes out now, not at the next poll;
        cards queued by another process still wait for it)."""
        for waker in self._card_wakers:
            waker.set()

    def card_waker(self) -> asyncio.Event:
        """An event set whenever this process queues a chat card."""
        waker = asyncio.Event()
        self._card_wakers.add(waker)
        return waker

    async def ingest(self, incoming: IncomingMention) -> bool:
        """Enrich, route and admit a mention. False when it is a duplicate."""
        return (await self.ingest_batch([incoming]))[0]

    async def ingest_batch(
        self,
        batch: Sequence[IncomingMention],
        received: Sequence[datetime] | None = None,
        *,
        failures: dict[int, Exception] | None = None,
        refused: dict[int, Exception] | None = None,
    ) -> list[bool]:
        """:meth:`ingest` for many mentions with one store call (one SQLite
        transaction, one Redis pipeline): True for each stored, False for each
        duplicate (also of one earlier in ``batch``). Surge mode decides first
        which of them get a card of their own (``handlers.surge.lanes``); each
        mention's arrival counts are written with its insert, so only stored
        mentions count. ``received`` is when each arrived (default now): the
        intake stream admits them later, and their SLA runs from their arrival.
        With ``failures`` (the intake stream's consumer) a mention that cannot
        be enriched, admitted or stored is answered False and its error put
        there under its index, while the others are admitted; with ``refused``
        (``/intake``) the same for enrichment and admission, before the insert;
        with neither, it fails the call. Once the insert has committed, a
        failing surge or spike check is logged, not raised: the mentions are
        stored, and the next batch checks again."""
        if not batch:
            return []
        refusals = failures if failures is not None else refused
        now = self.clock.now()
        arrived = received if received is not None else [now] * len(batch)
        enriched: list[Mention] = []
        places: list[int] = []  # index in ``batch`` of each of ``enriched``
        for index, (incoming, at) in enumerate(zip(batch, arrived, strict=True)):
            try:
                enriched.append(enrich(incoming, self.settings, self.sentiment, at))
            except Exception as error:
                if refusals is None:
                    raise
                refusals[index] = error
                continue
            places.append(index)
        if not enriched:
            return [False] * len(batch)
        mentions = await handlers.crisis.triage_link.marked(self.store, enriched)

        event = MentionArrived(
            platform="intake", actor=SYSTEM, received_at=now, mention=mentions[0]
        )
        turn = self.turn(event, SilentResponder())
        lanes = await handlers.surge.lanes(turn, mentions)
        await turn.flush()
        # The same turn buffers each admission, its effects taken per mention:
        # admission reads the turn's settings, clock and actor (the system),
        # the mention it is given, not the turn's event.
        items = []
        admitted: list[int] = []  # index in ``lanes.mentions`` of each item
        for index, mention in enumerate(lanes.mentions):
            ahead = INTERACTIVE if index in lanes.ahead else None
            try:
                record = handlers.triage.admission(turn, mention, card_priority=ahead)
            except Exception as error:
                if refusals is None:
                    raise
                turn.discard()
                refusals[places[index]] = error
                continue
            turn.add_counts(lanes.counts[index])
            items.append((record, turn.take_effects()))
            admitted.append(index)
        inserted: list[bool] = []
        if items and failures is None:
            inserted = await self.store.insert_many(items)
        elif items and failures is not None:
            answers = await self.store.insert_each(items)
            inserted = [answer is True for answer in answers]
            for index, answer in zip(admitted, answers, strict=True):
                if isinstance(answer, Exception):
                    failures[places[index]] = answer
        written = [False] * len(lanes.mentions)
        for index, ok in zip(admitted, inserted, strict=True):
            written[index] = ok
        await self._after_insert(turn, lanes, written)
        stored = [False] * len(batch)
        for place, ok in zip(places, written, strict=True):
            stored[place] = ok
        return stored

    async def _after_insert(
        self, turn: Turn, lanes: handlers.surge.Lanes, written: list[bool]
    ) -> None:
        try:
            await handlers.surge.stored(turn, lanes, written)
            await turn.flush()
        except Exception:
            turn.discard()
            spokes = sorted(
                {m.enrichment.spoke for m, ok in zip(lanes.mentions, written, strict=True) if ok}
            )
            log.exception(
                "surge and spike check after storing %d mentions failed (spokes %s); "
                "the next batch checks again",
                sum(written),
                ", ".join(spokes) or "none",
            )

    async def start(self) -> None:
        """Make sure the recurring timers exist (idempotent; safe in every process)."""
        if self.knowledge is not None and not await self.store.pending_timers(
            handlers.ask.REVIEW_TIMER
        ):
            await self.store.apply(Effects(timers=(handlers.ask.review_timer(self.clock.now()),)))
        if not await self.store.pending_timers(handlers.ask.RETENTION_TIMER):
            timer = handlers.ask.retention_timer(self.clock.now())
            await self.store.apply(Effects(timers=(timer,)))

    def scheduler(self) -> Scheduler:
        async def run(fired: TimerFired) -> None:
            # A settled publication rides a timer (durable, leased, fenced)
            # but reaches the routers as its own event.
            event: Event = settled_event(fired) if fired.kind == SETTLED_TIMER else fired
            await self.handle(event, SilentResponder())

        return Scheduler(self.store, self.clock, run, self.owner)

    def sender(self, delivery: Delivery) -> OutboxSender:
        return OutboxSender(
            self.store,
            delivery,
            self.clock,
            self.owner,
            wake=self.card_waker(),
            card_of=self.card_of,
        )

    async def card_of(self, body: JSON) -> Card:
        """The card an outbox body stands for: the card's own JSON, or the
        feature's rendering of a card rendered when sent."""
        later: LaterCard | None = later_card(body)
        if later is None:
            return Card.from_json(dict(body))
        render = LATER_RENDERERS.get(later.renderer)
        if render is None:
            raise Undeliverable(f"no renderer for a card of kind {later.renderer!r}")
        return await render(later, self.store, self.settings, self.templates)

    def external_sender(self, lane: ExternalLane) -> ExternalSender:
        """The sender of one external lane (publications, pages) in this process."""
        return ExternalSender(self.store, lane, self.clock, self.owner)


_TEMPLATE_NAME = re.compile(r"[\"']([a-z_]+/[a-z_]+\.txt)[\"']")


def required_templates() -> list[str]:
    """Templates the handlers render (found in their source); ``check`` reports
    any that are missing, so a typo stops start-up rather than a click."""
    root = Path(handlers.__file__).parent
    names: set[str] = set()
    for source in root.rglob("*.py"):
        names.update(_TEMPLATE_NAME.findall(source.read_text(encoding="utf-8")))
    return sorted(names)
