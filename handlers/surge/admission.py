"""Which arriving mentions get a card of their own, and when a surge starts.

:func:`lanes` runs once per admission batch, before the mentions are stored:
for each spoke in the batch it reads the spoke's surge record and (when calm)
its arrival rate with the batch added; a batch that takes a spoke over its
threshold starts a surge with a compare-and-set on the spoke's surge record,
so of several processes exactly one posts the surge card. The counters
themselves (arrivals per spoke and topic, a surge's total) are not written
here: each mention's increments ride on its own insert (``Lanes.counts``), so
a mention is counted exactly when it is stored, never for a duplicate or a
redelivered intake entry, and no crash falls between storing and counting.
:func:`stored` runs after the insert: a spoke still calm is checked again
against the counters, which now hold this batch and whatever other processes
stored meanwhile (of batches arriving at once the last to store sees them
all), and the spike alerts are checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
    # Per mention, the counter increments to commit with its insert.
    counts: list[tuple[tuple[str, int], ...]] = field(default_factory=list)
    # Per mention, the series (spoke, topics) it arrives in.
    series: list[list[str]] = field(default_factory=list)


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
    result.series = [
        [mention.enrichment.spoke]
        + [f"topic.{topic}" for topic in spikes.topics_in(mention.text, turn.settings.spikes)]
        for mention in mentions
    ]
    for spoke, indexes in by_spoke.items():
        policy = turn.settings.surge_policy(spoke)
        state = await load_state(turn, spoke)
        allowance = 0
        if state is None or not state.surging:
            # The batch is not in the counters yet: it is stored with them.
            seen = await arrivals(turn, spoke, policy.window) + len(indexes)
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
    result.counts = [
        _increments(series, now, result.surges.get(mention.enrichment.spoke))
        for mention, series in zip(mentions, result.series, strict=True)
    ]
    return result


async def stored(turn: Turn, lanes: Lanes, written: Sequence[bool]) -> None:
    """After the batch's insert (``written``: which mentions were new): start
    a surge the counters now call for, and check the spike alerts."""
    arrived: dict[str, int] = {}
    for series, new in zip(lanes.series, written, strict=True):
        for name in series if new else ():
            arrived[name] = arrived.get(name, 0) + 1
    for spoke in arrived.keys() - lanes.surges.keys():
        if spoke.startswith("topic."):
            continue
        policy = turn.settings.surge_policy(spoke)
        seen = await arrivals(turn, spoke, policy.window)
        if seen > policy.threshold:
            await start(turn, spoke, seen)
    await alerts.check(turn, arrived)


async def arrivals(turn: Turn, spoke: str, span: timedelta) -> int:
    """Mentions stored for ``spoke`` within ``span`` (dropping expired buckets)."""
    now = turn.now()
    counts = await turn.store.counts(window.arrivals_prefix(spoke))
    by_bucket = window.buckets(counts, spoke)
    stale = window.expired(by_bucket, spoke, now)
    if stale:
        await turn.store.drop_counts(stale)
    return window.in_window(by_bucket, now, span)


def _increments(
    series: list[str], now: datetime, surge_id: str | None
) -> tuple[tuple[str, int], ...]:
    """One mention's counters: an arrival in each series, one more in its surge."""
    counts = [(window.arrival_counter(name, now), 1) for name in series]
    if surge_id is not None:
        counts.append((window.total_counter(surge_id), 1))
    return tuple(counts)


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
