"""`playcaller manifest slack` prints a manifest valid against Slack's schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from bot.cli import main
from tests.conftest import ROOT, SCHEMAS

SCHEMA = json.loads((SCHEMAS / "slack/manifest.schema.1.0.0.json").read_text())


def manifest(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["--config", str(ROOT / "playcaller.yaml"), "manifest", "slack", *args]) == 0
    loaded = yaml.safe_load(capsys.readouterr().out)
    assert isinstance(loaded, dict)
    return loaded


def test_http_mode_manifest_validates(capsys: pytest.CaptureFixture[str]) -> None:
    data = manifest(capsys, "--url", "https://bot.example.com/slack/events")
    jsonschema.Draft7Validator(SCHEMA).validate(data)
    features = data["features"]
    assert isinstance(features, dict)
    commands = {c["command"]: c for c in features["slash_commands"]}
    assert set(commands) == {"/triage", "/approvals", "/draft", "/playcaller", "/ask", "/crisis"}
    assert commands["/triage"]["url"] == "https://bot.example.com/slack/events"
    settings = data["settings"]
    assert isinstance(settings, dict)
    assert settings["socket_mode_enabled"] is False
    assert settings["interactivity"]["request_url"] == "https://bot.example.com/slack/events"
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
    scopes = data["oauth_config"]["scopes"]["bot"]  # type: ignore[index]
    assert {"chat:write", "commands", "im:write", "users:read.email"} <= set(scopes)
    # Crisis rooms: create, invite and set the topic; find a room made before a crash.
    assert {"channels:manage", "channels:read"} <= set(scopes)


def test_socket_mode_manifest_validates_without_urls(capsys: pytest.CaptureFixture[str]) -> None:
    data = manifest(capsys, "--socket-mode")
    jsonschema.Draft7Validator(SCHEMA).validate(data)
    assert "request_url" not in json.dumps(data) and '"url"' not in json.dumps(data)
    assert data["settings"]["socket_mode_enabled"] is True  # type: ignore[index]


def test_http_mode_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(ROOT / "playcaller.yaml"), "manifest", "slack"]) == 2
    assert "needs the public URL of /slack/events" in capsys.readouterr().err
