"""A console Delivery for ``serve`` without chat credentials: cards are
written as plain transcript lines to a stream (stdout by default)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TextIO

from bot.core.cards import Card
from bot.core.settings import Settings
from bot.core.storage import JSON
from bot.outbox import Undeliverable
from bot.platforms.console.render import plain_lines

PLATFORM = "console"


class TranscriptDelivery:
    """Writes each delivered card to ``stream``; ``on_card`` observes deliveries."""

    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        stream: TextIO,
        on_card: Callable[[str, Card], None] | None = None,
    ) -> None:
        self.settings = settings
        self.stream = stream
        self.on_card = on_card
        self._numbers = itertools.count(1)

    def _write(self, card: Card, number: int, place: str, updated: bool = False) -> None:
        self.stream.write("\n".join(plain_lines(card, number, place, updated)) + "\n")
        self.stream.flush()
        if self.on_card:
            self.on_card(place, card)

    async def post(
        self, destination: str, card: Card, *, delivery_id: str = "", attempt: int = 1
    ) -> JSON:
        if not self.settings.has_spoke(destination):
            raise Undeliverable(f"no channel for {destination!r}")
        place = self.settings.channels.get(destination, {}).get(PLATFORM, f"#{destination}")
        number = next(self._numbers)
        self._write(card, number, place)
        return {"number": number, "channel": place}

    async def dm(
        self, person_id: str, card: Card, *, delivery_id: str = "", attempt: int = 1
    ) -> JSON:
        number = next(self._numbers)
        self._write(card, number, f"@{person_id}")
        return {"number": number, "channel": f"@{person_id}"}

    async def post_in_thread(
        self, ref: JSON, card: Card, *, delivery_id: str = "", attempt: int = 1
    ) -> JSON:
        number = next(self._numbers)
        self._write(card, number, f"{ref['channel']}, thread of #{ref['number']}")
        return {"number": number, "channel": str(ref["channel"])}

    async def update(self, ref: JSON, card: Card) -> None:
        self._write(card, int(ref["number"]), str(ref["channel"]), updated=True)


class TranscriptPlatform:
    """The console as ``serve`` runs it without chat credentials: cards go to a stream."""

    name = PLATFORM

    def __init__(self, delivery: TranscriptDelivery) -> None:
        self._delivery = delivery

    @property
    def delivery(self) -> TranscriptDelivery:
        return self._delivery

    def mount(self, app: object) -> None:
        """No routes: the console has no inbound HTTP."""

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to close."""
