"""Running jobs on aiosqlite's connection thread, in transactions.

Everything here runs on (or hands work to) that one thread; see
:mod:`bot.store.sqlite` for the hand-off and transaction model.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# What the connection thread runs for one store call: a function of the connection.
Job = Callable[[sqlite3.Connection], _T]
# A queued call: its job, the future its caller awaits, whether the job writes.
Slot = tuple[Job[Any], "asyncio.Future[Any]", bool]
# A job's result, or the exception it raised.
Outcome = tuple[bool, Any]


async def on_connection_thread(db: aiosqlite.Connection, job: Job[_T]) -> _T:
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


def attempt(job: Job[Any], conn: sqlite3.Connection) -> Outcome:
    try:
        return True, job(conn)
    except BaseException as error:  # handed to the job's caller
        return False, error


def settle(batch: list[Slot], outcomes: list[Outcome]) -> None:
    """Give each caller of ``batch`` its outcome (on the event loop's thread)."""
    for (_, future, _), (ok, value) in zip(batch, outcomes, strict=True):
        if future.done():  # its caller was cancelled
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def transaction(conn: sqlite3.Connection, body: Job[_T]) -> _T:
    """``body`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back if it raises.

    Inside a group commit (:func:`run_group`: a transaction is already open on
    the connection) ``body`` runs in a savepoint instead: rolled back to it if
    it raises, without touching the other jobs of the group."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT job")
        try:
            result = body(conn)
        except BaseException:
            if conn.in_transaction:  # (SQLite may have rolled back the whole group)
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
            raise
        conn.execute("RELEASE job")
        return result
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = body(conn)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return result


def run_group(conn: sqlite3.Connection, jobs: list[Job[Any]]) -> list[Outcome]:
    """Group commit: run write ``jobs`` in one ``BEGIN IMMEDIATE`` ... ``COMMIT``,
    each in its own savepoint (see :func:`transaction`), so each keeps its own
    outcome (a lost compare-and-set or a failing job leaves the others alone)
    while the group pays for one write lock and one commit. No caller hears of
    its write before the commit, so what a caller is told is durable. If the
    commit fails, or SQLite rolls the whole transaction back under a job (an
    I/O error, a full disk), each job of the group that had succeeded gets
    that error instead; the jobs after such a rollback run one transaction each."""
    if len(jobs) < 2:
        return [attempt(job, conn) for job in jobs]
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        # (Busy past the timeout, say): each job tries on its own and fails on its own.
        return [attempt(job, conn) for job in jobs]
    outcomes: list[Outcome] = []
    for job in jobs:
        outcomes.append(attempt(job, conn))
        if not conn.in_transaction:
            # The group's transaction is gone: nothing it held was committed.
            failed = outcomes[-1][1] if not outcomes[-1][0] else None
            return _undone(outcomes, failed) + [attempt(j, conn) for j in jobs[len(outcomes) :]]
    try:
        conn.execute("COMMIT")
    except BaseException as error:
        rollback(conn)
        return _undone(outcomes, error)
    return outcomes


def _undone(outcomes: list[Outcome], error: BaseException | None) -> list[Outcome]:
    """``outcomes`` of a group whose transaction was not committed: each
    success becomes ``error``."""
    lost = error or sqlite3.OperationalError("the group's transaction was rolled back")
    return [(ok, value) if not ok else (False, lost) for ok, value in outcomes]


def rollback(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError:
        # No transaction was open (it already ended, e.g. a failed COMMIT).
        log.debug("nothing to roll back", exc_info=True)
