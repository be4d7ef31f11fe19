"""``playcaller audit``: read the audit log from the store, as text or JSON lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from bot.core.clock import parse_duration
from bot.core.errors import InvalidInput
from bot.core.storage import AuditEntry, Store

#: Read at most this many entries; the log is read oldest first.
MAX_ENTRIES = 1_000_000


def parse_since(text: str, now: datetime) -> datetime:
    """An ISO time (UTC when it has no zone) or an age such as ``2h`` or ``1d``."""
    raw = text.strip()
    try:
        return now - parse_duration(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as error:
        raise InvalidInput(
            "--since", f"{text!r} is neither a time (2026-03-02T09:00) nor an age (90m, 2h, 1d)"
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def read(store: Store, subject: str | None, since: datetime | None) -> list[AuditEntry]:
    """Entries for ``subject`` (None: all) at or after ``since``, oldest first."""
    entries = await store.audit_log(subject, limit=MAX_ENTRIES)
    if since is None:
        return entries
    return [e for e in entries if e.at >= since]


def as_json(entry: AuditEntry) -> str:
    return json.dumps(
        {
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "subject": entry.subject,
            "detail": dict(entry.detail),
        },
        ensure_ascii=False,
        sort_keys=False,
        default=str,
    )


def as_text(entry: AuditEntry) -> str:
    detail = " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in entry.detail.items())
    line = f"{entry.at:%Y-%m-%d %H:%M:%S}Z  {entry.actor:<12} {entry.action:<20} {entry.subject}"
    return f"{line}  {detail}" if detail else line


async def main(store: Store, subject: str | None, since: str | None, *, json_lines: bool) -> int:
    """Print the matching entries; 2 when ``since`` cannot be read."""
    try:
        start = parse_since(since, datetime.now(UTC)) if since else None
    except InvalidInput as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    await store.open()
    try:
        entries = await read(store, subject, start)
    finally:
        await store.close()
    write(entries, sys.stdout, json_lines=json_lines)
    return 0


def write(entries: Sequence[AuditEntry], out: TextIO, *, json_lines: bool) -> None:
    for entry in entries:
        print(as_json(entry) if json_lines else as_text(entry), file=out)
    if not json_lines and not entries:
        print("no audit entries match", file=out)
