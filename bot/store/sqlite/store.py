"""The SQLite store: every part combined."""

from __future__ import annotations

from bot.store.sqlite.counts import SqliteCounts
from bot.store.sqlite.inbox import SqliteInbox
from bot.store.sqlite.outbox import SqliteOutbox
from bot.store.sqlite.records import SqliteRecords
from bot.store.sqlite.timers import SqliteTimers


class SqliteStore(SqliteRecords, SqliteTimers, SqliteOutbox, SqliteInbox, SqliteCounts):
    """A :class:`~bot.core.storage.Store` in one SQLite file (see :mod:`bot.store.sqlite`).

    Several processes may open the same file; all writes are serialized by
    SQLite's write lock, waiting up to ``busy_timeout`` seconds for it.
    """
