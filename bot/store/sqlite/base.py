"""The SQLite store's connection, lifecycle and job runner."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.store.batches import Batches
from bot.store.sqlite.runner import (
    Job,
    Outcome,
    Slot,
    attempt,
    on_connection_thread,
    run_group,
    settle,
    transaction,
)
from bot.store.sqlite.schema import SCHEMA, SCHEMA_VERSION

log = logging.getLogger("bot.store.sqlite")

_T = TypeVar("_T")


class SqliteBase:
    """The connection, its lifecycle and the job runner every part builds on."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self._path = Path(path)
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._batches: Batches[Slot] = Batches(self._send)

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
                await on_connection_thread(db, self._set_up)
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
            for statement in SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

        transaction(conn, create)

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

    async def _run(self, job: Job[_T], *, writes: bool) -> _T:
        """Run ``job`` on the connection thread and return its result.

        A call alone goes to the thread at once; calls made while a hand-off
        is in flight queue up and the next hand-off takes them all (see
        :mod:`bot.store.batches`), where they run one after
        another: the writes in one transaction, each in its own savepoint
        (group commit, see :func:`~bot.store.sqlite.runner.run_group`), and
        each caller gets its own result or exception. One call alone is one
        hand-off; concurrent calls share hand-offs. Within a hand-off the
        writes run first, in arrival order, then the reads: all of those calls
        were pending at once, so any order is a valid one, and this one lets
        a read that was queued behind a write see it (a claimer still waiting
        to read learns that someone else's claim just went through).
        """
        slot: Slot = (job, asyncio.get_running_loop().create_future(), writes)
        result: _T = await self._batches.submit(slot, slot[1])
        return result

    async def _send(self, queued: list[Slot]) -> None:
        await self._hand_off([s for s in queued if s[2]] + [s for s in queued if not s[2]])

    @property
    def _queue(self) -> list[Slot]:
        """Jobs waiting for the connection thread."""
        return self._batches.queue

    async def _hand_off(self, batch: list[Slot]) -> None:
        """Run ``batch`` on the connection thread and settle each caller's future.

        If the awaiting task is cancelled, the jobs still run and their callers
        (other than the cancelled one) still get their outcomes.
        """
        loop = asyncio.get_running_loop()

        def run_all(conn: sqlite3.Connection) -> list[Outcome] | None:
            writes = [job for job, _, writing in batch if writing]
            outcomes = run_group(conn, writes)
            outcomes += [attempt(job, conn) for job, _, writing in batch if not writing]
            if len(batch) == 1:
                return outcomes
            loop.call_soon_threadsafe(settle, batch, outcomes)
            return None

        try:
            outcomes = await on_connection_thread(self._conn(), run_all)
        except (RuntimeError, ValueError) as error:  # not open, or closed: nothing ran
            outcomes = [(False, error)] * len(batch)
        if outcomes is not None:
            settle(batch, outcomes)

    async def _tx_first(self, body: Job[_T]) -> _T:
        """Run ``body`` in one transaction ahead of every queued call: the
        priority lane of inbox admissions, which an acknowledgement waits for.

        The job goes straight to the connection thread's queue, past the lock
        and the calls waiting for it, so it waits at most for the hand-off
        already on the thread (each job there is its own transaction, so it
        never lands inside another caller's), never for a backlog queued
        behind it. It is not run on the event loop's thread: a try of that
        (a second connection used synchronously) blocked the loop for up to
        seconds on a CPU-starved host (docs/benchmarks.md). Small writes only.
        """
        return await on_connection_thread(self._conn(), lambda conn: transaction(conn, body))

    async def _tx(self, body: Job[_T]) -> _T:
        """Run ``body`` in one ``BEGIN IMMEDIATE`` transaction (see :func:`transaction`)."""
        return await self._run(lambda conn: transaction(conn, body), writes=True)

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self._run(lambda conn: conn.execute(sql, params).fetchall(), writes=False)
