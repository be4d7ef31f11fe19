"""The Redis store's intake stream: mentions accepted by ``POST /intake`` and
waiting for admission by any ``serve`` process (see :mod:`bot.intake.stream`).

Keys (``P`` is ``{namespace}:``, so everything stays in the store's one slot):

* ``P intake`` stream, one entry per accepted item: ``m`` the item in the
  intake format (JSON), ``r`` when it was accepted (epoch microseconds,
  the caller's clock), ``k`` its dedupe marker. Read through the consumer
  group; an entry is deleted (``XDEL``) in the same ``MULTI`` as its
  ``XACK``, so the stream holds only entries not yet admitted and is never
  trimmed by length (``MAXLEN`` drops the oldest entries whether acknowledged
  or not).
* ``P intake:held:<record key>`` string: the item is in the stream. With the
  mention record itself it makes ``enqueue`` answer ``duplicate`` for an item
  already accepted or admitted; deleted when the entry is acknowledged (the
  record exists by then) or dead-lettered (so a re-send is tried again).
  ``HELD_TTL`` only reclaims memory after an operator deletes the stream.
* ``P intake:dead`` stream: entries that failed too often, with the reason,
  the original id and the number of deliveries; never trimmed or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from bot.store.redis.base import RedisBase

HELD_TTL_MS = 7 * 24 * 3600 * 1000

# KEYS[1] the stream; ARGV: ttl_ms, n, then per item: record key, marker key,
# payload, received_us. One reply per item: 1 added, 0 already held or stored.
_ENQUEUE = """
local ttl, n = ARGV[1], tonumber(ARGV[2])
local out, i = {}, 3
for j = 1, n do
  local rec, mark = ARGV[i], ARGV[i + 1]
  if redis.call('EXISTS', rec) == 1 or redis.call('EXISTS', mark) == 1 then
    out[j] = 0
  else
    local id = redis.call('XADD', KEYS[1], '*', 'm', ARGV[i + 2], 'r', ARGV[i + 3], 'k', mark)
    redis.call('SET', mark, id, 'PX', ttl)
    out[j] = 1
  end
  i = i + 4
end
return out
"""

# KEYS[1] the stream; ARGV: group, consumer, then entry ids. Each entry still
# pending for the consumer is claimed again by it with one delivery fewer
# (XCLAIM restarts its idle time); the check and the claim are one step, so
# an entry another consumer claimed meanwhile keeps its owner and its count.
_RELEASE = """
local group, consumer, released = ARGV[1], ARGV[2], 0
for i = 3, #ARGV do
  local row = redis.call('XPENDING', KEYS[1], group, ARGV[i], ARGV[i], 1)[1]
  if row and row[2] == consumer then
    local count = math.max(0, tonumber(row[4]) - 1)
    redis.call('XCLAIM', KEYS[1], group, consumer, 0, ARGV[i], 'RETRYCOUNT', count, 'JUSTID')
    released = released + 1
  end
end
return released
"""


@dataclass(frozen=True)
class StreamEntry:
    """One intake stream entry as delivered to a consumer."""

    id: str
    payload: str
    received_us: int
    marker: str
    deliveries: int


@dataclass(frozen=True)
class StreamState:
    """What ``/metrics`` shows of the intake stream."""

    entries: int  # in the stream: waiting or being admitted
    pending: int  # delivered to a consumer, not yet acknowledged
    lag: int  # not yet delivered to any consumer
    dead: int  # in the dead-letter stream


def _entry(raw: tuple[str, dict[str, str]], deliveries: int) -> StreamEntry:
    entry_id, fields = raw
    received = fields.get("r", "")
    return StreamEntry(
        entry_id,
        fields.get("m", ""),
        int(received) if received.isdigit() else 0,
        fields.get("k", ""),
        deliveries,
    )


class RedisIntakeStream(RedisBase):
    """The intake stream, its consumer group and its dead-letter stream."""

    @property
    def _stream(self) -> str:
        return self._p + "intake"

    @property
    def _dead(self) -> str:
        return self._p + "intake:dead"

    def _held(self, kind: str, key: str) -> str:
        return self._p + "intake:held:" + self._record_key(kind, key).removeprefix(self._p)

    async def intake_enqueue(
        self, kind: str, items: Sequence[tuple[str, str]], received_us: int
    ) -> list[bool]:
        """Add each ``(record key, payload)`` whose record neither exists nor is
        already in the stream, in one atomic script call; True for each added
        (a later one of the same key in ``items`` is False)."""
        if not items:
            return []
        args: list[str | int] = [HELD_TTL_MS, len(items)]
        for key, payload in items:
            args += [self._record_key(kind, key), self._held(kind, key), payload, received_us]
        client = self._redis()
        script = self.__dict__.get("_enqueue_script")
        if script is None or script.registered_client is not client:
            script = self.__dict__["_enqueue_script"] = client.register_script(_ENQUEUE)
        reply = await script(keys=[self._stream], args=args)
        return [int(flag) == 1 for flag in reply]

    async def intake_group(self, group: str) -> None:
        """Create the consumer group (from the stream's start) unless it exists."""
        try:
            await self._redis().xgroup_create(self._stream, group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def intake_read(
        self, group: str, consumer: str, count: int, block_ms: int | None
    ) -> list[StreamEntry]:
        """Up to ``count`` entries never delivered before (``block_ms`` None: do not wait)."""
        reply = await self._redis().xreadgroup(
            group, consumer, {self._stream: ">"}, count=count, block=block_ms
        )
        if not reply:
            return []
        # RESP2 answers a list of [stream, entries]; RESP3 a dict.
        raw: Any = reply
        batches = raw.values() if isinstance(raw, dict) else [r[1] for r in raw]
        return [_entry((e[0], e[1]), 1) for entries in batches for e in entries]

    async def intake_claim(
        self, group: str, consumer: str, min_idle_ms: int, count: int, start: str = "0-0"
    ) -> tuple[str, list[StreamEntry]]:
        """``XAUTOCLAIM`` entries idle ``min_idle_ms`` or more (a dead or stuck
        consumer's, or this one's that failed) from ``start``; the cursor to go
        on from and the entries, each with its delivery count (this one included)."""
        client = self._redis()
        reply = await client.xautoclaim(
            self._stream, group, consumer, min_idle_ms, start_id=start, count=count
        )
        cursor, claimed = reply[0], reply[1]
        if not claimed:
            return cursor, []
        ids = [entry_id for entry_id, _ in claimed]
        pending = await client.xpending_range(
            self._stream,
            group,
            min=min(ids, key=_order),
            max=max(ids, key=_order),
            count=len(ids) + 1000,
            consumername=consumer,
        )
        times = {row["message_id"]: int(row["times_delivered"]) for row in pending}
        return cursor, [_entry(raw, times.get(raw[0], 1)) for raw in claimed]

    async def intake_ack(self, group: str, entries: Sequence[StreamEntry]) -> None:
        """Acknowledge and delete admitted entries and their markers, in one ``MULTI``."""
        if not entries:
            return
        ids = [e.id for e in entries]
        pipe = self._redis().pipeline(transaction=True)
        pipe.xack(self._stream, group, *ids)
        pipe.xdel(self._stream, *ids)
        markers = [e.marker for e in entries if e.marker.startswith(self._p)]
        if markers:
            pipe.delete(*markers)
        await pipe.execute()

    async def intake_dead_letter(
        self, group: str, entry: StreamEntry, reason: str, at_us: int
    ) -> None:
        """Move ``entry`` to the dead-letter stream, in one ``MULTI``."""
        pipe = self._redis().pipeline(transaction=True)
        pipe.xadd(
            self._dead,
            {
                "m": entry.payload,
                "r": str(entry.received_us),
                "id": entry.id,
                "deliveries": str(entry.deliveries),
                "reason": reason[:2000],
                "at": str(at_us),
            },
        )
        pipe.xack(self._stream, group, entry.id)
        pipe.xdel(self._stream, entry.id)
        if entry.marker.startswith(self._p):
            pipe.delete(entry.marker)
        await pipe.execute()

    async def intake_release(
        self, group: str, consumer: str, entries: Sequence[StreamEntry]
    ) -> int:
        """Keep ``entries`` pending with their last delivery uncounted (the store
        refused their batch as a whole): each one still owned by ``consumer``
        gets its delivery count set one back and its idle time restarted, so
        it is claimed again after the usual wait. One another consumer took
        meanwhile (this batch outlasted ``claim_idle``) is left to it, its
        count untouched. The number released."""
        if not entries:
            return 0
        client = self._redis()
        script = self.__dict__.get("_release_script")
        if script is None or script.registered_client is not client:
            script = self.__dict__["_release_script"] = client.register_script(_RELEASE)
        reply = await script(keys=[self._stream], args=[group, consumer, *(e.id for e in entries)])
        return int(reply)

    async def intake_state(self, group: str) -> StreamState:
        """Entries, pending, lag and dead letters (zero before the first entry)."""
        client = self._redis()
        pipe = client.pipeline(transaction=False)
        pipe.xlen(self._stream)
        pipe.xlen(self._dead)
        length, dead = await pipe.execute()
        # Before any consumer made the group, every entry waits.
        pending, lag = 0, int(length)
        try:
            groups = await client.xinfo_groups(self._stream)
        except ResponseError:  # no stream yet
            groups = []
        for info in groups:
            if info.get("name") == group:
                pending = int(info.get("pending") or 0)
                # Redis answers nil when it cannot tell; then everything not
                # pending is undelivered (entries are deleted once acknowledged).
                raw_lag = info.get("lag")
                lag = int(raw_lag) if raw_lag is not None else max(0, int(length) - pending)
        return StreamState(int(length), pending, lag, int(dead))

    async def intake_dead_letters(self, count: int = 100) -> list[dict[str, str]]:
        """The oldest dead-letter entries' fields, with their ``dead_id``."""
        rows: Any = await self._redis().xrange(self._dead, count=count)
        return [{"dead_id": entry_id, **fields} for entry_id, fields in rows]


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
