"""Clocks. Every piece of the bot reads time through a Clock so tests and the
demo can move time without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where the current time comes from."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, the demo)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        if delta < timedelta(0):
            raise ValueError("time does not go backwards")
        self._now += delta
        return self._now


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``16m``, ``2h``, ``1d`` or combinations like ``1h30m``."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    total = 0
    number = ""
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError("empty duration")
    for char in cleaned:
        if char.isdigit():
            number += char
        elif char in units and number:
            total += int(number) * units[char]
            number = ""
        else:
            raise ValueError(f"bad duration {text!r}: use forms like 90s, 16m, 2h, 1h30m")
    if number:
        raise ValueError(f"bad duration {text!r}: a number needs a unit (s, m, h, d)")
    return timedelta(seconds=total)
