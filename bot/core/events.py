"""Neutral inbound events. Platforms convert their payloads into these.

The actor always comes from the platform's verified envelope, never from a
button value or form field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.model import Actor, Mention


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """What every event carries.

    ``channel`` is the neutral channel (a spoke id, ``hub``) when the platform
    channel is bound to one, else None; ``platform_channel`` is the platform's
    own id. ``dedupe_key`` identifies a delivery so retries and double clicks
    have one effect. ``inbox_lease`` is ``(entry key, fencing token)`` when
    the event was stored in the inbox before it was acknowledged: the inbox
    already deduplicated it, and the turn's first committed write completes
    the entry (see :mod:`bot.inbox`).
    """

    platform: str
    actor: Actor
    received_at: datetime
    channel: str | None = None
    platform_channel: str = ""
    # The thread typed in (Teams: the root message's id), else empty.
    platform_thread: str = ""
    direct: bool = False
    dedupe_key: str | None = None
    inbox_lease: tuple[str, int] | None = None
    raw_ref: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Command(Envelope):
    """A slash command such as ``/triage`` (``name`` without the slash)."""

    name: str
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class Action(Envelope):
    """A button press on a card. ``card_key`` names the card pressed."""

    action_id: str
    value: str = ""
    card_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class Message(Envelope):
    """Text sent to the bot: a DM, or a channel message that mentions it."""

    text: str
    mentioned: bool = False


@dataclass(frozen=True, kw_only=True)
class FormSubmitted(Envelope):
    """A submitted form: ``values`` by input id, ``context`` as given when opened."""

    form_id: str
    values: dict[str, str]
    context: str = ""


@dataclass(frozen=True, kw_only=True)
class TimerFired(Envelope):
    """A durable timer came due. ``token`` fences its completion."""

    kind: str
    key: str
    payload: dict[str, Any]
    token: int
    attempts: int = 1


@dataclass(frozen=True, kw_only=True)
class MentionArrived(Envelope):
    """A validated, enriched mention from intake."""

    mention: Mention


@dataclass(frozen=True, kw_only=True)
class PublicationSettled(Envelope):
    """A queued publication (:meth:`bot.core.turn.Turn.publish`) has settled:
    the receiver accepted it (``published``) or it failed for good.

    It reaches the routers once per settled round, exactly as a timer does:
    the sender recorded the outcome in the same store write that completed
    the outbox item, as the durable timer ``settlement`` names (``(timer key,
    fencing token)``), and the handler's first committed write (or its end)
    completes that timer. ``url`` and ``post_id`` are where the post landed,
    when the receiver said; ``reason`` is the receiver's own words (or why
    retrying stopped) when it failed; ``attempts`` counts the POSTs tried;
    ``settled_at`` is when the outcome was known.
    """

    draft_id: str
    version: int
    round: int
    published: bool
    url: str | None = None
    post_id: str | None = None
    reason: str = ""
    attempts: int = 1
    settled_at: datetime
    settlement: tuple[str, int]

    @property
    def key(self) -> str:
        """The publication's key (``<draft id>:<version>``), its Idempotency-Key."""
        return f"{self.draft_id}:{self.version}"


Event = (
    Command | Action | Message | FormSubmitted | TimerFired | MentionArrived | PublicationSettled
)
