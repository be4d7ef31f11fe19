"""A decision's cards (the approvers' card, the author's publishing card, the
mention's reply state) are rendered when the outbox sends them, and are the
cards the decision would have built (``handlers/approvals/later.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Loaded, open_runtime
from bot.core.accounts import ApprovalStep
from bot.core.cards import Card
from bot.core.clock import ManualClock
from bot.core.events import Action
from bot.core.storage import JSON
from bot.intake.feed import parse_mention
from bot.runtime import Runtime, SilentResponder
from bot.store import open_store
from handlers.approvals.cards import approval_card, card_key, publishing_card, publishing_key
from handlers.approvals.records import KIND, Draft, DraftState, Step, Version, from_record
from handlers.approvals.records import to_record as draft_record
from handlers.approvals.routes import notify_approvers
from handlers.triage.cards import card_key as mention_key
from handlers.triage.cards import mention_card
from handlers.triage.records import KIND as MENTION_KIND
from handlers.triage.records import from_record as mention_from_record
from tests.conftest import START

APPROVERS = ("maria", "ada")


class Recorder:
    """A console delivery that keeps every card it posts, sends and updates."""

    platform = "console"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Card]] = []

    def _keep(self, op: str, where: str, card: Card) -> JSON:
        self.sent.append((op, where, card))
        return {"place": where, "n": len(self.sent)}

    async def post(self, destination: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        return self._keep("post", destination, card)

    async def dm(self, person_id: str, card: Card, *, delivery_id: str, attempt: int) -> JSON:
        return self._keep("dm", person_id, card)

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str, attempt: int
    ) -> JSON:
        raise AssertionError("no thread reply expected")

    async def update(self, ref: JSON, card: Card) -> None:
        self._keep("update", str(ref["place"]), card)


@pytest.fixture
async def runtime(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[Runtime]:
    url, namespace = store_backend
    opened = await open_runtime(
        loaded,
        store=open_store(url, namespace=namespace),
        clock=ManualClock(START),
        platforms=["console"],
    )
    approvals = dataclasses.replace(
        opened.settings.approvals, steps=(ApprovalStep("Coach", members=APPROVERS),)
    )
    opened.settings = dataclasses.replace(
        opened.settings, approvals=approvals, publish_webhook=True
    )
    yield opened
    await opened.store.close()


async def pending_reply(runtime: Runtime, n: int) -> Draft:
    """A mention and a reply to it waiting for Maria or Ada, its cards sent."""
    incoming: Any = parse_mention(
        {
            "network": "x",
            "id": f"reply-{n}",
            "text": "@acme my card was charged twice <!channel> *bold*",
            "created_at": "2026-03-02T08:00:00Z",
            "url": f"https://x.com/u/status/{n}",
            "author": {"handle": f"user{n}", "name": f"User {n}", "followers": 10},
        }
    )
    assert await runtime.ingest(incoming)
    draft = Draft(
        id=f"reply-{n}",
        account_id="acme-x",
        spoke="care",
        author="sam",
        created_at=START,
        versions=(Version(1, "So sorry, <@U1> we refund today.", "sam", START),),
        state=DraftState.PENDING,
        steps=(Step("Coach", runtime.settings.approvals.steps[0].mode, APPROVERS),),
        mention_key=f"x:reply-{n}",
    )
    assert (await runtime.store.insert(draft_record(draft))).ok
    turn = runtime.turn(click(runtime, draft, "sam"), SilentResponder())
    notify_approvers(turn, draft, None)
    await turn.flush()
    return draft


def click(runtime: Runtime, draft: Draft, person: str) -> Action:
    settings = runtime.settings
    return Action(
        platform="console",
        actor=settings.actor_for(settings.people[person], "console"),
        received_at=runtime.clock.now(),
        action_id="approvals.approve",
        value=f"{draft.id}|1",
    )


async def test_the_cards_sent_later_are_the_cards_the_decision_would_have_built(
    runtime: Runtime, store_backend: tuple[str, str], loaded: Loaded
) -> None:
    draft = await pending_reply(runtime, 1)
    delivery = Recorder()
    await runtime.sender(delivery).drain()
    stored = await runtime.store.get(MENTION_KIND, "x:reply-1")
    assert stored is not None
    mention = mention_from_record(stored)
    account = runtime.settings.accounts["acme-x"]
    waiting = approval_card(draft, account, mention, runtime.settings, runtime.templates, START)
    assert sorted((op, who) for op, who, _ in delivery.sent) == [
        ("dm", "ada"),
        ("dm", "maria"),
        ("post", "care"),
    ]
    assert [card for op, _, card in delivery.sent if op == "dm"] == [waiting, waiting]

    assert isinstance(runtime.clock, ManualClock)
    runtime.clock.advance(timedelta(minutes=3))
    decided_at = runtime.clock.now()
    await runtime.handle(click(runtime, draft, "ada"), SilentResponder())
    record = await runtime.store.get(KIND, draft.id)
    assert record is not None
    decided = from_record(record)
    replied = await runtime.store.get(MENTION_KIND, "x:reply-1")
    assert replied is not None and replied.version == stored.version + 1
    # What the decision would have built, as of the moment it was made.
    expected = {
        ("update", card_key(decided)): approval_card(
            decided, account, mention, runtime.settings, runtime.templates, decided_at
        ),
        ("dm", publishing_key(decided)): publishing_card(
            decided, mention, runtime.settings, runtime.templates
        ),
        ("update", mention_key(mention)): mention_card(
            mention_from_record(replied), runtime.settings, runtime.templates, decided_at
        ),
    }
    # Sent well after the decision (a paced channel), by a process started
    # after this one died (the items' bodies are all it has): still the cards
    # as of the decision.
    runtime.clock.advance(timedelta(minutes=40))
    delivery.sent.clear()
    restarted = await open_runtime(
        loaded,
        store=open_store(*store_backend[:1], namespace=store_backend[1]),
        clock=runtime.clock,
        platforms=["console"],
    )
    restarted.settings = runtime.settings  # (the same configuration)
    try:
        await restarted.sender(delivery).drain()
    finally:
        await restarted.store.close()
    by_key = {(op, card.card_key): card for op, _, card in delivery.sent}
    assert by_key == expected
    approved = expected[("update", card_key(decided))]
    assert "Approved by Ada" in str(approved.badges)
    # Decided: the card offers Approve nowhere any more.
    assert "approvals.approve" not in [b.action_id for b in approved.buttons]
    assert "40 min" not in str(expected[("update", mention_key(mention))])
    # The approval card went to both approvers' DMs; the publishing card to the author.
    assert sorted(who for op, who, card in delivery.sent if card.card_key == card_key(decided)) == [
        "ada",
        "maria",
    ]
    assert [who for op, who, _ in delivery.sent if op == "dm"] == ["sam"]


async def test_a_decision_card_whose_draft_is_gone_is_given_up_in_the_audit_log(
    runtime: Runtime,
) -> None:
    draft = await pending_reply(runtime, 2)
    await runtime.sender(Recorder()).drain()
    await runtime.handle(click(runtime, draft, "maria"), SilentResponder())
    record = await runtime.store.get(KIND, draft.id)
    assert record is not None and record.version == 2
    assert (await runtime.store.delete(KIND, draft.id, record.version)).ok
    delivery = Recorder()
    await runtime.sender(delivery).drain()
    # The mention's card still shows the reply state; the draft's cards are given up.
    assert [(op, card.card_key) for op, _, card in delivery.sent] == [
        ("update", "mention:x:reply-2")
    ]
    assert await runtime.store.outbox_size("console") == 0
    given_up = [
        e
        for key in (f"draft:{draft.id}", f"draftpub:{draft.id}")
        for e in await runtime.store.audit_log(key)
        if e.action == "outbox.undeliverable"
    ]
    assert len(given_up) == 2
    assert all("no longer stored" in e.detail["error"] for e in given_up)
