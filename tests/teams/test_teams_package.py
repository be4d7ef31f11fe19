"""`playcaller package teams`: the zip holds a schema-valid manifest and two valid icons."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.platforms.teams.package import (
    DEFAULT_COMMANDS,
    MANIFEST_VERSION,
    build_package,
    color_icon,
    outline_icon,
    png,
    teams_manifest,
)
from tests.conftest import SCHEMAS

TEAMS_SCHEMAS = SCHEMAS / "teams"
APP_ID = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
BOT_ID = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"


def schema(version: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (TEAMS_SCHEMAS / f"MicrosoftTeams-v{version}.schema.json").read_text(encoding="utf-8")
    )
    return loaded


def as_version(manifest: dict[str, Any], version: str) -> dict[str, Any]:
    url = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
    return {**manifest, "manifestVersion": version, "$schema": url}


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA, non-interlaced, unfiltered PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC on {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, colour, compression, filtering, interlace) == (8, 6, 0, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + 4 * width
    assert len(raw) == stride * height
    pixels: list[tuple[int, int, int, int]] = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0, "only filter type 0 is expected"
        pixels.extend((row[i], row[i + 1], row[i + 2], row[i + 3]) for i in range(1, stride, 4))
    return width, height, pixels


@pytest.fixture
def package(tmp_path: Path) -> Iterator[zipfile.ZipFile]:
    path = build_package(
        tmp_path / "out" / "teams.zip", app_id=APP_ID, bot_id=BOT_ID, host="bot.example.com"
    )
    assert path == tmp_path / "out" / "teams.zip"
    with zipfile.ZipFile(path) as archive:
        yield archive


def test_the_zip_holds_exactly_the_manifest_and_icons_at_its_root(
    package: zipfile.ZipFile,
) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert package.testzip() is None


def test_the_manifest_validates_against_its_schema(package: zipfile.ZipFile) -> None:
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["manifestVersion"] == MANIFEST_VERSION == "1.24"
    assert manifest["$schema"].endswith("/teams/v1.24/MicrosoftTeams.schema.json")
    jsonschema.Draft4Validator(schema("1.24")).validate(manifest)
    assert manifest["id"] == APP_ID
    bot = manifest["bots"][0]
    assert bot["botId"] == BOT_ID.lower()
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["validDomains"] == ["bot.example.com"]
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]
    by_scope = {
        lst["scopes"][0]: [c["title"] for c in lst["commands"]] for lst in bot["commandLists"]
    }
    assert by_scope == {
        "personal": ["help", "triage", "approvals", "draft", "crisis"],
        "team": ["help", "triage", "approvals", "draft", "link", "crisis"],
        "groupChat": ["help", "triage", "approvals", "draft", "crisis"],
    }


def test_the_same_content_is_a_valid_v1_19_manifest() -> None:
    manifest = teams_manifest(app_id=APP_ID, bot_id=BOT_ID)
    jsonschema.Draft4Validator(schema("1.19")).validate(as_version(manifest, "1.19"))


def test_defaults_are_valid_without_a_host() -> None:
    manifest = teams_manifest(app_id=APP_ID, bot_id=BOT_ID)
    jsonschema.Draft4Validator(schema("1.24")).validate(manifest)
    assert manifest["validDomains"] == []
    assert manifest["version"] == "1.0.0"
    for url in manifest["developer"].values():
        assert url == manifest["developer"]["name"] or url.startswith("https://")


def test_a_url_as_host_is_reduced_to_its_domain() -> None:
    manifest = teams_manifest(
        app_id=APP_ID, bot_id=BOT_ID, host="https://Bot.Example.com:8443/api/messages"
    )
    assert manifest["validDomains"] == ["bot.example.com:8443"]


def test_ten_commands_per_scope_is_the_limit() -> None:
    commands = [(f"cmd{i}", f"Command {i}", ("personal",)) for i in range(10)]
    manifest = teams_manifest(app_id=APP_ID, bot_id=BOT_ID, commands=commands)
    jsonschema.Draft4Validator(schema("1.24")).validate(manifest)
    jsonschema.Draft4Validator(schema("1.19")).validate(as_version(manifest, "1.19"))
    with pytest.raises(ValueError, match="at most 10"):
        teams_manifest(
            app_id=APP_ID, bot_id=BOT_ID, commands=[*commands, ("x", "y", ("personal",))]
        )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("t" * 33, "fine", ("team",)), "title"),
        (("ok", "d" * 129, ("team",)), "description"),
        (("ok", "fine", ("channel",)), "scopes"),
        (("ok", "fine", ()), "scopes"),
    ],
)
def test_commands_beyond_the_limits_are_refused(
    command: tuple[str, str, tuple[str, ...]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        teams_manifest(app_id=APP_ID, bot_id=BOT_ID, commands=[*DEFAULT_COMMANDS, command])


@pytest.mark.parametrize("field", ["app_id", "bot_id"])
@pytest.mark.parametrize(
    "bad", ["", "not-a-guid", "6f1c2a9e3b4d4e5f8a7b9c0d1e2f3a4b", "{" + APP_ID + "}", APP_ID + "\n"]
)
def test_a_bad_guid_is_refused_naming_the_field(tmp_path: Path, field: str, bad: str) -> None:
    ids = {"app_id": APP_ID, "bot_id": BOT_ID, field: bad}
    with pytest.raises(
        ValueError, match=rf"^{field} must be a GUID like 00000000-0000-0000-0000-000000000000"
    ):
        build_package(tmp_path / "teams.zip", **ids)
    assert not (tmp_path / "teams.zip").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"version": "1.0"}, "version must be semver"),
        ({"version": "1.0.0\n"}, "version must be semver"),
        ({"website_url": "http://example.com"}, "website_url"),
        ({"privacy_url": "example.com/privacy"}, "privacy_url"),
        ({"terms_url": ""}, "terms_url"),
        ({"developer_name": "x" * 33}, "developer_name"),
        ({"host": "bot example.com"}, "host"),
    ],
)
def test_bad_fields_are_refused(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        teams_manifest(app_id=APP_ID, bot_id=BOT_ID, **args)


def test_the_colour_icon_is_192_square_and_opaque(package: zipfile.ZipFile) -> None:
    width, height, pixels = read_png(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(a == 255 for _, _, _, a in pixels)
    assert pixels[0] == (0x1D, 0x35, 0x57, 255)  # the accent colour behind the mark
    assert len(set(pixels)) > 2


def test_the_outline_icon_is_32_square_white_on_transparent(package: zipfile.ZipFile) -> None:
    width, height, pixels = read_png(package.read("outline.png"))
    assert (width, height) == (32, 32)
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)
    assert any(a == 255 for *_, a in pixels) and any(a == 0 for *_, a in pixels)


def test_png_round_trips_any_pixels() -> None:
    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        return (x, y, x ^ y, 255 - x)

    width, height, pixels = read_png(png(5, 3, pixel))
    assert (width, height) == (5, 3)
    assert pixels == [pixel(x, y) for y in range(3) for x in range(5)]
    with pytest.raises(ValueError):
        png(1, 1, lambda x, y: (256, 0, 0, 0))


def test_the_icons_are_deterministic() -> None:
    # Past the cache: drawing again gives the same bytes.
    assert color_icon.__wrapped__() == color_icon()
    assert outline_icon.__wrapped__() == outline_icon()


def test_the_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    first = build_package(tmp_path / "a.zip", app_id=APP_ID, bot_id=BOT_ID, version="2.3.4")
    second = build_package(tmp_path / "b.zip", app_id=APP_ID, bot_id=BOT_ID, version="2.3.4")
    assert first.read_bytes() == second.read_bytes()
    third = build_package(tmp_path / "c.zip", app_id=APP_ID, bot_id=BOT_ID, version="2.3.5")
    assert third.read_bytes() != first.read_bytes()
    for info in zipfile.ZipFile(io.BytesIO(first.read_bytes())).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_a_directory_gets_the_default_file_name(tmp_path: Path) -> None:
    path = build_package(tmp_path, app_id=APP_ID, bot_id=BOT_ID)
    assert path == tmp_path / "playcaller-teams.zip"
    assert zipfile.is_zipfile(path)
