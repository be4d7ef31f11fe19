"""Records, effects without a record, and idempotency keys."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.storage import NO_EFFECTS, Effects, Record, Written
from bot.store import EncodedEffects, dumps, duration_us, loads_object, to_us
from bot.store.sqlite.base import SqliteBase
from bot.store.sqlite.inserts import Prepared, batchable, insert_batch, insert_one, prepare
from bot.store.sqlite.rows import apply_effects, decode_record, fence_holds, lastrowid, row_version
from bot.store.sqlite.runner import transaction
from bot.store.sqlite.schema import SELECT_RECORD


class SqliteRecords(SqliteBase):
    """Compare-and-set records with their effects; idempotency keys."""

    async def insert(self, record: Record, effects: Effects = NO_EFFECTS) -> Written:
        """Create ``record`` at version 1 with its effects (see the port)."""
        return await self._write(record, None, effects)

    async def insert_many(self, items: Sequence[tuple[Record, Effects]]) -> list[bool]:
        """Insert each absent record with its effects, all in one transaction (see the port)."""
        prepared = [prepare(record, effects) for record, effects in items]
        if not prepared:
            return []
        if batchable(prepared):
            return await self._tx(lambda conn: insert_batch(conn, prepared))
        return await self._tx(lambda conn: [insert_one(conn, item) for item in prepared])

    async def insert_each(self, items: Sequence[tuple[Record, Effects]]) -> list[bool | Exception]:
        """:meth:`insert_many` with a savepoint per item: a failing item is
        answered with its error, the others commit (see the port)."""
        for _, effects in items:
            if effects.complete_timer is not None:
                raise ValueError("insert_each cannot complete a timer")
        prepared: list[Prepared | Exception] = []
        for record, effects in items:
            try:
                prepared.append(prepare(record, effects))
            except Exception as error:  # answered for this item alone
                prepared.append(error)

        def body(conn: sqlite3.Connection) -> list[bool | Exception]:
            written: list[bool | Exception] = []
            for item in prepared:
                if isinstance(item, Exception):
                    written.append(item)
                    continue
                conn.execute("SAVEPOINT item")
                try:
                    written.append(insert_one(conn, item))
                except Exception as error:
                    if not conn.in_transaction:  # SQLite rolled back everything: not this item's
                        raise
                    conn.execute("ROLLBACK TO item")
                    written.append(error)
                conn.execute("RELEASE item")
            return written

        if not prepared:
            return []
        return await self._tx(body)

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
            row = conn.execute(SELECT_RECORD, (kind, key)).fetchone()
            if expected is None and row is not None:
                return False, row, 0
            if expected is not None and row_version(row) != expected:
                return False, row, 0
            if not fence_holds(conn, encoded):
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
                seq = lastrowid(cur)
            if tags:
                conn.executemany(
                    "INSERT INTO record_tags (kind, tag, seq) VALUES (?, ?, ?)",
                    [(kind, tag, seq) for tag in tags],
                )
            apply_effects(conn, encoded)
            return True, None, version

        def write(conn: sqlite3.Connection) -> Outcome:
            if expected is not None:
                # A stale compare-and-set is refused without the write lock.
                row = conn.execute(SELECT_RECORD, (kind, key)).fetchone()
                if row_version(row) != expected:
                    return False, row, 0
            return transaction(conn, body)

        ok, current, version = await self._run(write, writes=True)
        if not ok:
            return Written(False, None if current is None else decode_record(current))
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

    async def delete(
        self, kind: str, key: str, expected_version: int, effects: Effects = NO_EFFECTS
    ) -> Written:
        """Compare-and-set delete with its effects (see the port)."""
        encoded = EncodedEffects.of(effects)

        def body(conn: sqlite3.Connection) -> tuple[bool, Any]:
            row = conn.execute(SELECT_RECORD, (kind, key)).fetchone()
            if row is None or row_version(row) != expected_version:
                return False, row
            if not fence_holds(conn, encoded):
                return False, row
            conn.execute("DELETE FROM record_tags WHERE seq = ?", (int(row[0]),))
            conn.execute("DELETE FROM records WHERE seq = ?", (int(row[0]),))
            apply_effects(conn, encoded)
            return True, None

        ok, current = await self._tx(body)
        return Written(ok, None if current is None else decode_record(current))

    async def get(self, kind: str, key: str) -> Record | None:
        """The current record or None."""
        rows = await self._fetch(SELECT_RECORD, (kind, key))
        return decode_record(rows[0]) if rows else None

    async def find(
        self, kind: str, tag: str, limit: int = 200, offset: int = 0, after: str | None = None
    ) -> list[Record]:
        """Records of ``kind`` carrying ``tag``, oldest insert first, after
        skipping the first ``offset`` of them (and, with ``after``, those
        inserted up to the record of that key)."""
        if limit <= 0:
            return []
        since = ""
        args: tuple[object, ...] = (kind, tag)
        if after is not None:
            since = " AND t.seq > COALESCE((SELECT seq FROM records WHERE kind = ? AND key = ?), 0)"
            args += (kind, after)
        rows = await self._fetch(
            "SELECT r.seq, r.kind, r.key, r.version, r.data, r.tags"
            " FROM record_tags t JOIN records r ON r.seq = t.seq"
            f" WHERE t.kind = ? AND t.tag = ?{since} ORDER BY t.seq LIMIT ? OFFSET ?",
            (*args, limit, max(offset, 0)),
        )
        return [decode_record(row) for row in rows]

    async def count_tagged(self, kind: str, tag: str) -> int:
        """How many records of ``kind`` carry ``tag``."""
        rows = await self._fetch(
            "SELECT COUNT(*) FROM record_tags WHERE kind = ? AND tag = ?", (kind, tag)
        )
        return int(rows[0][0])

    # -- effects and idempotency ---------------------------------------------

    async def apply(self, effects: Effects) -> bool:
        """Commit ``effects`` alone; False if its timer completion is fenced off."""
        encoded = EncodedEffects.of(effects)
        if not effects:
            return True

        def body(conn: sqlite3.Connection) -> bool:
            if not fence_holds(conn, encoded):
                return False
            apply_effects(conn, encoded)
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
