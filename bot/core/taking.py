"""Taking turns on a key within one process: the port the Turn offers handlers.

A handler that is about to decide something (an approval on a draft) can
hold the key's turn, so a second decision on the same key in this process
waits for the first and then reads its outcome instead of building one that
is bound to lose its compare-and-set. Across processes the compare-and-set
alone decides. The implementation with locks is ``bot/turns.py`` (the core
imports no asyncio); without one, holding a key never waits.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol


class Slot:
    """One key's turn: who holds it, whether the holder had to wait for it,
    and notes the holder leaves for the next one (they live while someone
    holds or waits for the key, never longer)."""

    __slots__ = ("holder", "notes", "waited")

    def __init__(self) -> None:
        self.holder: object | None = None
        self.waited = False
        self.notes: dict[str, Any] = {}


class Turns(Protocol):
    """Turn-taking on keys (see the module docstring)."""

    def hold(self, key: str, holder: object) -> contextlib.AbstractAsyncContextManager[Slot]:
        """Hold ``key``'s turn for ``holder`` (again, if it holds it already)."""

    def held(self, key: str, holder: object) -> Slot | None:
        """``key``'s slot if ``holder`` holds it now."""


class NoTurns:
    """Never waits: every hold gets a fresh slot of its own."""

    @contextlib.asynccontextmanager
    async def hold(self, key: str, holder: object) -> AsyncIterator[Slot]:
        slot = Slot()
        slot.holder = holder
        yield slot

    def held(self, key: str, holder: object) -> Slot | None:
        return None
