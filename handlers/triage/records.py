"""Mentions as store records: a JSON document, a version and index tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.model import (
    Author,
    Enrichment,
    Escalation,
    Mention,
    MentionState,
    Outcome,
    Priority,
    ReplyState,
    Sentiment,
)
from bot.core.storage import Record

KIND = "mention"


def tags_for(mention: Mention) -> frozenset[str]:
    """Index entries: by state, by spoke queue, by owner while claimed."""
    spoke = mention.enrichment.spoke
    tags = {
        f"state:{mention.state}",
        f"spoke:{spoke}",
        f"queue:{spoke}:{mention.state}",
        # The queue by priority, so /triage reads only the few it shows.
        f"queue:{spoke}:{mention.state}:{mention.enrichment.priority.value}",
    }
    if mention.owner and mention.state is MentionState.CLAIMED:
        tags.add(f"owner:{mention.owner}")
    if mention.surge:
        tags.add(f"surge:{mention.surge}")
    return frozenset(tags)


def to_record(mention: Mention) -> Record:
    """The record to write for ``mention`` (its version is the one it was read at)."""
    e = mention.enrichment
    data: dict[str, Any] = {
        "network": mention.network,
        "external_id": mention.external_id,
        "text": mention.text,
        "created_at": mention.created_at.isoformat(),
        "received_at": mention.received_at.isoformat(),
        "author": {
            "handle": mention.author.handle,
            "name": mention.author.name,
            "followers": mention.author.followers,
            "verified": mention.author.verified,
        },
        "enrichment": {
            "sentiment": {
                "compound": e.sentiment.compound,
                "label": e.sentiment.label,
                "complaint": e.sentiment.complaint,
                "urgent": e.sentiment.urgent,
            },
            "brands": list(e.brands),
            "competitors": list(e.competitors),
            "risks": list(e.risks),
            "priority": e.priority.value,
            "spoke": e.spoke,
            "rule": e.rule,
        },
        "url": mention.url,
        "lang": mention.lang,
        "in_reply_to": mention.in_reply_to,
        "extra": mention.extra,
        "state": mention.state.value,
        "owner": mention.owner,
        "claimed_at": _iso(mention.claimed_at),
        "last_activity_at": _iso(mention.last_activity_at),
        "resolved_by": mention.resolved_by,
        "resolved_at": _iso(mention.resolved_at),
        "outcome": mention.outcome.value if mention.outcome else None,
        "note": mention.note,
        "breached_at": _iso(mention.breached_at),
        "escalation": None
        if mention.escalation is None
        else {
            "by": mention.escalation.by,
            "at": mention.escalation.at.isoformat(),
            "reason": mention.escalation.reason,
            "to": list(mention.escalation.to),
        },
        "reply": _reply_json(mention.reply),
    }
    if mention.surge:
        data["surge"] = mention.surge
    if mention.crisis:
        data["crisis"] = mention.crisis
    return Record(KIND, mention.key, data, mention.version, tags_for(mention))


def from_record(record: Record) -> Mention:
    """The mention a stored record holds, carrying the record's version."""
    d = record.data
    e = d["enrichment"]
    esc = d.get("escalation")
    return Mention(
        network=d["network"],
        external_id=d["external_id"],
        text=d["text"],
        created_at=datetime.fromisoformat(d["created_at"]),
        received_at=datetime.fromisoformat(d["received_at"]),
        author=Author(**d["author"]),
        enrichment=Enrichment(
            sentiment=Sentiment(**e["sentiment"]),
            brands=tuple(e["brands"]),
            competitors=tuple(e["competitors"]),
            risks=tuple(e["risks"]),
            priority=Priority(e["priority"]),
            spoke=e["spoke"],
            rule=e["rule"],
        ),
        url=d.get("url"),
        lang=d.get("lang"),
        in_reply_to=d.get("in_reply_to"),
        extra=dict(d.get("extra") or {}),
        state=MentionState(d["state"]),
        owner=d.get("owner"),
        claimed_at=_dt(d.get("claimed_at")),
        last_activity_at=_dt(d.get("last_activity_at")),
        resolved_by=d.get("resolved_by"),
        resolved_at=_dt(d.get("resolved_at")),
        outcome=Outcome(d["outcome"]) if d.get("outcome") else None,
        note=d.get("note"),
        escalation=None
        if not esc
        else Escalation(
            by=esc["by"],
            at=datetime.fromisoformat(esc["at"]),
            reason=esc["reason"],
            to=tuple(esc["to"]),
        ),
        breached_at=_dt(d.get("breached_at")),
        surge=d.get("surge"),
        crisis=d.get("crisis"),
        reply=_reply(d.get("reply")),
        version=record.version,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _reply_json(reply: ReplyState | None) -> dict[str, Any] | None:
    if reply is None:
        return None
    return {
        "draft_id": reply.draft_id,
        "state": reply.state,
        "drafted_by": reply.drafted_by,
        "approved_by": list(reply.approved_by),
        "at": _iso(reply.at),
        "url": reply.url,
        "rule": reply.rule,
    }


def _reply(data: dict[str, Any] | None) -> ReplyState | None:
    if not data:
        return None
    return ReplyState(
        draft_id=data["draft_id"],
        state=data["state"],
        drafted_by=data["drafted_by"],
        approved_by=tuple(data.get("approved_by") or ()),
        at=_dt(data.get("at")),
        url=data.get("url"),
        rule=data.get("rule"),
    )
