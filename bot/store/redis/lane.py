"""The Redis store's priority lane for inbox admissions.

An acknowledgement waits for its admission, so admissions must not wait for
the connection pool the rest of the store shares (a backlog of handlers can
hold all of it) and must not queue behind one another: each admission is one
script call on the lane's own pool, sent at once. (Batching them, one
pipeline in flight at a time, was tried: on a busy event loop each batch
took several loop turns, and admissions queued behind it for 0.7-4 s.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

# Admissions in flight at once on one store; more wait (never fail) for a connection.
LANE_SIZE = 50


class AdmissionLane:
    """One script's calls on a dedicated connection pool."""

    def __init__(self, url: str, source: str, wait: float) -> None:
        pool = aioredis.BlockingConnectionPool.from_url(
            url, decode_responses=True, max_connections=LANE_SIZE, timeout=wait
        )
        self._client = aioredis.Redis(connection_pool=pool)
        self._script = self._client.register_script(source)

    async def close(self) -> None:
        await self._client.aclose()
        await self._client.connection_pool.aclose()

    async def run(self, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        return await self._script(keys=list(keys), args=list(args))
