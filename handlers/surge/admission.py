"""Which arriving mentions get a card of their own, and when a surge starts.

Runs once per admission batch, before the mentions are stored: for each spoke
in the batch it counts the arrivals, reads the spoke's surge record and (when
calm) its arrival rate; a batch that takes a spoke over its threshold starts a
surge with a compare-and-set on the spoke's surge record, so of several
processes exactly one posts the surge card. A surge's own total is counted
after the batch is stored (only mentions that were new).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.model import Mention
from bot.core.settings import SurgePolicy
from bot.core.storage import Timer
from bot.core.turn import INTERACTIVE, Turn
from handlers.surge import alerts, spikes, window
from handlers.surge.cards import surge_card
from handlers.surge.records import KIND, SurgeState, from_record, to_record

MAX_CAS_ATTEMPTS = 5
REFRESH = "surge.refresh"


@dataclass
class Lanes:
    """The batch's mentions (those in a surge carry ``surge``), which ones go
    ahead of the rest, and the surge each spoke is in."""

    mentions: list[Mention]
    ahead: set[int] = field(default_factory=set)
    surges: dict[str, str] = field(default_factory=dict)


def stands_out(mention: Mention, policy: SurgePolicy) -> bool:
    """Posted one by one even in a surge: high priority, high reach or a risk flag."""
    e = mention.enrichment
    followers = mention.author.followers or 0
    return (
        e.priority in policy.single_priorities
        or bool(e.risks)
        or (policy.reach > 0 and followers >= policy.reach)
    )


async def load_state(turn: Turn, spoke: str) -> SurgeState | None:
    record = await turn.store.get(KIND, spoke)
    return from_record(record) if record else None


async def lanes(turn: Turn, mentions: Sequence[Mention]) -> Lanes:
    """Decide, per mention, card or surge card (see the module docstring)."""
    result = Lanes(list(mentions))
    by_spoke: dict[str, list[int]] = {}
    for index, mention in enumerate(mentions):
        by_spoke.setdefault(mention.enrichment.spoke, []).append(index)
    now = turn.now()
    # Counted before deciding, so that of batches arriving at once in several
    # processes the last to count sees them all (a re-sent duplicate counts
    # too: it is pressure on intake all the same).
    arrived = {spoke: len(indexes) for spoke, indexes in by_spoke.items()}
    for mention in mentions:
        for topic in spikes.topics_in(mention.text, turn.settings.spikes):
            series = f"topic.{topic}"
            arrived[series] = arrived.get(series, 0) + 1
    await turn.store.add_counts(
        {window.arrival_counter(series, now): amount for series, amount in arrived.items()}
    )
    for spoke, indexes in by_spoke.items():
        policy = turn.settings.surge_policy(spoke)
        state = await load_state(turn, spoke)
        allowance = 0
        if state is None or not state.surging:
            counts = await turn.store.counts(window.arrivals_prefix(spoke))
            by_bucket = window.buckets(counts, spoke)
            stale = window.expired(by_bucket, spoke, now)
            if stale:
                await turn.store.drop_counts(stale)
            seen = window.in_window(by_bucket, now, policy.window)
            if seen <= policy.threshold:
                continue
            state = await start(turn, spoke, seen)
            # The mentions within the allowance were not the surge yet.
            allowance = max(0, policy.threshold - (seen - len(indexes)))
        result.surges[spoke] = state.id
        for position, index in enumerate(indexes):
            mention = mentions[index]
            if position < allowance:
                continue
            if stands_out(mention, policy):
                result.ahead.add(index)
            else:
                result.mentions[index] = mention.evolve(surge=state.id)
    await alerts.check(turn, arrived)
    return result


async def start(turn: Turn, spoke: str, seen: int) -> SurgeState:
    """Start a surge unless another process just did; the spoke's state after."""
    now = turn.now()
    policy = turn.settings.surge_policy(spoke)
    for _ in range(MAX_CAS_ATTEMPTS):
        current = await load_state(turn, spoke)
        if current is not None and current.surging:
            return current
        upcoming = SurgeState(
            spoke=spoke,
            number=(current.number if current else 0) + 1,
            surging=True,
            started_at=now,
            busy_at=now,
            total=0,
            peak=seen,
            version=(current.version if current else 0) + 1,
        )
        turn.post(
            spoke,
            surge_card(turn, upcoming, clusters=[], claims={}, in_window=seen, spark=[]),
            priority=INTERACTIVE,
        )
        turn.schedule(refresh_timer(upcoming, now + policy.update_every))
        turn.audit(
            "surge.start",
            upcoming.card_key,
            spoke=spoke,
            arrivals=seen,
            threshold=policy.threshold,
            window_seconds=int(policy.window.total_seconds()),
        )
        record = to_record(upcoming)
        written = await (
            turn.insert(record) if current is None else turn.replace(record, current.version)
        )
        if written.ok:
            return upcoming
    # Someone else keeps writing the record: read what they decided.
    final = await load_state(turn, spoke)
    assert final is not None
    return final


def refresh_timer(state: SurgeState, due: datetime) -> Timer:
    return Timer(
        f"{REFRESH}:{state.spoke}",
        REFRESH,
        due,
        {"spoke": state.spoke, "number": state.number},
    )


def arrival_counts(stored: Sequence[Mention], surges: dict[str, str]) -> dict[str, int]:
    """Counter increments for the stored mentions of a batch that arrived in a
    surge: its count since it began."""
    counts: dict[str, int] = {}
    for mention in stored:
        surge_id = surges.get(mention.enrichment.spoke)
        if surge_id is not None:
            total = window.total_counter(surge_id)
            counts[total] = counts.get(total, 0) + 1
    return counts
