"""Which platforms a deployment posts cards to, agreed by every process.

``serve`` holds the credentials, but ``ingest`` and the other commands queue
cards too, often from an environment without them (a cron job). So the list
comes, in this order, from: an explicit list (the demo), ``PLAYCALLER_PLATFORMS``,
``platforms:`` in the config, the list the last ``serve`` recorded in the shared
store, the credentials in this environment, and finally the console. ``serve``
records what it chose, and warns about cards waiting for a platform it cannot
post to, so a mismatch is visible instead of silent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.settings import Settings
from bot.core.storage import AuditEntry, Effects, Record, Store

log = logging.getLogger(__name__)

KNOWN_PLATFORMS = ("console", "slack", "teams")
RECORD_KIND = "deployment"
RECORD_KEY = "platforms"


@dataclass(frozen=True)
class PlatformChoice:
    """The platforms cards are queued for, and where that list came from."""

    platforms: tuple[str, ...]
    source: str

    @property
    def guessed(self) -> bool:
        """True when nothing shared said so: another process may disagree."""
        return self.source in ("credentials", "default")


def from_credentials(env: Mapping[str, str]) -> tuple[str, ...]:
    """Platforms whose credentials are set in ``env``."""
    found = []
    if env.get("SLACK_BOT_TOKEN"):
        found.append("slack")
    if env.get("MICROSOFT_APP_ID") or env.get("PLAYCALLER_TEAMS_ANONYMOUS") == "1":
        found.append("teams")
    return tuple(found)


def choose_platforms(
    explicit: Sequence[str] | None, settings: Settings, env: Mapping[str, str]
) -> PlatformChoice:
    """Everything but the store's record (see :func:`resolve_platforms`)."""
    if explicit:
        return PlatformChoice(tuple(explicit), "explicit")
    listed = env.get("PLAYCALLER_PLATFORMS", "")
    if listed.strip():
        names = tuple(p.strip() for p in listed.split(",") if p.strip())
        return PlatformChoice(names, "PLAYCALLER_PLATFORMS")
    if settings.platforms:
        return PlatformChoice(settings.platforms, "config")
    found = from_credentials(env)
    if found:
        return PlatformChoice(found, "credentials")
    return PlatformChoice(("console",), "default")


async def resolve_platforms(
    explicit: Sequence[str] | None,
    settings: Settings,
    env: Mapping[str, str],
    store: Store,
    *,
    use_record: bool = True,
) -> PlatformChoice:
    """The platforms to queue cards for; the store's record beats a guess."""
    choice = choose_platforms(explicit, settings, env)
    if choice.guessed and use_record:
        recorded = await recorded_platforms(store)
        if recorded:
            return PlatformChoice(recorded, "recorded by serve")
    return choice


async def recorded_platforms(store: Store) -> tuple[str, ...]:
    """What the last ``serve`` on this store recorded (empty: none did)."""
    record = await store.get(RECORD_KIND, RECORD_KEY)
    if record is None:
        return ()
    return tuple(str(p) for p in record.data.get("platforms", ()))


async def record_platforms(
    store: Store, platforms: Sequence[str], owner: str, now: datetime
) -> None:
    """Remember the platforms this ``serve`` posts to, for the other processes
    (audited when the list changes)."""
    data = {"platforms": list(platforms), "by": owner, "at": now.isoformat()}
    for _ in range(5):
        current = await store.get(RECORD_KIND, RECORD_KEY)
        before = list(current.data.get("platforms", ())) if current else None
        if before == list(platforms):
            return
        effects = Effects(
            audit=(
                AuditEntry(
                    now, "system", "deployment.platforms", "deployment:platforms",
                    {"platforms": list(platforms), "before": before, "by": owner},
                ),
            )
        )  # fmt: skip
        if current is None:
            written = await store.insert(Record(RECORD_KIND, RECORD_KEY, data), effects)
        else:
            record = Record(RECORD_KIND, RECORD_KEY, data, current.version)
            written = await store.replace(record, current.version, effects)
        if written.ok:
            return
    log.warning("could not record the served platforms (other processes kept writing)")


async def mismatches(store: Store, queued_for: Sequence[str], served: Sequence[str]) -> list[str]:
    """Sentences about cards that this process will not post."""
    found = []
    for platform in queued_for:
        if platform not in served:
            found.append(
                f"cards are queued for {platform}, but this process cannot post there "
                "(no credentials): they wait in the outbox"
            )
    for platform in KNOWN_PLATFORMS:
        if platform in served or platform in queued_for:
            continue
        waiting = await store.outbox_size(platform)
        if waiting:
            found.append(
                f"{waiting} card(s) wait in the outbox for {platform}, which this process does "
                "not serve (set platforms: in the config so every process agrees)"
            )
    return found
