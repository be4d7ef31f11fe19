"""SQLite backend for the :class:`~bot.core.storage.Store` port.

One aiosqlite connection per store object, in WAL mode with a busy timeout.
Every write runs in a ``BEGIN IMMEDIATE`` transaction, which takes SQLite's
write lock up front, so a read-check-write (compare-and-set, fencing-token
checks, leasing) is atomic against other connections and other processes
sharing the file. Within one process an :class:`asyncio.Lock` serializes use
of the connection, so one task never sees another task's open transaction.

Interpretations of the contract (shared with the Redis backend):

* ``replace`` on an absent record treats its version as 0: with
  ``expected_version=0`` it creates the record, like ``insert``.
* Fencing tokens (``complete_timer``, ``finish_outbox``, ``retry_outbox`` and
  ``Effects.complete_timer``) are valid while no one else has leased the item
  since; a lease that expired but was not re-leased can still be completed.
  (Those calls take no ``now``, so "expired" cannot be judged there.)
* Effects apply in this order: complete the fenced timer, cancel timers,
  schedule timers, enqueue outbox items, append audit entries. So a timer
  handler may complete its timer and reschedule the same key in one write.
  Scheduling an existing key replaces it and drops its lease (a holder of the
  old token can no longer complete it). Enqueueing an existing outbox id is
  a no-op.
* ``next_timer_due`` is the earliest moment ``lease_timers`` could return a
  timer: the due time, or for a leased timer the end of its lease.
* ``put_once`` keys expire by the ``now`` passed in, never by wall clock.
* ``audit_log`` and ``find`` return the *oldest* ``limit`` matches.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.storage import (
    JSON,
    NO_EFFECTS,
    AuditEntry,
    Effects,
    LeasedOutboxItem,
    LeasedTimer,
    OutboxItem,
    Record,
    Timer,
    Written,
)
from bot.store import (
    EncodedEffects,
    dumps,
    duration_us,
    from_us,
    loads_object,
    loads_tags,
    to_us,
)

log = logging.getLogger(__name__)

_SCHEMA_VERSION = 1

# When a timer can next be leased: its due time, or the end of a later lease.
_READY = "max(due_at, coalesce(lease_until, due_at))"

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        tags TEXT NOT NULL,
        UNIQUE (kind, key)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS record_tags (
        kind TEXT NOT NULL,
        tag TEXT NOT NULL,
        seq INTEGER NOT NULL REFERENCES records (seq),
        PRIMARY KEY (kind, tag, seq)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS record_tags_by_seq ON record_tags (seq)",
    """
    CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expires_at)",
    """
    CREATE TABLE IF NOT EXISTS timers (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        payload TEXT NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        token INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at, key)",
    f"CREATE INDEX IF NOT EXISTS timers_ready ON timers ({_READY}, key)",
    """
    CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL,
        op TEXT NOT NULL,
        destination TEXT NOT NULL,
        card_key TEXT,
        body TEXT NOT NULL,
        priority INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        not_before INTEGER,
        lease_owner TEXT,
        lease_until INTEGER,
        token INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX IF NOT EXISTS outbox_queue ON outbox (platform, priority, seq)",
    """
    CREATE TABLE IF NOT EXISTS card_refs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        platform TEXT NOT NULL,
        card_key TEXT NOT NULL,
        ref TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS card_refs_by_card ON card_refs (platform, card_key, seq)",
    """
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS audit_by_subject ON audit (subject, seq)",
    """
    CREATE TABLE IF NOT EXISTS counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    "INSERT OR IGNORE INTO counters (name, value) VALUES ('fencing_token', 0)",
)

_SELECT_RECORD = (
    "SELECT seq, kind, key, version, data, tags FROM records WHERE kind = ? AND key = ?"
)
_OUTBOX_COLUMNS = (
    "id, platform, op, destination, card_key, body, priority, created_at, not_before, attempts"
)


class SqliteStore:
    """A :class:`~bot.core.storage.Store` in one SQLite file (see module docs).

    Several processes may open the same file; all writes are serialized by
    SQLite's write lock, waiting up to ``busy_timeout`` seconds for it.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self._path = Path(path)
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    # -- lifecycle -----------------------------------------------------------

    async def open(self) -> None:
        """Open the file (creating its directory) and create the schema."""
        async with self._lock:
            if self._db is not None:
                return
            if str(self._path) != ":memory:":
                self._path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self._path, isolation_level=None)
            try:
                await db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
                async with db.execute("PRAGMA journal_mode = WAL") as cur:
                    row = await cur.fetchone()
                if row is None or str(row[0]).lower() != "wal":
                    log.warning("SQLite store %s is not in WAL mode (%s)", self._path, row)
                try:
                    await db.execute("BEGIN IMMEDIATE")
                    for statement in _SCHEMA:
                        await db.execute(statement)
                    await db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                except BaseException:
                    await _rollback(db)
                    raise
                await db.execute("COMMIT")
            except BaseException:
                await db.close()
                raise
            self._db = db
            log.debug("opened SQLite store %s", self._path)

    async def close(self) -> None:
        """Close the connection. The store can be opened again."""
        async with self._lock:
            if self._db is not None:
                db, self._db = self._db, None
                await db.close()

    async def ping(self) -> bool:
        """True when the database answers a query."""
        if self._db is None:
            return False
        try:
            rows = await self._fetch("SELECT 1")
        except (aiosqlite.Error, ValueError):
            log.warning("SQLite store %s does not answer", self._path, exc_info=True)
            return False
        return rows == [(1,)]

    # -- plumbing ------------------------------------------------------------

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SqliteStore is not open; await store.open() first")
        return self._db

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self._conn()
            # BEGIN sits inside the try: if the caller is cancelled while BEGIN
            # runs on aiosqlite's thread, the transaction must still be rolled
            # back, or this connection would keep the file's write lock.
            try:
                await db.execute("BEGIN IMMEDIATE")
                yield db
            except BaseException:
                await _rollback(db)
                raise
            await db.execute("COMMIT")

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._lock:
            return await _rows(self._conn(), sql, params)

    # -- records -------------------------------------------------------------

    async def insert(self, record: Record, effects: Effects = NO_EFFECTS) -> Written:
        """Create ``record`` at version 1 with its effects (see the port)."""
        return await self._write(record, None, effects)

    async def replace(
        self, record: Record, expected_version: int, effects: Effects = NO_EFFECTS
    ) -> Written:
        """Compare-and-set ``record`` at ``expected_version + 1`` (see the port)."""
        return await self._write(record, expected_version, effects)

    async def _write(self, record: Record, expected: int | None, effects: Effects) -> Written:
        data = dumps(record.data)
        tags = sorted(record.tags)
        encoded = EncodedEffects.of(effects)
        async with self._tx() as db:
            rows = await _rows(db, _SELECT_RECORD, (record.kind, record.key))
            current = _record(rows[0]) if rows else None
            if expected is None and current is not None:
                return Written(False, current)
            if expected is not None and (current.version if current else 0) != expected:
                return Written(False, current)
            if not await _fence_holds(db, encoded.complete):
                return Written(False, current)
            if rows:
                seq = int(rows[0][0])
                version = current.version + 1 if current else 1
                await db.execute(
                    "UPDATE records SET version = ?, data = ?, tags = ? WHERE seq = ?",
                    (version, data, dumps(tags), seq),
                )
                await db.execute("DELETE FROM record_tags WHERE seq = ?", (seq,))
            else:
                version = 1
                cur = await db.execute(
                    "INSERT INTO records (kind, key, version, data, tags) VALUES (?, ?, ?, ?, ?)",
                    (record.kind, record.key, version, data, dumps(tags)),
                )
                seq = _lastrowid(cur)
                await cur.close()
            await db.executemany(
                "INSERT INTO record_tags (kind, tag, seq) VALUES (?, ?, ?)",
                [(record.kind, tag, seq) for tag in tags],
            )
            await _apply_effects(db, encoded)
            return Written(
                True,
                Record(
                    kind=record.kind,
                    key=record.key,
                    data=loads_object(data),
                    version=version,
                    tags=frozenset(tags),
                ),
            )

    async def get(self, kind: str, key: str) -> Record | None:
        """The current record or None."""
        rows = await self._fetch(_SELECT_RECORD, (kind, key))
        return _record(rows[0]) if rows else None

    async def find(self, kind: str, tag: str, limit: int = 200) -> list[Record]:
        """Records of ``kind`` carrying ``tag``, oldest insert first."""
        if limit <= 0:
            return []
        rows = await self._fetch(
            "SELECT r.seq, r.kind, r.key, r.version, r.data, r.tags"
            " FROM record_tags t JOIN records r ON r.seq = t.seq"
            " WHERE t.kind = ? AND t.tag = ? ORDER BY t.seq LIMIT ?",
            (kind, tag, limit),
        )
        return [_record(row) for row in rows]

    # -- effects and idempotency ---------------------------------------------

    async def apply(self, effects: Effects) -> bool:
        """Commit ``effects`` alone; False if its timer completion is fenced off."""
        encoded = EncodedEffects.of(effects)
        if not effects:
            return True
        async with self._tx() as db:
            if not await _fence_holds(db, encoded.complete):
                return False
            await _apply_effects(db, encoded)
            return True

    async def put_once(self, key: str, ttl: timedelta, now: datetime) -> bool:
        """Set an idempotency key; True unless it is set and unexpired at ``now``."""
        now_us = to_us(now)
        expires = now_us + duration_us(ttl, "ttl")
        async with self._tx() as db:
            await db.execute("DELETE FROM idempotency WHERE expires_at <= ?", (now_us,))
            cur = await db.execute(
                "INSERT INTO idempotency (key, expires_at) VALUES (?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (key, expires),
            )
            created = cur.rowcount == 1
            await cur.close()
            return created

    async def remembered(self, key: str, now: datetime) -> bool:
        """True when an idempotency key is set and unexpired at ``now``."""
        rows = await self._fetch(
            "SELECT 1 FROM idempotency WHERE key = ? AND expires_at > ?", (key, to_us(now))
        )
        return bool(rows)

    async def forget(self, key: str) -> None:
        """Delete an idempotency key."""
        async with self._tx() as db:
            await db.execute("DELETE FROM idempotency WHERE key = ?", (key,))

    # -- timers --------------------------------------------------------------

    async def lease_timers(
        self, now: datetime, owner: str, lease_for: timedelta, limit: int = 100
    ) -> list[LeasedTimer]:
        """Lease due timers that are unleased or whose lease expired at ``now``."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []
        async with self._tx() as db:
            rows = await _rows(
                db,
                f"SELECT key, kind, due_at, payload, attempts FROM timers"
                f" WHERE {_READY} <= ? ORDER BY {_READY}, key LIMIT ?",
                (now_us, limit),
            )
            if not rows:
                return []
            tokens = await _next_tokens(db, len(rows))
            leased: list[LeasedTimer] = []
            for (key, kind, due_at, payload, attempts), token in zip(rows, tokens, strict=True):
                await db.execute(
                    "UPDATE timers SET lease_owner = ?, lease_until = ?, token = ?,"
                    " attempts = attempts + 1 WHERE key = ?",
                    (owner, until, token, key),
                )
                leased.append(
                    LeasedTimer(
                        timer=Timer(key, kind, from_us(due_at), loads_object(payload)),
                        token=token,
                        attempts=int(attempts) + 1,
                    )
                )
            return leased

    async def complete_timer(self, key: str, token: int) -> bool:
        """Delete timer ``key`` if ``token`` still holds its lease."""
        async with self._tx() as db:
            cur = await db.execute("DELETE FROM timers WHERE key = ? AND token = ?", (key, token))
            done = cur.rowcount == 1
            await cur.close()
            return done

    async def pending_timers(self, prefix: str = "") -> list[Timer]:
        """Scheduled timers (leased or not) whose key starts with ``prefix``."""
        where = "WHERE substr(key, 1, ?) = ?" if prefix else ""
        params: tuple[Any, ...] = (len(prefix), prefix) if prefix else ()
        rows = await self._fetch(
            f"SELECT key, kind, due_at, payload FROM timers {where} ORDER BY due_at, key", params
        )
        return [Timer(key, kind, from_us(due), loads_object(p)) for key, kind, due, p in rows]

    async def next_timer_due(self) -> datetime | None:
        """The earliest moment a timer can be leased, or None without timers."""
        rows = await self._fetch(f"SELECT min({_READY}) FROM timers")
        return None if not rows or rows[0][0] is None else from_us(int(rows[0][0]))

    # -- outbox --------------------------------------------------------------

    async def lease_outbox(
        self, platform: str, now: datetime, owner: str, lease_for: timedelta, limit: int = 50
    ) -> list[LeasedOutboxItem]:
        """Lease deliverable items for ``platform``: by priority, then FIFO."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []
        async with self._tx() as db:
            rows = await _rows(
                db,
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE platform = ?"
                " AND (not_before IS NULL OR not_before <= ?)"
                " AND (lease_until IS NULL OR lease_until <= ?)"
                " ORDER BY priority, seq LIMIT ?",
                (platform, now_us, now_us, limit),
            )
            if not rows:
                return []
            tokens = await _next_tokens(db, len(rows))
            leased: list[LeasedOutboxItem] = []
            for row, token in zip(rows, tokens, strict=True):
                await db.execute(
                    "UPDATE outbox SET lease_owner = ?, lease_until = ?, token = ?,"
                    " attempts = attempts + 1 WHERE id = ?",
                    (owner, until, token, row[0]),
                )
                leased.append(LeasedOutboxItem(_outbox_item(row), token, int(row[9]) + 1))
            return leased

    async def finish_outbox(
        self, item_id: str, token: int, card_ref: tuple[str, JSON] | None = None
    ) -> bool:
        """Remove a delivered item and remember ``card_ref``; False if fenced off."""
        ref = None if card_ref is None else (card_ref[0], dumps(card_ref[1]))
        async with self._tx() as db:
            rows = await _rows(
                db, "SELECT platform FROM outbox WHERE id = ? AND token = ?", (item_id, token)
            )
            if not rows:
                return False
            await db.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
            if ref is not None:
                await db.execute(
                    "INSERT INTO card_refs (platform, card_key, ref) VALUES (?, ?, ?)",
                    (rows[0][0], *ref),
                )
            return True

    async def retry_outbox(self, item_id: str, token: int, not_before: datetime) -> bool:
        """Release a leased item for another try at ``not_before``."""
        not_before_us = to_us(not_before)
        async with self._tx() as db:
            cur = await db.execute(
                "UPDATE outbox SET not_before = ?, lease_owner = NULL, lease_until = NULL,"
                " token = NULL WHERE id = ? AND token = ?",
                (not_before_us, item_id, token),
            )
            done = cur.rowcount == 1
            await cur.close()
            return done

    async def outbox_size(self, platform: str | None = None) -> int:
        """Items waiting (leased or not), for one platform or all."""
        if platform is None:
            rows = await self._fetch("SELECT count(*) FROM outbox")
        else:
            rows = await self._fetch("SELECT count(*) FROM outbox WHERE platform = ?", (platform,))
        return int(rows[0][0])

    async def card_refs(self, platform: str, card_key: str) -> list[JSON]:
        """Where a card was posted on ``platform``, in posting order."""
        rows = await self._fetch(
            "SELECT ref FROM card_refs WHERE platform = ? AND card_key = ? ORDER BY seq",
            (platform, card_key),
        )
        return [loads_object(ref) for (ref,) in rows]

    # -- audit ---------------------------------------------------------------

    async def audit_log(self, subject: str | None = None, limit: int = 1000) -> list[AuditEntry]:
        """The oldest ``limit`` audit entries, optionally for one subject."""
        if limit <= 0:
            return []
        columns = "at, actor, action, subject, detail"
        if subject is None:
            rows = await self._fetch(f"SELECT {columns} FROM audit ORDER BY seq LIMIT ?", (limit,))
        else:
            rows = await self._fetch(
                f"SELECT {columns} FROM audit WHERE subject = ? ORDER BY seq LIMIT ?",
                (subject, limit),
            )
        return [
            AuditEntry(from_us(at), actor, action, subj, loads_object(detail))
            for at, actor, action, subj, detail in rows
        ]


async def _rollback(db: aiosqlite.Connection) -> None:
    try:
        await db.execute("ROLLBACK")
    except sqlite3.OperationalError:
        # No transaction was open (BEGIN itself failed, e.g. busy timeout).
        log.debug("nothing to roll back", exc_info=True)


async def _rows(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    async with db.execute(sql, params) as cur:
        return list(await cur.fetchall())


def _lastrowid(cur: aiosqlite.Cursor) -> int:
    rowid = cur.lastrowid
    if rowid is None:
        raise RuntimeError("SQLite did not report the inserted row id")
    return rowid


def _record(row: Sequence[Any]) -> Record:
    _, kind, key, version, data, tags = row
    return Record(
        kind=kind,
        key=key,
        data=loads_object(data),
        version=int(version),
        tags=loads_tags(tags),
    )


def _outbox_item(row: Sequence[Any]) -> OutboxItem:
    item_id, platform, op, dest, card_key, body, priority, created, not_before, _ = row
    return OutboxItem(
        id=item_id,
        platform=platform,
        op=op,
        destination=dest,
        body=loads_object(body),
        created_at=from_us(created),
        card_key=card_key,
        priority=int(priority),
        not_before=None if not_before is None else from_us(not_before),
    )


async def _next_tokens(db: aiosqlite.Connection, count: int) -> range:
    rows = await _rows(
        db,
        "UPDATE counters SET value = value + ? WHERE name = 'fencing_token' RETURNING value",
        (count,),
    )
    last = int(rows[0][0])
    return range(last - count + 1, last + 1)


async def _fence_holds(db: aiosqlite.Connection, complete: tuple[str, int] | None) -> bool:
    if complete is None:
        return True
    key, token = complete
    rows = await _rows(db, "SELECT 1 FROM timers WHERE key = ? AND token = ?", (key, token))
    return bool(rows)


async def _apply_effects(db: aiosqlite.Connection, fx: EncodedEffects) -> None:
    """Apply effects inside the caller's transaction (the fence was checked)."""
    if fx.complete is not None:
        await db.execute("DELETE FROM timers WHERE key = ?", (fx.complete[0],))
    if fx.cancel:
        await db.executemany("DELETE FROM timers WHERE key = ?", [(key,) for key in fx.cancel])
    if fx.timers:
        await db.executemany(
            "INSERT INTO timers (key, kind, due_at, payload) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, due_at = excluded.due_at,"
            " payload = excluded.payload, lease_owner = NULL, lease_until = NULL,"
            " token = NULL, attempts = 0",
            fx.timers,
        )
    if fx.outbox:
        await db.executemany(
            "INSERT INTO outbox (id, platform, op, destination, card_key, body, priority,"
            " created_at, not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            [
                (
                    o.id,
                    o.platform,
                    o.op,
                    o.destination,
                    o.card_key,
                    o.body,
                    o.priority,
                    o.created_us,
                    o.not_before_us,
                )
                for o in fx.outbox
            ],
        )
    if fx.audit:
        await db.executemany(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            fx.audit,
        )
