"""Manifests and texts describe only what the bot does now."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from bot.platforms.slack.manifest import slack_manifest
from bot.platforms.teams.package import build_package
from bot.runtime import build_dispatcher
from tests.conftest import ROOT

NOT_BUILT = re.compile(r"crisis room|holding statement|publishing pause", re.IGNORECASE)
# "/word" at the start of a word (not a path or a URL): a slash command.
SLASH_COMMAND = re.compile(r"(?<![\w/.:-])/([a-z][a-z-]*)\b")


def test_the_slack_manifest_promises_nothing_unbuilt() -> None:
    manifest = slack_manifest(build_dispatcher().commands(), request_url=None, socket_mode=True)
    text = json.dumps(manifest["display_information"])
    assert not NOT_BUILT.search(text), text


def test_the_teams_package_promises_nothing_unbuilt(tmp_path: Path) -> None:
    path = build_package(
        tmp_path / "teams.zip",
        app_id="00000000-0000-0000-0000-000000000001",
        bot_id="00000000-0000-0000-0000-000000000002",
        version="1.0.0",
        host="bot.example.com",
    )
    with zipfile.ZipFile(path) as package:
        manifest = json.loads(package.read("manifest.json"))
    text = json.dumps([manifest["description"], manifest["bots"][0].get("commandLists", [])])
    assert not NOT_BUILT.search(text), text


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "playbooks" / "guidelines").glob("*.md")) + sorted(ROOT.glob("templates/*/*")),
    ids=lambda p: p.name,
)
def test_texts_name_only_commands_that_exist(path: Path) -> None:
    known = {route.key for route in build_dispatcher().commands()}
    named = set(SLASH_COMMAND.findall(path.read_text(encoding="utf-8")))
    assert named <= known, f"{path.name} names {sorted(named - known)}; the bot has {sorted(known)}"
