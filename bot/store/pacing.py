"""Pacing budgets (:class:`~bot.core.ports.PacingBudget`): one process's, or
one shared by every process on a Redis store.

A budget is not part of the :class:`~bot.core.storage.Store` contract: it is
a few keys with a short life, and only Redis can share it. SQLite is a
single-process store, so its budget lives in memory.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.core.ports import PacingBudget
from bot.core.storage import Store

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from bot.store.redis import RedisStore

_MS = timedelta(milliseconds=1)
# A lane's key outlives the time it is closed by this much, then disappears.
_KEY_GRACE = timedelta(minutes=1)

# Times are epoch milliseconds: exact in Lua's doubles and printed in full by
# Lua's number-to-string conversion (14 significant digits).
_LUA_RESERVE = """
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if free > now then return free - now end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 0
"""
_LUA_HOLD = """
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > free then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
"""


def _epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _ttl_ms(closed_for: timedelta) -> int:
    return max(1, (max(closed_for, timedelta(0)) + _KEY_GRACE) // _MS)


class LocalPacing:
    """One process's budget, in memory."""

    def __init__(self) -> None:
        self._free_at: dict[str, datetime] = {}

    async def reserve(self, lane: str, spacing: timedelta, now: datetime) -> timedelta:
        free = self._free_at.get(lane)
        if free is not None and free > now:
            return free - now
        self._free_at[lane] = now + spacing
        return timedelta(0)

    async def hold(self, lane: str, until: datetime, now: datetime) -> None:
        free = self._free_at.get(lane)
        if free is None or until > free:
            self._free_at[lane] = until


class RedisPacing:
    """A budget shared through the Redis server and namespace of a store:
    each check-and-take is one Lua script, so two processes never both take
    a lane."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store

    def _key(self, lane: str) -> str:
        return f"{self._store.key_prefix}pace:{quote(lane, safe='')}"

    def _script(self, source: str) -> AsyncScript:
        # On the store's own connection (package-internal access).
        return self._store._redis().register_script(source)

    async def reserve(self, lane: str, spacing: timedelta, now: datetime) -> timedelta:
        now_ms = _epoch_ms(now)
        wait_ms = await self._script(_LUA_RESERVE)(
            keys=[self._key(lane)],
            args=[now_ms, now_ms + spacing // _MS, _ttl_ms(spacing)],
        )
        return timedelta(milliseconds=int(wait_ms))

    async def hold(self, lane: str, until: datetime, now: datetime) -> None:
        await self._script(_LUA_HOLD)(
            keys=[self._key(lane)], args=[_epoch_ms(until), _ttl_ms(until - now)]
        )


def pacing_for(store: Store) -> PacingBudget:
    """The budget that goes with ``store``: shared for Redis, else this process's."""
    from bot.store.redis import RedisStore

    if isinstance(store, RedisStore):
        return RedisPacing(store)
    return LocalPacing()
