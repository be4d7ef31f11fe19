"""The publish lane: publications queued by :meth:`bot.core.turn.Turn.publish`
go out through a :class:`bot.core.ports.Publisher` (the webhook adapter), and
each settled one is recorded with the outbox item's completion."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core.model import SYSTEM
from bot.core.ports import Publisher, SendOutcome
from bot.core.publishing import (
    PUBLISH_LANE,
    PUBLISH_WITHIN,
    Published,
    queued_publication,
    settlement_timer,
)
from bot.core.storage import JSON, AuditEntry, Effects, OutboxItem, Store

log = logging.getLogger(__name__)


class PublishLane:
    """The :class:`bot.core.ports.ExternalLane` of publications."""

    lane = PUBLISH_LANE

    def __init__(
        self,
        publisher: Publisher,
        *,
        give_up_after: timedelta = PUBLISH_WITHIN,
        lease_for: timedelta = timedelta(seconds=60),
    ) -> None:
        self.publisher = publisher
        self.give_up_after = give_up_after
        self.lease_for = lease_for

    async def send(self, item: OutboxItem, *, attempt: int) -> JSON:
        publication, _ = queued_publication(item)
        published = await self.publisher.publish(publication, attempt=attempt)
        return {"url": published.url, "id": published.id}

    def settled(self, item: OutboxItem, outcome: SendOutcome) -> Effects:
        """The settlement timer (to the routers) and the audit entry."""
        publication, round = queued_publication(item)
        published = None
        if outcome.ok:
            url, post_id = outcome.detail.get("url"), outcome.detail.get("id")
            published = Published(
                url=url if isinstance(url, str) else None,
                id=post_id if isinstance(post_id, str) else None,
            )
        timer = settlement_timer(
            publication,
            round=round,
            published=published,
            reason=outcome.reason,
            attempts=outcome.attempts,
            at=outcome.at,
        )
        entry = AuditEntry(
            at=outcome.at,
            actor=SYSTEM.person_id,
            action="publication.published" if outcome.ok else "publication.failed",
            subject=f"publication:{publication.key}",
            detail={
                "round": round,
                "attempts": outcome.attempts,
                "account": publication.account.id,
                **(
                    {"url": published.url, "post_id": published.id}
                    if published
                    else {"reason": outcome.reason}
                ),
            },
        )
        return Effects(timers=(timer,), audit=(entry,))


async def warn_unpublished(store: Store) -> None:
    """Log when publications wait in the lane but this process has no
    publishing webhook (``PLAYCALLER_PUBLISH_URL``): they wait until one has."""
    waiting = await store.outbox_size(PUBLISH_LANE)
    if waiting:
        log.warning(
            "%d approved publication(s) wait in the outbox, but PLAYCALLER_PUBLISH_URL "
            "is not set here: they are sent by a serve that has it",
            waiting,
        )
