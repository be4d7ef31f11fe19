"""A mention's first card is rendered when the outbox sends it, and is the
card admission would have built (``bot/core/later.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Loaded, open_runtime
from bot.core.cards import Card
from bot.core.clock import ManualClock
from bot.core.storage import JSON
from bot.intake.enrich import enrich
from bot.intake.feed import parse_mention
from bot.runtime import Runtime
from bot.store import open_store
from handlers.triage.cards import mention_card
from handlers.triage.records import KIND
from tests.conftest import START

TEXTS = [
    "@acme my card was charged twice and nobody answers 😡",
    "I will sue Acme if my data is not deleted",
    "Love the new AcmePay app! <!channel> *bold*",
]


def incoming(n: int, text: str) -> Any:
    return parse_mention(
        {
            "network": "x",
            "id": f"later-{n}",
            "text": text,
            "created_at": "2026-03-02T08:00:00Z",
            "url": f"https://x.com/u/status/{n}",
            "author": {"handle": f"user{n}", "name": f"User {n}", "followers": 1000 * n},
        }
    )


class Recorder:
    """A console delivery that keeps every card it is asked to post."""

    platform = "console"

    def __init__(self) -> None:
        self.posted: list[Card] = []

    async def post(self, destination: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        self.posted.append(card)
        return {"place": destination, "n": len(self.posted)}

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        raise AssertionError("no direct message expected")

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str, attempt: int
    ) -> JSON:
        raise AssertionError("no thread reply expected")

    async def update(self, ref: JSON, card: Card) -> None:
        raise AssertionError("no update expected")


@pytest.fixture
async def runtime(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[Runtime]:
    url, namespace = store_backend
    opened = await open_runtime(
        loaded,
        store=open_store(url, namespace=namespace),
        clock=ManualClock(START),
        platforms=["console"],
    )
    yield opened
    await opened.store.close()


async def test_the_card_sent_later_is_the_card_admission_would_have_built(
    runtime: Runtime,
) -> None:
    batch = [incoming(n, text) for n, text in enumerate(TEXTS, start=1)]
    assert await runtime.ingest_batch(batch) == [True, True, True]
    expected = [
        mention_card(
            enrich(m, runtime.settings, runtime.sentiment, START).evolve(version=1),
            runtime.settings,
            runtime.templates,
            START,
        )
        for m in batch
    ]
    # Sent well after admission (a paced channel): still the card as of admission.
    assert isinstance(runtime.clock, ManualClock)
    runtime.clock.advance(timedelta(minutes=40))
    delivery = Recorder()
    assert await runtime.sender(delivery).drain() == 3
    assert sorted(delivery.posted, key=lambda c: c.card_key or "") == expected
    assert expected[0].title and "40 min" not in str(expected[0].badges)
    # Posted under the mention's card key, so its later updates find it.
    for card in expected:
        assert card.card_key is not None
        assert await runtime.store.card_refs("console", card.card_key)


async def test_a_card_whose_mention_is_gone_is_given_up_in_the_audit_log(
    runtime: Runtime,
) -> None:
    assert await runtime.ingest(incoming(7, "gone before its card went out"))
    record = await runtime.store.get(KIND, "x:later-7")
    assert record is not None
    assert (await runtime.store.delete(KIND, record.key, record.version)).ok
    delivery = Recorder()
    assert await runtime.sender(delivery).drain() == 1
    assert delivery.posted == []
    assert await runtime.store.outbox_size("console") == 0
    entries = await runtime.store.audit_log("mention:x:later-7")
    assert [e.action for e in entries] == ["mention.received", "outbox.undeliverable"]
    assert "no longer stored" in entries[1].detail["error"]
