"""Store contract: withdrawing an external send that is still retrying
(``cancel_outbox``), fenced against a sender holding the item, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.storage import AuditEntry, Effects, OutboxItem, Store

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


def item(item_id: str = "publish:d-1:1:r0") -> OutboxItem:
    return OutboxItem(item_id, "publish", "publish", "account:a", {"text": "hi"}, T0)


def published() -> Effects:
    return Effects(audit=(AuditEntry(T0, "system", "publication.published", "publication:d-1:1"),))


async def test_a_waiting_item_is_removed_at_once(store: Store) -> None:
    await store.apply(Effects(outbox=(item(), item("publish:d-2:1:r0"))))
    [first, _] = await store.lease_outbox("publish", T0, "a", LEASE)
    # Its first try failed; it waits for the next one.
    assert await store.retry_outbox(first.item.id, first.token, T0 + timedelta(seconds=30))
    assert await store.cancel_outbox(first.item.id)
    assert await store.outbox_size("publish") == 1
    later = await store.lease_outbox("publish", T0 + timedelta(seconds=45), "b", LEASE)
    assert [leased.item.id for leased in later] == []  # d-2 is still leased to "a"
    assert not await store.cancel_outbox(first.item.id)
    assert not await store.cancel_outbox("publish:never:1:r0")


async def test_a_post_in_flight_still_settles_as_published(store: Store) -> None:
    await store.apply(Effects(outbox=(item(),)))
    [held] = await store.lease_outbox("publish", T0, "a", LEASE)
    assert await store.cancel_outbox(held.item.id)
    # The holder's POST was accepted: what really happened is recorded.
    assert await store.finish_outbox(held.item.id, held.token, effects=published())
    assert [e.action for e in await store.audit_log("publication:d-1:1")] == [
        "publication.published"
    ]
    assert await store.outbox_size("publish") == 0


async def test_a_holder_that_would_retry_drops_the_item_instead(store: Store) -> None:
    await store.apply(Effects(outbox=(item(),)))
    [held] = await store.lease_outbox("publish", T0, "a", LEASE)
    assert await store.cancel_outbox(held.item.id)
    assert await store.retry_outbox(held.item.id, held.token, T0 + timedelta(seconds=5))
    assert await store.outbox_size("publish") == 0
    assert await store.lease_outbox("publish", T0 + timedelta(hours=1), "b", LEASE) == []


async def test_a_cancelled_item_whose_holder_died_is_never_sent_again(store: Store) -> None:
    await store.apply(Effects(outbox=(item(), item("publish:d-2:1:r0"))))
    held = await store.lease_outbox("publish", T0, "a", LEASE, limit=1)
    assert await store.cancel_outbox(held[0].item.id)
    # Before the lease runs out nobody else gets it; after, it is gone.
    again = await store.lease_outbox("publish", T0 + timedelta(seconds=10), "b", LEASE)
    assert [leased.item.id for leased in again] == ["publish:d-2:1:r0"]
    after = await store.lease_outbox("publish", T0 + 2 * LEASE, "b", LEASE)
    assert [leased.item.id for leased in after] == ["publish:d-2:1:r0"]
    assert await store.outbox_size("publish") == 1
    # The dead holder's late answer is fenced off: nothing written.
    assert not await store.finish_outbox(held[0].item.id, held[0].token, effects=published())
    assert await store.audit_log("publication:d-1:1") == []
