"""Durable timers: lease, complete under a fencing token, list."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.storage import LeasedTimer, Timer
from bot.store import duration_us, from_us, loads_object, to_us
from bot.store.redis.base import RedisBase


class RedisTimers(RedisBase):
    """Durable timers: lease, complete under a fencing token, list."""

    async def lease_timers(
        self, now: datetime, owner: str, lease_for: timedelta, limit: int = 100
    ) -> list[LeasedTimer]:
        """Lease due timers that are unleased or whose lease expired at ``now``."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []
        rows = await self._run(
            "lease_timers",
            [self._p + "timers:ready"],
            [self._p, now_us, until, owner, limit],
        )
        return [
            LeasedTimer(
                timer=Timer(key, kind, from_us(int(due)), loads_object(payload)),
                token=int(token),
                attempts=int(attempts),
            )
            for key, kind, due, payload, token, attempts in rows
        ]

    async def complete_timer(self, key: str, token: int) -> bool:
        """Delete timer ``key`` if ``token`` still holds its lease."""
        reply = await self._run(
            "complete_timer", [f"{self._p}timer:{key}"], [self._p, key, str(int(token))]
        )
        return int(reply) == 1

    async def pending_timers(self, prefix: str = "") -> list[Timer]:
        """Scheduled timers (leased or not) whose key starts with ``prefix``."""
        rows = await self._run("pending_timers", [self._p + "timers:due"], [self._p, prefix])
        return [
            Timer(key, kind, from_us(int(due)), loads_object(payload))
            for key, kind, due, payload in rows
        ]

    async def next_timer_due(self) -> datetime | None:
        """The earliest moment a timer can be leased, or None without timers."""
        rows = await self._redis().zrange(self._p + "timers:ready", 0, 0, withscores=True)
        return from_us(int(rows[0][1])) if rows else None

    async def timers_due(self, at: datetime) -> int:
        """Timers due at ``at`` (leased or not)."""
        return int(await self._redis().zcount(self._p + "timers:due", "-inf", to_us(at)))
