"""The script batcher's queued calls and how one batch is sent.

Script calls (every write, and the reads that are scripts) made while a batch
is in flight queue up; the next batch sends them all in one pipeline, one
``EVALSHA`` per call in arrival order. Each script is still atomic on its
own and each caller gets its own reply or error: a batch is group commit,
not a transaction, so a compare-and-set that loses does not touch the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError


class ScriptCall:
    """A queued script call: which script, its keys and arguments, and the
    future its caller awaits."""

    __slots__ = ("args", "future", "keys", "script")

    def __init__(
        self,
        script: str,
        keys: Sequence[str],
        args: Sequence[str | int],
        future: asyncio.Future[Any],
    ) -> None:
        self.script = script
        self.keys = keys
        self.args = args
        self.future = future


async def send_calls(
    client: aioredis.Redis, scripts: Mapping[str, AsyncScript], batch: list[ScriptCall]
) -> None:
    """Send ``batch`` in one round trip and settle every caller's future.

    ``EVALSHA`` goes out without the ``SCRIPT EXISTS`` round trip a pipeline
    would make for registered scripts; a call that finds its script missing
    (Redis restarted and lost its script cache; nothing of it ran) is run
    again on its own, which loads the script."""
    pipe = client.pipeline(transaction=False)
    for call in batch:
        script = scripts[call.script]
        pipe.evalsha(script.sha, len(call.keys), *call.keys, *call.args)
    replies = await pipe.execute(raise_on_error=False)
    for call, reply in zip(batch, replies, strict=True):
        if isinstance(reply, NoScriptError):
            try:
                reply = await scripts[call.script](keys=list(call.keys), args=list(call.args))
            except Exception as error:  # handed to this call's caller
                reply = error
        if call.future.done():  # its caller was cancelled
            continue
        if isinstance(reply, BaseException):
            call.future.set_exception(reply)
        else:
            call.future.set_result(reply)
