"""The outbox's room items (see :mod:`bot.core.rooms`): open a room, invite
people into it, archive it once its last card is out.

A room whose platform cannot make channels (or may not) runs in the thread
under its fallback card: inviting and archiving are then nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from bot.core.clock import Clock
from bot.core.errors import RetryLater
from bot.core.rooms import RoomSpec, fallback_place, is_fallback, room_key
from bot.core.storage import JSON, AuditEntry, Effects, LeasedOutboxItem, Store, Timer

ROOM_OPS = frozenset({"room", "invite", "archive"})


@runtime_checkable
class OpensRooms(Protocol):
    """A delivery that can make a room a channel of its own (Slack)."""

    async def open_room(self, spec: RoomSpec, *, delivery_id: str, attempt: int) -> JSON | None:
        """Open (or find, after an attempt of unknown outcome) the room's
        channel and invite its members; None when the platform does not
        permit it (the room then runs in the fallback card's thread)."""

    async def invite(self, place: JSON, person_ids: Sequence[str]) -> None:
        """Invite people into the room channel at ``place``."""

    async def archive(self, place: JSON) -> None:
        """Archive the room channel at ``place`` (done already is no error)."""


class RoomItems:
    """Delivers one sender's room items; the sender keeps the retry rules."""

    def __init__(
        self,
        store: Store,
        delivery: object,
        clock: Clock,
        not_posted: Callable[[LeasedOutboxItem], RetryLater],
        shared: Callable[[Sequence[JSON]], list[JSON]],
    ) -> None:
        self.store = store
        self.delivery = delivery
        self.clock = clock
        # The wait for a card this item depends on (posts are paced).
        self.not_posted = not_posted
        # Where a card was posted for everyone (not a personal copy).
        self.shared = shared

    async def deliver(self, leased: LeasedOutboxItem) -> RetryLater | None:
        """Deliver and finish ``leased``; a :class:`RetryLater` when it must wait."""
        item = leased.item
        room_id = item.destination.removeprefix("room:")
        if item.op == "room":
            return await self._open(leased, RoomSpec.from_json(item.body))
        places = await self.store.card_refs(item.platform, room_key(room_id))
        if not places:
            return self.not_posted(leased)
        rooms = self.delivery if isinstance(self.delivery, OpensRooms) else None
        channel = None if is_fallback(places[0]) or rooms is None else places[0]
        effects = Effects()
        if item.op == "invite" and channel is not None and rooms is not None:
            await rooms.invite(channel, [str(m) for m in item.body.get("members", [])])
        elif item.op == "archive":
            after = str(item.body.get("after") or "")
            if after and not await self.store.card_refs(item.platform, after):
                return self.not_posted(leased)  # its last card goes in first
            cards = [after, *(str(c) for c in item.body.get("cards") or [])]
            into_room = [f"thread:{room_key(room_id)}"]
            if await self.store.outbox_waiting_for(item.platform, cards, into_room):
                # An archived room refuses every later post and update: the
                # resolved card (updates are paced) must be in before it.
                return self.not_posted(leased)
            if channel is not None and rooms is not None:
                await rooms.archive(channel)
                effects = Effects(audit=(self._audit("room.archived", room_id, item.platform),))
        await self.store.finish_outbox(item.id, leased.token, effects=effects)
        return None

    async def _open(self, leased: LeasedOutboxItem, spec: RoomSpec) -> RetryLater | None:
        item = leased.item
        place = None
        # A room asked to close before it opened (an incident resolved while
        # Slack held the create back) gets no channel: nobody would archive it.
        closed = await self.store.outbox_waiting_for(
            item.platform, [], [item.destination], ops=["archive"]
        )
        if spec.name and not closed and isinstance(self.delivery, OpensRooms):
            place = await self.delivery.open_room(
                spec, delivery_id=item.id, attempt=leased.attempts
            )
        if place is None:
            refs = self.shared(await self.store.card_refs(item.platform, spec.fallback_card_key))
            if not refs:
                return self.not_posted(leased)
            place = fallback_place(refs[0], spec.fallback_card_key)
        opened = self._audit("room.opened", spec.room_id, item.platform, place=dict(place))
        timers: tuple[Timer, ...] = ()
        if spec.opened_timer:
            # The feature learns where its room is (a link on its card).
            payload = {"room": spec.room_id, "platform": item.platform, "place": dict(place)}
            key = f"{spec.opened_timer}:{spec.room_id}:{item.platform}"
            timers = (Timer(key, spec.opened_timer, self.clock.now(), payload),)
        await self.store.finish_outbox(
            item.id,
            leased.token,
            (room_key(spec.room_id), place),
            Effects(audit=(opened,), timers=timers),
        )
        return None

    def _audit(self, action: str, room_id: str, platform: str, **detail: object) -> AuditEntry:
        return AuditEntry(
            at=self.clock.now(),
            actor="system",
            action=action,
            subject=room_key(room_id),
            detail={"platform": platform, **detail},
        )
