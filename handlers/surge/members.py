"""A surge's mentions and their groups (read from the store, grouped by :mod:`clusters`)."""

from __future__ import annotations

from bot.core.model import Mention, MentionState
from bot.core.turn import Turn
from handlers.surge.clusters import Cluster, Member, cluster
from handlers.surge.records import SurgeState
from handlers.triage.records import KIND as MENTION
from handlers.triage.records import from_record

# Mentions read per refresh to group them; counts come from counters, not from this.
MEMBER_LIMIT = 5000


async def members(turn: Turn, state: SurgeState) -> list[Mention]:
    found = await turn.store.find(MENTION, f"surge:{state.id}", limit=MEMBER_LIMIT)
    return [from_record(r) for r in found]


def as_member(mention: Mention) -> Member:
    return Member(
        key=mention.key,
        text=mention.text,
        handle=mention.author.handle,
        followers=mention.author.followers or 0,
        sentiment=mention.enrichment.sentiment.label,
        open=mention.state is MentionState.OPEN,
        owner=mention.owner,
    )


async def groups(turn: Turn, state: SurgeState) -> tuple[list[Cluster], int]:
    """The surge's clusters, and how many of its mentions are still open."""
    found = await members(turn, state)
    return cluster(as_member(m) for m in found), sum(
        1 for m in found if m.state is MentionState.OPEN
    )
