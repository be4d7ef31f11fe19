"""The batcher's queued record reads and their settling helpers."""

from __future__ import annotations

import asyncio
from typing import Any

RECORD_FIELDS = ["v", "d", "t"]


class Read:
    """A queued record read: the record hash and the future its caller awaits."""

    __slots__ = ("future", "key")

    def __init__(self, key: str, future: asyncio.Future[Any]) -> None:
        self.key = key
        self.future = future


def fail(batch: list[Read], error: BaseException) -> None:
    for call in batch:
        if not call.future.done():
            call.future.set_exception(error)


def retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a read task's exception as seen (its callers got it already)."""
    if not task.cancelled():
        task.exception()
