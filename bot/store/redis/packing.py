"""Commands packed into the Redis protocol by hiredis rather than in Python.

A decision's write is one ``EVALSHA`` with some seventy arguments (the record,
its tags, and the effects flattened: outbox items, audit entries, timers).
redis-py's asyncio connections pack each argument in Python (an encoder call
and several type checks per argument): with two hundred clicks at once that
was a fifth of the event loop's time on Redis. hiredis (a C library redis-py
already uses to parse replies when it is installed) packs a whole command in
one call, with the same bytes: strings as UTF-8, numbers as their decimal
text. Only the store's own pools use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hiredis
import redis.asyncio as aioredis


class _HiredisPacking:
    """Overrides a connection's ``pack_command``/``pack_commands``."""

    def pack_command(self, *args: Any) -> list[bytes]:
        return [_packed(args)]

    def pack_commands(self, commands: Iterable[Iterable[Any]]) -> list[bytes]:
        return [b"".join(_packed(tuple(command)) for command in commands)]


def _packed(args: tuple[Any, ...]) -> bytes:
    # As redis-py does: a command name of several words ("SCRIPT LOAD") is
    # sent as separate arguments.
    first = args[0]
    if (isinstance(first, str) and " " in first) or (isinstance(first, bytes) and b" " in first):
        args = (*first.split(), *args[1:])
    kinds = set(map(type, args))  # (one pass in C: a write has some seventy arguments)
    if bool in kinds:
        # redis-py refuses booleans (ambiguous on the wire); so do we.
        raise aioredis.DataError("a boolean cannot be sent to Redis; convert it first")
    if kinds & _BUFFERS:
        args = tuple(bytes(arg) if type(arg) in _BUFFERS else arg for arg in args)
    try:
        return bytes(hiredis.pack_command(args))
    except TypeError as error:  # None, a dict...: the error redis-py gives
        raise aioredis.DataError(str(error)) from error


_BUFFERS = {bytearray, memoryview}


class PackedConnection(_HiredisPacking, aioredis.Connection):
    """A TCP connection whose commands hiredis packs."""


class PackedSSLConnection(_HiredisPacking, aioredis.SSLConnection):
    """A TLS connection whose commands hiredis packs."""


def pack_with_hiredis(pool: aioredis.ConnectionPool) -> None:
    """Make ``pool``'s new connections pack their commands with hiredis."""
    if pool.connection_class is aioredis.Connection:
        pool.connection_class = PackedConnection
    elif pool.connection_class is aioredis.SSLConnection:
        pool.connection_class = PackedSSLConnection
