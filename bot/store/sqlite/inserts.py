"""Batched inserts of new records with their effects: a statement per table
per batch rather than several per record (:meth:`Store.insert_many`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from bot.core.storage import Effects, Record
from bot.store import EncodedEffects, dumps
from bot.store.sqlite.rows import apply_effects, lastrowid, outbox_row
from bot.store.sqlite.schema import SELECT_RECORD

# (kind, key, data JSON, tags, tags JSON, effects) of one record to insert.
Prepared = tuple[str, str, str, list[str], str, EncodedEffects]

# Rows per multi-row INSERT: 4 parameters each stays under SQLite's oldest
# default limit of 999 parameters per statement.
ROWS_PER_INSERT = 200

_INSERT_OUTBOX = (
    "INSERT INTO outbox (id, platform, op, destination, card_key, body, priority,"
    " created_at, not_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO NOTHING"
)
_INSERT_TIMER = (
    "INSERT INTO timers (key, kind, due_at, payload) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, due_at = excluded.due_at,"
    " payload = excluded.payload, lease_owner = NULL, lease_until = NULL,"
    " token = NULL, attempts = 0"
)
_INSERT_AUDIT = "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)"
_INSERT_TAG = "INSERT INTO record_tags (kind, tag, seq) VALUES (?, ?, ?)"
_ADD_COUNT = (
    "INSERT INTO tallies (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value"
)


def prepare(record: Record, effects: Effects) -> Prepared:
    """``record`` and ``effects`` encoded for :func:`insert_batch` or :func:`insert_one`."""
    if effects.complete_timer is not None:
        raise ValueError("insert_many cannot complete a timer")
    tags = sorted(record.tags)
    encoded = EncodedEffects.of(effects)
    return record.kind, record.key, dumps(record.data), tags, dumps(tags), encoded


def batchable(prepared: Sequence[Prepared]) -> bool:
    """True when no item's effects cancel timers or complete an inbox entry:
    then applying every item's effects table by table, in item order, is the
    same as applying them item by item."""
    return not any(fx.cancel or fx.complete_inbox for *_, fx in prepared)


def insert_batch(conn: sqlite3.Connection, prepared: Sequence[Prepared]) -> list[bool]:
    """Insert each absent record (the first of a key repeated in ``prepared``)
    with its effects, inside the caller's transaction; True for each inserted.
    Needs :func:`batchable`. Rows land in item order in every table, as
    :func:`insert_one` item by item writes them."""
    seqs: dict[tuple[str, str], int] = {}
    for start in range(0, len(prepared), ROWS_PER_INSERT):
        chunk = prepared[start : start + ROWS_PER_INSERT]
        values = ", ".join(["(?, ?, 1, ?, ?)"] * len(chunk))
        params = [v for kind, key, data, _, tags, _ in chunk for v in (kind, key, data, tags)]
        # Only the rows inserted come back: a key already stored, or repeated
        # earlier in the statement, is skipped by ON CONFLICT.
        for seq, kind, key in conn.execute(
            f"INSERT INTO records (kind, key, version, data, tags) VALUES {values}"
            " ON CONFLICT (kind, key) DO NOTHING RETURNING seq, kind, key",
            params,
        ):
            seqs[(kind, key)] = int(seq)
    written: list[bool] = []
    tags: list[tuple[str, str, int]] = []
    timers: list[tuple[str, str, int, str]] = []
    outbox: list[tuple[object, ...]] = []
    audit: list[tuple[int, str, str, str, str]] = []
    counts: dict[str, int] = {}  # counters only add up: one increment each per batch
    for kind, key, _, record_tags, _, fx in prepared:
        seq = seqs.pop((kind, key), None)  # a repeat of an inserted key finds none
        written.append(seq is not None)
        if seq is None:
            continue
        tags += [(kind, tag, seq) for tag in record_tags]
        timers += fx.timers
        outbox += [outbox_row(o) for o in fx.outbox]
        audit += fx.audit
        for name, amount in fx.counts:
            counts[name] = counts.get(name, 0) + amount
    if tags:
        conn.executemany(_INSERT_TAG, tags)
    if timers:
        conn.executemany(_INSERT_TIMER, timers)
    if outbox:
        conn.executemany(_INSERT_OUTBOX, outbox)
    if audit:
        conn.executemany(_INSERT_AUDIT, audit)
    if counts:
        conn.executemany(_ADD_COUNT, list(counts.items()))
    return written


def insert_one(conn: sqlite3.Connection, item: Prepared) -> bool:
    """Insert one absent record with its effects, in the order of
    :func:`~bot.store.sqlite.rows.apply_effects` (any effects); False if it exists."""
    kind, key, data, tags, tags_json, encoded = item
    if conn.execute(SELECT_RECORD, (kind, key)).fetchone() is not None:
        return False
    cur = conn.execute(
        "INSERT INTO records (kind, key, version, data, tags) VALUES (?, ?, 1, ?, ?)",
        (kind, key, data, tags_json),
    )
    seq = lastrowid(cur)
    if tags:
        conn.executemany(_INSERT_TAG, [(kind, tag, seq) for tag in tags])
    apply_effects(conn, encoded)
    return True
