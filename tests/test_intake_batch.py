"""Batched admission stores exactly what admitting one by one stores."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.core.storage import Store
from bot.intake.feed import parse_mention
from bot.runtime import Runtime
from bot.store import open_store
from handlers.triage.records import KIND
from tests.conftest import START


def mentions() -> list[dict[str, Any]]:
    texts = [
        "@acme my card was charged twice and nobody answers",
        "I will sue Acme if my data is not deleted",
        "Love the new AcmePay app!",
        "Is Acme hiring data engineers?",
    ]
    return [
        {
            "network": "x",
            "id": str(n),
            "text": text,
            "created_at": "2026-03-02T08:00:00Z",
            "author": {"handle": f"user{n}", "followers": 10 * n},
        }
        for n, text in enumerate(texts)
    ]


async def runtime_on(path: Path, loaded: Loaded) -> Runtime:
    return await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{path}", namespace="playcaller"),
        clock=ManualClock(START),
        platforms=["console"],
    )


async def snapshot(store: Store) -> dict[str, Any]:
    records = await store.find(KIND, "state:open")
    leased = await store.lease_outbox("console", START, "reader", timedelta(minutes=1), 100)
    return {
        "records": sorted((r.key, r.version, sorted(r.tags), r.data) for r in records),
        "outbox": sorted((i.item.destination, i.item.priority, str(i.item.body)) for i in leased),
        "timers": sorted((t.key, t.due_at, str(t.payload)) for t in await store.pending_timers()),
        "audit": sorted((e.action, e.subject, str(e.detail)) for e in await store.audit_log()),
    }


async def test_a_batch_stores_what_one_by_one_stores(tmp_path: Path, loaded: Loaded) -> None:
    items = [parse_mention(m) for m in mentions()]
    one = await runtime_on(tmp_path / "one.db", loaded)
    batched = await runtime_on(tmp_path / "batch.db", loaded)
    try:
        assert [await one.ingest(m) for m in items] == [True] * 4
        assert await batched.ingest_batch(items) == [True] * 4
        expected = await snapshot(one.store)
        assert len(expected["records"]) == 4 and len(expected["timers"]) == 8
        assert await snapshot(batched.store) == expected
        # Re-sent, alone or with a duplicate inside the batch: nothing more.
        assert await batched.ingest_batch([items[0], items[1], items[1]]) == [False] * 3
        again = await snapshot(batched.store)  # the first snapshot leased the outbox
        assert {**again, "outbox": expected["outbox"]} == expected
        assert await batched.store.outbox_size("console") == 4
    finally:
        await one.store.close()
        await batched.store.close()
