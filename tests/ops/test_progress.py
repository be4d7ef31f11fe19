"""``ingest``'s progress bar: drawn for a large file on a terminal, never in a pipe or CI."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bot import logs
from bot.intake.progress import LARGE_FILE_BYTES, progress_console, tracked
from tests.conftest import ROOT

MENTION = {
    "network": "x",
    "text": "@acme my order never arrived",
    "created_at": "2026-03-02T08:59:00Z",
    "author": {"handle": "dana"},
}


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def large_feed(path: Path) -> Path:
    """Two mentions and enough blank lines (skipped by intake) to be a large file."""
    first = json.dumps({**MENTION, "id": "p1"})
    second = json.dumps({**MENTION, "id": "p2"})
    path.write_text(first + "\n" + "\n" * LARGE_FILE_BYTES + second + "\n", encoding="utf-8")
    return path


def ingest_command(feed: Path, tmp_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bot.cli",
        "--config",
        str(ROOT / "playcaller.yaml"),
        "ingest",
        str(feed),
        "--store",
        f"sqlite:///{tmp_path / 'store.db'}",
    ]


def test_the_bar_is_drawn_on_a_terminal_console() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    lines = [f"line {n}\n" for n in range(100)]
    size = sum(len(line) for line in lines)
    with tracked(lines, size, "ingest feed.jsonl", console) as read:
        assert list(read) == lines
    drawn = out.getvalue()
    assert "ingest feed.jsonl" in drawn
    assert "100%" in drawn


def test_without_a_console_the_lines_pass_through_untouched() -> None:
    lines = ["a\n", "b\n"]
    with tracked(lines, 4, "ingest", None) as read:
        assert read is lines


def test_the_bar_is_only_for_large_files_on_a_terminal_outside_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert progress_console(LARGE_FILE_BYTES, Terminal()) is not None
    assert progress_console(LARGE_FILE_BYTES - 1, Terminal()) is None
    assert progress_console(LARGE_FILE_BYTES, io.StringIO()) is None
    monkeypatch.setenv("CI", "true")
    assert progress_console(LARGE_FILE_BYTES, Terminal()) is None


def test_ingest_in_a_pipe_prints_no_bar(tmp_path: Path) -> None:
    feed = large_feed(tmp_path / "feed.jsonl")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    done = subprocess.run(
        ingest_command(feed, tmp_path),
        env={**env, "PLAYCALLER_LOG_LEVEL": "WARNING", "PLAYCALLER_PLATFORMS": "console"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ingested 2 mentions" in done.stdout
    assert done.stderr == ""


def test_ingest_on_a_terminal_draws_the_bar(tmp_path: Path) -> None:
    feed = large_feed(tmp_path / "feed.jsonl")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    leader, follower = pty.openpty()
    with subprocess.Popen(
        ingest_command(feed, tmp_path),
        env={
            **env,
            "PLAYCALLER_LOG_LEVEL": "WARNING",
            "PLAYCALLER_PLATFORMS": "console",
            "TERM": "xterm",
        },
        stdout=subprocess.PIPE,
        stderr=follower,
    ) as process:
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            drawn += chunk
        assert process.stdout is not None
        out = process.stdout.read().decode()
        assert process.wait(timeout=60) == 0
    os.close(leader)
    assert "ingested 2 mentions" in out
    screen = drawn.decode("utf-8", "replace")
    assert "ingest feed.jsonl" in screen
    assert "100%" in screen


def test_log_lines_during_the_bar_are_printed_through_it() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    log = logging.getLogger("playcaller.test.progress")
    log.propagate = False
    log.addHandler(logs.handler("text", logs.CurrentStderr()))
    try:
        with tracked(["a\n", "b\n"], 4, "ingest feed.jsonl", console) as read:
            for line in read:
                log.warning("read %s", line.strip())
    finally:
        log.handlers.clear()
        log.propagate = True
    drawn = out.getvalue()
    assert "playcaller.test.progress: read a" in drawn
    assert "playcaller.test.progress: read b" in drawn
    assert "ingest feed.jsonl" in drawn
