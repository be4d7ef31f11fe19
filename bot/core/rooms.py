"""Rooms: a place of its own for a piece of work (a crisis incident).

A platform that can create channels (Slack) opens one per room; elsewhere,
and wherever creating is not permitted, the room is the thread under a card
already posted (the fallback card). Either way the room is an outbox item
(``op`` ``room``): delivered once, its place stored under :func:`room_key`
like a card's, so ``thread:<room key>`` posts into it on every platform.

Pure: names, topics and the items' bodies; the platforms do the calls.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from bot.core.storage import JSON
from bot.core.text import single_line

# Slack's rules: lowercase letters, digits, hyphens and underscores, at most 80.
MAX_NAME = 80
# conversations.setTopic takes at most 250 characters.
MAX_TOPIC = 250
# conversations.setPurpose takes 250 too; the marker (about 50) ends it.
MAX_PURPOSE = 180
# Marks the stored place of a room that is a thread under an existing card.
FALLBACK = "fallback"
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")
_DASHES = re.compile(r"-{2,}")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def room_key(room_id: str) -> str:
    """The card key under which a room's place is stored (``room:CR-42``)."""
    return f"room:{room_id}"


def slug(text: str) -> str:
    """``text`` as a channel-name piece: ASCII lowercase, words joined by
    hyphens, everything else dropped (so no mention or link survives)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = _NOT_ALLOWED.sub("-", folded.lower().replace(" ", "-"))
    return _DASHES.sub("-", cleaned).strip("-_")


def channel_name(pattern: str, values: dict[str, str]) -> str:
    """The channel name from a config pattern such as
    ``crisis-{incident}-{playbook}``: each placeholder's value slugged, the
    whole cut to :data:`MAX_NAME` (never ending in a hyphen). Unknown
    placeholders are left out; an empty result falls back to ``room``."""

    def fill(match: re.Match[str]) -> str:
        return slug(values.get(match.group(1), ""))

    name = slug(_PLACEHOLDER.sub(fill, pattern.lower()))
    return name[:MAX_NAME].rstrip("-_") or "room"


def numbered(name: str, attempt: int) -> str:
    """The ``attempt``-th name tried when ``name`` is taken by someone else:
    ``name``, ``name-2``, ``name-3``... (still within :data:`MAX_NAME`)."""
    if attempt <= 1:
        return name
    suffix = f"-{attempt}"
    return name[: MAX_NAME - len(suffix)].rstrip("-_") + suffix


def topic(text: str) -> str:
    """A room topic: one neutralized line of at most :data:`MAX_TOPIC`."""
    return single_line(text, MAX_TOPIC)


@dataclass(frozen=True)
class RoomSpec:
    """What a room is: its id (``CR-42``), the channel name to ask for, its
    topic, the people to invite (person ids), the card under which it runs
    where no channel can be made (that card's key), when it was asked for (a
    channel of its name made before then is someone else's), and the timer
    kind fired once it is open (the feature then learns its place)."""

    room_id: str
    name: str
    topic: str
    members: tuple[str, ...]
    fallback_card_key: str
    private: bool = False
    asked_at: datetime | None = None
    opened_timer: str = ""
    # What people read as the channel's description (the marker follows it).
    purpose: str = ""

    def to_json(self) -> JSON:
        return {
            "room": self.room_id,
            "name": self.name,
            "topic": self.topic,
            "members": list(self.members),
            "fallback": self.fallback_card_key,
            "private": self.private,
            "asked_at": self.asked_at.isoformat() if self.asked_at else None,
            "opened_timer": self.opened_timer,
            "purpose": self.purpose,
        }

    @staticmethod
    def from_json(data: JSON) -> RoomSpec:
        asked_at = data.get("asked_at")
        return RoomSpec(
            room_id=str(data["room"]),
            name=str(data["name"]),
            topic=str(data["topic"]),
            members=tuple(str(m) for m in data.get("members", [])),
            fallback_card_key=str(data["fallback"]),
            private=bool(data.get("private", False)),
            asked_at=datetime.fromisoformat(str(asked_at)) if asked_at else None,
            opened_timer=str(data.get("opened_timer") or ""),
            purpose=str(data.get("purpose") or ""),
        )


def purpose(text: str) -> str:
    """A room purpose: one neutralized line, short enough for the marker
    to follow it within Slack's 250 characters."""
    return single_line(text, MAX_PURPOSE)


def room_marker(delivery_id: str) -> str:
    """What a room channel's purpose carries to say which room item made it
    (so a later attempt of that item, and only that item, takes it as its own)."""
    return f"playcaller-room:{delivery_id}"


def fallback_place(card_ref: JSON, card_key: str) -> JSON:
    """The stored place of a room run in the thread under ``card_key``'s card."""
    return {**card_ref, FALLBACK: card_key}


def is_fallback(place: JSON) -> bool:
    return bool(place.get(FALLBACK))


def place_matches(place: JSON, channel: str, thread: str) -> bool:
    """Whether a person typing in ``channel`` (in ``thread``, or at the top)
    is in the room stored at ``place``: a room channel is the whole channel;
    a fallback room is only the thread under its card (the channel is shared)."""
    room_channel = str(place.get("channel") or place.get("conversation") or "")
    if not channel or room_channel != channel:
        return False
    if not is_fallback(place):
        return True
    root = str(place.get("ts") or place.get("activity_id") or "")
    return bool(thread) and thread == root
