"""Which platform channel serves which spoke: from config, or linked by an admin.

Links are store records (one per platform and spoke) so every bot process
sees them and they survive restarts.
"""

from __future__ import annotations

from bot.core.settings import Settings
from bot.core.storage import Record, Store

LINK_KIND = "channel-link"


def link_key(platform: str, spoke: str) -> str:
    return f"{platform}:{spoke}"


def channel_tag(platform: str, channel: str) -> str:
    return f"channel:{platform}:{channel}"


def link_record(platform: str, spoke: str, channel: str | None, by: str, version: int) -> Record:
    """The record binding ``spoke`` to ``channel`` on ``platform`` (None: unbound)."""
    return Record(
        LINK_KIND,
        link_key(platform, spoke),
        {"platform": platform, "spoke": spoke, "channel": channel, "by": by},
        version,
        frozenset({channel_tag(platform, channel)}) if channel else frozenset(),
    )


async def spoke_for_channel(
    store: Store, settings: Settings, platform: str, channel: str
) -> str | None:
    """The spoke a platform channel serves: a link made in chat wins over config,
    and a spoke linked (or unlinked) in chat no longer uses its configured channel."""
    if not channel:
        return None
    linked = await store.find(LINK_KIND, channel_tag(platform, channel), limit=1)
    if linked:
        return str(linked[0].data["spoke"])
    configured = settings.channel_spoke(platform, channel)
    if configured is None or await store.get(LINK_KIND, link_key(platform, configured)):
        return None
    return configured


async def channel_for_spoke(
    store: Store, settings: Settings, platform: str, spoke: str
) -> str | None:
    """The platform channel that serves ``spoke``: a link made in chat (or an
    explicit unlink) wins over config."""
    record = await store.get(LINK_KIND, link_key(platform, spoke))
    if record is not None:
        channel = record.data.get("channel")
        return str(channel) if channel else None
    return settings.channels.get(spoke, {}).get(platform)
