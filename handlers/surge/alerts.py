"""Spike alerts to the hub: checked as mentions arrive, one per series an hour.

For each spoke and topic an admission batch touched, the rate over the spike
window is read from the shared counters and compared with the series' EWMA
baseline (a ``spike`` record per series). A spike posts an alert card to the
hub, or updates the one posted within the hour while it grows; past the
leads' factor the crisis leads get it directly, once. The record is written
with compare-and-set, so of several processes one posts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from bot.core.cards import Badge, Button, ButtonStyle, Card, Field, Row, TextBlock, Tone
from bot.core.model import Role
from bot.core.storage import Record
from bot.core.text import format_count, snippet
from bot.core.turn import INTERACTIVE, Turn
from handlers.surge import spikes, window
from handlers.surge.cards import mix
from handlers.surge.clusters import Cluster
from handlers.surge.members import groups
from handlers.surge.records import KIND as SURGE
from handlers.surge.records import from_record
from handlers.surge.spikes import SpikeState

KIND = "spike"
TOP_GROUPS = 3


async def check(turn: Turn, arrived: Mapping[str, int]) -> None:
    """Check each counter series that got ``arrived[series]`` mentions just now
    (a spoke id, or ``topic.<name>``)."""
    policy = turn.settings.spikes
    now = turn.now()
    for series, amount in arrived.items():
        counts = await turn.store.counts(window.arrivals_prefix(series))
        by_bucket = window.buckets(counts, series)
        stale = window.expired(by_bucket, series, now)
        if stale:
            await turn.store.drop_counts(stale)
        rate = window.in_window(by_bucket, now, policy.window)
        key = series if series.startswith("topic.") else spikes.spoke_series(series)
        record = await turn.store.get(KIND, key)
        # The baseline learns from what came before this batch, never from it.
        earlier = max(0, rate - amount)
        if record is None:
            before = SpikeState(key, baseline=float(earlier), baseline_at=now)
            state = before
        else:
            before = spikes.from_data(key, dict(record.data), record.version)
            state = spikes.stepped(before, earlier, now, policy)
        action = None
        if spikes.is_spike(state, rate, policy):
            action = spikes.alert_action(state, rate, now)
        if action is not None:
            groups = await surge_groups(turn, series)
            state = _alert(turn, state, series, rate, action, groups)
        if record is None:
            await turn.insert(Record(KIND, key, spikes.to_data(state)))
        elif state != before:
            await turn.replace(Record(KIND, key, spikes.to_data(state)), record.version)


async def surge_groups(turn: Turn, series: str) -> list[Cluster]:
    """The groups of the spoke's surge, if the series is a spoke in one."""
    if series.startswith("topic."):
        return []
    record = await turn.store.get(SURGE, series)
    if record is None:
        return []
    state = from_record(record)
    return (await groups(turn, state))[0] if state.surging else []


def _alert(
    turn: Turn, state: SpikeState, series: str, rate: int, action: str, groups: list[Cluster]
) -> SpikeState:
    now = turn.now()
    policy = turn.settings.spikes
    if action == "post":
        state = state.evolve(alerts=state.alerts + 1, alert_at=now, leads_told=False)
    state = state.evolve(alert_count=rate, alert_updated_at=now)
    tell_leads = spikes.factor(state, rate) >= policy.leads_factor and not state.leads_told
    if tell_leads:
        state = state.evolve(leads_told=True)
    card = alert_card(turn, state, series, rate, groups)
    if action == "post":
        turn.post(turn.settings.hub.id, card, priority=INTERACTIVE)
    else:
        turn.update(card)
    if tell_leads:
        leads = [p.id for p in turn.settings.people.values() if Role.CRISIS_LEAD in p.roles]
        for person in leads:
            turn.dm(person, _without_key(card), priority=INTERACTIVE)
    turn.audit(
        f"spike.{action}",
        state.card_key,
        series=series,
        count=rate,
        baseline=round(state.baseline, 1),
        leads_told=tell_leads,
    )
    return state


def alert_card(
    turn: Turn, state: SpikeState, series: str, rate: int, groups: list[Cluster]
) -> Card:
    settings = turn.settings
    policy = settings.spikes
    topic = series.removeprefix("topic.") if series.startswith("topic.") else None
    spoke = None if topic else settings.spoke(series).name if settings.has_spoke(series) else series
    # "30.0 times usual" beside "about 0 usually" reads as a contradiction.
    if state.baseline < 1.0:
        badges = [Badge("Up from almost none", Tone.ATTENTION)]
    else:
        badges = [Badge(f"{spikes.factor(state, rate):.1f} times usual", Tone.ATTENTION)]
    if state.leads_told:
        badges.append(Badge("Crisis leads told", Tone.WARNING))
    rows = tuple(
        Row(
            text=turn.render(
                "surge/cluster_row.txt",
                size=g.size,
                open=g.open_count,
                claimed_by="",
                mix=mix(g),
                authors=", ".join(
                    f"@{m.handle} ({format_count(m.followers)})" for m in g.top_authors()
                ),
            ),
            snippet=snippet(g.example.text, 140),
        )
        for g in groups[:TOP_GROUPS]
    )
    # Raise as crisis hands the alert to /crisis raise (handlers.surge.raising).
    buttons: tuple[Button, ...] = (
        Button("Raise as crisis", "surge.raise_crisis", state.series, ButtonStyle.PRIMARY),
    )
    if spoke is not None:
        buttons += (Button("Open in /triage", "triage.queue", f"{series}|0"),)
    return Card(
        title=turn.render("surge/spike_title.txt", spoke=spoke or "", topic=topic or ""),
        badges=tuple(badges),
        blocks=(
            TextBlock(
                turn.render(
                    "surge/spike.txt",
                    count=rate,
                    window=policy.window,
                    usual=round(state.baseline),
                    surging=bool(groups),
                )
            ),
        ),
        rows=rows,
        buttons=buttons,
        details=(
            Field("Series", series),
            Field("Alert", state.card_key),
            Field("Threshold", f"{policy.min_count}+ and over {policy.factor:g} times usual"),
        ),
        context=turn.render("surge/spike_context.txt", hub=settings.hub.name),
        at=state.alert_at,
        card_key=state.card_key,
    )


def _without_key(card: Card) -> Card:
    return dataclasses.replace(card, card_key=None)
