"""Worker processes for the two-process race tests (spawned, so module level).

Each worker opens its own store on the shared file or namespace, reports
``("ready", worker)`` on ``results``, waits for ``start``, runs, and reports
``("done", worker, payload)`` or ``("error", worker, traceback)``.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from bot.core.storage import AuditEntry, Effects, Record, Store
from bot.store import open_store

CLAIM_KIND = "case"
CLAIM_KEY = "race"
SUBJECT = f"{CLAIM_KIND}:{CLAIM_KEY}"
CLAIMED_AT = datetime(2030, 1, 1, tzinfo=UTC)


def claim_worker(
    url: str,
    namespace: str,
    worker: str,
    attempts: int,
    read_barrier: Barrier,
    start: Event,
    results: Queue[Any],
) -> None:
    """Make ``attempts`` concurrent claims on the race record.

    Every attempt reads the record, then replaces it expecting the version it
    read. ``read_barrier`` holds both processes between their reads and their
    writes, so all claims of both processes really race on version 1.
    Each attempt reports ``(n, version_read, ok, owner_after)``.
    """

    async def run(store: Store) -> list[tuple[int, int, bool, Any]]:
        reads = await asyncio.gather(*(store.get(CLAIM_KIND, CLAIM_KEY) for _ in range(attempts)))
        await asyncio.to_thread(read_barrier.wait, 30)

        async def claim(n: int, current: Record | None) -> tuple[int, int, bool, Any]:
            assert current is not None
            if current.data.get("owner") is not None:
                return n, current.version, False, current.data["owner"]
            written = await store.replace(
                Record(CLAIM_KIND, CLAIM_KEY, {"owner": worker, "attempt": n}),
                current.version,
                Effects(audit=(AuditEntry(CLAIMED_AT, worker, "claim", SUBJECT, {"attempt": n}),)),
            )
            assert written.record is not None
            return n, current.version, written.ok, written.record.data["owner"]

        return list(await asyncio.gather(*(claim(n, r) for n, r in enumerate(reads))))

    _run_worker(url, namespace, worker, start, results, run)


def timer_worker(
    url: str, namespace: str, worker: str, now_iso: str, start: Event, results: Queue[Any]
) -> None:
    """Lease and complete due timers until none is left to lease."""
    now = datetime.fromisoformat(now_iso)

    async def run(store: Store) -> tuple[list[str], list[str]]:
        leased: list[str] = []
        completed: list[str] = []
        while batch := await store.lease_timers(now, worker, timedelta(minutes=5), limit=10):
            for item in batch:
                leased.append(item.timer.key)
                if await store.complete_timer(item.timer.key, item.token):
                    completed.append(item.timer.key)
        return leased, completed

    _run_worker(url, namespace, worker, start, results, run)


def _run_worker(
    url: str,
    namespace: str,
    worker: str,
    start: Event,
    results: Queue[Any],
    body: Callable[[Store], Awaitable[Any]],
) -> None:
    async def main() -> Any:
        store = open_store(url, namespace=namespace)
        await store.open()
        try:
            results.put(("ready", worker))
            if not await asyncio.to_thread(start.wait, 30):
                raise TimeoutError("start signal never came")
            return await body(store)
        finally:
            await store.close()

    try:
        payload = asyncio.run(main())
    except BaseException:
        results.put(("error", worker, traceback.format_exc()))
    else:
        results.put(("done", worker, payload))
