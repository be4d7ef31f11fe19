"""Several bot processes on one store agree on a surge; a cluster claim whose
process dies half way is finished by any process."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

import handlers.surge.routes
from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.intake.feed import parse_mention
from bot.runtime import Runtime
from bot.store import open_store
from handlers.surge.records import CLAIM_KIND
from handlers.triage.records import KIND, from_record
from tests.conftest import START, Chat
from tests.surge.burst import burst_item


async def runtimes(url: str, namespace: str, loaded: Loaded, count: int) -> list[Runtime]:
    clock = ManualClock(START)
    return [
        await open_runtime(
            loaded, store=open_store(url, namespace=namespace), clock=clock, platforms=["console"]
        )
        for _ in range(count)
    ]


async def test_processes_ingesting_at_once_start_one_surge_with_one_card(
    store_backend: tuple[str, str], loaded: Loaded
) -> None:
    processes = await runtimes(*store_backend, loaded, 4)
    try:
        # 4 processes, each 5 batches of 6: every batch alone is under the
        # threshold, together they pass it.
        batches = [
            [parse_mention(burst_item(n)) for n in range(start, start + 6)]
            for start in range(0, 120, 6)
        ]
        await asyncio.gather(
            *(processes[i % 4].ingest_batch(batch) for i, batch in enumerate(batches))
        )
        store = processes[0].store
        assert [e.action for e in await store.audit_log("surge:care:1")] == ["surge.start"]
        leased = await store.lease_outbox("console", START, "reader", timedelta(minutes=1), 500)
        surge_posts = [i for i in leased if i.item.card_key == "surge:care:1"]
        assert len(surge_posts) == 1 and surge_posts[0].item.op == "post"
        assert len(await store.find(KIND, "spoke:care", limit=500)) == 120
        counted = await store.counts("surge.")
        assert sum(v for k, v in counted.items() if k.startswith("surge.arrivals:care:")) == 120
    finally:
        for runtime in processes:
            await runtime.store.close()


async def test_a_cluster_claim_cut_short_is_finished_by_its_backstop(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.run("ingest surge.jsonl", "advance 10s")
    press = chat.press("sam", "Claim cluster")

    async def dies(*args: object) -> tuple[int, int, str]:
        raise RuntimeError("the process was killed here")

    monkeypatch.setattr(handlers.surge.routes, "apply_claim", dies)
    with pytest.raises(RuntimeError):
        await chat.runtime.handle(press, chat.session)
    monkeypatch.undo()
    [claim] = await chat.store.find(CLAIM_KIND, "surge:care:1")
    members = claim.data["members"]
    records = [await chat.store.get(KIND, key) for key in members]
    assert all(r is not None and from_record(r).owner is None for r in records)
    # Any process's scheduler finishes it half a minute later.
    await chat.run("advance 31s")
    records = [await chat.store.get(KIND, key) for key in members]
    assert all(r is not None and from_record(r).owner == "sam" for r in records)
    claims = [e for e in await chat.store.audit_log() if e.action == "mention.claim"]
    assert len(claims) == len(members) and {e.actor for e in claims} == {"sam"}
