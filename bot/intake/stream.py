"""Intake through a Redis Stream: ``/intake`` accepts, any ``serve`` admits.

With the Redis store, ``POST /intake`` does not admit the mentions itself:
it checks the signature and every item as before, then adds the good items
to the store's intake stream in one atomic script call that also decides
``stored`` or ``duplicate`` (an item whose mention record exists, or which
is already in the stream, is a duplicate), and answers after Redis has the
entries (as durable as the store: AOF, ``docs/operations.md``). ``stored``
means accepted for good: admission follows within moments in whichever
process reads it.

Every ``serve`` runs a :class:`StreamConsumer` in the consumer group
:data:`GROUP` under its own name (``Runtime.owner``): ``XREADGROUP`` hands
each entry to one consumer, which admits its batch through the ordinary
batched admission (``Runtime.ingest_batch``: enrichment, surge lanes,
cards, one store call) and then acknowledges and deletes the entries. A
process that dies between reading and acknowledging leaves its entries
pending; after ``claim_idle`` another consumer takes them with
``XAUTOCLAIM`` and admits them again, and admission inserts a mention only if
its record is absent, so nothing is admitted twice. An entry that still fails
after ``max_deliveries`` deliveries goes to the dead-letter stream with a
log line (and ``playcaller_intake_stream_dead_letters`` in ``/metrics``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.errors import InvalidInput
from bot.core.jsontext import decode_json
from bot.core.model import mention_key as key_of
from bot.intake.feed import IncomingMention, parse_mention
from bot.metrics import Metrics, Reading
from bot.runtime import Runtime
from bot.store import dumps, from_us, to_us
from bot.store.redis.stream import StreamEntry, StreamState
from handlers.triage.records import KIND

log = logging.getLogger(__name__)

GROUP = "playcaller-intake"
STREAM_ENV = "PLAYCALLER_INTAKE_STREAM"
CLAIM_IDLE_ENV = "PLAYCALLER_INTAKE_CLAIM_IDLE_SECONDS"
MAX_DELIVERIES_ENV = "PLAYCALLER_INTAKE_MAX_DELIVERIES"
BATCH_ENV = "PLAYCALLER_INTAKE_STREAM_BATCH"


class IntakeStream(Protocol):
    """The store's intake stream (:class:`bot.store.redis.stream.RedisIntakeStream`)."""

    async def intake_enqueue(
        self, kind: str, items: Sequence[tuple[str, str]], received_us: int
    ) -> list[bool]: ...

    async def intake_group(self, group: str) -> None: ...

    async def intake_read(
        self, group: str, consumer: str, count: int, block_ms: int | None
    ) -> list[StreamEntry]: ...

    async def intake_claim(
        self, group: str, consumer: str, min_idle_ms: int, count: int, start: str = "0-0"
    ) -> tuple[str, list[StreamEntry]]: ...

    async def intake_ack(self, group: str, entries: Sequence[StreamEntry]) -> None: ...

    async def intake_dead_letter(
        self, group: str, entry: StreamEntry, reason: str, at_us: int
    ) -> None: ...

    async def intake_state(self, group: str) -> StreamState: ...


@dataclass(frozen=True)
class StreamSettings:
    """How a consumer reads: batch size, how long it waits for entries, when it
    takes over another consumer's entries and when it gives one up."""

    batch: int = 500
    block: timedelta = timedelta(seconds=1)
    claim_idle: timedelta = timedelta(seconds=60)
    max_deliveries: int = 5
    # False: this process only accepts (``PLAYCALLER_INTAKE_STREAM=accept``);
    # other processes admit.
    consume: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> StreamSettings | None:
        """None when ``PLAYCALLER_INTAKE_STREAM`` is ``off`` (admit in the request)."""
        mode = environ.get(STREAM_ENV, "").strip().lower()
        if mode in {"off", "0", "false", "no"}:
            return None
        if mode not in {"", "on", "1", "true", "yes", "accept"}:
            raise InvalidInput(STREAM_ENV, f"{mode[:40]!r} is not on, off or accept")
        return cls(
            batch=_positive(environ, BATCH_ENV, cls.batch),
            claim_idle=timedelta(seconds=_positive(environ, CLAIM_IDLE_ENV, 60)),
            max_deliveries=_positive(environ, MAX_DELIVERIES_ENV, cls.max_deliveries),
            consume=mode != "accept",
        )


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(name, f"{raw[:40]!r} is not a positive whole number")
    return int(raw)


def stream_of(runtime: Runtime) -> IntakeStream | None:
    """The runtime's store as an intake stream, or None (SQLite admits directly)."""
    store: Any = runtime.store
    return store if hasattr(store, "intake_enqueue") else None


def document(mention: IncomingMention) -> dict[str, Any]:
    """``mention`` in the intake format: :func:`parse_mention` gives it back."""
    extra = dict(mention.extra)
    author: dict[str, Any] = {**extra.pop("author", {}), "handle": mention.author.handle}
    if mention.author.name is not None:
        author["name"] = mention.author.name
    if mention.author.followers is not None:
        author["followers"] = mention.author.followers
    author["verified"] = mention.author.verified
    doc: dict[str, Any] = {
        **extra,
        "network": mention.network,
        "id": mention.external_id,
        "text": mention.text,
        "created_at": mention.created_at.isoformat(),
        "author": author,
    }
    for name, value in (
        ("url", mention.url),
        ("lang", mention.lang),
        ("in_reply_to", mention.in_reply_to),
    ):
        if value is not None:
            doc[name] = value
    return doc


async def enqueue(
    stream: IntakeStream, mentions: Sequence[IncomingMention], now: datetime
) -> list[bool]:
    """Add ``mentions`` to the stream: True for each new one, False for each
    duplicate (held already, admitted already, or earlier in ``mentions``)."""
    items = [(mention_key(m), dumps(document(m))) for m in mentions]
    return await stream.intake_enqueue(KIND, items, to_us(now))


def mention_key(mention: IncomingMention) -> str:
    return key_of(mention.network, mention.external_id)


class StreamConsumer:
    """One process's consumer in :data:`GROUP` (see the module docstring)."""

    def __init__(self, runtime: Runtime, stream: IntakeStream, settings: StreamSettings) -> None:
        self.runtime = runtime
        self.stream = stream
        self.settings = settings
        self.name = runtime.owner
        self._cursor = "0-0"
        self._ready = False
        self.admitted = runtime.metrics.counter(
            "intake_stream_admitted",
            "Intake stream entries this process admitted and acknowledged "
            "(a re-delivered entry that was already admitted counts again).",
        )

    async def step(self, block: timedelta | None = None) -> int:
        """Claim idle entries, read new ones (waiting up to ``block``), admit
        and acknowledge them; the number of entries handled."""
        if not self._ready:
            await self.stream.intake_group(GROUP)
            self._ready = True
        count = self.settings.batch
        self._cursor, claimed = await self.stream.intake_claim(
            GROUP, self.name, _ms(self.settings.claim_idle), count, self._cursor
        )
        fresh: list[StreamEntry] = []
        if len(claimed) < count:
            wait = None if claimed or block is None else max(1, _ms(block))
            fresh = await self.stream.intake_read(GROUP, self.name, count - len(claimed), wait)
        entries = [*claimed, *fresh]
        if entries:
            await self.admit(entries)
        return len(entries)

    async def admit(self, entries: Sequence[StreamEntry]) -> None:
        """Admit ``entries`` in one batch; on failure one by one, so a bad entry
        holds up only itself (it stays pending and is retried, then dead-lettered)."""
        live: list[tuple[StreamEntry, IncomingMention]] = []
        for entry in entries:
            if entry.deliveries > self.settings.max_deliveries:
                await self._dead_letter(entry, f"failed {entry.deliveries - 1} deliveries")
                continue
            try:
                live.append((entry, parse_mention(decode_json(entry.payload))))
            except InvalidInput as error:
                log.warning(
                    "intake stream entry %s is unreadable (%s: %s), delivery %d",
                    entry.id,
                    error.field,
                    error.problem,
                    entry.deliveries,
                )
        if not live:
            return
        try:
            await self._admit(live)
        except Exception:
            if len(live) == 1:
                log.exception("intake stream entry %s failed admission", live[0][0].id)
                return
            log.exception("intake stream batch of %d failed; admitting one by one", len(live))
            for one in live:
                try:
                    await self._admit([one])
                except Exception:
                    log.exception("intake stream entry %s failed admission", one[0].id)

    async def _admit(self, live: Sequence[tuple[StreamEntry, IncomingMention]]) -> None:
        await self.runtime.ingest_batch(
            [mention for _, mention in live],
            [
                from_us(entry.received_us) if entry.received_us else self.runtime.clock.now()
                for entry, _ in live
            ],
        )
        await self.stream.intake_ack(GROUP, [entry for entry, _ in live])
        self.admitted.inc(len(live))

    async def _dead_letter(self, entry: StreamEntry, reason: str) -> None:
        log.error("intake stream entry %s moved to the dead-letter stream: %s", entry.id, reason)
        await self.stream.intake_dead_letter(GROUP, entry, reason, to_us(self.runtime.clock.now()))

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; a failing Redis is retried every second."""
        while not stop.is_set():
            try:
                await self.step(self.settings.block)
            except Exception:
                log.exception("intake stream consumer %s failed; retrying", self.name)
                # The stream (and its group) may have been deleted: make it again.
                self._ready = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)


def watch_stream(metrics: Metrics, stream: IntakeStream) -> None:
    """The intake stream's depth, pending, lag and dead letters in ``/metrics``."""

    async def state() -> StreamState:
        return await stream.intake_state(GROUP)

    def reading(field: str) -> Any:
        async def read() -> Reading:
            return {(): float(getattr(await state(), field))}

        return read

    for field, text in (
        ("entries", "Mentions in the intake stream, accepted and not yet admitted."),
        ("pending", "Intake stream entries read by a consumer and not yet acknowledged."),
        ("lag", "Intake stream entries not yet read by any consumer."),
        ("dead", "Intake stream entries given up on, in the dead-letter stream."),
    ):
        name = "intake_stream_dead_letters" if field == "dead" else f"intake_stream_{field}"
        metrics.scraped(name, text, reading(field))


def _ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
