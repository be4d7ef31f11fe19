"""Records, effects without a record, and idempotency keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.storage import NO_EFFECTS, Effects, Record, Written
from bot.store import EncodedEffects, dumps, duration_us, loads_object, to_us
from bot.store.redis.base import RedisBase
from bot.store.redis.codec import decode_record

# How much longer than its logical lifetime Redis keeps an idempotency key.
ONCE_SLACK_MS = 60_000


class RedisRecords(RedisBase):
    """Records, effects without a record, and idempotency keys."""

    async def insert(self, record: Record, effects: Effects = NO_EFFECTS) -> Written:
        """Create ``record`` at version 1 with its effects (see the port)."""
        return await self._write(record, None, effects)

    async def insert_many(self, items: Sequence[tuple[Record, Effects]]) -> list[bool]:
        """Each absent record with its effects, one atomic script call per item,
        all sent in one pipeline round trip (see the port)."""
        if not items:
            return []
        script = self._scripts["write"]
        pipe = self._redis().pipeline(transaction=False)
        for record, effects in items:
            await script(
                keys=[self._record_key(record.kind, record.key)],
                args=self._insert_args(record, effects),
                client=pipe,
            )
        replies = await pipe.execute()
        return [int(reply[0]) == 1 for reply in replies]

    async def insert_each(self, items: Sequence[tuple[Record, Effects]]) -> list[bool | Exception]:
        """:meth:`insert_many`, each item's error answered on its own: its
        arguments are encoded before the pipeline (text Redis cannot take fails
        that item only) and script errors come back per call (see the port)."""
        for _, effects in items:
            if effects.complete_timer is not None:
                raise ValueError("insert_each cannot complete a timer")
        script = self._scripts["write"]
        pipe = self._redis().pipeline(transaction=False)
        answers: list[bool | Exception | None] = []
        for record, effects in items:
            try:
                args = [_utf8(arg) for arg in self._insert_args(record, effects)]
            except Exception as error:  # answered for this item alone
                answers.append(error)
                continue
            answers.append(None)
            key = self._record_key(record.kind, record.key)
            await script(keys=[key], args=args, client=pipe)
        replies = iter(await pipe.execute(raise_on_error=False) if len(pipe) else [])
        out: list[bool | Exception] = []
        for answer in answers:
            if answer is not None:
                out.append(answer)
                continue
            reply = next(replies)
            out.append(reply if isinstance(reply, Exception) else int(reply[0]) == 1)
        return out

    def _insert_args(self, record: Record, effects: Effects) -> list[str | int]:
        if effects.complete_timer is not None:
            raise ValueError("insert_many cannot complete a timer")
        tags = sorted(record.tags)
        return [
            self._p,
            record.kind,
            record.key,
            dumps(record.data),
            dumps(tags),
            dumps([self._tag_key(record.kind, tag) for tag in tags]),
            "",
            *self._effect_args(EncodedEffects.of(effects)),
        ]

    async def replace(
        self, record: Record, expected_version: int, effects: Effects = NO_EFFECTS
    ) -> Written:
        """Compare-and-set ``record`` at ``expected_version + 1`` (see the port)."""
        return await self._write(record, expected_version, effects)

    async def _write(self, record: Record, expected: int | None, effects: Effects) -> Written:
        data = dumps(record.data)
        tags = sorted(record.tags)
        tags_json = dumps(tags)
        tag_keys = dumps([self._tag_key(record.kind, tag) for tag in tags])
        encoded = EncodedEffects.of(effects)
        reply = await self._run(
            "write",
            [self._record_key(record.kind, record.key)],
            [
                self._p,
                record.kind,
                record.key,
                data,
                tags_json,
                tag_keys,
                "" if expected is None else str(int(expected)),
                *self._effect_args(encoded),
            ],
        )
        if int(reply[0]) == 1:
            return Written(
                True,
                Record(record.kind, record.key, loads_object(data), int(reply[1]), frozenset(tags)),
            )
        if len(reply) == 1:
            return Written(False, None)
        return Written(False, decode_record(record.kind, record.key, reply[1], reply[2], reply[3]))

    async def delete(
        self, kind: str, key: str, expected_version: int, effects: Effects = NO_EFFECTS
    ) -> Written:
        """Compare-and-set delete with its effects (see the port)."""
        encoded = EncodedEffects.of(effects)
        reply = await self._run(
            "delete",
            [self._record_key(kind, key)],
            [self._p, str(int(expected_version)), *self._effect_args(encoded)],
        )
        if int(reply[0]) == 1 or len(reply) == 1:
            return Written(int(reply[0]) == 1, None)
        return Written(False, decode_record(kind, key, reply[1], reply[2], reply[3]))

    async def get(self, kind: str, key: str) -> Record | None:
        """The current record or None."""
        v, d, t = await self._read_record(self._record_key(kind, key))
        return None if v is None else decode_record(kind, key, v, d, t)

    async def find(
        self, kind: str, tag: str, limit: int = 200, offset: int = 0, after: str | None = None
    ) -> list[Record]:
        """Records of ``kind`` carrying ``tag``, oldest insert first, after
        skipping the first ``offset`` of them (and, with ``after``, those
        inserted up to the record of that key)."""
        if limit <= 0:
            return []
        since = self._record_key(kind, after) if after is not None else ""
        rows = await self._run(
            "find", [self._tag_key(kind, tag), since], [limit, max(offset, 0), int(bool(since))]
        )
        return [decode_record(k, key, v, d, t) for k, key, v, d, t in rows]

    async def count_tagged(self, kind: str, tag: str) -> int:
        """How many records of ``kind`` carry ``tag``."""
        return int(await self._redis().zcard(self._tag_key(kind, tag)))

    # -- effects and idempotency ---------------------------------------------

    async def apply(self, effects: Effects) -> bool:
        """Commit ``effects`` alone; False if its timer completion is fenced off."""
        encoded = EncodedEffects.of(effects)
        if not effects:
            return True
        reply = await self._run(
            "apply", [self._p + "timers:due"], [self._p, *self._effect_args(encoded)]
        )
        return int(reply) == 1

    async def put_once(self, key: str, ttl: timedelta, now: datetime) -> bool:
        """Set an idempotency key; True unless it is set and unexpired at ``now``."""
        now_us = to_us(now)
        ttl_us = duration_us(ttl, "ttl")
        px = -(-ttl_us // 1000) + ONCE_SLACK_MS
        reply = await self._run("put_once", [f"{self._p}once:{key}"], [now_us, now_us + ttl_us, px])
        return int(reply) == 1

    async def remembered(self, key: str, now: datetime) -> bool:
        """True when an idempotency key is set and unexpired at ``now``."""
        value = await self._redis().get(f"{self._p}once:{key}")
        return value is not None and int(value) > to_us(now)

    async def forget(self, key: str) -> None:
        """Delete an idempotency key."""
        await self._redis().delete(f"{self._p}once:{key}")


def _utf8(arg: str | int) -> bytes | int:
    """``arg`` as Redis gets it; a text it cannot take (a lone surrogate) raises here."""
    return arg.encode() if isinstance(arg, str) else arg
