"""A publishing rig: a real store (SQLite file or Redis), the loopback
receiver, the publish lane's sender and the scheduler, and a minimal router
standing in for the approvals feature (so these tests do not depend on it).

``approve`` does what the approvals feature does on the deciding click: one
compare-and-set on a draft record that carries the publish request with it.
The router records each settled publication on that record.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime

from bot.app import Loaded, open_runtime
from bot.core.accounts import Account, Network
from bot.core.clock import Clock
from bot.core.events import Command, PublicationSettled
from bot.core.model import SYSTEM
from bot.core.publishing import Publication, ReplyTarget
from bot.core.router import Dispatcher, Router, dedupe_deliveries
from bot.core.storage import Record, Store
from bot.core.turn import Turn
from bot.external_sends import ExternalSender
from bot.publishing import PublishLane, WebhookPublisher, WebhookSettings
from bot.runtime import Runtime, SilentResponder
from bot.scheduler import Scheduler
from bot.store import open_store
from tests.fakes.webhook_receiver import FakeReceiver

SECRET = "whsec-test-0123456789abcdef"
ACCOUNT = Account("acme-x", Network.X, "@acme", "care")
KIND = "test-draft"

router = Router("publish-test")


@router.publication_settled()
async def record_settlement(turn: Turn, event: PublicationSettled) -> None:
    """What the approvals router does: note the outcome on the draft record."""
    current = await turn.store.get(KIND, event.draft_id)
    assert current is not None
    settled = {
        "state": "published" if event.published else "failed",
        "url": event.url,
        "post_id": event.post_id,
        "reason": event.reason,
        "attempts": event.attempts,
        "round": event.round,
        "settled_at": event.settled_at.isoformat(),
    }
    data = {**current.data, "settled": [*current.data.get("settled", []), settled]}
    turn.audit("test.settled", f"draft:{event.draft_id}", published=event.published)
    written = await turn.replace(dataclasses.replace(current, data=data), current.version)
    assert written.ok


def a_publication(draft_id: str = "d-41", version: int = 2, text: str = "") -> Publication:
    return Publication(
        draft_id=draft_id,
        version=version,
        account=ACCOUNT,
        text=text or "Hi @jane_doe, the refund is on its way.",
        drafted_by="sam",
        approved_by=("maria",),
        approved_at=datetime(2026, 3, 2, 14, 2, 7, tzinfo=UTC),
        in_reply_to=ReplyTarget("x", "1798", "https://x.com/jane_doe/status/1798"),
    )


class PublishRig:
    """One process's view: runtime, lane sender and scheduler on a shared store."""

    def __init__(self, runtime: Runtime, sender: ExternalSender, publisher: WebhookPublisher):
        self.runtime = runtime
        self.sender = sender
        self.publisher = publisher
        self.scheduler: Scheduler = runtime.scheduler()

    @property
    def store(self) -> Store:
        return self.runtime.store

    @classmethod
    async def open(
        cls,
        loaded: Loaded,
        url: str,
        namespace: str,
        clock: Clock,
        receiver: FakeReceiver,
        *,
        seed: int = 7,
    ) -> PublishRig:
        store = open_store(url, namespace=namespace)
        runtime = await open_runtime(loaded, store=store, clock=clock, platforms=["console"])
        runtime.dispatcher = Dispatcher([router], middleware=[dedupe_deliveries])
        publisher = WebhookPublisher(
            WebhookSettings(receiver.url, SECRET), clock, rng=random.Random(seed)
        )
        return cls(runtime, runtime.external_sender(PublishLane(publisher)), publisher)

    async def close(self) -> None:
        await self.publisher.close()
        await self.store.close()

    async def approve(
        self, publication: Publication, *, round: int = 0, expected_version: int | None = None
    ) -> bool:
        """The deciding write: the draft record's compare-and-set plus the publish."""
        event = Command(
            platform="console", actor=SYSTEM, received_at=self.runtime.clock.now(), name="approve"
        )
        turn = self.runtime.turn(event, SilentResponder())
        turn.publish(publication, round=round)
        current = await self.store.get(KIND, publication.draft_id)
        data = {"version": publication.version, "round": round}
        if current is None:
            written = await turn.insert(Record(KIND, publication.draft_id, data))
        else:
            version = current.version if expected_version is None else expected_version
            written = await turn.replace(
                dataclasses.replace(current, data={**current.data, **data}), version
            )
        return written.ok

    async def settle(self) -> int:
        """One pass of the sender, then the scheduler (settlements to the router)."""
        sent = await self.sender.drain()
        await self.scheduler.tick()
        return sent

    async def settlements(self, draft_id: str = "d-41") -> list[dict[str, object]]:
        record = await self.store.get(KIND, draft_id)
        assert record is not None
        return list(record.data.get("settled", []))
