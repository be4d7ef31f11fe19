"""The publishing webhook request, built without any I/O.

Body (UTF-8 JSON, keys in this order)::

    {"id", "account": {"id", "network", "handle"},
     "in_reply_to": {"network", "id", "url"} | null,
     "text", "drafted_by", "approved_by": [...], "approved_at"}

Headers: ``Idempotency-Key: <draft id>:<version>``, ``X-Playcaller-Timestamp``
(Unix seconds) and ``X-Playcaller-Signature: v1=<hex HMAC-SHA256 of
"v1:<timestamp>:<body>">`` (:mod:`bot.signing`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.publishing import Publication
from bot.signing import sign

CONTENT_TYPE = "application/json; charset=utf-8"
USER_AGENT = "Playcaller-Publisher/1"


@dataclass(frozen=True)
class PublishRequest:
    """Exactly what goes on the wire."""

    body: bytes
    headers: dict[str, str]


def body_of(publication: Publication) -> bytes:
    """The JSON body: the same bytes for the same publication, every attempt."""
    account = publication.account
    target = publication.in_reply_to
    reply_to = None
    if target is not None:
        reply_to = {"network": target.network, "id": target.id, "url": target.url}
    document = {
        "id": publication.draft_id,
        "account": {"id": account.id, "network": account.network.value, "handle": account.handle},
        "in_reply_to": reply_to,
        "text": publication.text,
        "drafted_by": publication.drafted_by,
        "approved_by": list(publication.approved_by),
        "approved_at": _iso(publication.approved_at),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_request(publication: Publication, *, secret: str, now: datetime) -> PublishRequest:
    """The signed request for ``publication`` sent at ``now``."""
    body = body_of(publication)
    timestamp = int(now.timestamp())
    return PublishRequest(
        body=body,
        headers={
            "Content-Type": CONTENT_TYPE,
            "User-Agent": USER_AGENT,
            "Idempotency-Key": publication.key,
            "X-Playcaller-Timestamp": str(timestamp),
            "X-Playcaller-Signature": sign(secret, timestamp, body),
        },
    )


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("approved_at must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
