"""The SQLite schema: tables, indexes and the statements shared by the job modules."""

from __future__ import annotations

SCHEMA_VERSION = 2

# When a timer can next be leased: its due time, or the end of a later lease.
READY = "max(due_at, coalesce(lease_until, due_at))"

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        tags TEXT NOT NULL,
        UNIQUE (kind, key)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS record_tags (
        kind TEXT NOT NULL,
        tag TEXT NOT NULL,
        seq INTEGER NOT NULL REFERENCES records (seq),
        PRIMARY KEY (kind, tag, seq)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS record_tags_by_seq ON record_tags (seq)",
    """
    CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expires_at)",
    """
    CREATE TABLE IF NOT EXISTS timers (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        payload TEXT NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        token INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at, key)",
    f"CREATE INDEX IF NOT EXISTS timers_ready ON timers ({READY}, key)",
    """
    CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL,
        op TEXT NOT NULL,
        destination TEXT NOT NULL,
        card_key TEXT,
        body TEXT NOT NULL,
        priority INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        not_before INTEGER,
        lease_owner TEXT,
        lease_until INTEGER,
        token INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX IF NOT EXISTS outbox_queue ON outbox (platform, priority, seq)",
    # Items cancelled while a sender held them (see Store.cancel_outbox); a
    # table of its own so stores created before it only gain a table.
    "CREATE TABLE IF NOT EXISTS outbox_cancelled (id TEXT PRIMARY KEY) WITHOUT ROWID",
    """
    CREATE TABLE IF NOT EXISTS card_refs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        platform TEXT NOT NULL,
        card_key TEXT NOT NULL,
        ref TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS card_refs_by_card ON card_refs (platform, card_key, seq)",
    """
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS audit_by_subject ON audit (subject, seq)",
    """
    CREATE TABLE IF NOT EXISTS counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    "INSERT OR IGNORE INTO counters (name, value) VALUES ('fencing_token', 0)",
    """
    CREATE TABLE IF NOT EXISTS inbox (
        key TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        body TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        lease_owner TEXT NOT NULL,
        lease_until INTEGER NOT NULL,
        token INTEGER NOT NULL,
        attempts INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS inbox_ready ON inbox (platform, lease_until, key)",
    """
    CREATE TABLE IF NOT EXISTS tallies (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID
    """,
)

SELECT_RECORD = "SELECT seq, kind, key, version, data, tags FROM records WHERE kind = ? AND key = ?"
OUTBOX_COLUMNS = (
    "id, platform, op, destination, card_key, body, priority, created_at, not_before, attempts"
)
