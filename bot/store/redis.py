"""Redis backend for the :class:`~bot.core.storage.Store` port.

Every key starts with the hash tag ``{namespace}:`` so the whole store lives
in one cluster slot, and every multi-key operation is a single Lua script
(``EVALSHA`` through ``register_script``), which Redis runs atomically. The
scripts build some key names from ``ARGV`` (timer hashes, tag indexes, audit
subject lists); that is safe on Redis Cluster because all of them carry the
same hash tag as the declared key.

Layout (``P`` is ``{namespace}:``; ``q()`` is percent-encoding, used for every
name component except the last so components can never run together):

* ``P rec:q(kind):key`` hash: ``kind key v d t tk s`` (version, data JSON,
  tags JSON, the tag-index keys it is listed in, insert seq).
* ``P tag:q(kind):tag`` zset of record keys scored by insert seq (``find``).
* ``P once:key`` string: the expiry (epoch microseconds) of an idempotency key.
* ``P timer:key`` hash per timer; ``P timers:due`` zset by due time (for
  ``pending_timers``); ``P timers:ready`` zset by the moment the timer can be
  leased: its due time, moved to ``lease_until`` while it is leased.
* ``P ob:id`` hash per outbox item; ``P obq:platform`` zset per platform
  scored ``priority * 2**40 + seq`` (lower priority first, then FIFO);
  ``P outbox:ids`` set of all waiting ids.
* ``P card:q(platform):card_key`` list of card refs (JSON).
* ``P audit`` stream (append-only); ``P audit:s:subject`` list of stream ids.
* ``P seq:rec``, ``P seq:outbox``, ``P seq:token`` counters (``INCR``).

Time is always the caller's: ``put_once`` stores the expiry timestamp and the
script compares it with the ``now`` passed in, so expiry never depends on the
Redis clock. The key also gets a ``PX`` of ``ttl`` plus a minute, purely so
Redis reclaims memory; it is never shorter than the logical lifetime unless
the callers' clocks run more than a minute ahead of Redis.

Record reads (``get``) of one store object go out one batch at a time: a
read alone is sent at once; reads made while a batch is in flight queue up and
the next batch sends them in one round trip, one ``HMGET`` per record however
many callers want it (see :meth:`RedisStore._read_record`). A read cancelled
before its batch is sent is never sent.

Contract interpretations are the same as the SQLite backend's (see
:mod:`bot.store.sqlite`). Outbox sequence numbers must stay below 2**40 for
FIFO order to hold, and priorities within ``bot.store.MIN_PRIORITY`` ..
``MAX_PRIORITY``. ``pending_timers`` scans all timers (fine for thousands).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from bot.core.storage import (
    JSON,
    NO_EFFECTS,
    AuditEntry,
    Effects,
    LeasedOutboxItem,
    LeasedTimer,
    OutboxItem,
    Record,
    Timer,
    Written,
)
from bot.store import (
    EncodedEffects,
    dumps,
    duration_us,
    from_us,
    loads_object,
    loads_tags,
    to_us,
)

log = logging.getLogger(__name__)

_ONCE_SLACK_MS = 60_000

# Shared Lua helpers. Effects arrive flattened in ARGV from index ``i``:
#   has_complete, complete_key, complete_token,
#   n_cancel, key*, n_timers, (key kind due payload)*,
#   n_outbox, (id platform op dest has_card card body prio created nb cardprefix)*,
#   n_audit, (at actor action subject detail)*
_LUA_EFFECTS = """
local function timer_delete(P, key)
  redis.call('DEL', P .. 'timer:' .. key)
  redis.call('ZREM', P .. 'timers:due', key)
  redis.call('ZREM', P .. 'timers:ready', key)
end

local function fence_holds(P, i)
  if ARGV[i] ~= '1' then return true end
  local tok = redis.call('HGET', P .. 'timer:' .. ARGV[i + 1], 'token')
  return tok ~= false and tok == ARGV[i + 2]
end

local function apply_effects(P, i)
  if ARGV[i] == '1' then timer_delete(P, ARGV[i + 1]) end
  i = i + 3
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do timer_delete(P, ARGV[i]); i = i + 1 end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local key, due = ARGV[i], ARGV[i + 2]
    local h = P .. 'timer:' .. key
    redis.call('DEL', h)
    redis.call('HSET', h, 'kind', ARGV[i + 1], 'due', due, 'payload', ARGV[i + 3],
      'attempts', 0)
    redis.call('ZADD', P .. 'timers:due', due, key)
    redis.call('ZADD', P .. 'timers:ready', due, key)
    i = i + 4
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local id, platform = ARGV[i], ARGV[i + 1]
    local h = P .. 'ob:' .. id
    if redis.call('EXISTS', h) == 0 then
      local seq = redis.call('INCR', P .. 'seq:outbox')
      local score = string.format('%.0f', tonumber(ARGV[i + 7]) * 1099511627776 + seq)
      redis.call('HSET', h, 'platform', platform, 'op', ARGV[i + 2], 'dest', ARGV[i + 3],
        'has_card', ARGV[i + 4], 'card', ARGV[i + 5], 'body', ARGV[i + 6],
        'prio', ARGV[i + 7], 'created', ARGV[i + 8], 'nb', ARGV[i + 9],
        'cards', ARGV[i + 10], 'seq', seq, 'attempts', 0)
      redis.call('ZADD', P .. 'obq:' .. platform, score, id)
      redis.call('SADD', P .. 'outbox:ids', id)
    end
    i = i + 11
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local subject = ARGV[i + 3]
    local id = redis.call('XADD', P .. 'audit', '*', 'at', ARGV[i], 'actor', ARGV[i + 1],
      'action', ARGV[i + 2], 'subject', subject, 'detail', ARGV[i + 4])
    redis.call('RPUSH', P .. 'audit:s:' .. subject, id)
    i = i + 5
  end
end
"""

# KEYS[1] record hash. ARGV: P kind key data tags_json tag_keys_json expected
# ('' = insert), effects from 8. Reply {1, version} or {0[, v, d, t]}.
_LUA_WRITE = (
    _LUA_EFFECTS
    + """
local P, rk = ARGV[1], KEYS[1]
local cur = redis.call('HMGET', rk, 'v', 'd', 't', 'tk', 's')
local exists = cur[1] ~= false
local function refused()
  if exists then return {0, cur[1], cur[2], cur[3]} end
  return {0}
end
if ARGV[7] == '' then
  if exists then return refused() end
elseif (exists and tonumber(cur[1]) or 0) ~= tonumber(ARGV[7]) then
  return refused()
end
if not fence_holds(P, 8) then return refused() end
local version, seq
if exists then
  version = tonumber(cur[1]) + 1
  seq = cur[5]
  for _, tk in ipairs(cjson.decode(cur[4])) do redis.call('ZREM', tk, rk) end
else
  version = 1
  seq = redis.call('INCR', P .. 'seq:rec')
end
redis.call('HSET', rk, 'kind', ARGV[2], 'key', ARGV[3], 'v', version, 'd', ARGV[4],
  't', ARGV[5], 'tk', ARGV[6], 's', seq)
for _, tk in ipairs(cjson.decode(ARGV[6])) do redis.call('ZADD', tk, seq, rk) end
apply_effects(P, 8)
return {1, version}
"""
)

# KEYS[1] any key of the store. ARGV: P, effects from 2.
_LUA_APPLY = (
    _LUA_EFFECTS
    + """
if not fence_holds(ARGV[1], 2) then return 0 end
apply_effects(ARGV[1], 2)
return 1
"""
)

# KEYS[1] tag zset. ARGV: limit.
_LUA_FIND = """
local out = {}
for _, rk in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local h = redis.call('HMGET', rk, 'kind', 'key', 'v', 'd', 't')
  if h[1] then table.insert(out, h) end
end
return out
"""

# KEYS[1] idempotency key. ARGV: now, expires_at, px.
_LUA_PUT_ONCE = """
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

# KEYS[1] timers:ready. ARGV: P now lease_until owner limit.
_LUA_LEASE_TIMERS = """
local P = ARGV[1]
local out = {}
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[5]))
for _, key in ipairs(keys) do
  local h = P .. 'timer:' .. key
  local tok = redis.call('INCR', P .. 'seq:token')
  local attempts = redis.call('HINCRBY', h, 'attempts', 1)
  redis.call('HSET', h, 'owner', ARGV[4], 'lease', ARGV[3], 'token', tok)
  redis.call('ZADD', KEYS[1], ARGV[3], key)
  local f = redis.call('HMGET', h, 'kind', 'due', 'payload')
  table.insert(out, {key, f[1], f[2], f[3], tok, attempts})
end
return out
"""

# KEYS[1] timer hash. ARGV: P key token.
_LUA_COMPLETE_TIMER = """
local tok = redis.call('HGET', KEYS[1], 'token')
if not tok or tok ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'timers:due', ARGV[2])
redis.call('ZREM', ARGV[1] .. 'timers:ready', ARGV[2])
return 1
"""

# KEYS[1] timers:due. ARGV: P prefix.
_LUA_PENDING_TIMERS = """
local prefix = ARGV[2]
local out = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(key, 1, #prefix) == prefix then
    local f = redis.call('HMGET', ARGV[1] .. 'timer:' .. key, 'kind', 'due', 'payload')
    if f[1] then table.insert(out, {key, f[1], f[2], f[3]}) end
  end
end
return out
"""

# KEYS[1] platform queue. ARGV: P now lease_until owner limit.
_LUA_LEASE_OUTBOX = """
local P = ARGV[1]
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[5])
local out = {}
local start = 0
while #out < limit do
  local ids = redis.call('ZRANGE', KEYS[1], start, start + 99)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local h = P .. 'ob:' .. id
    local f = redis.call('HMGET', h, 'nb', 'lease')
    if (not f[1] or f[1] == '' or tonumber(f[1]) <= now)
        and (not f[2] or tonumber(f[2]) <= now) then
      local tok = redis.call('INCR', P .. 'seq:token')
      local attempts = redis.call('HINCRBY', h, 'attempts', 1)
      redis.call('HSET', h, 'owner', ARGV[4], 'lease', ARGV[3], 'token', tok)
      local d = redis.call('HMGET', h, 'platform', 'op', 'dest', 'has_card', 'card', 'body',
        'prio', 'created', 'nb')
      table.insert(out, {id, d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9],
        tok, attempts})
      if #out >= limit then break end
    end
  end
  start = start + 100
end
return out
"""

# KEYS[1] item hash. ARGV: P id token has_ref card_key ref.
_LUA_FINISH_OUTBOX = """
local f = redis.call('HMGET', KEYS[1], 'token', 'platform', 'cards')
if not f[1] or f[1] ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'obq:' .. f[2], ARGV[2])
redis.call('SREM', ARGV[1] .. 'outbox:ids', ARGV[2])
if ARGV[4] == '1' then redis.call('RPUSH', f[3] .. ARGV[5], ARGV[6]) end
return 1
"""

# KEYS[1] item hash. ARGV: token not_before.
_LUA_RETRY_OUTBOX = """
local tok = redis.call('HGET', KEYS[1], 'token')
if not tok or tok ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'token', 'owner', 'lease')
redis.call('HSET', KEYS[1], 'nb', ARGV[2])
return 1
"""

# KEYS[1] subject list, KEYS[2] audit stream. ARGV: limit.
_LUA_AUDIT_SUBJECT = """
local out = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  local e = redis.call('XRANGE', KEYS[2], id, id)
  if e[1] then table.insert(out, e[1]) end
end
return out
"""


def _q(component: str) -> str:
    return quote(component, safe="")


class RedisStore:
    """A :class:`~bot.core.storage.Store` in Redis under one hash-tagged namespace.

    ``url`` is a redis-py URL (``redis://host:port/db``, ``rediss://...``).
    Several processes may share a namespace; see the module docs for the layout.
    """

    def __init__(self, url: str, namespace: str = "playcaller") -> None:
        if not namespace or "{" in namespace or "}" in namespace:
            raise ValueError(f"invalid Redis store namespace {namespace!r}")
        self._url = url
        self._namespace = namespace
        self._p = "{" + namespace + "}:"
        self._pool: aioredis.ConnectionPool | None = None
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._open_lock = asyncio.Lock()
        self._lock = asyncio.Lock()  # one batch of record reads in flight at a time
        self._queue: list[_Read] = []  # record reads waiting to be sent

    @property
    def namespace(self) -> str:
        """The namespace (hash tag) of every key."""
        return self._namespace

    @property
    def key_prefix(self) -> str:
        """The prefix of every key of this store, ``{namespace}:``."""
        return self._p

    # -- lifecycle -----------------------------------------------------------

    async def open(self) -> None:
        """Connect (failing early if Redis does not answer) and load scripts."""
        async with self._open_lock:
            if self._client is None:
                await self._connect()

    async def _connect(self) -> None:
        pool = aioredis.ConnectionPool.from_url(self._url, decode_responses=True)
        client = aioredis.Redis(connection_pool=pool)
        try:
            await client.ping()
        except BaseException:
            await client.aclose()
            await pool.aclose()
            raise
        sources = {
            "write": _LUA_WRITE,
            "apply": _LUA_APPLY,
            "find": _LUA_FIND,
            "put_once": _LUA_PUT_ONCE,
            "lease_timers": _LUA_LEASE_TIMERS,
            "complete_timer": _LUA_COMPLETE_TIMER,
            "pending_timers": _LUA_PENDING_TIMERS,
            "lease_outbox": _LUA_LEASE_OUTBOX,
            "finish_outbox": _LUA_FINISH_OUTBOX,
            "retry_outbox": _LUA_RETRY_OUTBOX,
            "audit_subject": _LUA_AUDIT_SUBJECT,
        }
        self._scripts = {name: client.register_script(src) for name, src in sources.items()}
        self._pool, self._client = pool, client
        log.debug("opened Redis store namespace %s", self._namespace)

    async def close(self) -> None:
        """Close the client and its connection pool. The store can be reopened."""
        client, pool = self._client, self._pool
        self._client = self._pool = None
        self._scripts = {}
        if client is not None:
            await client.aclose()
        if pool is not None:
            await pool.aclose()

    async def ping(self) -> bool:
        """True when Redis answers PING."""
        if self._client is None:
            return False
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            log.warning("Redis store %s does not answer", self._namespace, exc_info=True)
            return False

    # -- plumbing ------------------------------------------------------------

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("RedisStore is not open; await store.open() first")
        return self._client

    async def _run(self, script: str, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        self._redis()
        return await self._scripts[script](keys=list(keys), args=list(args))

    async def _read_record(self, record_key: str) -> list[Any]:
        """``HMGET`` the version, data and tags of a record hash.

        Reads go out one batch at a time: a read alone is sent at once; reads
        made while a batch is in flight queue up and the next batch sends them
        all in one round trip, one ``HMGET`` per record however many callers
        asked for it. Writes do not wait for reads. So a read queued behind a
        batch sees a write sent meanwhile (a claimer still waiting to read
        learns that someone else's claim just went through), and it is always
        sent after it was requested, so it sees every write completed before.
        """
        call = _Read(record_key, asyncio.get_running_loop().create_future())
        self._queue.append(call)
        try:
            async with self._lock:
                if self._queue:
                    batch, self._queue = self._queue, []
                    if len(batch) == 1:
                        await self._send_reads(batch)
                    else:
                        # Shielded: if this task is cancelled, the others still
                        # get their replies.
                        sending = asyncio.ensure_future(self._send_reads(batch))
                        sending.add_done_callback(_retrieve)
                        await asyncio.shield(sending)
        except BaseException:
            # Cancelled while waiting for the lock: a read not yet taken is never sent.
            self._queue = [other for other in self._queue if other is not call]
            raise
        fields: list[Any] = await call.future
        return fields

    async def _send_reads(self, batch: list[_Read]) -> None:
        """Send ``batch`` in one round trip and settle every caller's future."""
        callers: dict[str, list[_Read]] = {}
        for call in batch:
            callers.setdefault(call.key, []).append(call)
        replies: list[Any]
        try:
            client = self._redis()
            if len(callers) == 1:
                replies = [await client.hmget(batch[0].key, _RECORD_FIELDS)]
            else:
                pipe = client.pipeline(transaction=False)
                for key in callers:
                    pipe.hmget(key, _RECORD_FIELDS)
                replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            if len(batch) > 1:
                _fail(batch, asyncio.CancelledError())
            raise
        except Exception as error:
            _fail(batch, error)
            return
        for calls, reply in zip(callers.values(), replies, strict=True):
            for call in calls:
                if call.future.done():  # its caller was cancelled
                    continue
                if isinstance(reply, BaseException):
                    call.future.set_exception(reply)
                else:
                    call.future.set_result(reply)

    def _record_key(self, kind: str, key: str) -> str:
        return f"{self._p}rec:{_q(kind)}:{key}"

    def _tag_key(self, kind: str, tag: str) -> str:
        return f"{self._p}tag:{_q(kind)}:{tag}"

    def _card_prefix(self, platform: str) -> str:
        return f"{self._p}card:{_q(platform)}:"

    def _effect_args(self, fx: EncodedEffects) -> list[str | int]:
        args: list[str | int] = []
        if fx.complete is None:
            args += ["0", "", ""]
        else:
            args += ["1", fx.complete[0], str(int(fx.complete[1]))]
        args.append(len(fx.cancel))
        args += fx.cancel
        args.append(len(fx.timers))
        for timer in fx.timers:
            args += timer
        args.append(len(fx.outbox))
        for o in fx.outbox:
            args += [
                o.id,
                o.platform,
                o.op,
                o.destination,
                "0" if o.card_key is None else "1",
                o.card_key or "",
                o.body,
                o.priority,
                o.created_us,
                "" if o.not_before_us is None else o.not_before_us,
                self._card_prefix(o.platform),
            ]
        args.append(len(fx.audit))
        for entry in fx.audit:
            args += entry
        return args

    # -- records -------------------------------------------------------------

    async def insert(self, record: Record, effects: Effects = NO_EFFECTS) -> Written:
        """Create ``record`` at version 1 with its effects (see the port)."""
        return await self._write(record, None, effects)

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
        return Written(False, _record(record.kind, record.key, reply[1], reply[2], reply[3]))

    async def get(self, kind: str, key: str) -> Record | None:
        """The current record or None."""
        v, d, t = await self._read_record(self._record_key(kind, key))
        return None if v is None else _record(kind, key, v, d, t)

    async def find(self, kind: str, tag: str, limit: int = 200) -> list[Record]:
        """Records of ``kind`` carrying ``tag``, oldest insert first."""
        if limit <= 0:
            return []
        rows = await self._run("find", [self._tag_key(kind, tag)], [limit])
        return [_record(k, key, v, d, t) for k, key, v, d, t in rows]

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
        px = -(-ttl_us // 1000) + _ONCE_SLACK_MS
        reply = await self._run("put_once", [f"{self._p}once:{key}"], [now_us, now_us + ttl_us, px])
        return int(reply) == 1

    async def remembered(self, key: str, now: datetime) -> bool:
        """True when an idempotency key is set and unexpired at ``now``."""
        value = await self._redis().get(f"{self._p}once:{key}")
        return value is not None and int(value) > to_us(now)

    async def forget(self, key: str) -> None:
        """Delete an idempotency key."""
        await self._redis().delete(f"{self._p}once:{key}")

    # -- timers --------------------------------------------------------------

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

    # -- outbox --------------------------------------------------------------

    async def lease_outbox(
        self, platform: str, now: datetime, owner: str, lease_for: timedelta, limit: int = 50
    ) -> list[LeasedOutboxItem]:
        """Lease deliverable items for ``platform``: by priority, then FIFO."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []
        rows = await self._run(
            "lease_outbox",
            [f"{self._p}obq:{platform}"],
            [self._p, now_us, until, owner, limit],
        )
        leased: list[LeasedOutboxItem] = []
        for item_id, plat, op, dest, has_card, card, body, prio, created, nb, tok, n in rows:
            item = OutboxItem(
                id=item_id,
                platform=plat,
                op=op,
                destination=dest,
                body=loads_object(body),
                created_at=from_us(int(created)),
                card_key=card if has_card == "1" else None,
                priority=int(prio),
                not_before=from_us(int(nb)) if nb else None,
            )
            leased.append(LeasedOutboxItem(item, int(tok), int(n)))
        return leased

    async def finish_outbox(
        self, item_id: str, token: int, card_ref: tuple[str, JSON] | None = None
    ) -> bool:
        """Remove a delivered item and remember ``card_ref``; False if fenced off."""
        ref_args = ["0", "", ""] if card_ref is None else ["1", card_ref[0], dumps(card_ref[1])]
        reply = await self._run(
            "finish_outbox",
            [f"{self._p}ob:{item_id}"],
            [self._p, item_id, str(int(token)), *ref_args],
        )
        return int(reply) == 1

    async def retry_outbox(self, item_id: str, token: int, not_before: datetime) -> bool:
        """Release a leased item for another try at ``not_before``."""
        reply = await self._run(
            "retry_outbox", [f"{self._p}ob:{item_id}"], [str(int(token)), to_us(not_before)]
        )
        return int(reply) == 1

    async def outbox_size(self, platform: str | None = None) -> int:
        """Items waiting (leased or not), for one platform or all."""
        if platform is None:
            return int(await self._redis().scard(self._p + "outbox:ids"))
        return int(await self._redis().zcard(f"{self._p}obq:{platform}"))

    async def card_refs(self, platform: str, card_key: str) -> list[JSON]:
        """Where a card was posted on ``platform``, in posting order."""
        refs: list[Any] = await self._redis().lrange(self._card_prefix(platform) + card_key, 0, -1)
        return [loads_object(ref) for ref in refs]

    # -- audit ---------------------------------------------------------------

    async def audit_log(self, subject: str | None = None, limit: int = 1000) -> list[AuditEntry]:
        """The oldest ``limit`` audit entries, optionally for one subject."""
        if limit <= 0:
            return []
        stream = self._p + "audit"
        raw: Any
        if subject is None:
            raw = await self._redis().xrange(stream, count=limit)
        else:
            raw = await self._run("audit_subject", [f"{self._p}audit:s:{subject}", stream], [limit])
        return [_audit_entry(fields) for _, fields in raw]


_RECORD_FIELDS = ["v", "d", "t"]


class _Read:
    """A queued record read: the record hash and the future its caller awaits."""

    __slots__ = ("future", "key")

    def __init__(self, key: str, future: asyncio.Future[Any]) -> None:
        self.key = key
        self.future = future


def _fail(batch: list[_Read], error: BaseException) -> None:
    for call in batch:
        if not call.future.done():
            call.future.set_exception(error)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a read task's exception as seen (its callers got it already)."""
    if not task.cancelled():
        task.exception()


def _record(kind: str, key: str, version: str, data: str, tags: str) -> Record:
    return Record(kind, key, loads_object(data), int(version), loads_tags(tags))


def _audit_entry(fields: Any) -> AuditEntry:
    # Raw XRANGE replies are flat [field, value, ...]; redis-py may give a dict.
    values = (
        fields if isinstance(fields, dict) else dict(zip(fields[::2], fields[1::2], strict=True))
    )
    return AuditEntry(
        at=from_us(int(values["at"])),
        actor=values["actor"],
        action=values["action"],
        subject=values["subject"],
        detail=loads_object(values["detail"]),
    )
