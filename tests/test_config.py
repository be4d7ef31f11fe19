"""Configuration, playbooks and templates: valid samples, and every error with file and line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import parse_settings
from bot.core.errors import ConfigError
from bot.core.model import Priority, Role
from tests.conftest import ROOT

SAMPLE = (ROOT / "playcaller.yaml").read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "bad.yaml")
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(next(line for line in text.splitlines() if needle in line)) + 1


def test_sample_config_declares_the_documented_ids() -> None:
    settings = parse_settings(SAMPLE, "playcaller.yaml")
    assert settings.hub.id == "hub"
    assert list(settings.spokes) == ["care", "comms", "talent"]
    people = settings.people
    assert Role.COACH in people["maria"].roles and people["maria"].spokes == ("care",)
    assert {Role.RESPONDER} == people["sam"].roles == people["alex"].roles
    assert Role.CRISIS_LEAD in people["priya"].roles
    assert Role.LEGAL in people["lee"].roles
    assert people["jo"].roles == frozenset()
    assert Role.ADMIN in people["ada"].roles
    assert all(p.email == f"{p.id}@example.com" for p in people.values())
    assert settings.coaches_for("care") == ("maria",)
    assert set(settings.sla) == set(Priority)


def test_unknown_spoke_in_a_rule_names_its_line() -> None:
    text = SAMPLE.replace("spoke: talent", "spoke: talnt")
    assert problems_of(text) == [f"bad.yaml:{line_of(text, 'spoke: talnt')}: unknown spoke 'talnt'"]


def test_bad_duration_names_its_line() -> None:
    text = SAMPLE.replace("urgent: {warn: 5m", "urgent: {warn: 5x")
    [problem] = problems_of(text)
    assert problem.startswith(f"bad.yaml:{line_of(text, 'warn: 5x')}: sla.urgent.warn:")
    assert "bad duration '5x'" in problem


def test_surge_thresholds_default_and_override_per_spoke() -> None:
    settings = parse_settings(SAMPLE, "playcaller.yaml")
    care, comms = settings.surge_policy("care"), settings.surge_policy("comms")
    assert (care.threshold, care.window, care.reach) == (20, timedelta(minutes=5), 10_000)
    assert (comms.threshold, comms.window, comms.reach) == (15, timedelta(minutes=5), 5000)
    assert comms.single_priorities == (Priority.URGENT, Priority.HIGH)
    narrowed = parse_settings(
        SAMPLE.replace(
            "threshold: 20\n", "threshold: 50\n  single_priorities: [urgent]\n", 1
        ).replace("  single_priorities: [urgent, high]\n", "", 1),
        "x.yaml",
    )
    assert narrowed.surge_policy("care").threshold == 50
    assert narrowed.surge_policy("care").single_priorities == (Priority.URGENT,)
    # The spoke's own override keeps its values over the new defaults.
    assert narrowed.surge_policy("comms").threshold == 15


def test_bad_surge_settings_name_their_lines() -> None:
    text = SAMPLE.replace("surge: {threshold: 15, reach: 5000}", "surge: {threshold: 0}").replace(
        "  update_every: 10s", "  update_every: 2s"
    )
    found = problems_of(text)
    threshold_line = line_of(text, "surge: {threshold: 0}")
    every_line = line_of(text, "update_every: 2s")
    assert any(
        p.startswith(f"bad.yaml:{threshold_line}: spokes[comms].surge.threshold") for p in found
    )
    assert any(
        p.startswith(f"bad.yaml:{every_line}: surge.update_every") and "between 10s and 5m" in p
        for p in found
    )


def test_unknown_setting_and_missing_setting_are_reported_together() -> None:
    text = SAMPLE.replace("organisation: Acme Corp", "organisaton: Acme Corp")
    found = problems_of(text)
    assert f"bad.yaml:{line_of(text, 'organisaton')}: organisaton: unknown setting" in found
    assert any("organisation: required setting is missing" in p for p in found)


def test_yaml_syntax_error_names_its_line() -> None:
    text = SAMPLE.replace("  - id: care\n", "  - id: [care\n")
    [problem] = problems_of(text)
    assert problem.startswith("bad.yaml:")
    assert "invalid YAML" in problem


def test_cross_checks_report_every_problem() -> None:
    text = SAMPLE.replace("spokes: [care]}", "spokes: [cares]}", 1).replace(
        "high: {warn: 15m, breach: 30m}", "high: {warn: 45m, breach: 30m}"
    )
    found = problems_of(text)
    assert f"bad.yaml:{line_of(text, 'spokes: [cares]')}: unknown spoke 'cares'" in found
    assert any("sla.high: warn must come before breach" in p for p in found)
    assert len(found) == 2


def test_check_command_passes_on_the_samples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(ROOT / "playcaller.yaml"), "check"]) == 0
    assert "ok:" in capsys.readouterr().out


def test_check_refuses_a_broken_playbook_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    books = tmp_path / "playbooks"
    (books / "crisis").mkdir(parents=True)
    (books / "guidelines").mkdir()
    (books / "crisis" / "broken.yaml").write_text(
        "id: broken\ntitle: Broken\nsummary: x\nseverity: sev9\npage:\n  - person: nobody\n"
        "ack_within: 5m\nchecklist: [do it]\n",
        encoding="utf-8",
    )
    (books / "crisis" / "stranger.yaml").write_text(
        "id: stranger\ntitle: Stranger\nsummary: x\nseverity: sev2\npage:\n  - role: coach\n"
        "  - person: nobody\nack_within: 5m\nchecklist: [do it]\n",
        encoding="utf-8",
    )
    (books / "guidelines" / "bad-header.md").write_text(
        "---\ntitle: Bad\nowner: maria\nlast_reviewed: someday\n---\n# Bad\nText\n",
        encoding="utf-8",
    )
    (books / "guidelines" / "no-header.md").write_text("# Fine\nJust text\n", encoding="utf-8")
    monkeypatch.setenv("PLAYCALLER_PLAYBOOKS", str(books))
    assert main(["--config", str(ROOT / "playcaller.yaml"), "check"]) == 2
    err = capsys.readouterr().err
    assert f"{books / 'crisis' / 'broken.yaml'}:4: severity:" in err
    assert f"{books / 'crisis' / 'stranger.yaml'}:7: page.1.person: unknown person 'nobody'" in err
    assert f"{books / 'guidelines' / 'bad-header.md'}:4: last_reviewed:" in err
    assert "no-header.md" not in err


def test_broken_template_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "triage" / "title.txt").write_text("line one\n{% if %}\n", encoding="utf-8")
    monkeypatch.setenv("PLAYCALLER_TEMPLATES", str(templates))
    assert main(["--config", str(ROOT / "playcaller.yaml"), "demo", "--script", "/dev/null"]) == 2
    assert f"{templates / 'triage' / 'title.txt'}:2: template error" in capsys.readouterr().err


def test_serve_refuses_to_start_on_a_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "playcaller.yaml"
    bad.write_text(SAMPLE.replace("spoke: talent", "spoke: talnt"), encoding="utf-8")
    assert main(["--config", str(bad), "serve", "--port", "0"]) == 2
    assert (
        f"{bad}:{line_of(bad.read_text(), 'spoke: talnt')}: unknown spoke 'talnt'"
        in capsys.readouterr().err
    )


def test_question_retention_defaults_to_90_days_and_must_be_a_day_or_more() -> None:
    from datetime import timedelta

    assert parse_settings(SAMPLE, "playcaller.yaml").retention.questions == timedelta(days=90)
    text = SAMPLE + "retention:\n  questions: 30d\n"
    assert parse_settings(text, "playcaller.yaml").retention.questions == timedelta(days=30)
    text = SAMPLE + "retention:\n  questions: 12h\n"
    [problem] = problems_of(text)
    assert problem.startswith(f"bad.yaml:{line_of(text, 'questions: 12h')}: retention.questions:")
    assert "keep questions for at least 1d" in problem
