"""The Redis store's connections pack commands with hiredis
(``bot/store/redis/packing.py``): the same bytes redis-py would send, the same
refusals, and a record written through them reads back as written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.core.storage import Effects, OutboxItem, Record
from bot.store import open_store
from bot.store.redis import RedisStore
from bot.store.redis.packing import PackedConnection, PackedSSLConnection, pack_with_hiredis
from tests.conftest import START

COMMANDS: list[tuple[Any, ...]] = [
    ("EVALSHA", "0123abcd", 2, "{ns}:rec:k", "{ns}:tag:t", "é ü 😡 <!channel>", -5, 1.5, ""),
    ("SCRIPT LOAD", "return 1"),
    ("HMGET", b"{ns}:rec:x", bytearray(b"v"), memoryview(b"d"), "t"),
    ("SET", "k", "x" * 100_000),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_hiredis_packs_the_bytes_redis_py_would_send(command: tuple[Any, ...]) -> None:
    plain, packed = aioredis.Connection(), PackedConnection()
    assert b"".join(packed.pack_command(*command)) == b"".join(
        bytes(chunk) for chunk in plain.pack_command(*command)
    )
    pipeline = [command, COMMANDS[2], command]
    assert b"".join(packed.pack_commands(pipeline)) == b"".join(
        bytes(chunk) for chunk in plain.pack_commands(pipeline)
    )


@pytest.mark.parametrize("bad", [None, True, {"a": 1}])
def test_what_redis_py_refuses_is_refused(bad: object) -> None:
    for connection in (aioredis.Connection(), PackedConnection()):
        with pytest.raises(aioredis.DataError):
            connection.pack_command("SET", "k", bad)


def test_tls_connections_pack_with_hiredis_too() -> None:
    pool = aioredis.ConnectionPool.from_url("rediss://127.0.0.1:6379/0")
    pack_with_hiredis(pool)
    assert pool.connection_class is PackedSSLConnection


async def test_a_record_and_its_effects_written_through_hiredis_read_back(
    store_backend: tuple[str, str],
) -> None:
    url, namespace = store_backend
    store = open_store(url, namespace=namespace)
    await store.open()
    try:
        if isinstance(store, RedisStore):
            assert store._pool is not None
            assert store._pool.connection_class is PackedConnection
        data = {"text": "é ü 😡 <!channel> *bold*\r\n$3\r\n", "n": 2**40, "x": 1.5}
        card = OutboxItem(
            id="o1",
            platform="console",
            op="post",
            destination="care",
            body={"title": "ü\r\n"},
            created_at=START,
        )
        written = await store.insert(Record("thing", "k1", data), Effects(outbox=(card,)))
        assert written.ok
        stored = await store.get("thing", "k1")
        assert stored is not None and stored.data == data
        [leased] = await store.lease_outbox("console", START, "me", timedelta(minutes=1))
        assert leased.item.body == {"title": "ü\r\n"}
    finally:
        await store.close()
