"""Fixtures for the store contract suite: every test runs on SQLite and Redis.

Redis comes from ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); each test
gets its own namespace, whose keys are deleted afterwards. When Redis does not
answer, the Redis variants are skipped, or fail if ``PLAYCALLER_REQUIRE_REDIS=1``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.core.storage import Store
from bot.store import open_store

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True)
class Backend:
    """Where a test's store lives; ``make()`` gives a new, unopened store there."""

    name: str
    url: str
    namespace: str

    def make(self) -> Store:
        return open_store(self.url, namespace=self.namespace)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'data' / 'store.db'}", "playcaller")
        return
    namespace = f"test-{uuid.uuid4().hex}"
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            message = f"Redis not reachable at {REDIS_URL}"
            if os.environ.get("PLAYCALLER_REQUIRE_REDIS") == "1":
                pytest.fail(f"{message}: {exc}")
            pytest.skip(message)
        yield Backend("redis", REDIS_URL, namespace)
        keys = [key async for key in client.scan_iter(match="{" + namespace + "}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = backend.make()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
