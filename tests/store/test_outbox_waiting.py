"""Store contract: whether anything still waits to go into a place
(``outbox_waiting_for``), which a room's archive waits on, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.storage import Effects, OutboxItem, Store

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def update(item_id: str, card_key: str, platform: str = "slack") -> OutboxItem:
    return OutboxItem(item_id, platform, "update", "hub", {"t": 1}, T0, card_key=card_key)


async def test_an_update_of_a_card_or_a_post_into_the_room_is_waiting(store: Store) -> None:
    room = ["thread:room:CR-1"]
    assert not await store.outbox_waiting_for("slack", ["incident:CR-1"], room)
    await store.apply(
        Effects(
            outbox=(
                update("u-1", "incident:CR-1"),
                update("u-2", "incident:CR-9", platform="teams"),
                OutboxItem("t-1", "slack", "thread", "thread:room:CR-2", {"t": 1}, T0),
            )
        )
    )
    assert await store.outbox_waiting_for("slack", ["summary:CR-1", "incident:CR-1"], room)
    assert not await store.outbox_waiting_for("slack", ["incident:CR-9"], room)
    assert await store.outbox_waiting_for("slack", [], ["thread:room:CR-2"])
    # Leased is still waiting; finished is not.
    [leased] = await store.lease_outbox("slack", T0, "a", timedelta(minutes=1), limit=1)
    assert leased.item.id == "u-1"
    assert await store.outbox_waiting_for("slack", ["incident:CR-1"], [])
    assert await store.finish_outbox(leased.item.id, leased.token)
    assert not await store.outbox_waiting_for("slack", ["incident:CR-1"], room)


async def test_only_the_ops_asked_for_count_where_some_are_named(store: Store) -> None:
    opening = OutboxItem("r-1", "slack", "room", "room:CR-1", {}, T0, card_key="room:CR-1")
    await store.apply(Effects(outbox=(opening,)))
    assert await store.outbox_waiting_for("slack", ["room:CR-1"], [])
    assert not await store.outbox_waiting_for("slack", [], ["room:CR-1"], ops=["archive"])
    archive = OutboxItem("a-1", "slack", "archive", "room:CR-1", {"after": "summary:CR-1"}, T0)
    await store.apply(Effects(outbox=(archive,)))
    assert await store.outbox_waiting_for("slack", [], ["room:CR-1"], ops=["archive"])
