"""The Redis store: every part combined."""

from __future__ import annotations

from bot.store.redis.counts import RedisCounts
from bot.store.redis.inbox import RedisInbox
from bot.store.redis.outbox import RedisOutbox
from bot.store.redis.records import RedisRecords
from bot.store.redis.stream import RedisIntakeStream
from bot.store.redis.timers import RedisTimers


class RedisStore(
    RedisRecords, RedisTimers, RedisOutbox, RedisInbox, RedisCounts, RedisIntakeStream
):
    """A :class:`~bot.core.storage.Store` in Redis under one hash-tagged namespace.

    ``url`` is a redis-py URL (``redis://host:port/db``, ``rediss://...``).
    Several processes may share a namespace; see :mod:`bot.store.redis` for the layout.
    The intake stream (:mod:`bot.store.redis.stream`) is Redis-only, not part of the port.
    """
