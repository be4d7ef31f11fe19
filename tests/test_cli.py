"""The command line as a person uses it: options anywhere, clear refusals, the audit log."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.options import parser
from tests.conftest import ROOT, Chat

CONFIG = str(ROOT / "playcaller.yaml")


def test_the_config_option_may_follow_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", CONFIG]) == 0
    assert f"ok: {CONFIG}" in capsys.readouterr().out
    missing = tmp_path / "nowhere.yaml"
    assert main(["--config", CONFIG, "check", "--config", str(missing)]) == 2
    assert f"{missing}: cannot read" in capsys.readouterr().err


def test_help_is_written_for_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "Playcaller: social media mentions triaged in Slack and Microsoft Teams" in out
    assert "--config may come before or after the command" in out
    assert "Logging is set up" not in out and "``" not in out


def test_an_empty_question_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", CONFIG, "ask", "  "]) == 2
    assert "ask needs a question" in capsys.readouterr().err


def test_blank_stdin_lines_are_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("who talks to reporters?\n\n   \ncan I post?\n"))
    assert main(["--config", CONFIG, "ask", "--json", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("answered" in json.loads(line) for line in lines)


def test_manifest_modes_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://bot.example.com/slack/events"
    with pytest.raises(SystemExit) as done:
        main(["manifest", "slack", "--url", url, "--socket-mode"])
    assert done.value.code == 2
    assert "argument --socket-mode: not allowed with argument --url" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["not-a-url", "http://bot.example.com/slack/events", "https://"])
def test_manifest_url_must_be_https(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", CONFIG, "manifest", "slack", "--url", url]) == 2
    assert (
        f"--url must be an https URL such as https://bot.example.com/slack/events, not {url!r}"
        in (capsys.readouterr().err)
    )


def test_manifest_with_an_https_url(capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://bot.example.com/slack/events"
    assert main(["--config", CONFIG, "manifest", "slack", "--url", url]) == 0
    assert f"request_url: {url}" in capsys.readouterr().out


def test_a_bad_store_url_blames_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "empty.jsonl"
    feed.write_text("", encoding="utf-8")
    assert main(["--config", CONFIG, "ingest", str(feed), "--store", "postgres://x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("playcaller: --store: 'postgres://x': unsupported store URL scheme")
    assert "PLAYCALLER_STORE_URL" not in err
    monkeypatch.setenv("PLAYCALLER_STORE_URL", "postgres://y")
    assert main(["--config", CONFIG, "ingest", str(feed)]) == 2
    assert capsys.readouterr().err.startswith("playcaller: PLAYCALLER_STORE_URL: 'postgres://y'")


def test_the_readme_lists_every_option_of_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    subcommands = next(a for a in parser()._actions if a.dest == "command")
    for name, sub in subcommands.choices.items():  # type: ignore[attr-defined]
        row = next(
            (line for line in readme.splitlines() if line.startswith(f"| `playcaller {name}")), ""
        )
        assert row, f"README has no row for playcaller {name}"
        usage = row.split("`")[1]
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option not in ("--help", "--config"):
                    assert option in usage, f"README's playcaller {name} lacks {option}"
            if action.required and action.option_strings:
                option = action.option_strings[-1]
                assert f"[{option}" not in usage, f"{option} is required, not optional"
    assert "[--app-id" not in readme


async def test_audit_prints_the_log_by_subject_and_time(
    chat: Chat,
    store_backend: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await chat.run("as ada", "channel new #recruiting", "/playcaller link talent")
    await chat.run("advance 2h", "channel new #press", "/playcaller link comms")
    url, namespace = store_backend
    monkeypatch.setenv("PLAYCALLER_STORE_NAMESPACE", namespace)
    from bot import audit
    from bot.app import make_store

    async def run(*args: str, json_lines: bool = False) -> tuple[int, str]:
        subject = args[0] if args else None
        since = args[1] if len(args) > 1 else None
        status = await audit.main(make_store(url), subject, since, json_lines=json_lines)
        captured = capsys.readouterr()
        return status, captured.out + captured.err

    status, out = await run()
    assert status == 0
    assert re.search(r"^2026-03-02 09:00:00Z  ada +channel\.link +spoke:talent  ", out, re.M)
    assert 'channel="#recruiting"' in out and "spoke:comms" in out
    status, out = await run("spoke:comms", None, json_lines=True)
    [entry] = [json.loads(line) for line in out.splitlines()]
    assert entry == {
        "at": "2026-03-02T11:00:00+00:00",
        "actor": "ada",
        "action": "channel.link",
        "subject": "spoke:comms",
        "detail": {"platform": "console", "channel": "#press"},
    }
    status, out = await run(None, "2026-03-02T10:00")  # a time without a zone is UTC
    assert "spoke:comms" in out and "spoke:talent" not in out
    status, out = await run(None, "yesterday-ish")
    assert status == 2
    assert "--since: 'yesterday-ish' is neither a time" in out
