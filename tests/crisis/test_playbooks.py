"""Crisis playbook schema: the samples load into core types, and every new
field's problem is reported by ``check`` with its file and line."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.core.model import Role
from bot.core.playbook import Severity, Target
from bot.playbooks import load_playbooks
from tests.conftest import ROOT


@pytest.fixture
def books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", folder)
    monkeypatch.setenv("PLAYCALLER_PLAYBOOKS", str(folder))
    return folder


def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["--config", str(ROOT / "playcaller.yaml"), "check"])
    return status, capsys.readouterr().err


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def test_the_sample_playbooks_load_into_core_types() -> None:
    settings = load_settings(ROOT / "playcaller.yaml")
    store, problems = load_playbooks(ROOT / "playbooks", settings)
    assert problems == []
    assert sorted(store.crisis) == ["data-incident", "misconduct-viral", "service-outage"]
    outage = store.crisis["service-outage"]
    assert outage.severity is Severity.SEV2
    assert outage.pagerduty and outage.pause_publishing
    assert outage.update_every == timedelta(minutes=30)
    assert outage.accounts == ("acme-x", "acme-bsky")
    assert [v.name for v in outage.variables] == ["service", "status_url"]
    assert outage.escalation[0].after == timedelta(minutes=10)
    assert outage.escalation[0].page == (Target(role=Role.ADMIN),)
    owned = [item for item in outage.checklist if item.owner is not None]
    unowned = [item for item in outage.checklist if item.owner is None]
    assert owned and unowned
    assert owned[0].owner == Target(role=Role.CRISIS_LEAD)
    misconduct = store.crisis["misconduct-viral"]
    assert all(s.requires_legal for s in misconduct.statements)
    assert Target(role=Role.LEGAL) in misconduct.page
    assert not store.crisis["data-incident"].accounts  # every account


def test_new_fields_are_checked_with_file_and_line(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outage = books / "crisis" / "service-outage.yaml"
    text = outage.read_text(encoding="utf-8")
    text = (
        text.replace("accounts: [acme-x, acme-bsky]", "accounts: [acme-x, acme-tiktok]")
        .replace("    owner: {role: coach}\n", "    owner: {person: nobody}\n", 1)
        .replace("update_every: 30m", "update_every: soon")
        .replace("  - after: 20m", "  - after: 5m")
        .replace("will post the next update", "will post {{ eta }} the next update")
        .replace("pagerduty: true", "pagerduty: maybe")
    )
    outage.write_text(text, encoding="utf-8")
    status, err = check(capsys)
    assert status == 2
    assert f"{outage}:{line_of(outage, 'pagerduty:')}: pagerduty: expected true or false" in err
    assert f"{outage}:{line_of(outage, 'update_every:')}: update_every: bad duration 'soon'" in err
    # pydantic stops at type errors; fix them to see the cross-checks.
    outage.write_text(
        text.replace("pagerduty: maybe", "pagerduty: true").replace(
            "update_every: soon", "update_every: 30m"
        ),
        encoding="utf-8",
    )
    status, err = check(capsys)
    assert status == 2
    accounts = line_of(outage, "accounts:")
    assert f"{outage}:{accounts}: accounts: unknown account 'acme-tiktok' (known: acme-x," in err
    owner = line_of(outage, "person: nobody")
    assert f"{outage}:{owner}: checklist.1.owner.person: unknown person 'nobody'" in err
    after = line_of(outage, "  - after: 5m")
    assert f"{outage}:{after}: escalation.1.after: each step must come later" in err
    statement = line_of(outage, "  - id: first") + 1
    assert (
        f"{outage}:{statement}: holding_statements[first].text: uses 'eta', which is not "
        "declared under variables" in err
    )


def test_a_statement_that_is_not_a_template_is_refused(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leak = books / "crisis" / "data-incident.yaml"
    text = leak.read_text(encoding="utf-8")
    leak.write_text(text.replace("about {{ topic }}.", "about {{ topic ."), encoding="utf-8")
    status, err = check(capsys)
    assert status == 2
    line = line_of(leak, "  - id: first") + 2
    assert f"{leak}:{line}: holding_statements[first].text: template error:" in err


def test_variables_need_a_description_and_a_unique_name(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    viral = books / "crisis" / "misconduct-viral.yaml"
    text = viral.read_text(encoding="utf-8")
    viral.write_text(
        text.replace("  - name: where\n", "  - name: subject\n").replace(
            "    description: What the post shows, in neutral words, without naming anyone.\n",
            "",
        ),
        encoding="utf-8",
    )
    status, err = check(capsys)
    assert status == 2
    assert (
        f"{viral}:{line_of(viral, 'name: subject')}: variables[subject].description: required "
        "setting is missing" in err
    )
    viral.write_text(text.replace("  - name: where\n", "  - name: subject\n"), encoding="utf-8")
    status, err = check(capsys)
    assert status == 2
    lines = viral.read_text(encoding="utf-8").splitlines()
    second = [n for n, line in enumerate(lines, 1) if "name: subject" in line][1]
    assert f"{viral}:{second}: variables: 'subject' is declared twice" in err


def test_checklist_items_may_be_plain_text_or_text_with_an_owner(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    viral = books / "crisis" / "misconduct-viral.yaml"
    text = viral.read_text(encoding="utf-8")
    viral.write_text(
        text.replace("    owner: {role: crisis_lead}\n", "    owner: {role: ceo}\n", 1)
    )
    status, err = check(capsys)
    assert status == 2
    owner = line_of(viral, "role: ceo")
    assert f"{viral}:{owner}: checklist.0.owner.role: 'ceo' is not one of" in err
