"""The external sender's pass (``bot/external_sends.py``) on a real store
with an injected clock: one item whose outcome the store fails to record
does not end the pass for the others."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.ports import SendOutcome
from bot.core.storage import JSON, NO_EFFECTS, AuditEntry, Effects, OutboxItem, Store
from bot.external_sends import ExternalSender
from bot.store import open_store
from tests.conftest import START

LEASE = timedelta(minutes=1)


@pytest.fixture
async def store(store_backend: tuple[str, str]) -> AsyncIterator[Store]:
    opened = open_store(store_backend[0], namespace=store_backend[1])
    await opened.open()
    yield opened
    await opened.close()


class ReceiverLane:
    """A lane whose receiver accepts every send; each settlement is audited."""

    lane = "test.receiver"
    give_up_after = timedelta(hours=1)
    lease_for = LEASE

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, item: OutboxItem, *, attempt: int) -> JSON:
        self.sent.append(item.id)
        return {"accepted": item.id}

    def settled(self, item: OutboxItem, outcome: SendOutcome) -> Effects:
        detail: JSON = {"ok": outcome.ok, "attempts": outcome.attempts}
        return Effects(audit=(AuditEntry(outcome.at, "system", "sent", item.id, detail),))


async def test_an_item_whose_outcome_the_store_fails_to_record_does_not_stop_the_pass(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The store does not answer while one item of a batch is settled: the
    others are sent and settled in the same drain, the failure is logged once
    against that item, and it is sent again and settled after its lease."""
    clock, lane = ManualClock(START), ReceiverLane()
    ids = [f"send-{n}" for n in range(6)]
    await store.apply(
        Effects(
            outbox=tuple(
                OutboxItem(item_id, lane.lane, "send", "receiver", {}, START) for item_id in ids
            )
        )
    )
    real_finish = store.finish_outbox
    store_down_once = [True]

    async def finish_outbox(
        item_id: str,
        token: int,
        card_ref: tuple[str, JSON] | None = None,
        effects: Effects = NO_EFFECTS,
    ) -> bool:
        if item_id == "send-2" and store_down_once[0]:
            store_down_once[0] = False
            raise ConnectionError("store did not answer")
        return await real_finish(item_id, token, card_ref, effects)

    monkeypatch.setattr(store, "finish_outbox", finish_outbox)
    sender = ExternalSender(store, lane, clock, "me", concurrency=3)
    caplog.clear()
    assert await sender.drain() == 5
    assert sorted(lane.sent) == ids
    assert await store.outbox_size(lane.lane) == 1  # only the one not recorded
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        "test.receiver item send-2: outcome not recorded; retried after its lease"
    ]
    assert sorted(e.subject for e in await store.audit_log() if e.action == "sent") == [
        i for i in ids if i != "send-2"
    ]
    assert await sender.drain() == 0  # still leased
    clock.advance(LEASE + timedelta(seconds=1))
    assert await sender.drain() == 1
    assert lane.sent.count("send-2") == 2
    assert await store.outbox_size(lane.lane) == 0
    [settled] = [e for e in await store.audit_log("send-2") if e.action == "sent"]
    assert settled.detail == {"ok": True, "attempts": 2}
