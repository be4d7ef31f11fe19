"""Incidents as store records: a JSON document, a version and index tags.

One record per incident (kind ``incident``, key ``CR-<n>``); every change is
a compare-and-set on it, so two clicks or two processes cannot both apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.model import Role
from bot.core.playbook import Severity, Target
from bot.core.storage import Record
from handlers.crisis.incident import (
    ChecklistItem,
    Happened,
    HeldPost,
    HoldingStatement,
    Incident,
    IncidentState,
    Paged,
    StatementPost,
    TimelineEntry,
)

KIND = "incident"


def tags_for(incident: Incident) -> frozenset[str]:
    """Index entries: by state, open incidents by affected spoke and account
    (triage marks their mentions), by playbook (a second declaration of the
    same playbook finds the open one)."""
    tags = {f"state:{incident.state.value}", f"lead:{incident.lead}"}
    if incident.open:
        tags.add("open")
        tags.add(f"open:playbook:{incident.playbook}")
        tags.update(f"open:spoke:{spoke}" for spoke in incident.spokes)
        tags.update(f"open:account:{account}" for account in incident.accounts)
    return frozenset(tags)


def to_record(incident: Incident) -> Record:
    """The record to write (its version is the one the incident was read at)."""
    data: dict[str, Any] = {
        "playbook": incident.playbook,
        "summary": incident.summary,
        "severity": incident.severity.value,
        "lead": incident.lead,
        "state": incident.state.value,
        "declared_at": incident.declared_at.isoformat(),
        "declared_by": incident.declared_by,
        "variables": dict(incident.variables),
        "accounts": list(incident.accounts),
        "spokes": list(incident.spokes),
        "statements": [
            {"id": s.id, "text": s.text, "requires_legal": s.requires_legal}
            for s in incident.statements
        ],
        "paged": [
            {
                "person": p.person,
                "step": p.step,
                "channels": list(p.channels),
                "paged_at": p.paged_at.isoformat(),
                "last_paged_at": p.last_paged_at.isoformat(),
                "times": p.times,
                "acked_at": _iso(p.acked_at),
            }
            for p in incident.paged
        ],
        "pages_sent": list(incident.pages_sent),
        "checklist": [
            {
                "text": item.text,
                "owner": _target(item.owner),
                "added_by": item.added_by,
                "done_by": item.done_by,
                "done_at": _iso(item.done_at),
            }
            for item in incident.checklist
        ],
        "timeline": [
            {"at": e.at.isoformat(), "actor": e.actor, "what": e.what.value, "detail": e.detail}
            for e in incident.timeline
        ],
        "publishing_paused": incident.publishing_paused,
        "statement_posts": [
            {
                "statement": p.statement,
                "account": p.account,
                "draft_id": p.draft_id,
                "round": p.round,
                "state": p.state,
                "author": p.author,
                "waiting_for": list(p.waiting_for),
                "step": p.step,
                "by": p.by,
                "at": _iso(p.at),
                "url": p.url,
                "failure": p.failure,
            }
            for p in incident.statement_posts
        ],
        "held_posts": [
            {
                "draft_id": h.draft_id,
                "account": h.account,
                "author": h.author,
                "publish_at": _iso(h.publish_at),
            }
            for h in incident.held_posts
        ],
        "mitigated_at": _iso(incident.mitigated_at),
        "resolved_at": _iso(incident.resolved_at),
        "room": {"channel": incident.room_channel, "name": incident.room_name},
    }
    return Record(KIND, incident.id, data, incident.version, tags_for(incident))


def from_record(record: Record) -> Incident:
    """The incident a stored record holds, carrying the record's version."""
    d = record.data
    return Incident(
        id=record.key,
        playbook=d["playbook"],
        summary=d["summary"],
        severity=Severity(d["severity"]),
        lead=d["lead"],
        state=IncidentState(d["state"]),
        declared_at=datetime.fromisoformat(d["declared_at"]),
        declared_by=d["declared_by"],
        variables=dict(d["variables"]),
        accounts=tuple(d["accounts"]),
        spokes=tuple(d["spokes"]),
        statements=tuple(
            HoldingStatement(s["id"], s["text"], s["requires_legal"]) for s in d["statements"]
        ),
        paged=tuple(
            Paged(
                person=p["person"],
                step=p["step"],
                channels=tuple(p["channels"]),
                paged_at=datetime.fromisoformat(p["paged_at"]),
                last_paged_at=datetime.fromisoformat(p["last_paged_at"]),
                times=p["times"],
                acked_at=_dt(p["acked_at"]),
            )
            for p in d["paged"]
        ),
        pages_sent=tuple(d["pages_sent"]),
        checklist=tuple(
            ChecklistItem(
                text=c["text"],
                owner=_from_target(c["owner"]),
                added_by=c["added_by"],
                done_by=c["done_by"],
                done_at=_dt(c["done_at"]),
            )
            for c in d["checklist"]
        ),
        timeline=tuple(
            TimelineEntry(
                datetime.fromisoformat(e["at"]), e["actor"], Happened(e["what"]), e["detail"]
            )
            for e in d["timeline"]
        ),
        publishing_paused=d["publishing_paused"],
        statement_posts=tuple(
            StatementPost(
                statement=p["statement"],
                account=p["account"],
                draft_id=p["draft_id"],
                round=p["round"],
                state=p["state"],
                author=p["author"],
                waiting_for=tuple(p["waiting_for"]),
                step=p["step"],
                by=p["by"],
                at=_dt(p["at"]),
                url=p["url"],
                failure=p["failure"],
            )
            for p in d.get("statement_posts", ())
        ),
        held_posts=tuple(
            HeldPost(h["draft_id"], h["account"], h["author"], _dt(h["publish_at"]))
            for h in d.get("held_posts", ())
        ),
        mitigated_at=_dt(d["mitigated_at"]),
        resolved_at=_dt(d["resolved_at"]),
        room_channel=str((d.get("room") or {}).get("channel") or ""),
        room_name=str((d.get("room") or {}).get("name") or ""),
        version=record.version,
    )


def _target(target: Target | None) -> dict[str, str] | None:
    if target is None:
        return None
    if target.person is not None:
        return {"person": target.person}
    return {"role": str(target.role)}


def _from_target(data: dict[str, str] | None) -> Target | None:
    if data is None:
        return None
    if "person" in data:
        return Target(person=data["person"])
    return Target(role=Role(data["role"]))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
