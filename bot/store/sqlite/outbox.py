"""The outbox queue, card references and the audit log."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.storage import JSON, NO_EFFECTS, AuditEntry, Backlog, Effects, LeasedOutboxItem
from bot.store import dumps, duration_us, from_us, loads_object, settlement_effects, to_us
from bot.store.sqlite.base import SqliteBase
from bot.store.sqlite.rows import apply_effects, next_tokens, outbox_item
from bot.store.sqlite.schema import OUTBOX_COLUMNS


class SqliteOutbox(SqliteBase):
    """Outbox leasing and fenced completion; card refs; the audit log."""

    async def lease_outbox(
        self, platform: str, now: datetime, owner: str, lease_for: timedelta, limit: int = 50
    ) -> list[LeasedOutboxItem]:
        """Lease deliverable items for ``platform``: by priority, then FIFO."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []

        def body(conn: sqlite3.Connection) -> list[LeasedOutboxItem]:
            drop_cancelled(conn, platform, now_us)
            rows = conn.execute(
                f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE platform = ?"
                " AND (not_before IS NULL OR not_before <= ?)"
                " AND (lease_until IS NULL OR lease_until <= ?)"
                " ORDER BY priority, seq LIMIT ?",
                (platform, now_us, now_us, limit),
            ).fetchall()
            if not rows:
                return []
            tokens = next_tokens(conn, len(rows))
            leased: list[LeasedOutboxItem] = []
            for row, token in zip(rows, tokens, strict=True):
                conn.execute(
                    "UPDATE outbox SET lease_owner = ?, lease_until = ?, token = ?,"
                    " attempts = attempts + 1 WHERE id = ?",
                    (owner, until, token, row[0]),
                )
                leased.append(LeasedOutboxItem(outbox_item(row), token, int(row[9]) + 1))
            return leased

        return await self._tx(body)

    async def finish_outbox(
        self,
        item_id: str,
        token: int,
        card_ref: tuple[str, JSON] | None = None,
        effects: Effects = NO_EFFECTS,
    ) -> bool:
        """Remove a delivered item, remember ``card_ref`` and apply ``effects``,
        in one transaction; False (nothing written) if fenced off."""
        ref = None if card_ref is None else (card_ref[0], dumps(card_ref[1]))
        encoded = settlement_effects(effects)

        def body(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT platform FROM outbox WHERE id = ? AND token = ?", (item_id, token)
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
            conn.execute("DELETE FROM outbox_cancelled WHERE id = ?", (item_id,))
            if ref is not None:
                conn.execute(
                    "INSERT INTO card_refs (platform, card_key, ref) VALUES (?, ?, ?)",
                    (row[0], *ref),
                )
            apply_effects(conn, encoded)
            return True

        return await self._tx(body)

    async def retry_outbox(self, item_id: str, token: int, not_before: datetime) -> bool:
        """Release a leased item for another try at ``not_before``."""
        not_before_us = to_us(not_before)

        def body(conn: sqlite3.Connection) -> bool:
            if conn.execute("SELECT 1 FROM outbox_cancelled WHERE id = ?", (item_id,)).fetchone():
                cur = conn.execute(
                    "DELETE FROM outbox WHERE id = ? AND token = ?", (item_id, token)
                )
                if cur.rowcount == 1:
                    conn.execute("DELETE FROM outbox_cancelled WHERE id = ?", (item_id,))
                return cur.rowcount == 1
            cur = conn.execute(
                "UPDATE outbox SET not_before = ?, lease_owner = NULL, lease_until = NULL,"
                " token = NULL WHERE id = ? AND token = ?",
                (not_before_us, item_id, token),
            )
            return cur.rowcount == 1

        return await self._tx(body)

    async def cancel_outbox(self, item_id: str) -> bool:
        """Remove a waiting item, or mark it if a sender holds it (see the port)."""

        def body(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT token FROM outbox WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                return False
            if row[0] is None:
                conn.execute("DELETE FROM outbox WHERE id = ?", (item_id,))
            else:
                conn.execute("INSERT OR IGNORE INTO outbox_cancelled (id) VALUES (?)", (item_id,))
            return True

        return await self._tx(body)

    async def outbox_size(self, platform: str | None = None) -> int:
        """Items waiting (leased or not), for one platform or all."""
        if platform is None:
            rows = await self._fetch("SELECT count(*) FROM outbox")
        else:
            rows = await self._fetch("SELECT count(*) FROM outbox WHERE platform = ?", (platform,))
        return int(rows[0][0])

    async def outbox_backlog(self) -> dict[str, Backlog]:
        """Per platform with items waiting: how many, and the oldest's creation time."""
        rows = await self._fetch(
            "SELECT platform, count(*), min(created_at) FROM outbox GROUP BY platform"
        )
        return {str(p): Backlog(int(n), from_us(int(oldest))) for p, n, oldest in rows}

    async def outbox_waiting_for(
        self,
        platform: str,
        card_keys: Sequence[str],
        destinations: Sequence[str],
        ops: Sequence[str] = (),
    ) -> bool:
        """Whether an item waits on ``platform`` for one of ``card_keys`` or to
        one of ``destinations`` (of ``ops``, where given)."""
        keys, places, kinds = list(card_keys), list(destinations), list(ops)
        of_ops = f" AND op IN ({', '.join('?' * len(kinds))})" if kinds else ""
        rows = await self._fetch(
            "SELECT 1 FROM outbox WHERE platform = ? AND (card_key IN "
            f"({', '.join('?' * len(keys)) or 'NULL'}) OR destination IN "
            f"({', '.join('?' * len(places)) or 'NULL'})){of_ops} LIMIT 1",
            (platform, *keys, *places, *kinds),
        )
        return bool(rows)

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


def drop_cancelled(conn: sqlite3.Connection, platform: str, now_us: int) -> None:
    """Remove cancelled items whose holder's lease ran out (it died mid-send)."""
    if conn.execute("SELECT 1 FROM outbox_cancelled LIMIT 1").fetchone() is None:
        return
    conn.execute(
        "DELETE FROM outbox WHERE platform = ? AND (lease_until IS NULL OR lease_until <= ?)"
        " AND id IN (SELECT id FROM outbox_cancelled)",
        (platform, now_us),
    )
    conn.execute("DELETE FROM outbox_cancelled WHERE id NOT IN (SELECT id FROM outbox)")
