"""Administration in chat: ``/playcaller link SPOKE`` binds the current channel."""

from __future__ import annotations

from bot.core.cards import Tone
from bot.core.directory import LINK_KIND, channel_tag, link_key, link_record
from bot.core.errors import InvalidInput, NotPermitted
from bot.core.events import Command
from bot.core.permissions import Permission, role_names
from bot.core.router import Router
from bot.core.text import single_line
from bot.core.turn import Turn

router = Router("admin")


@router.command(
    "playcaller", doing="link this channel to a spoke (admins)", usage="/playcaller link SPOKE"
)
async def on_playcaller(turn: Turn, command: Command) -> None:
    verb, _, rest = command.text.strip().partition(" ")
    if verb.lower() == "link":
        await link(turn, command, rest.strip().lower())
        return
    if verb.lower() in ("", "help"):
        await turn.say(turn.render("admin/usage.txt"))
        return
    raise InvalidInput(
        "subcommand", f"unknown {single_line(verb, 30)!r}; try /playcaller link SPOKE"
    )


async def link(turn: Turn, command: Command, spoke: str) -> None:
    """Bind the channel the command came from to ``spoke`` on this platform."""
    if not turn.actor.may(Permission.LINK_CHANNELS):
        raise NotPermitted(
            "link channels", role_names(turn.settings.permissions, Permission.LINK_CHANNELS)
        )
    settings = turn.settings
    if not spoke or not settings.has_spoke(spoke):
        known = ", ".join(s.id for s in settings.all_spokes())
        raise InvalidInput("spoke", f"name one of {known}")
    channel = command.platform_channel
    if not channel or command.direct:
        raise InvalidInput("channel", "run /playcaller link in the channel to link, not in a DM")
    platform = command.platform
    # A channel serves one spoke: unbind it from any other first, whether it
    # was linked in chat or configured.
    configured = [
        other
        for other, by_platform in settings.channels.items()
        if by_platform.get(platform) == channel and other != spoke
    ]
    for other_spoke in configured:
        if await turn.store.get(LINK_KIND, link_key(platform, other_spoke)) is None:
            turn.audit("channel.unlink", f"spoke:{other_spoke}", platform=platform, channel=channel)
            await turn.insert(link_record(platform, other_spoke, None, turn.actor.person_id, 0))
    for other in await turn.store.find(LINK_KIND, channel_tag(platform, channel)):
        if other.data["spoke"] != spoke:
            turn.audit(
                "channel.unlink", f"spoke:{other.data['spoke']}", platform=platform, channel=channel
            )
            await turn.replace(
                link_record(
                    platform, str(other.data["spoke"]), None, turn.actor.person_id, other.version
                ),
                other.version,
            )
    current = await turn.store.get(LINK_KIND, link_key(platform, spoke))
    version = current.version if current else 0
    turn.audit("channel.link", f"spoke:{spoke}", platform=platform, channel=channel)
    record = link_record(platform, spoke, channel, turn.actor.person_id, version)
    written = await (turn.replace(record, version) if current else turn.insert(record))
    if not written.ok:
        raise InvalidInput("spoke", "someone linked this spoke at the same moment; try again")
    await turn.say(
        turn.render(
            "admin/linked.txt", spoke=settings.spoke(spoke).name, hub=spoke == settings.hub.id
        ),
        ephemeral=False,
        tone=Tone.GOOD,
    )
