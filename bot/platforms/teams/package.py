"""The Microsoft Teams app package: ``manifest.json`` plus two icons, zipped (pure, stdlib only).

The manifest targets schema v1.24 but keeps to the limits of v1.19 (at most 10 commands per
list, titles up to 32 characters, descriptions up to 128), so the same content also validates
as v1.19 with only ``manifestVersion`` and ``$schema`` changed.

The developer fields default to placeholders on example.com: an admin must replace them with
the organisation's own name, website, privacy statement and terms of use before publishing.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MANIFEST_VERSION = "1.24"
SCHEMA_URL = (
    f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}"
    "/MicrosoftTeams.schema.json"
)
ACCENT_COLOR = "#1D3557"
BOT_SCOPES = ("personal", "team", "groupChat")
PERMISSIONS = ("identity", "messageTeamMembers")
PACKAGE_NAME = "playcaller-teams.zip"

DEFAULT_DEVELOPER_NAME = "Playcaller"
DEFAULT_WEBSITE_URL = "https://example.com/playcaller"
DEFAULT_PRIVACY_URL = "https://example.com/playcaller/privacy"
DEFAULT_TERMS_URL = "https://example.com/playcaller/terms"

Command = tuple[str, str, tuple[str, ...]]  # (title, description, scopes)

DEFAULT_COMMANDS: tuple[Command, ...] = (
    ("help", "What you can do here", BOT_SCOPES),
    ("triage", "Your claims and the spoke's queue", BOT_SCOPES),
    ("approvals", "What waits for your approval, and your drafts", BOT_SCOPES),
    ("draft", "Draft a new post on a company account", BOT_SCOPES),
    ("link", "Link this channel to a spoke (admins)", ("team",)),
    ("crisis", "Declare a crisis from a playbook, or list open incidents", BOT_SCOPES),
)

SHORT_DESCRIPTION = "Social media triage, reply approvals and guideline answers"
FULL_DESCRIPTION = (
    "Playcaller brings social media operations into Microsoft Teams. Mentions of your brand "
    "arrive in each team's channel as triage cards that a responder claims with one click. "
    "Response-time reminders nudge whoever holds a claim, and anything left too long escalates "
    "to the team's coaches. Replies are drafted in chat, checked against the company's policy "
    "and approved by a coach with one click. Anyone can ask the bot what the posting "
    "guidelines say and get the answer with its source. Crisis leads declare an incident from "
    "a playbook: the bot pages the people it names, tracks acknowledgements, escalates and "
    "runs the checklist. Type help in a chat with the bot to see what you can do."
)

# The v1.19 limits; v1.24 allows 12 commands, 128-character titles and 4000-character
# descriptions, but keeping to the smaller ones lets the manifest serve either version.
MAX_COMMANDS = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128
MAX_DEVELOPER_NAME = 32

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
_HOST = re.compile(r"(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?")
# 1980-01-01 is the earliest time a zip entry can carry; fixed so builds are reproducible.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def teams_manifest(
    *,
    app_id: str,
    bot_id: str,
    version: str = "1.0.0",
    developer_name: str = DEFAULT_DEVELOPER_NAME,
    website_url: str = DEFAULT_WEBSITE_URL,
    privacy_url: str = DEFAULT_PRIVACY_URL,
    terms_url: str = DEFAULT_TERMS_URL,
    host: str | None = None,
    commands: Sequence[Command] = DEFAULT_COMMANDS,
) -> dict[str, Any]:
    """The app manifest (schema v1.24), checked field by field; raises ValueError naming a field.

    ``app_id`` is the Teams app's own GUID (keep it stable: an update must reuse it);
    ``bot_id`` is the Azure bot's Microsoft App ID. ``host`` is the bot's public host name
    (a URL is accepted and reduced to its host). ``commands`` are (title, description, scopes)
    triples, listed per scope in Teams' command menu.
    """
    _check_guid("app_id", app_id)
    _check_guid("bot_id", bot_id)
    if not _SEMVER.fullmatch(version):
        raise ValueError(f"version must be semver like 1.0.0, not {version!r}")
    if not developer_name.strip() or len(developer_name) > MAX_DEVELOPER_NAME:
        raise ValueError(f"developer_name must be 1 to {MAX_DEVELOPER_NAME} characters")
    for field, url in (
        ("website_url", website_url),
        ("privacy_url", privacy_url),
        ("terms_url", terms_url),
    ):
        _check_https("developer " + field, url)
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id.lower(),
        "developer": {
            "name": developer_name,
            "websiteUrl": website_url,
            "privacyUrl": privacy_url,
            "termsOfUseUrl": terms_url,
        },
        "name": {"short": "Playcaller", "full": "Playcaller: social media ops for Teams"},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": bot_id.lower(),
                "scopes": list(BOT_SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": _command_lists(commands),
            }
        ],
        "permissions": list(PERMISSIONS),
        "validDomains": [] if host is None else [_domain(host)],
    }


def _check_guid(field: str, value: str) -> None:
    if not _GUID.fullmatch(value):
        raise ValueError(
            f"{field} must be a GUID like 00000000-0000-0000-0000-000000000000, not {value!r}"
        )


def _check_https(field: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or len(url) > 2048:
        raise ValueError(f"{field} must be an https:// URL, not {url!r}")


def _domain(host: str) -> str:
    """A validDomains entry: the host (and port), without scheme or path."""
    name = urlsplit(host).netloc if "://" in host else host
    if not _HOST.fullmatch(name):
        raise ValueError(f"host must be a host name like bot.example.com, not {host!r}")
    return name.lower()


def _command_lists(commands: Sequence[Command]) -> list[dict[str, Any]]:
    """One command list per bot scope that has any commands, in BOT_SCOPES order."""
    for title, description, scopes in commands:
        if not title.strip() or len(title) > MAX_COMMAND_TITLE:
            raise ValueError(f"command title {title!r} must be 1 to {MAX_COMMAND_TITLE} characters")
        if not description.strip() or len(description) > MAX_COMMAND_DESCRIPTION:
            raise ValueError(
                f"command {title!r}: description must be 1 to {MAX_COMMAND_DESCRIPTION} characters"
            )
        unknown = [s for s in scopes if s not in BOT_SCOPES]
        if unknown or not scopes:
            raise ValueError(f"command {title!r}: scopes must be some of {', '.join(BOT_SCOPES)}")
    lists = []
    for scope in BOT_SCOPES:
        entries = [
            {"title": title, "description": description}
            for title, description, scopes in commands
            if scope in scopes
        ]
        if not entries:
            continue
        titles = [e["title"].casefold() for e in entries]
        if len(set(titles)) != len(titles):
            raise ValueError(f"commands for scope {scope} have duplicate titles")
        if len(entries) > MAX_COMMANDS:
            raise ValueError(f"scope {scope} has {len(entries)} commands; at most {MAX_COMMANDS}")
        lists.append({"scopes": [scope], "commands": entries})
    return lists


def png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int, int]]) -> bytes:
    """An 8-bit RGBA PNG; ``pixel(x, y)`` gives each pixel's (r, g, b, a), 0 to 255."""
    if width < 1 or height < 1:
        raise ValueError("a PNG needs a width and height of at least 1")
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type 0 (None) for every scanline
        for x in range(width):
            rgba = pixel(x, y)
            if len(rgba) != 4:
                raise ValueError(f"pixel ({x}, {y}) must be (r, g, b, a), got {rgba!r}")
            raw.extend(rgba)  # bytes() raises ValueError outside 0..255

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    # bit depth 8, colour type 6 (RGBA), deflate, adaptive filtering, no interlace
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def _in_p(x: float, y: float) -> bool:
    """A bold "P" on the unit square: a stem and a ring-shaped bowl."""
    if 0.29 <= x < 0.44 and 0.21 <= y < 0.79:  # stem
        return True
    if 0.29 <= x < 0.57 and (0.21 <= y < 0.355 or 0.52 <= y < 0.665):  # bowl's straight edges
        return True
    if x >= 0.57:
        r = math.hypot(x - 0.57, y - 0.4375)
        return 0.0825 <= r < 0.2275  # bowl's round end
    return False


def _in_dot(x: float, y: float) -> bool:
    """The "O" of a drawn play, beside the P's foot."""
    return math.hypot(x - 0.72, y - 0.74) < 0.075


def _coverage(
    size: int, x: int, y: int, inside: Callable[[float, float], bool], samples: int = 4
) -> float:
    """The fraction of pixel (x, y) that ``inside`` covers, sampled on a grid (antialiasing)."""
    hits = 0
    for i in range(samples):
        for j in range(samples):
            if inside((x + (i + 0.5) / samples) / size, (y + (j + 0.5) / samples) / size):
                hits += 1
    return hits / (samples * samples)


def _blend(
    under: tuple[int, int, int], over: tuple[int, int, int], amount: float
) -> tuple[int, int, int]:
    return (
        round(under[0] + (over[0] - under[0]) * amount),
        round(under[1] + (over[1] - under[1]) * amount),
        round(under[2] + (over[2] - under[2]) * amount),
    )


@functools.cache  # a constant, and about half a second to draw
def color_icon() -> bytes:
    """The 192x192 full-colour icon: a white "P" and a red dot on the accent colour."""
    size = 192
    background = (0x1D, 0x35, 0x57)
    white = (0xFF, 0xFF, 0xFF)
    red = (0xE6, 0x39, 0x46)

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        colour = _blend(background, white, _coverage(size, x, y, _in_p, samples=3))
        colour = _blend(colour, red, _coverage(size, x, y, _in_dot, samples=3))
        return (*colour, 255)

    return png(size, size, pixel)


@functools.cache
def outline_icon() -> bytes:
    """The 32x32 outline icon: the same mark in white on a fully transparent background."""
    size = 32

    def inside(x: float, y: float) -> bool:
        return _in_p(x, y) or _in_dot(x, y)

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        alpha = round(255 * _coverage(size, x, y, inside))
        return (255, 255, 255, alpha) if alpha else (0, 0, 0, 0)

    return png(size, size, pixel)


def package_bytes(**manifest_args: Any) -> bytes:
    """The zipped package (same inputs, same bytes); arguments as for :func:`teams_manifest`."""
    manifest = teams_manifest(**manifest_args)
    files = {
        "manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode(),
        "color.png": color_icon(),
        "outline.png": outline_icon(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the building OS, so the bytes match
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def build_package(path: Path, **manifest_args: Any) -> Path:
    """Write the package to ``path`` (a directory gets ``playcaller-teams.zip``); return its path.

    Arguments are those of :func:`teams_manifest`. Everything is checked before anything is
    written, so a bad argument leaves no file behind.
    """
    data = package_bytes(**manifest_args)
    target = path / PACKAGE_NAME if path.is_dir() else path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target
