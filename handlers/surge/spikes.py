"""Spike detection, pure: topics matched in a text, the EWMA baseline, the verdict.

A series is a spoke (``spoke.<id>``) or a configured topic (``topic.<name>``);
its arrivals are counted like a spoke's (see :mod:`handlers.surge.window`).
The baseline is the exponentially weighted moving average of the arrivals
per window, stepped once per window that has passed (windows nobody saw any
mention in count as zero), so a quiet night lowers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.core.settings import SpikePolicy

# One alert per series within this long; it is updated in place while it grows.
ALERT_SPAN = timedelta(hours=1)
# An alert is updated when its count grew by this share (and at most once a minute).
GROWTH = 1.1
UPDATE_GAP = timedelta(minutes=1)


def spoke_series(spoke: str) -> str:
    return f"spoke.{spoke}"


def topic_series(topic: str) -> str:
    return f"topic.{topic}"


@lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w.strip()) for w in words if w.strip())
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def topics_in(text: str, policy: SpikePolicy) -> list[str]:
    """The configured topics whose keywords ``text`` mentions (whole words)."""
    return [name for name, words in policy.topics.items() if _pattern(words).search(text)]


@dataclass(frozen=True)
class SpikeState:
    """One series' baseline and its latest alert."""

    series: str
    baseline: float
    baseline_at: datetime
    alerts: int = 0
    alert_at: datetime | None = None
    alert_count: int = 0
    alert_updated_at: datetime | None = None
    leads_told: bool = False
    version: int = 0

    @property
    def card_key(self) -> str:
        return f"spike:{self.series}:{self.alerts}"

    def evolve(self, **changes: Any) -> SpikeState:
        return replace(self, **changes)


def stepped(state: SpikeState, rate: int, now: datetime, policy: SpikePolicy) -> SpikeState:
    """The baseline moved on by every whole window since it was last stepped:
    the current rate for the newest window, zero for any before it."""
    steps = int((now - state.baseline_at) / policy.window)
    if steps < 1:
        return state
    keep = 1.0 - policy.smoothing
    baseline = state.baseline * keep ** (steps - 1)
    baseline = policy.smoothing * rate + keep * baseline
    return state.evolve(baseline=baseline, baseline_at=state.baseline_at + steps * policy.window)


def factor(state: SpikeState, rate: int) -> float:
    """How many times the baseline ``rate`` is (a baseline under 1 counts as 1)."""
    return rate / max(state.baseline, 1.0)


def is_spike(state: SpikeState, rate: int, policy: SpikePolicy) -> bool:
    """At least the minimum count, and more than ``factor`` times the baseline."""
    return rate >= policy.min_count and factor(state, rate) > policy.factor


def alert_action(state: SpikeState, rate: int, now: datetime) -> str | None:
    """``post`` a new alert, ``update`` the one of the last hour, or None."""
    if state.alert_at is None or now - state.alert_at >= ALERT_SPAN:
        return "post"
    last = state.alert_updated_at or state.alert_at
    if rate >= state.alert_count * GROWTH and now - last >= UPDATE_GAP:
        return "update"
    return None


def to_data(state: SpikeState) -> dict[str, Any]:
    return {
        "baseline": state.baseline,
        "baseline_at": state.baseline_at.isoformat(),
        "alerts": state.alerts,
        "alert_at": state.alert_at.isoformat() if state.alert_at else None,
        "alert_count": state.alert_count,
        "alert_updated_at": state.alert_updated_at.isoformat() if state.alert_updated_at else None,
        "leads_told": state.leads_told,
    }


def from_data(series: str, data: dict[str, Any], version: int) -> SpikeState:
    def dt(value: Any) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    baseline_at = dt(data.get("baseline_at"))
    assert baseline_at is not None
    return SpikeState(
        series=series,
        baseline=float(data.get("baseline", 0.0)),
        baseline_at=baseline_at,
        alerts=int(data.get("alerts", 0)),
        alert_at=dt(data.get("alert_at")),
        alert_count=int(data.get("alert_count", 0)),
        alert_updated_at=dt(data.get("alert_updated_at")),
        leads_told=bool(data.get("leads_told", False)),
        version=version,
    )
