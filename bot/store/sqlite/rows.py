"""Row-level helpers run inside a transaction: fencing, effects, decoding rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from bot.core.storage import OutboxItem, Record
from bot.store import EncodedEffects, EncodedOutboxItem, from_us, loads_object, loads_tags


def row_version(row: Sequence[Any] | None) -> int:
    """The version of a records row; 0 for an absent record."""
    return 0 if row is None else int(row[3])


def lastrowid(cur: sqlite3.Cursor) -> int:
    rowid = cur.lastrowid
    if rowid is None:
        raise RuntimeError("SQLite did not report the inserted row id")
    return rowid


def next_tokens(conn: sqlite3.Connection, count: int) -> range:
    row = conn.execute(
        "UPDATE counters SET value = value + ? WHERE name = 'fencing_token' RETURNING value",
        (count,),
    ).fetchone()
    last = int(row[0])
    return range(last - count + 1, last + 1)


def fence_holds(conn: sqlite3.Connection, fx: EncodedEffects) -> bool:
    """True unless ``fx`` completes a timer or inbox entry whose lease is lost."""
    for table, complete in (("timers", fx.complete), ("inbox", fx.complete_inbox)):
        if complete is None:
            continue
        key, token = complete
        found = conn.execute(
            f"SELECT 1 FROM {table} WHERE key = ? AND token = ?", (key, token)
        ).fetchone()
        if found is None:
            return False
    return True


OutboxRow = tuple[str, str, str, str, str | None, str, int, int, int | None]


def outbox_row(item: EncodedOutboxItem) -> OutboxRow:
    """An outbox item as the ``outbox`` table's insert takes it (columns in
    the order of :func:`apply_effects`'s statement)."""
    return (
        item.id,
        item.platform,
        item.op,
        item.destination,
        item.card_key,
        item.body,
        item.priority,
        item.created_us,
        item.not_before_us,
    )


def apply_effects(conn: sqlite3.Connection, fx: EncodedEffects) -> None:
    """Apply effects inside the caller's transaction (the fence was checked)."""
    if fx.complete is not None:
        conn.execute("DELETE FROM timers WHERE key = ?", (fx.complete[0],))
    if fx.complete_inbox is not None:
        conn.execute("DELETE FROM inbox WHERE key = ?", (fx.complete_inbox[0],))
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
            [outbox_row(o) for o in fx.outbox],
        )
    if fx.audit:
        conn.executemany(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            fx.audit,
        )
    if fx.counts:
        conn.executemany(
            "INSERT INTO tallies (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            fx.counts,
        )


# -- decoding rows ---------------------------------------------------------------


def decode_record(row: Sequence[Any]) -> Record:
    _, kind, key, version, data, tags = row
    return Record(
        kind=kind,
        key=key,
        data=loads_object(data),
        version=int(version),
        tags=loads_tags(tags),
    )


def outbox_item(row: Sequence[Any]) -> OutboxItem:
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
