"""SQLite backend for the :class:`~bot.core.storage.Store` port.

One aiosqlite connection per store object, in WAL mode with a busy timeout.
Every store call is one synchronous function (a "job") that runs on
aiosqlite's connection thread (:func:`_on_connection_thread`): a write is
``BEGIN IMMEDIATE``, the compare-and-set read, the fencing-token check, the
record and tag writes, every effect and ``COMMIT``, all in that one function.
``BEGIN IMMEDIATE`` takes SQLite's write lock up front, so a read-check-write
(compare-and-set, fencing-token checks, leasing) is atomic against other
connections and other processes sharing the file. Within one process an
:class:`asyncio.Lock` serializes use of the connection (and its thread runs
one function at a time), so one task never sees another task's open
transaction.

Hand-offs: a call alone costs one hand-off to the thread however many
statements it runs. Calls made while the connection is busy queue up, and the
next one to get the lock takes all queued jobs to the thread in one hand-off,
writes first (in arrival order), then reads; each job still runs on its own
(its own transaction) and each caller gets its own result or exception (see
:meth:`SqliteStore._run`).

Durability: ``synchronous = NORMAL`` (in WAL mode). A commit appends to the
WAL without an fsync; the WAL is synced when it is checkpointed. Committed
transactions survive a crash or kill of the application; a power loss or an
operating-system crash may lose the most recent commits (the file is never
corrupted). The default, ``FULL``, fsynced the WAL on every commit.

Cancellation: a call cancelled while it waits for the lock never runs. Once
its job has gone to the connection thread it runs to completion there (a
write may commit) and the caller only misses the outcome; a write is all or
nothing either way.

``replace`` first reads the stored version without the write lock; when it
already differs from ``expected_version``, the call is refused with that
record at once (it was the current record at that moment), without waiting
for the write lock. Otherwise everything is checked again in the transaction.

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
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

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


_T = TypeVar("_T")

# What the connection thread runs for one store call: a function of the connection.
_Job = Callable[[sqlite3.Connection], _T]
# A queued call: its job, the future its caller awaits, whether the job writes.
_Slot = tuple[_Job[Any], "asyncio.Future[Any]", bool]
# A job's result, or the exception it raised.
_Outcome = tuple[bool, Any]


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
        self._queue: list[_Slot] = []  # jobs waiting for the connection thread

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
                await _on_connection_thread(db, self._set_up)
            except BaseException:
                await db.close()
                raise
            self._db = db
            log.debug("opened SQLite store %s", self._path)

    def _set_up(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        row = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if row is None or str(row[0]).lower() != "wal":
            log.warning("SQLite store %s is not in WAL mode (%s)", self._path, row)
        # Durable against application crashes; see the module docstring.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")

        def create(conn: sqlite3.Connection) -> None:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

        _transaction(conn, create)

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

    async def _run(self, job: _Job[_T], *, writes: bool) -> _T:
        """Run ``job`` on the connection thread and return its result.

        Calls queue their job; the next task to hold the lock takes every
        queued job to the thread in one hand-off, where they run one after
        another, each on its own (a write in its own transaction), and each
        caller gets its own result or exception. One call alone is one
        hand-off; concurrent calls share hand-offs. Within a hand-off the
        writes run first, in arrival order, then the reads: all of those calls
        were pending at once, so any order is a valid one, and this one lets
        a read that was queued behind a write see it (a claimer still waiting
        to read learns that someone else's claim just went through).
        """
        slot: _Slot = (job, asyncio.get_running_loop().create_future(), writes)
        self._queue.append(slot)
        try:
            async with self._lock:
                if self._queue:
                    queued, self._queue = self._queue, []
                    batch = [s for s in queued if s[2]] + [s for s in queued if not s[2]]
                    await self._hand_off(batch)
        except BaseException:
            # Cancelled while waiting for the lock: a job not yet taken never runs.
            self._queue = [other for other in self._queue if other is not slot]
            raise
        result: _T = await slot[1]
        return result

    async def _hand_off(self, batch: list[_Slot]) -> None:
        """Run ``batch`` on the connection thread and settle each caller's future.

        If the awaiting task is cancelled, the jobs still run and their callers
        (other than the cancelled one) still get their outcomes.
        """
        loop = asyncio.get_running_loop()

        def run_all(conn: sqlite3.Connection) -> list[_Outcome] | None:
            outcomes = [_attempt(job, conn) for job, _, _ in batch]
            if len(batch) == 1:
                return outcomes
            loop.call_soon_threadsafe(_settle, batch, outcomes)
            return None

        try:
            outcomes = await _on_connection_thread(self._conn(), run_all)
        except (RuntimeError, ValueError) as error:  # not open, or closed: nothing ran
            outcomes = [(False, error)] * len(batch)
        if outcomes is not None:
            _settle(batch, outcomes)

    async def _tx(self, body: _Job[_T]) -> _T:
        """Run ``body`` in one ``BEGIN IMMEDIATE`` transaction (see :func:`_transaction`)."""
        return await self._run(lambda conn: _transaction(conn, body), writes=True)

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self._run(lambda conn: conn.execute(sql, params).fetchall(), writes=False)

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
        kind, key = record.kind, record.key
        data = dumps(record.data)
        tags = sorted(record.tags)
        tags_json = dumps(tags)
        encoded = EncodedEffects.of(effects)
        # (written, the current row when refused, the new version when written)
        Outcome = tuple[bool, Any, int]

        def body(conn: sqlite3.Connection) -> Outcome:
            row = conn.execute(_SELECT_RECORD, (kind, key)).fetchone()
            if expected is None and row is not None:
                return False, row, 0
            if expected is not None and _version(row) != expected:
                return False, row, 0
            if not _fence_holds(conn, encoded.complete):
                return False, row, 0
            if row is not None:
                seq = int(row[0])
                version = int(row[3]) + 1
                conn.execute(
                    "UPDATE records SET version = ?, data = ?, tags = ? WHERE seq = ?",
                    (version, data, tags_json, seq),
                )
                conn.execute("DELETE FROM record_tags WHERE seq = ?", (seq,))
            else:
                version = 1
                cur = conn.execute(
                    "INSERT INTO records (kind, key, version, data, tags) VALUES (?, ?, ?, ?, ?)",
                    (kind, key, version, data, tags_json),
                )
                seq = _lastrowid(cur)
            if tags:
                conn.executemany(
                    "INSERT INTO record_tags (kind, tag, seq) VALUES (?, ?, ?)",
                    [(kind, tag, seq) for tag in tags],
                )
            _apply_effects(conn, encoded)
            return True, None, version

        def write(conn: sqlite3.Connection) -> Outcome:
            if expected is not None:
                # A stale compare-and-set is refused without the write lock.
                row = conn.execute(_SELECT_RECORD, (kind, key)).fetchone()
                if _version(row) != expected:
                    return False, row, 0
            return _transaction(conn, body)

        ok, current, version = await self._run(write, writes=True)
        if not ok:
            return Written(False, None if current is None else _record(current))
        return Written(
            True,
            Record(
                kind=kind,
                key=key,
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

        def body(conn: sqlite3.Connection) -> bool:
            if not _fence_holds(conn, encoded.complete):
                return False
            _apply_effects(conn, encoded)
            return True

        return await self._tx(body)

    async def put_once(self, key: str, ttl: timedelta, now: datetime) -> bool:
        """Set an idempotency key; True unless it is set and unexpired at ``now``."""
        now_us = to_us(now)
        expires = now_us + duration_us(ttl, "ttl")

        def body(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM idempotency WHERE expires_at <= ?", (now_us,))
            cur = conn.execute(
                "INSERT INTO idempotency (key, expires_at) VALUES (?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (key, expires),
            )
            return cur.rowcount == 1

        return await self._tx(body)

    async def remembered(self, key: str, now: datetime) -> bool:
        """True when an idempotency key is set and unexpired at ``now``."""
        rows = await self._fetch(
            "SELECT 1 FROM idempotency WHERE key = ? AND expires_at > ?", (key, to_us(now))
        )
        return bool(rows)

    async def forget(self, key: str) -> None:
        """Delete an idempotency key."""

        def body(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM idempotency WHERE key = ?", (key,))

        await self._tx(body)

    # -- timers --------------------------------------------------------------

    async def lease_timers(
        self, now: datetime, owner: str, lease_for: timedelta, limit: int = 100
    ) -> list[LeasedTimer]:
        """Lease due timers that are unleased or whose lease expired at ``now``."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []

        def body(conn: sqlite3.Connection) -> list[LeasedTimer]:
            rows = conn.execute(
                f"SELECT key, kind, due_at, payload, attempts FROM timers"
                f" WHERE {_READY} <= ? ORDER BY {_READY}, key LIMIT ?",
                (now_us, limit),
            ).fetchall()
            if not rows:
                return []
            tokens = _next_tokens(conn, len(rows))
            leased: list[LeasedTimer] = []
            for (key, kind, due_at, payload, attempts), token in zip(rows, tokens, strict=True):
                conn.execute(
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

        return await self._tx(body)

    async def complete_timer(self, key: str, token: int) -> bool:
        """Delete timer ``key`` if ``token`` still holds its lease."""

        def body(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM timers WHERE key = ? AND token = ?", (key, token))
            return cur.rowcount == 1

        return await self._tx(body)

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

        def body(conn: sqlite3.Connection) -> list[LeasedOutboxItem]:
            rows = conn.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE platform = ?"
                " AND (not_before IS NULL OR not_before <= ?)"
                " AND (lease_until IS NULL OR lease_until <= ?)"
                " ORDER BY priority, seq LIMIT ?",
                (platform, now_us, now_us, limit),
            ).fetchall()
            if not rows:
                return []
            tokens = _next_tokens(conn, len(rows))
            leased: list[LeasedOutboxItem] = []
            for row, token in zip(rows, tokens, strict=True):
                conn.execute(
                    "UPDATE outbox SET lease_owner = ?, lease_until = ?, token = ?,"
                    " attempts = attempts + 1 WHERE id = ?",
                    (owner, until, token, row[0]),
                )
                leased.append(LeasedOutboxItem(_outbox_item(row), token, int(row[9]) + 1))
            return leased

        return await self._tx(body)

    async def finish_outbox(
        self, item_id: str, token: int, card_ref: tuple[str, JSON] | None = None
    ) -> bool:
        """Remove a delivered item and remember ``card_ref``; False if fenced off."""
        ref = None if card_ref is None else (card_ref[0], dumps(card_ref[1]))

        def body(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT platform FROM outbox WHERE id = ? AND token = ?", (item_id, token)
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
            if ref is not None:
                conn.execute(
                    "INSERT INTO card_refs (platform, card_key, ref) VALUES (?, ?, ?)",
                    (row[0], *ref),
                )
            return True

        return await self._tx(body)

    async def retry_outbox(self, item_id: str, token: int, not_before: datetime) -> bool:
        """Release a leased item for another try at ``not_before``."""
        not_before_us = to_us(not_before)

        def body(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE outbox SET not_before = ?, lease_owner = NULL, lease_until = NULL,"
                " token = NULL WHERE id = ? AND token = ?",
                (not_before_us, item_id, token),
            )
            return cur.rowcount == 1

        return await self._tx(body)

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


# -- the connection thread -----------------------------------------------------
#
# Everything below runs on aiosqlite's connection thread, inside one hand-off.


async def _on_connection_thread(db: aiosqlite.Connection, job: _Job[_T]) -> _T:
    """Run ``job(connection)`` on ``db``'s worker thread and await its result.

    One hand-off however many statements ``job`` runs. This relies on two
    private members of :class:`aiosqlite.Connection`: ``_execute(fn)``, which
    queues a callable on the connection's thread and awaits its result (every
    public aiosqlite method is built on it), and ``_conn``, the underlying
    :class:`sqlite3.Connection`, read only on that thread. Both exist, with
    these meanings, in every aiosqlite release this project supports; the
    contract suite (``tests/store``) exercises this function on every call,
    so a change in aiosqlite fails there rather than silently.
    """

    def call() -> _T:
        return job(db._conn)

    # aiosqlite leaves ``_execute`` unannotated.
    result: _T = await db._execute(call)  # type: ignore[no-untyped-call]
    return result


def _attempt(job: _Job[Any], conn: sqlite3.Connection) -> _Outcome:
    try:
        return True, job(conn)
    except BaseException as error:  # handed to the job's caller
        return False, error


def _settle(batch: list[_Slot], outcomes: list[_Outcome]) -> None:
    """Give each caller of ``batch`` its outcome (on the event loop's thread)."""
    for (_, future, _), (ok, value) in zip(batch, outcomes, strict=True):
        if future.done():  # its caller was cancelled
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _transaction(conn: sqlite3.Connection, body: _Job[_T]) -> _T:
    """``body`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = body(conn)
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
    return result


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError:
        # No transaction was open (it already ended, e.g. a failed COMMIT).
        log.debug("nothing to roll back", exc_info=True)


def _version(row: Sequence[Any] | None) -> int:
    """The version of a records row; 0 for an absent record."""
    return 0 if row is None else int(row[3])


def _lastrowid(cur: sqlite3.Cursor) -> int:
    rowid = cur.lastrowid
    if rowid is None:
        raise RuntimeError("SQLite did not report the inserted row id")
    return rowid


def _next_tokens(conn: sqlite3.Connection, count: int) -> range:
    row = conn.execute(
        "UPDATE counters SET value = value + ? WHERE name = 'fencing_token' RETURNING value",
        (count,),
    ).fetchone()
    last = int(row[0])
    return range(last - count + 1, last + 1)


def _fence_holds(conn: sqlite3.Connection, complete: tuple[str, int] | None) -> bool:
    if complete is None:
        return True
    key, token = complete
    row = conn.execute("SELECT 1 FROM timers WHERE key = ? AND token = ?", (key, token)).fetchone()
    return row is not None


def _apply_effects(conn: sqlite3.Connection, fx: EncodedEffects) -> None:
    """Apply effects inside the caller's transaction (the fence was checked)."""
    if fx.complete is not None:
        conn.execute("DELETE FROM timers WHERE key = ?", (fx.complete[0],))
    if fx.cancel:
        conn.executemany("DELETE FROM timers WHERE key = ?", [(key,) for key in fx.cancel])
    if fx.timers:
        conn.executemany(
            "INSERT INTO timers (key, kind, due_at, payload) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, due_at = excluded.due_at,"
            " payload = excluded.payload, lease_owner = NULL, lease_until = NULL,"
            " token = NULL, attempts = 0",
            fx.timers,
        )
    if fx.outbox:
        conn.executemany(
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
        conn.executemany(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            fx.audit,
        )


# -- decoding rows ---------------------------------------------------------------


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
