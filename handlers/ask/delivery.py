"""Whether a question's hub card has reached the coaches, from the store.

A hand-off queues the hub card; the outbox delivers it later (or waits until
the hub channel is reachable, or gives up). So nobody is told "passed to the
coaches" before it is true: the asker and ``/ask report`` see this status.
"""

from __future__ import annotations

from enum import Enum

from bot.core.turn import Turn
from handlers.ask.records import Question

# Audit actions with which the outbox records an item it will never deliver.
GAVE_UP = frozenset({"outbox.undeliverable", "outbox.dropped"})


class HubDelivery(Enum):
    DELIVERED = "delivered"  # posted in the hub on at least one platform
    WAITING = "waiting"  # queued, or waiting for the hub channel to be reachable
    FAILED = "failed"  # every platform gave up on it


def hub_card_key(question_key: str) -> str:
    return f"question:{question_key}"


async def hub_delivery(turn: Turn, question: Question) -> HubDelivery:
    """Where the hub card of a handed-off question stands (WAITING if never handed off)."""
    card_key = hub_card_key(question.key)
    for platform in turn.platforms:
        if await turn.store.card_refs(platform, card_key):
            return HubDelivery.DELIVERED
    since = question.handed_off_at
    if since is None:
        return HubDelivery.WAITING
    gave_up = {
        str(entry.detail.get("platform"))
        for entry in await turn.store.audit_log(subject=card_key)
        if entry.action in GAVE_UP and entry.detail.get("op") == "post" and entry.at >= since
    }
    if turn.platforms and gave_up >= set(turn.platforms):
        return HubDelivery.FAILED
    return HubDelivery.WAITING
