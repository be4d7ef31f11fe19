"""The crisis room: where an incident is run.

On Slack a channel of its own (named from ``crisis_rooms.name``), with the
lead and everyone paged invited and the summary as its topic; where Slack
refuses (or ``crisis_rooms.slack_channels`` is off), and on Teams and the
console, the thread under the incident card in the hub channel. The room is
opened through the outbox with the declaration (see :mod:`bot.core.rooms`),
so it exists once however often the delivery is retried; its place is
stored under ``room:CR-N`` and found again by the commands typed in it.
"""

from __future__ import annotations

import re

from bot.core.cards import Card
from bot.core.rooms import (
    RoomSpec,
    channel_name,
    is_fallback,
    place_matches,
    purpose,
    room_key,
    slug,
    topic,
)
from bot.core.turn import INTERACTIVE, Turn
from handlers.crisis.cards import card_key
from handlers.crisis.incident import Incident
from handlers.crisis.records import KIND, from_record

# The timer the outbox fires once a room is open (its place in the payload).
OPENED = "crisis.room_opened"
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


def channel_of(place: object) -> tuple[str, str] | None:
    """The room channel's id and name at a stored place, where the room is a
    channel of its own (Slack); None for a thread, or anything malformed."""
    if not isinstance(place, dict) or is_fallback(place):
        return None
    channel, name = str(place.get("channel") or ""), slug(str(place.get("name") or ""))
    return (channel, name) if _CHANNEL_ID.match(channel) and name else None


def spec_for(turn: Turn, incident: Incident, title: str) -> RoomSpec:
    """The room to open for ``incident``: its name from config, its topic
    from the incident (neutralized), the lead and everyone paged invited."""
    rooms = turn.settings.crisis_rooms
    name = (
        channel_name(
            rooms.name,
            {
                "incident": incident.id,
                "playbook": incident.playbook,
                "severity": incident.severity.value,
                "summary": incident.summary,
            },
        )
        if rooms.slack_channels
        else ""
    )
    return RoomSpec(
        room_id=incident.id,
        name=name,
        topic=topic(
            turn.render(
                "crisis/room_topic.txt",
                title=title,
                severity=incident.severity.value.upper(),
                summary=incident.summary,
            )
        ),
        members=members(incident),
        fallback_card_key=card_key(incident),
        private=rooms.private,
        asked_at=turn.now(),
        opened_timer=OPENED,
        purpose=purpose(turn.render("crisis/room_purpose.txt", incident=incident.id)),
    )


def members(incident: Incident) -> tuple[str, ...]:
    """Who belongs in the room: the lead and everyone paged."""
    return tuple(dict.fromkeys([incident.lead, *(p.person for p in incident.paged)]))


def open_room(turn: Turn, incident: Incident, card: Card, title: str) -> None:
    """Open the incident's room and post its card there (where the room is
    the card's own thread, the card is already there)."""
    turn.open_room(spec_for(turn, incident, title))
    post(turn, incident.id, card, priority=INTERACTIVE)


def post(turn: Turn, incident_id: str, card: Card, *, priority: int = INTERACTIVE) -> None:
    """Post ``card`` into the incident's room."""
    turn.reply_in_thread(room_key(incident_id), card, priority=priority)


async def where(turn: Turn, incident_id: str) -> str | None:
    """Where the incident's room is: ``channel`` where one platform made it
    a channel of its own, ``thread`` where it is the thread under the
    incident card, ``opening`` while its opening still waits in the outbox
    (Slack held the create back), None where it was never opened (an incident
    declared before rooms existed)."""
    found = None
    for platform in turn.platforms:
        for place in await turn.store.card_refs(platform, room_key(incident_id)):
            if not is_fallback(place):
                return "channel"
            found = "thread"
    if found is None:
        for platform in turn.platforms:
            if await turn.store.outbox_waiting_for(platform, [room_key(incident_id)], []):
                return "opening"
    return found


def invite_newcomers(turn: Turn, before: Incident, after: Incident) -> None:
    """Invite people paged (or made lead) since ``before``; at declaration
    the room's own opening invites them."""
    if before.version == 0:
        return
    known = set(members(before))
    newcomers = [p for p in members(after) if p not in known]
    if newcomers:
        turn.invite_to_room(after.id, newcomers)


async def incident_here(
    turn: Turn, open_incidents: list[Incident] | None = None
) -> Incident | None:
    """The open incident whose room the event was typed in, if any."""
    event = turn.event
    if event.direct or not event.platform_channel:
        return None
    if open_incidents is None:
        open_incidents = [from_record(r) for r in await turn.store.find(KIND, "open")]
    for incident in open_incidents:
        places = await turn.store.card_refs(event.platform, room_key(incident.id))
        if places and place_matches(places[0], event.platform_channel, event.platform_thread):
            return incident
    return None
