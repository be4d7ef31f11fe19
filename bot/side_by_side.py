"""Awaiting a pool of tasks to the end of every one of them.

``asyncio.gather`` raises the first failure at once and leaves the others
running unawaited: the caller moves on (a sender's next pass, a scheduler's
next tick) while they still hold leases and write, and what they return is
lost. Each task in these pools handles its own items' failures; anything
that still escapes one is raised here only once all the others have finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def side_by_side(tasks: Iterable[Awaitable[T]]) -> list[T]:
    """Await ``tasks`` at once and every one of them to its end; then raise
    the first failure, if any (cancelling the caller still cancels them all)."""
    results = await asyncio.gather(*tasks, return_exceptions=True)
    done: list[T] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        done.append(result)
    return done
