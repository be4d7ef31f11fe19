"""Storage backends for the :class:`~bot.core.storage.Store` port.

:func:`open_store` picks a backend from a URL. The small helpers below are
shared by the backends so both encode JSON and time the same way:

* JSON is ``json.dumps(..., sort_keys=True)``; datetimes and dates found in
  payloads are written as ISO-8601 strings (they come back as strings).
  ``orjson`` writes and reads it (a tenth of the CPU; intake encodes several
  documents per mention, every click decodes a record), with ``json`` for
  what orjson refuses (non-string keys, huge integers), so the same values
  are accepted as before.
* Datetimes must be timezone-aware; they are stored as integer microseconds
  since the Unix epoch (sortable, exact) and returned as aware UTC datetimes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

from bot.core.storage import JSON, Effects, Store

__all__ = ["open_store"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Outbox priorities are bounded so Redis can fold (priority, seq) into one
# exactly representable sorted-set score; both backends enforce the same range.
MIN_PRIORITY = -4096
MAX_PRIORITY = 4095


def open_store(url: str, *, namespace: str = "playcaller") -> Store:
    """Return an unopened store for ``url``; the caller awaits ``.open()``.

    ``sqlite:///relative/path.db`` and ``sqlite:////abs/path.db`` select
    :class:`~bot.store.sqlite.SqliteStore`; ``redis://host:port/db`` and
    ``rediss://...`` select :class:`~bot.store.redis.RedisStore`, whose keys
    are all prefixed with the hash tag ``{namespace}``. ``namespace`` is
    ignored by SQLite (one file is one namespace).
    """
    scheme, sep, _ = url.partition(":")
    scheme = scheme.lower() if sep else ""
    if scheme == "sqlite":
        parts = urlsplit(url)
        if parts.netloc or not url[len("sqlite:") :].startswith("///"):
            raise ValueError(
                "sqlite store URLs look like sqlite:///relative/path.db or sqlite:////abs/path.db"
            )
        path = parts.path[1:]
        if not path:
            raise ValueError("sqlite store URL has no database path")
        from bot.store.sqlite import SqliteStore

        return SqliteStore(path)
    if scheme in ("redis", "rediss"):
        from bot.store.redis import RedisStore

        return RedisStore(url, namespace)
    # Only the scheme is named: the URL itself may carry a password.
    raise ValueError(
        f"unsupported store URL scheme {scheme or '(none)'!r}; "
        "expected sqlite:///path, redis://host:port/db or rediss://host:port/db"
    )


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch for an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the store needs timezone-aware datetimes")
    return (moment - _EPOCH) // _MICROSECOND


def from_us(micros: int) -> datetime:
    """The aware UTC datetime for epoch microseconds."""
    return _EPOCH + timedelta(microseconds=micros)


def duration_us(span: timedelta, what: str) -> int:
    """A positive duration in microseconds; ``what`` names it in errors."""
    micros = span // _MICROSECOND
    if micros <= 0:
        raise ValueError(f"{what} must be positive, got {span!r}")
    return micros


def check_priority(priority: int) -> int:
    """Validate an outbox priority (see ``MIN_PRIORITY``/``MAX_PRIORITY``)."""
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise ValueError(f"outbox priority {priority} outside [{MIN_PRIORITY}, {MAX_PRIORITY}]")
    return priority


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# Datetimes and dataclasses go to ``_json_default`` as with ``json`` (orjson
# would write them its own way).
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any) -> str:
    """Canonical JSON text (sorted keys, compact, datetimes as ISO strings)."""
    try:
        return orjson.dumps(value, default=_json_default, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        # What orjson refuses and json may take: keys that are not strings,
        # integers beyond 64 bits, lone surrogates (or json raises the same).
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
        )


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # What orjson refuses and ``dumps`` may have written through json
        # (integers beyond 64 bits): json reads it, or raises the same error.
        return json.loads(text)


def loads_tags(text: str) -> frozenset[str]:
    """Parse stored tags (a JSON array of strings)."""
    value = _loads(text)
    if not isinstance(value, list):
        raise ValueError(f"stored tags are not a JSON array: {text[:80]!r}")
    return frozenset(str(tag) for tag in value)


def loads_object(text: str) -> JSON:
    """Parse JSON text that must hold an object."""
    value = _loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"stored JSON is not an object: {text[:80]!r}")
    return value


@dataclass(frozen=True)
class EncodedOutboxItem:
    """An :class:`~bot.core.storage.OutboxItem` ready to store."""

    id: str
    platform: str
    op: str
    destination: str
    card_key: str | None
    body: str
    priority: int
    created_us: int
    not_before_us: int | None


@dataclass(frozen=True)
class EncodedEffects:
    """An :class:`~bot.core.storage.Effects` bundle with JSON and times encoded.

    Encoding happens before a backend starts its transaction, so a payload
    that cannot be serialized fails the call without touching the store.
    """

    audit: tuple[tuple[int, str, str, str, str], ...]
    timers: tuple[tuple[str, str, int, str], ...]
    cancel: tuple[str, ...]
    outbox: tuple[EncodedOutboxItem, ...]
    complete: tuple[str, int] | None
    complete_inbox: tuple[str, int] | None
    counts: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, effects: Effects) -> EncodedEffects:
        """Encode ``effects``."""
        # A card posted to several platforms is one body object: encoded once.
        bodies: dict[int, str] = {}

        def body_text(body: Any) -> str:
            text = bodies.get(id(body))
            if text is None:
                text = bodies[id(body)] = dumps(body)
            return text

        return cls(
            audit=tuple(
                (to_us(e.at), e.actor, e.action, e.subject, dumps(e.detail)) for e in effects.audit
            ),
            timers=tuple(
                (t.key, t.kind, to_us(t.due_at), dumps(t.payload)) for t in effects.timers
            ),
            cancel=tuple(effects.cancel_timers),
            outbox=tuple(
                EncodedOutboxItem(
                    id=o.id,
                    platform=o.platform,
                    op=o.op,
                    destination=o.destination,
                    card_key=o.card_key,
                    body=body_text(o.body),
                    priority=check_priority(o.priority),
                    created_us=to_us(o.created_at),
                    not_before_us=None if o.not_before is None else to_us(o.not_before),
                )
                for o in effects.outbox
            ),
            complete=effects.complete_timer,
            complete_inbox=effects.complete_inbox,
            counts=_summed(effects.counts) if effects.counts else (),
        )


def settlement_effects(effects: Effects) -> EncodedEffects:
    """``effects`` that ride on :meth:`Store.finish_outbox`, encoded: they may
    not complete a timer or inbox entry (the item's own lease is the fence)."""
    if effects.complete_timer is not None or effects.complete_inbox is not None:
        raise ValueError("finish_outbox effects cannot complete a timer or inbox entry")
    return EncodedEffects.of(effects)


def _summed(counts: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    """One ``(name, amount)`` per counter, checked (a name may come twice)."""
    total: dict[str, int] = {}
    for name, amount in counts:
        total[name] = total.get(name, 0) + amount
    return tuple(checked_counts(total))


def checked_counts(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """``(name, amount)`` pairs for :meth:`Store.add_counts`; counters only grow."""
    pairs = [(str(name), int(amount)) for name, amount in counts.items()]
    for name, amount in pairs:
        if amount < 0:
            raise ValueError(f"counter {name!r} cannot go down (amount {amount})")
    return pairs
