"""A copy sent to one person (op ``copy``) under a shared card's key follows that card.

The outbox updates the copy with the shared card (states newer than the copy
only), and never hangs a thread under the copy, even when the copy went out
before the shared card (DMs jump the queue).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.cards import Card
from bot.core.clock import ManualClock
from bot.core.storage import JSON, Effects, OutboxItem, Store
from bot.outbox import OutboxSender
from bot.store import open_store
from tests.conftest import START

KEY = "mention:x:42"


class Recorder:
    """A delivery that remembers where each card went and what was edited."""

    platform = "console"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (where, title)
        self.edited: list[tuple[str, str]] = []

    async def post(self, destination: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        self.sent.append((destination, card.title))
        return {"place": destination}

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        self.sent.append((f"@{person_id}", card.title))
        return {"place": f"@{person_id}"}

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str, attempt: int
    ) -> JSON:
        self.sent.append((f"thread of {ref['place']}", card.title))
        return {"place": f"thread of {ref['place']}"}

    async def update(self, ref: JSON, card: Card) -> None:
        self.edited.append((str(ref["place"]), card.title))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'copies.db'}")
    await opened.open()
    yield opened
    await opened.close()


def item(op: str, destination: str, title: str, minutes: int, **extra: Any) -> OutboxItem:
    return OutboxItem(
        id=f"{op}-{title}",
        platform="console",
        op=op,
        destination=destination,
        body=Card(title=title, card_key=extra.pop("card_key", KEY)).to_json(),
        created_at=START + timedelta(minutes=minutes),
        card_key=extra.pop("key", KEY),
        **extra,
    )


async def test_copies_follow_the_card_and_threads_hang_under_the_shared_one(
    store: Store,
) -> None:
    clock = ManualClock(START + timedelta(minutes=5))
    delivery = Recorder()
    sender = OutboxSender(store, delivery, clock, "test")
    # The coach's copy is more urgent than the channel post, so it lands first;
    # the same turn updated the shared card to the state the copy shows.
    await store.apply(
        Effects(
            outbox=(
                item("post", "care", "open", 0, priority=2),
                item("copy", "person:maria", "escalated", 1, priority=0),
                item("update", "", "escalated", 1, priority=0),
            )
        )
    )
    await sender.drain()
    assert delivery.sent == [("@maria", "escalated"), ("care", "open")]
    # The update waited for the channel's card; the copy already shows that state.
    clock.advance(timedelta(seconds=3))
    await sender.drain()
    assert delivery.edited == [("care", "escalated")]
    # A later state reaches both places; a thread hangs under the channel's card.
    await store.apply(
        Effects(
            outbox=(
                item("update", "", "claimed", 2),
                item("thread", f"thread:{KEY}", "reminder", 3, key=None, card_key=None),
            )
        )
    )
    await sender.drain()
    assert sorted(delivery.edited[1:]) == [("@maria", "claimed"), ("care", "claimed")]
    assert delivery.sent[-1] == ("thread of care", "reminder")


async def test_a_card_sent_only_by_dm_is_updated_in_place_where_it_went(store: Store) -> None:
    """An approval card or a page goes to people only: no shared card to wait for."""
    clock = ManualClock(START + timedelta(minutes=5))
    delivery = Recorder()
    sender = OutboxSender(store, delivery, clock, "test")
    await store.apply(
        Effects(
            outbox=(
                item("dm", "person:maria", "waiting for maria", 0, priority=0),
                item("dm", "person:lee", "waiting for lee", 0, priority=0),
            )
        )
    )
    await sender.drain()
    await store.apply(Effects(outbox=(item("update", "", "approved", 1, priority=0),)))
    await sender.drain()
    assert sorted(delivery.edited) == [("@lee", "approved"), ("@maria", "approved")]


async def test_the_sender_remembers_recent_cards_only(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stale-update protection keeps the newest cards' times, not every card ever updated."""
    clock = ManualClock(START + timedelta(minutes=5))
    delivery = Recorder()
    sender = OutboxSender(store, delivery, clock, "test")
    monkeypatch.setattr("bot.outbox.RECENT_UPDATES", 3)
    keys = [f"mention:x:{n}" for n in range(5)]
    await store.apply(
        Effects(
            outbox=tuple(
                item("post", "care", f"open {n}", 0, key=k, card_key=k) for n, k in enumerate(keys)
            )
        )
    )
    await sender.drain()
    await store.apply(
        Effects(
            outbox=tuple(
                item("update", "", f"claimed {n}", 1, key=k, card_key=k) for n, k in enumerate(keys)
            )
        )
    )
    await sender.drain()
    assert sorted(t for _, t in delivery.edited) == [f"claimed {n}" for n in range(5)]
    assert list(sender._updated_at) == keys[2:]
