"""Store contract: an external send's settlement rides on the fenced
completion of its outbox item (``finish_outbox(..., effects=...)``), on
every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.storage import AuditEntry, Effects, OutboxItem, Store, Timer

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


def item(item_id: str = "publish:d-1:1:r0") -> OutboxItem:
    return OutboxItem(item_id, "publish", "publish", "account:a", {"text": "hi"}, T0)


def settlement(key: str = "d-1:1") -> Effects:
    return Effects(
        timers=(Timer(f"publication.settled:{key}:r0", "publication.settled", T0, {"ok": True}),),
        audit=(AuditEntry(T0, "system", "publication.published", f"publication:{key}"),),
    )


async def test_the_settlement_commits_with_the_completion(store: Store) -> None:
    await store.apply(Effects(outbox=(item(),)))
    [leased] = await store.lease_outbox("publish", T0, "a", LEASE)
    assert await store.finish_outbox(leased.item.id, leased.token, effects=settlement())
    assert await store.outbox_size("publish") == 0
    [timer] = await store.pending_timers("publication.settled")
    assert timer.payload == {"ok": True}
    assert [e.action for e in await store.audit_log("publication:d-1:1")] == [
        "publication.published"
    ]


async def test_a_sender_whose_lease_was_taken_over_writes_nothing(store: Store) -> None:
    await store.apply(Effects(outbox=(item(),)))
    [first] = await store.lease_outbox("publish", T0, "a", LEASE)
    [second] = await store.lease_outbox("publish", T0 + LEASE, "b", LEASE)
    assert not await store.finish_outbox(first.item.id, first.token, effects=settlement())
    assert await store.pending_timers("publication.settled") == []
    assert await store.audit_log("publication:d-1:1") == []
    assert await store.outbox_size("publish") == 1
    assert await store.finish_outbox(second.item.id, second.token, effects=settlement())
    assert len(await store.pending_timers("publication.settled")) == 1


async def test_a_settlement_cannot_complete_a_timer(store: Store) -> None:
    await store.apply(Effects(outbox=(item(),)))
    [leased] = await store.lease_outbox("publish", T0, "a", LEASE)
    with pytest.raises(ValueError, match="cannot complete"):
        await store.finish_outbox(
            leased.item.id, leased.token, effects=Effects(complete_timer=("t", 1))
        )
    assert await store.outbox_size("publish") == 1
