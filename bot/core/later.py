"""Cards rendered when the outbox sends them rather than when they are queued.

A mention's first card is queued at admission, but a channel takes about one
post a second while intake admits thousands of mentions a second: building
and encoding every card at admission was most of intake's CPU, spent long
before the card could be shown. Such an outbox item holds a small body naming
a renderer, the record's key and the time the card is shown as of; the sender
asks the feature's renderer for the card when it delivers the item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.storage import JSON

# The body key that marks a card rendered when sent (a card's own JSON never
# has it: see ``Card.to_json``).
RENDER = "render"


@dataclass(frozen=True)
class LaterCard:
    """Which renderer builds the card, of which record, as of when."""

    renderer: str
    key: str
    at: datetime

    def to_json(self) -> JSON:
        return {RENDER: self.renderer, "key": self.key, "at": self.at.isoformat()}


def later_card(body: JSON) -> LaterCard | None:
    """The :class:`LaterCard` an outbox body stands for; None for a card's own JSON."""
    renderer = body.get(RENDER)
    if renderer is None:
        return None
    return LaterCard(str(renderer), str(body["key"]), datetime.fromisoformat(str(body["at"])))
