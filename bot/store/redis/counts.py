"""Named counters that only grow (intake totals for ``/metrics``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.store import checked_counts
from bot.store.redis.base import RedisBase


class RedisCounts(RedisBase):
    """Counters in the ``P counts`` hash."""

    async def add_counts(self, counts: Mapping[str, int]) -> None:
        """Add to named counters in one MULTI/EXEC transaction."""
        amounts = checked_counts(counts)
        if not amounts:
            return
        async with self._redis().pipeline(transaction=True) as pipe:
            for name, amount in amounts:
                pipe.hincrby(self._p + "counts", name, amount)
            await pipe.execute()

    async def counts(self, prefix: str = "") -> dict[str, int]:
        """Counters whose name starts with ``prefix``."""
        raw: dict[Any, Any] = await self._redis().hgetall(self._p + "counts")
        named = {str(name): int(value) for name, value in raw.items()}
        return {name: value for name, value in sorted(named.items()) if name.startswith(prefix)}

    async def drop_counts(self, names: Sequence[str]) -> None:
        """Delete named counters (one ``HDEL``)."""
        chosen = [str(name) for name in names]
        if chosen:
            await self._redis().hdel(self._p + "counts", *chosen)
