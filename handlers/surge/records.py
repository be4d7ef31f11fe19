"""Surge state and cluster claims as store records.

One ``surge`` record per spoke (key: the spoke id) holds whether the spoke is
in a surge and which; it changes only when a surge starts (compare-and-set, so
of several processes one starts it and posts its card) and on each refresh.
A cluster claim is a ``surge_claim`` record inserted once: the insert decides
who won when two people click at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.core.storage import Record

KIND = "surge"
CLAIM_KIND = "surge_claim"


@dataclass(frozen=True)
class SurgeState:
    """A spoke's surge state; ``number`` counts its surges (1, 2, …)."""

    spoke: str
    number: int = 0
    surging: bool = False
    started_at: datetime | None = None
    # The last refresh that saw the rate over the threshold.
    busy_at: datetime | None = None
    ended_at: datetime | None = None
    total: int = 0
    peak: int = 0
    # Cluster id -> member keys at the last refresh (what "Claim cluster" takes).
    clusters: dict[str, list[str]] = field(default_factory=dict)
    # A fingerprint of the card as last queued: an unchanged card is not sent again.
    shown: str = ""
    version: int = 0

    @property
    def id(self) -> str:
        return f"{self.spoke}:{self.number}"

    @property
    def card_key(self) -> str:
        return f"surge:{self.id}"

    def evolve(self, **changes: Any) -> SurgeState:
        return replace(self, **changes)


def to_record(state: SurgeState) -> Record:
    data = {
        "number": state.number,
        "surging": state.surging,
        "started_at": _iso(state.started_at),
        "busy_at": _iso(state.busy_at),
        "ended_at": _iso(state.ended_at),
        "total": state.total,
        "peak": state.peak,
        "clusters": state.clusters,
        "shown": state.shown,
    }
    tags = frozenset({"surging"} if state.surging else {"calm"})
    return Record(KIND, state.spoke, data, state.version, tags)


def from_record(record: Record) -> SurgeState:
    d = record.data
    return SurgeState(
        spoke=record.key,
        number=int(d["number"]),
        surging=bool(d["surging"]),
        started_at=_dt(d.get("started_at")),
        busy_at=_dt(d.get("busy_at")),
        ended_at=_dt(d.get("ended_at")),
        total=int(d.get("total", 0)),
        peak=int(d.get("peak", 0)),
        clusters={str(k): [str(m) for m in v] for k, v in dict(d.get("clusters") or {}).items()},
        shown=str(d.get("shown", "")),
        version=record.version,
    )


@dataclass(frozen=True)
class ClusterClaim:
    """Who took a cluster, when, and the mentions it held at that moment."""

    surge_id: str
    cluster_id: str
    owner: str
    owner_name: str
    at: datetime
    members: tuple[str, ...]
    version: int = 0

    @property
    def key(self) -> str:
        return claim_key(self.surge_id, self.cluster_id)


def claim_key(surge_id: str, cluster_id: str) -> str:
    return f"{surge_id}|{cluster_id}"


def claim_to_record(claim: ClusterClaim) -> Record:
    data = {
        "surge": claim.surge_id,
        "cluster": claim.cluster_id,
        "owner": claim.owner,
        "owner_name": claim.owner_name,
        "at": claim.at.isoformat(),
        "members": list(claim.members),
    }
    return Record(
        CLAIM_KIND, claim.key, data, claim.version, frozenset({f"surge:{claim.surge_id}"})
    )


def claim_from_record(record: Record) -> ClusterClaim:
    d = record.data
    return ClusterClaim(
        surge_id=d["surge"],
        cluster_id=d["cluster"],
        owner=d["owner"],
        owner_name=d.get("owner_name") or d["owner"],
        at=datetime.fromisoformat(d["at"]),
        members=tuple(d["members"]),
        version=record.version,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
