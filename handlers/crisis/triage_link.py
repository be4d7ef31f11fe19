"""The triage link: mentions arriving for a spoke an open incident affects
carry its id (their card's "Crisis CR-42" badge; high-risk ones are also
posted into the incident's room, see :func:`handlers.triage.admission`).

Read once per intake batch. A mention keeps the id it arrived with; one that
arrives after the incident is resolved gets none.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.model import Mention
from bot.core.storage import Store
from handlers.crisis.incident import parse_incident_id
from handlers.crisis.records import KIND, from_record


async def open_by_spoke(store: Store) -> dict[str, str]:
    """Spoke id -> the open incident affecting it (the oldest, when several do)."""
    incidents = [from_record(r) for r in await store.find(KIND, "open")]
    incidents.sort(key=lambda i: parse_incident_id(i.id) or 0)
    found: dict[str, str] = {}
    for incident in incidents:
        for spoke in incident.spokes:
            found.setdefault(spoke, incident.id)
    return found


async def marked(store: Store, mentions: Sequence[Mention]) -> list[Mention]:
    """``mentions`` with the incident affecting their spoke, if any."""
    by_spoke = await open_by_spoke(store)
    if not by_spoke:
        return list(mentions)
    return [
        m.evolve(crisis=by_spoke[m.enrichment.spoke]) if m.enrichment.spoke in by_spoke else m
        for m in mentions
    ]
