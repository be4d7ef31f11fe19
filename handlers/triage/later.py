"""A mention's first card, rendered when the outbox sends it (see :mod:`bot.core.later`).

Admission queues only the mention's key and the time of admission; the card is
built from the stored record as of that time, so it is the card admission
would have built (the record is still at version 1 unless someone acted on
the mention before its card went out, and then the card shows what they did,
as the update their action queued does anyway).
"""

from __future__ import annotations

from bot.core.cards import Card
from bot.core.errors import Undeliverable
from bot.core.later import LaterCard
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.storage import Store
from handlers.triage.cards import mention_card
from handlers.triage.records import KIND, from_record

MENTION_CARD = "triage.mention"


async def render_mention_card(
    later: LaterCard, store: Store, settings: Settings, templates: Templates
) -> Card:
    """The card of the stored mention ``later.key`` as of ``later.at``."""
    record = await store.get(KIND, later.key)
    if record is None:
        raise Undeliverable(f"mention {later.key} is no longer stored")
    return mention_card(from_record(record), settings, templates, later.at)
