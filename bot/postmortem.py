"""``playcaller postmortem CR-N``: the post-incident summary as Markdown,
read from the store (figures and timeline from ``handlers.crisis.summary``)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app import Loaded
from bot.core.storage import Store
from handlers.crisis.incident import parse_incident_id
from handlers.crisis.records import KIND, from_record
from handlers.crisis.summary import render_markdown


async def markdown(loaded: Loaded, store: Store, incident_id: str, now: datetime) -> str | None:
    """The summary of ``incident_id``, or None when there is no such incident."""
    number = parse_incident_id(incident_id)
    record = await store.get(KIND, f"CR-{number}") if number else None
    if record is None:
        return None
    incident = from_record(record)
    playbook = loaded.playbooks.crisis.get(incident.playbook)
    return render_markdown(
        incident,
        title=playbook.title if playbook else incident.playbook,
        names={p.id: p.name for p in loaded.settings.people.values()},
        templates=loaded.templates,
        now=now,
    )


async def main(loaded: Loaded, store: Store, incident_id: str, out: str | None) -> int:
    """Print (or write to ``out``) the summary; 2 when there is no such incident."""
    await store.open()
    try:
        text = await markdown(loaded, store, incident_id, datetime.now(UTC))
    finally:
        await store.close()
    if text is None:
        print(f"playcaller: there is no incident {incident_id!r} in the store", file=sys.stderr)
        return 2
    if out is None:
        print(text)
    else:
        await asyncio.to_thread(Path(out).write_text, text + "\n", encoding="utf-8")
        print(f"playcaller: wrote {out}")
    return 0
