"""Durable timers: lease, complete under a fencing token, list."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

from bot.core.storage import LeasedTimer, Timer
from bot.store import duration_us, from_us, loads_object, to_us
from bot.store.sqlite.base import SqliteBase
from bot.store.sqlite.rows import next_tokens
from bot.store.sqlite.schema import READY


class SqliteTimers(SqliteBase):
    """The timer queue."""

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
                f" WHERE {READY} <= ? ORDER BY {READY}, key LIMIT ?",
                (now_us, limit),
            ).fetchall()
            if not rows:
                return []
            tokens = next_tokens(conn, len(rows))
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
        rows = await self._fetch(f"SELECT min({READY}) FROM timers")
        return None if not rows or rows[0][0] is None else from_us(int(rows[0][0]))

    async def timers_due(self, at: datetime) -> int:
        """Timers due at ``at`` (leased or not)."""
        rows = await self._fetch("SELECT count(*) FROM timers WHERE due_at <= ?", (to_us(at),))
        return int(rows[0][0])
