"""Turn-taking on keys within one process, with asyncio locks (the
:class:`~bot.core.taking.Turns` port; see there for why)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.core.taking import Slot


class _Entry:
    __slots__ = ("lock", "slot", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0
        self.slot = Slot()


class KeyedTurns:
    """One lock per key, kept only while someone holds or waits for it (so
    nothing is kept between decisions, nor across event loops)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def held(self, key: str, holder: object) -> Slot | None:
        entry = self._entries.get(key)
        return entry.slot if entry is not None and entry.slot.holder is holder else None

    @contextlib.asynccontextmanager
    async def hold(self, key: str, holder: object) -> AsyncIterator[Slot]:
        entry = self._entries.get(key)
        if entry is not None and entry.slot.holder is holder:
            # Held already (a handler that took it before reading): its reads
            # came after any wait.
            slot = entry.slot
            waited, slot.waited = slot.waited, False
            try:
                yield slot
            finally:
                slot.waited = waited
            return
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            waited = entry.lock.locked()
            async with entry.lock:
                entry.slot.holder, entry.slot.waited = holder, waited
                try:
                    yield entry.slot
                finally:
                    entry.slot.holder = None
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[key]
