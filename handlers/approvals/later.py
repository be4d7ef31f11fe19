"""Approvals' cards rendered when the outbox sends them (see :mod:`bot.core.later`).

With two hundred clicks arriving at once, building each decision's cards from
templates and encoding them into the decision's write was a third of the event
loop's time per click, spent before the answer went back, for cards the outbox
delivers later anyway. A decision now queues the draft's key and the time of
the decision; the sender builds the card from the stored draft as of then.
That is the card the decision would have built: the draft is stored at the
version the decision wrote unless someone decided again before the card went
out, and then the card shows that (which the later decision's own update
shows anyway; the outbox sends newer states only).
"""

from __future__ import annotations

from bot.core.cards import Card
from bot.core.errors import Undeliverable
from bot.core.later import LaterCard
from bot.core.model import Mention
from bot.core.ports import Templates
from bot.core.settings import Settings
from bot.core.storage import Store
from handlers.approvals.cards import approval_card, publishing_card
from handlers.approvals.records import KIND, Draft, from_record
from handlers.triage.records import KIND as MENTION_KIND
from handlers.triage.records import from_record as mention_from_record

APPROVAL_CARD = "approvals.card"
PUBLISHING_CARD = "approvals.publishing"


async def _stored(store: Store, key: str) -> tuple[Draft, Mention | None]:
    record = await store.get(KIND, key)
    if record is None:
        raise Undeliverable(f"draft {key} is no longer stored")
    draft = from_record(record)
    mention = None
    if draft.mention_key is not None:
        found = await store.get(MENTION_KIND, draft.mention_key)
        mention = mention_from_record(found) if found else None
    return draft, mention


async def render_approval_card(
    later: LaterCard, store: Store, settings: Settings, templates: Templates
) -> Card:
    """The approvers' card of the stored draft ``later.key`` as of ``later.at``."""
    draft, mention = await _stored(store, later.key)
    account = settings.accounts.get(draft.account_id)
    if account is None:
        raise Undeliverable(f"the account {draft.account_id!r} is no longer configured")
    # A draft changed after the card was queued is shown as of that change
    # (its deadline and age are never counted from before it).
    return approval_card(
        draft, account, mention, settings, templates, max(later.at, draft.current.at)
    )


async def render_publishing_card(
    later: LaterCard, store: Store, settings: Settings, templates: Templates
) -> Card:
    """The author's card about the webhook publication of the stored draft ``later.key``."""
    draft, mention = await _stored(store, later.key)
    return publishing_card(draft, mention, settings, templates)
