"""Key-name quoting and decoding of Redis replies."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from bot.core.storage import AuditEntry, Record
from bot.store import from_us, loads_object, loads_tags


@lru_cache(maxsize=4096)
def q(component: str) -> str:
    # Memoized: the same few kinds and platforms are quoted on every call.
    return quote(component, safe="")


def decode_record(kind: str, key: str, version: str, data: str, tags: str) -> Record:
    return Record(kind, key, loads_object(data), int(version), loads_tags(tags))


def audit_entry(fields: Any) -> AuditEntry:
    # Raw XRANGE replies are flat [field, value, ...]; redis-py may give a dict.
    values = (
        fields if isinstance(fields, dict) else dict(zip(fields[::2], fields[1::2], strict=True))
    )
    return AuditEntry(
        at=from_us(int(values["at"])),
        actor=values["actor"],
        action=values["action"],
        subject=values["subject"],
        detail=loads_object(values["detail"]),
    )
