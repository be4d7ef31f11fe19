"""Arrival rates, pure: counters per time bucket, window sums, the sparkline.

Arrivals are counted per admission batch into store counters named
``surge.arrivals:<spoke>:<bucket start, epoch seconds>``; every process adds
to the same counters, so all of them see one rate. Buckets older than
:data:`HORIZON` are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

BUCKET = timedelta(seconds=30)
# Long enough for the longest window (1h) and the sparkline.
HORIZON = timedelta(hours=1, minutes=5)
SPARK_STEP = timedelta(minutes=1)
SPARK_POINTS = 15
_BARS = "▁▂▃▄▅▆▇█"
ARRIVALS = "surge.arrivals:"
TOTALS = "surge.total:"


def bucket_of(at: datetime) -> int:
    seconds = int(at.timestamp())
    return seconds - seconds % int(BUCKET.total_seconds())


def arrivals_prefix(series: str) -> str:
    return f"{ARRIVALS}{series}:"


def arrival_counter(series: str, at: datetime) -> str:
    return f"{arrivals_prefix(series)}{bucket_of(at)}"


def total_counter(surge_id: str) -> str:
    return f"{TOTALS}{surge_id}"


def buckets(counts: Mapping[str, int], series: str) -> dict[int, int]:
    """Bucket start -> arrivals, from the counters of one series."""
    prefix = arrivals_prefix(series)
    found: dict[int, int] = {}
    for name, value in counts.items():
        start = name.removeprefix(prefix)
        if name.startswith(prefix) and start.isdigit():
            found[int(start)] = value
    return found


def in_window(by_bucket: Mapping[int, int], now: datetime, window: timedelta) -> int:
    """Arrivals in the buckets that overlap the ``window`` before ``now`` (the
    oldest one counts whole, so the window may look up to 30 s longer: a
    surge starts a little early rather than late)."""
    after = (now - window - BUCKET).timestamp()
    return sum(v for start, v in by_bucket.items() if start > after)


def expired(by_bucket: Mapping[int, int], series: str, now: datetime) -> list[str]:
    """Counter names of buckets past the horizon."""
    limit = bucket_of(now - HORIZON)
    return [f"{arrivals_prefix(series)}{start}" for start in by_bucket if start < limit]


def per_minute(by_bucket: Mapping[int, int], now: datetime) -> list[int]:
    """Arrivals per minute over the last :data:`SPARK_POINTS` minutes, oldest first."""
    end = now.timestamp()
    step = SPARK_STEP.total_seconds()
    points = [0] * SPARK_POINTS
    for start, value in by_bucket.items():
        age = end - start
        if age < 0:
            continue
        slot = SPARK_POINTS - 1 - int(age // step)
        if 0 <= slot < SPARK_POINTS:
            points[slot] += value
    return points


def sparkline(points: list[int]) -> str:
    """One bar per point, scaled to the largest (blank-free: ▁ for none)."""
    top = max(points, default=0)
    if top <= 0:
        return _BARS[0] * len(points)
    return "".join(_BARS[min(len(_BARS) - 1, round(p * (len(_BARS) - 1) / top))] for p in points)


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
