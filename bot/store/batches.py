"""Calls that queue while a batch is in flight and go out together next.

Both backends send concurrent calls in batches (SQLite: one hand-off to the
connection thread, its writes in one transaction; Redis: one pipeline round
trip). A call made while nothing is in flight is sent at once by its own
caller. Calls made while a batch is in flight queue up; when the batch is
done, one drain task sends everything queued as the next batch, and so on
until the queue is empty. Callers never wait for a lock: an earlier design
made every caller take a lock in turn even when its call had already gone
out, and under a burst the queued callers woke one per event-loop turn,
so the next calls went out nearly one at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

_C = TypeVar("_C")  # a queued call
_T = TypeVar("_T")


class Batches(Generic[_C]):
    """The queue of calls and the one batch in flight. ``send(batch)`` sends
    a batch and settles each call's future; it must not raise for one call's
    failure (the call's future gets it) and should settle the others' futures
    even if the task running it is cancelled."""

    def __init__(self, send: Callable[[list[_C]], Awaitable[None]]) -> None:
        self.queue: list[_C] = []
        self._send = send
        self._busy = False
        self._drainer: asyncio.Future[None] | None = None

    async def submit(self, call: _C, future: asyncio.Future[_T]) -> _T:
        """Queue ``call`` and return what its ``future`` is given. A call
        cancelled before its batch was taken is never sent; cancelling a call
        whose batch is on its way does not stop the others of that batch."""
        self.queue.append(call)
        if not self._busy:
            self._busy = True
            batch, self.queue = self.queue, []
            try:
                await self._send(batch)
            finally:
                self._next()
        try:
            return await future
        except BaseException:
            self.queue = [other for other in self.queue if other is not call]
            raise

    def _next(self) -> None:
        if self.queue:
            self._drainer = asyncio.ensure_future(self._drain())
        else:
            self._busy = False

    async def _drain(self) -> None:
        try:
            while self.queue:
                batch, self.queue = self.queue, []
                try:
                    await self._send(batch)
                except Exception:
                    # Its callers were given the error by ``send``; the calls
                    # queued meanwhile still go out.
                    log.debug("a batch failed", exc_info=True)
        finally:
            # (Only the event loop's shutdown cancels this task.)
            self._busy = False
            self._drainer = None
