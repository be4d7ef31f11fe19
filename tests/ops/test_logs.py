"""``PLAYCALLER_LOG_FORMAT=json``: one JSON object a line, each line of a
request's handling tagged with the request's own id."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import logs
from bot.app import Loaded
from bot.cli import main
from tests.conftest import ROOT
from tests.fakes import teams_activities as teams
from tests.ops.ops_rig import ADA, link_care, running


async def test_every_line_of_a_request_carries_its_id(loaded: Loaded, tmp_path: Path) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    json_lines = logs.handler("json", stream)
    level = root.level
    root.addHandler(json_lines)
    root.setLevel(logging.INFO)
    try:
        async with running(loaded, tmp_path) as bot:
            # Slack acknowledges the command first; the answer, sent after, is rate limited.
            bot.fake_slack.rate_limit("chat.postMessage", times=1)
            assert await bot.to_slack(link_care(trigger_id="1234.5678.TRACE")) == 200
            await bot.slack.idle()
            added = teams.bot_added_to_team(bot.connector.service_url, installer=ADA)
            assert await bot.to_teams(added) in (200, 201)
            logging.getLogger("playcaller.test").info("outside any request")
    finally:
        root.removeHandler(json_lines)
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines and all(set(line) >= {"time", "level", "logger", "message"} for line in lines)
    slack_lines = [line for line in lines if line["request_id"] == "1234.5678.TRACE"]
    # The access log line of the request itself carries the id too.
    assert any("POST /slack/events" in line["message"] for line in slack_lines)
    assert any(
        line["message"] == "could not answer U0ADA: 429 ratelimited" and line["level"] == "WARNING"
        for line in slack_lines
    ), lines
    teams_lines = [line for line in lines if line["request_id"] == added["id"]]
    assert any(line["message"].startswith("Teams conversation update") for line in teams_lines)
    [outside] = [line for line in lines if line["message"] == "outside any request"]
    assert outside["request_id"] is None


def test_an_exception_stays_on_one_line() -> None:
    stream = io.StringIO()
    log = logging.getLogger("playcaller.test.oneline")
    log.propagate = False
    log.addHandler(logs.handler("json", stream))
    try:
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            log.exception("it failed")
    finally:
        log.handlers.clear()
        log.propagate = True
    [line] = stream.getvalue().splitlines()
    parsed = json.loads(line)
    assert parsed["message"] == "it failed"
    assert "ValueError: bad\nthing" in parsed["exception"]


def test_the_command_line_writes_json_when_asked(tmp_path: Path) -> None:
    feed = tmp_path / "empty.jsonl"
    feed.write_text("", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "--config",
            str(ROOT / "playcaller.yaml"),
            "ingest",
            str(feed),
            "--store",
            f"sqlite:///{tmp_path / 'store.db'}",
        ],
        env={**os.environ, "PLAYCALLER_LOG_FORMAT": "json", "PLAYCALLER_LOG_LEVEL": "DEBUG"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines
    for line in lines:
        parsed = json.loads(line)
        assert parsed["level"] in ("DEBUG", "INFO", "WARNING")


def test_an_unknown_log_format_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLAYCALLER_LOG_FORMAT", "yaml")
    assert main(["--config", str(ROOT / "playcaller.yaml"), "check"]) == 2
    assert "PLAYCALLER_LOG_FORMAT must be text or json, not 'yaml'" in capsys.readouterr().err
