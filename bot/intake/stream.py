"""Intake through a Redis Stream: ``/intake`` accepts, any ``serve`` admits.

With the Redis store, ``POST /intake`` does not admit the mentions itself:
it checks the signature and every item as before, then adds the good items
to the store's intake stream in one atomic script call that also decides
``stored`` or ``duplicate`` (an item whose mention record exists, or which
is already in the stream, is a duplicate), and answers after Redis has the
entries (as durable as the store: AOF, ``docs/operations.md``). ``stored``
means accepted for good: admission follows within moments in whichever
process reads it.

Every ``serve``, with ``/intake`` or without (``PLAYCALLER_INTAKE_STREAM``,
:meth:`StreamSettings.from_env`), runs a :class:`StreamConsumer` in the
consumer group :data:`GROUP` under its own name (``Runtime.owner``): ``XREADGROUP`` hands
each entry to one consumer, which admits its batch through the ordinary
batched admission (``Runtime.ingest_batch``: enrichment, surge lanes,
cards, one store call) and then acknowledges and deletes the entries. A
process that dies between reading and acknowledging leaves its entries
pending; after ``claim_idle`` another consumer takes them with
``XAUTOCLAIM`` and admits them again, and admission inserts a mention only if
its record is absent, and counts its arrival with that insert, so nothing is
admitted or counted twice. An entry that cannot be read or admitted is left
out of its batch (the others are admitted and acknowledged) and retried
alone; one that fails its ``max_deliveries``-th delivery goes to the
dead-letter stream with an ERROR line (and
``playcaller_intake_stream_dead_letters`` in ``/metrics``). A batch the
store refuses as a whole (unreachable, read-only, out of memory) is no
entry's fault: it stays pending, that delivery uncounted, and is retried
after ``claim_idle``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    MasterDownError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)

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

    async def intake_release(
        self, group: str, consumer: str, entries: Sequence[StreamEntry]
    ) -> int: ...

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
        """``PLAYCALLER_INTAKE_STREAM`` (Redis store only; read whether or not
        ``/intake`` is on): ``on`` (the default) accepts ``/intake`` into the
        stream and consumes it, also in a process without ``/intake``;
        ``accept`` only accepts; ``off`` (None) admits in the request and
        does not consume."""
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
        """Admit ``entries`` in one batch and acknowledge those admitted. An
        entry that cannot be read or admitted costs only itself: the others
        are admitted once and acknowledged, it stays pending for a retry, and
        fails into the dead-letter stream at its ``max_deliveries``-th delivery."""
        live: list[tuple[StreamEntry, IncomingMention]] = []
        for entry in entries:
            if entry.deliveries > self.settings.max_deliveries:
                # Delivered to consumers that died with it (it may be what kills them).
                await self._dead_letter(entry, f"failed {entry.deliveries - 1} deliveries")
                continue
            try:
                live.append((entry, parse_mention(decode_json(entry.payload))))
            except InvalidInput as error:
                await self._failed(entry, f"unreadable ({error.field}: {error.problem})")
        if live:
            await self._admit_or_halve(live)

    async def _admit_or_halve(self, live: Sequence[tuple[StreamEntry, IncomingMention]]) -> None:
        try:
            failures = await self._admit(live)
        except Exception as error:
            if _store_wide(error):
                await self._unavailable(live, error)
                return
            if len(live) > 1:
                # The batch broke as a whole (not at one mention's insert),
                # also by a Redis error one entry can cause (WRONGTYPE, a
                # script error, a value the client refuses): halve it until
                # the entry at fault is alone; the halves that pass are
                # admitted once.
                log.warning(
                    "intake stream batch of %d failed; halving it", len(live), exc_info=True
                )
                middle = len(live) // 2
                await self._admit_or_halve(live[:middle])
                await self._admit_or_halve(live[middle:])
                return
            failures = {0: error}
        for index, failure in sorted(failures.items()):
            said = str(failure).encode("utf-8", "backslashreplace").decode("utf-8")
            reason = f"failed admission ({type(failure).__name__}: {said})"
            await self._failed(live[index][0], reason, failure)

    async def _unavailable(
        self, live: Sequence[tuple[StreamEntry, IncomingMention]], error: Exception
    ) -> None:
        """The store refused the batch as a whole (unreachable, read-only in a
        failover, out of memory): no entry's fault. The batch stays pending,
        its delivery uncounted, and is claimed again after ``claim_idle``; so
        an outage never dead-letters mentions ``/intake`` answered for."""
        log.warning(
            "intake stream batch of %d left pending: the store is unavailable (%s: %s)",
            len(live),
            type(error).__name__,
            str(error)[:200],
        )
        entries = [entry for entry, _ in live]
        try:
            await self.stream.intake_release(GROUP, self.name, entries)
        except Exception:
            # Then this delivery counts; the entries stay pending all the same.
            log.warning("intake stream could not uncount a delivery of %d", len(entries))

    async def _admit(
        self, live: Sequence[tuple[StreamEntry, IncomingMention]]
    ) -> dict[int, Exception]:
        """Admit and acknowledge the entries that can be; the others' errors by index."""
        failures: dict[int, Exception] = {}
        await self.runtime.ingest_batch(
            [mention for _, mention in live],
            [
                from_us(entry.received_us) if entry.received_us else self.runtime.clock.now()
                for entry, _ in live
            ],
            failures=failures,
        )
        # An item answered with a store-wide refusal (every script call of a
        # pipeline meets READONLY or OOM alike) is the store's fault, not its own.
        outage = next((e for e in failures.values() if _store_wide(e)), None)
        if outage is not None:
            raise outage
        done = [entry for index, (entry, _) in enumerate(live) if index not in failures]
        await self.stream.intake_ack(GROUP, done)
        self.admitted.inc(len(done))
        return failures

    async def _failed(
        self, entry: StreamEntry, reason: str, error: Exception | None = None
    ) -> None:
        """Leave a failed entry pending for a retry, or dead-letter it at its last delivery."""
        if entry.deliveries >= self.settings.max_deliveries:
            await self._dead_letter(entry, f"{reason}, delivery {entry.deliveries}")
            return
        log.warning(
            "intake stream entry %s %s, delivery %d of %d; retried",
            entry.id,
            reason,
            entry.deliveries,
            self.settings.max_deliveries,
            exc_info=error,
        )

    async def _dead_letter(self, entry: StreamEntry, reason: str) -> None:
        # The error may quote the text that broke it (half an emoji): keep it writable.
        reason = reason.encode("utf-8", "backslashreplace").decode("utf-8")
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


# Errors that say the store cannot take writes now, whichever item meets them.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
    MasterDownError,
    NoScriptError,
    TryAgainError,
)


def _store_wide(error: BaseException) -> bool:
    """True for an error that is the store's, not any entry's, whether raised
    for the batch or answered for one item: the unavailable kinds, a busy
    script or a loading server (``BUSY``, ``LOADING``). Any other error, a
    Redis one included (``WRONGTYPE``, a script error, the client's
    ``DataError``), may be one entry's doing: its batch is halved."""
    if isinstance(error, _UNAVAILABLE):
        return True
    return isinstance(error, ResponseError) and str(error).startswith(("BUSY ", "LOADING"))


def _ms(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
