"""The console demo: the README's tour runs as a script, and scripts fail loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT

TOUR = ROOT / "samples" / "tour.txt"


def run_demo(script: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["--config", str(ROOT / "playcaller.yaml"), "demo", "--script", str(script)])
    return status, capsys.readouterr().out


def test_readme_tour_is_the_bundled_tour() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "playcaller demo --script samples/tour.txt" in readme
    body = TOUR.read_text(encoding="utf-8")
    commands = [line for line in body.splitlines() if line.strip() and not line.startswith("#")]
    # The README shows the tour's commands, so the page and the test agree.
    for command in commands:
        assert command in readme, f"README's tour lacks: {command}"


def test_tour_runs_green(capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run_demo(TOUR, capsys)
    assert status == 0, out
    assert "EXPECTATION FAILED" not in out
    expected = sum(1 for line in TOUR.read_text().splitlines() if line.startswith("expect "))
    assert len(re.findall(r"\(ok\)$", out, flags=re.M)) == expected
    assert out.rstrip().endswith(f"{expected} expectations held")


def test_a_failed_expectation_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "s.txt"
    script.write_text(
        'mention {"network":"x","id":"1","text":"hi","created_at":"2026-03-02T08:00:00Z","author":{"handle":"a"}}\n'
        "expect X mention from @a\n"
        "as sam\n"
        "expect X mention from @a\n",
        encoding="utf-8",
    )
    status, out = run_demo(script, capsys)
    assert status == 1
    assert "expect X mention from @a (ok)" in out
    assert "EXPECTATION FAILED: 'X mention from @a' did not appear" in out
    assert "1 of 2 expectations failed" in out


def test_expect_never_matches_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "s.txt"
    script.write_text("as sam\nexpect something nobody said\n", encoding="utf-8")
    status, _ = run_demo(script, capsys)
    assert status == 1


def test_a_bad_script_line_stops_with_its_line_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "s.txt"
    script.write_text("# comment\n\nas sam\nclick Nothing\n", encoding="utf-8")
    status, out = run_demo(script, capsys)
    assert status == 2
    assert "s.txt:4: no card on screen has a button 'Nothing'" in out


def test_forms_validate_their_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "s.txt"
    script.write_text(
        'mention {"network":"x","id":"1","text":"hi","created_at":"2026-03-02T08:00:00Z","author":{"handle":"a"}}\n'
        "as sam\nclick Resolve\nfill outcome=maybe\n",
        encoding="utf-8",
    )
    status, out = run_demo(script, capsys)
    assert status == 2
    assert "fill: outcome must be one of replied, no_action, spam" in out


def test_help_lists_what_the_person_may_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "s.txt"
    script.write_text(
        "as jo\nsay help\nexpect You have no triage role\n"
        "as maria\nsay what can you do?\nexpect /triage [spoke]\n"
        "expect For coaches\nexpect • Release, resolve or assign a mention someone else holds\n",
        encoding="utf-8",
    )
    status, out = run_demo(script, capsys)
    assert status == 0, out


def test_interactive_demo_starts_on_embedded_defaults(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PLAYCALLER_", "SLACK_", "MICROSOFT_"))
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--width", "100"],
        input="as sam\n/triage\nclick Claim #9\nquit\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Playcaller demo" in out
    assert "(ingested 8 mentions, 1 duplicates dropped, 0 refused)" in out
    assert "Unclaimed in Customer Care (5)" in out
    assert "You claimed the mention from @angry_dan" in out
    assert not (tmp_path / ".playcaller").exists()  # the demo keeps its store in a scratch folder
    # Piped input is echoed once, after no prompt of its own.
    assert out.count("sam@#care> /triage") == 1
    assert "> sam@" not in out


SAVE_GUIDANCE = (
    "as jo\nchannel @jo\n/ask can I wear the company hoodie in my dating profile photos?\n"
    "click Ask a coach\nas maria\nchannel #hub\nclick Reply\n"
    'fill answer="Yes, branded clothing is fine in personal photos."\nsubmit\n'
    "click Save as guidance\nexpect Saved as guidance in faq.md\n"
)


def test_the_demo_never_changes_the_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guidelines = ROOT / "playbooks" / "guidelines"
    before = {p.name: p.read_bytes() for p in guidelines.iterdir()}
    script = tmp_path / "s.txt"
    script.write_text(SAVE_GUIDANCE, encoding="utf-8")
    for _ in range(2):  # a second run starts from the same guidelines again
        status, out = run_demo(script, capsys)
        assert status == 0, out
    assert {p.name: p.read_bytes() for p in guidelines.iterdir()} == before


def test_what_expect_reads_is_on_screen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "s.txt"
    script.write_text(
        'mention {"network":"x","id":"1","text":"hi","created_at":"2026-03-02T08:00:00Z",'
        '"author":{"handle":"a"}}\n'
        "expect [#1 · #care]\nexpect [Claim]\n",
        encoding="utf-8",
    )
    status, out = run_demo(script, capsys)
    assert status == 0, out
    screen = out.split("expect [#1")[0]  # the printed card, before the expect lines
    assert "[#1 · #care]" in screen and "[Claim]" in screen


def test_help_at_the_prompt_and_unknown_channels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "s.txt"
    script.write_text(
        "as jo\nhelp\nexpect Demo commands:\nexpect /ask QUESTION (or just ask me here)\n"
        "channel #nowhere\n",
        encoding="utf-8",
    )
    status, out = run_demo(script, capsys)
    assert status == 2
    assert (
        "s.txt:5: no channel '#nowhere': use one of #hub, #care, #comms, #talent, @PERSON for a "
        "direct message, or 'channel new #nowhere' for a channel no spoke uses yet"
    ) in " ".join(out.split())


def test_the_banner_fits_80_columns() -> None:
    from bot.cli.demo import INTRO

    assert max(len(line) for line in INTRO.splitlines()) <= 80
    assert "help" in INTRO and "quit" in INTRO
