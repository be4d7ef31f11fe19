"""Named counters that only grow (intake totals for ``/metrics``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from bot.store import checked_counts
from bot.store.sqlite.base import SqliteBase


class SqliteCounts(SqliteBase):
    """Counters in the ``tallies`` table."""

    async def add_counts(self, counts: Mapping[str, int]) -> None:
        """Add to named counters in one transaction."""
        amounts = checked_counts(counts)
        if not amounts:
            return

        def body(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO tallies (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                amounts,
            )

        await self._tx(body)

    async def counts(self, prefix: str = "") -> dict[str, int]:
        """Counters whose name starts with ``prefix``."""
        rows = await self._fetch(
            "SELECT name, value FROM tallies WHERE substr(name, 1, ?) = ? ORDER BY name",
            (len(prefix), prefix),
        )
        return {str(name): int(value) for name, value in rows}

    async def drop_counts(self, names: Sequence[str]) -> None:
        """Delete named counters in one transaction."""
        chosen = [(str(name),) for name in names]
        if not chosen:
            return

        def body(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM tallies WHERE name = ?", chosen)

        await self._tx(body)
