"""The inbox: verified inbound requests stored before they are acknowledged."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from bot.core.storage import InboxEntry, LeasedInboxEntry
from bot.store import dumps, duration_us, from_us, loads_object, to_us
from bot.store.sqlite.base import SqliteBase
from bot.store.sqlite.rows import next_tokens

# An admitted key is remembered in the idempotency table under this prefix.
ADMITTED = "inbox:"


class SqliteInbox(SqliteBase):
    """Admission (deduplicated, leased at once), recovery leases, fenced completion."""

    async def admit_inbox(
        self,
        entry: InboxEntry,
        now: datetime,
        owner: str,
        lease_for: timedelta,
        remember_for: timedelta,
    ) -> int | None:
        """Store ``entry`` leased to ``owner``; None for a redelivery (see the port)."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        expires = now_us + duration_us(remember_for, "remember_for")
        body = dumps(entry.body)
        received = to_us(entry.received_at)
        once = ADMITTED + entry.key

        def admit(conn: sqlite3.Connection) -> int | None:
            conn.execute("DELETE FROM idempotency WHERE expires_at <= ?", (now_us,))
            fresh = conn.execute(
                "INSERT INTO idempotency (key, expires_at) VALUES (?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (once, expires),
            ).rowcount
            if fresh != 1:
                return None
            if conn.execute("SELECT 1 FROM inbox WHERE key = ?", (entry.key,)).fetchone():
                # Admitted so long ago that the key was forgotten, and still waiting.
                return None
            (token,) = next_tokens(conn, 1)
            conn.execute(
                "INSERT INTO inbox (key, platform, body, received_at, lease_owner,"
                " lease_until, token, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (entry.key, entry.platform, body, received, owner, until, token),
            )
            return token

        return await self._tx_first(admit)

    async def lease_inbox(
        self, platform: str, now: datetime, owner: str, lease_for: timedelta, limit: int = 50
    ) -> list[LeasedInboxEntry]:
        """Lease ``platform``'s entries whose lease expired at ``now``."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []

        def lease(conn: sqlite3.Connection) -> list[LeasedInboxEntry]:
            rows = conn.execute(
                "SELECT key, body, received_at, attempts FROM inbox"
                " WHERE platform = ? AND lease_until <= ? ORDER BY lease_until, key LIMIT ?",
                (platform, now_us, limit),
            ).fetchall()
            if not rows:
                return []
            leased: list[LeasedInboxEntry] = []
            tokens = next_tokens(conn, len(rows))
            for (key, body, received, attempts), token in zip(rows, tokens, strict=True):
                conn.execute(
                    "UPDATE inbox SET lease_owner = ?, lease_until = ?, token = ?,"
                    " attempts = attempts + 1 WHERE key = ?",
                    (owner, until, token, key),
                )
                entry = InboxEntry(key, platform, loads_object(body), from_us(received))
                leased.append(LeasedInboxEntry(entry, token, int(attempts) + 1))
            return leased

        return await self._tx(lease)

    async def finish_inbox(self, key: str, token: int) -> bool:
        """Delete entry ``key`` if ``token`` still holds its lease."""

        def finish(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM inbox WHERE key = ? AND token = ?", (key, token))
            return cur.rowcount == 1

        return await self._tx(finish)

    async def inbox_size(self, platform: str | None = None) -> int:
        """Entries waiting (leased or not), for one platform or all."""
        if platform is None:
            rows = await self._fetch("SELECT count(*) FROM inbox")
        else:
            rows = await self._fetch("SELECT count(*) FROM inbox WHERE platform = ?", (platform,))
        return int(rows[0][0])
