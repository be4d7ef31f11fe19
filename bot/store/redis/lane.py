"""The Redis store's priority lane for inbox admissions.

An acknowledgement waits for its admission, so admissions must not wait for
the shared connection pool (redis-py's default pool refuses a call outright,
``MaxConnectionsError``, once 100 are in flight, which a backlog of handlers
reached under load) nor queue behind handler traffic. They go out on the
lane's own connection, one batch at a time: an admission alone is sent at
once; admissions made while a batch is in flight queue up and the next batch
sends them all in one pipeline (one round trip). Each is still its own
script call, atomic on its own, with its own outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from bot.store.redis.reads import retrieve

Call = tuple[Sequence[str], Sequence[str | int], "asyncio.Future[Any]"]


class AdmissionLane:
    """Batched script calls of one script on a dedicated connection."""

    def __init__(self, url: str, source: str) -> None:
        self._client = aioredis.Redis.from_url(
            url, decode_responses=True, single_connection_client=True
        )
        self._script = self._client.register_script(source)
        self._source = source
        self._lock = asyncio.Lock()
        self._queue: list[Call] = []

    async def close(self) -> None:
        await self._client.aclose()

    async def run(self, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        call: Call = (keys, args, asyncio.get_running_loop().create_future())
        self._queue.append(call)
        try:
            async with self._lock:
                if self._queue:
                    batch, self._queue = self._queue, []
                    # Shielded: if this caller is cancelled, the others still get replies.
                    sending = asyncio.ensure_future(self._send(batch))
                    sending.add_done_callback(retrieve)
                    await asyncio.shield(sending)
        except BaseException:
            # Cancelled while waiting for the lock: a call not yet taken is never sent.
            self._queue = [other for other in self._queue if other is not call]
            raise
        return await call[2]

    async def _send(self, batch: list[Call]) -> None:
        try:
            replies = await self._pipeline(batch)
            if any(isinstance(reply, NoScriptError) for reply in replies):
                await self._client.script_load(self._source)  # Redis lost its scripts
                replies = await self._pipeline(batch)
        except Exception as error:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, _, future), reply in zip(batch, replies, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(reply, BaseException):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _pipeline(self, batch: list[Call]) -> list[Any]:
        if len(batch) == 1:
            keys, args, _ = batch[0]
            try:
                return [await self._script(keys=list(keys), args=list(args))]
            except NoScriptError as error:
                return [error]
        pipe = self._client.pipeline(transaction=False)
        for keys, args, _ in batch:
            pipe.evalsha(self._script.sha, len(keys), *keys, *args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
