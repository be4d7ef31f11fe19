"""The Redis store's client, lifecycle, read batcher and key names."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from bot.store import EncodedEffects
from bot.store.batches import Batches
from bot.store.redis.codec import q
from bot.store.redis.lane import AdmissionLane
from bot.store.redis.packing import pack_with_hiredis
from bot.store.redis.reads import RECORD_FIELDS, Read, fail, retrieve
from bot.store.redis.scripts import SOURCES
from bot.store.redis.writes import ScriptCall, send_calls

log = logging.getLogger("bot.store.redis")

POOL_SIZE = 100  # redis-py's default
POOL_WAIT = 20.0  # seconds a call waits for a free connection before it fails


class RedisBase:
    """The client, its lifecycle, the read batcher, key names and effect arguments."""

    def __init__(self, url: str, namespace: str = "playcaller") -> None:
        if not namespace or "{" in namespace or "}" in namespace:
            raise ValueError(f"invalid Redis store namespace {namespace!r}")
        self._url = url
        self._namespace = namespace
        self._p = "{" + namespace + "}:"
        self._pool: aioredis.ConnectionPool | None = None
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._lane: AdmissionLane | None = None  # inbox admissions (see bot.store.redis.lane)
        self._open_lock = asyncio.Lock()
        # Record reads, and script calls (every write), each go out in batches.
        self._reads: Batches[Read] = Batches(self._send_read_batch)
        self._scripted: Batches[ScriptCall] = Batches(self._send_script_batch)

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
        # A burst waits for a free connection (up to POOL_WAIT seconds) instead
        # of failing with "Too many connections" as redis-py's default pool does.
        pool = aioredis.BlockingConnectionPool.from_url(
            self._url, decode_responses=True, max_connections=POOL_SIZE, timeout=POOL_WAIT
        )
        pack_with_hiredis(pool)
        client = aioredis.Redis(connection_pool=pool)
        try:
            await client.ping()
        except BaseException:
            await client.aclose()
            await pool.aclose()
            raise
        self._scripts = {name: client.register_script(src) for name, src in SOURCES.items()}
        self._pool, self._client = pool, client
        self._lane = AdmissionLane(self._url, SOURCES["admit_inbox"], POOL_WAIT)
        log.debug("opened Redis store namespace %s", self._namespace)

    async def close(self) -> None:
        """Close the client and its connection pool. The store can be reopened."""
        client, pool, lane = self._client, self._pool, self._lane
        self._client = self._pool = self._lane = None
        self._scripts = {}
        if lane is not None:
            await lane.close()
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
        """Run one of the store's scripts and return its reply.

        Group commit: a call alone is sent at once; calls made while a batch
        is in flight queue up and the next batch sends them all in one
        pipeline round trip (see :mod:`bot.store.redis.writes`), so many
        concurrent compare-and-sets cost one round trip, each still atomic
        with its own outcome. A call cancelled before its batch is sent is
        never sent; cancelling the caller whose task sends a batch does not
        cancel the others' calls.
        """
        self._redis()
        call = ScriptCall(script, keys, args, asyncio.get_running_loop().create_future())
        return await self._scripted.submit(call, call.future)

    async def _send_script_batch(self, batch: list[ScriptCall]) -> None:
        try:
            client = self._redis()
        except RuntimeError as error:  # closed meanwhile: nothing is sent
            for call in batch:
                if not call.future.done():
                    call.future.set_exception(error)
            return
        if len(batch) == 1:
            call = batch[0]
            try:
                reply = await self._scripts[call.script](keys=list(call.keys), args=list(call.args))
            except Exception as error:  # handed to the call's caller
                if not call.future.done():
                    call.future.set_exception(error)
                return
            if not call.future.done():
                call.future.set_result(reply)
            return
        sending = asyncio.ensure_future(send_calls(client, self._scripts, batch))
        sending.add_done_callback(lambda task: _failed(task, batch))
        await asyncio.shield(sending)

    async def _run_first(self, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        """An inbox admission, on the priority lane (see :mod:`bot.store.redis.lane`)."""
        self._redis()
        assert self._lane is not None  # opened with the client
        return await self._lane.run(keys, args)

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
        call = Read(record_key, asyncio.get_running_loop().create_future())
        fields: list[Any] = await self._reads.submit(call, call.future)
        return fields

    async def _send_read_batch(self, batch: list[Read]) -> None:
        if len(batch) == 1:
            await self._send_reads(batch)
            return
        # Shielded: if the task sending it is cancelled, the others still get their replies.
        sending = asyncio.ensure_future(self._send_reads(batch))
        sending.add_done_callback(retrieve)
        await asyncio.shield(sending)

    @property
    def _queue(self) -> list[Read]:
        """Record reads waiting to be sent."""
        return self._reads.queue

    async def _send_reads(self, batch: list[Read]) -> None:
        """Send ``batch`` in one round trip and settle every caller's future."""
        callers: dict[str, list[Read]] = {}
        for call in batch:
            callers.setdefault(call.key, []).append(call)
        replies: list[Any]
        try:
            client = self._redis()
            if len(callers) == 1:
                replies = [await client.hmget(batch[0].key, RECORD_FIELDS)]
            else:
                pipe = client.pipeline(transaction=False)
                for key in callers:
                    pipe.hmget(key, RECORD_FIELDS)
                replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            if len(batch) > 1:
                fail(batch, asyncio.CancelledError())
            raise
        except Exception as error:
            fail(batch, error)
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
        return f"{self._p}rec:{q(kind)}:{key}"

    def _tag_key(self, kind: str, tag: str) -> str:
        return f"{self._p}tag:{q(kind)}:{tag}"

    def _card_prefix(self, platform: str) -> str:
        return f"{self._p}card:{q(platform)}:"

    def _effect_args(self, fx: EncodedEffects) -> list[str | int]:
        args: list[str | int] = []
        if fx.complete is None:
            args += ["0", "", ""]
        else:
            args += ["1", fx.complete[0], str(int(fx.complete[1]))]
        if fx.complete_inbox is None:
            args += ["0", "", ""]
        else:
            args += ["1", fx.complete_inbox[0], str(int(fx.complete_inbox[1]))]
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
        args.append(len(fx.counts))
        for name, amount in fx.counts:
            args += (name, amount)
        return args


def _failed(task: asyncio.Future[None], batch: list[ScriptCall]) -> None:
    """A batch that failed as a whole (the connection broke, or it was
    cancelled): every caller not yet answered gets the error."""
    error: BaseException = asyncio.CancelledError()
    if not task.cancelled():
        found = task.exception()
        if found is None:
            return
        error = found
    for call in batch:
        if not call.future.done():
            call.future.set_exception(error)
