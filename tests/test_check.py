"""``check``: one duration grammar, owners and channels, and the file's words, not pydantic's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import ROOT

SAMPLE = (ROOT / "playcaller.yaml").read_text(encoding="utf-8")


@pytest.fixture
def books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", folder)
    monkeypatch.setenv("PLAYCALLER_PLAYBOOKS", str(folder))
    return folder


def check(config: Path | None, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["--config", str(config or ROOT / "playcaller.yaml"), "check"])
    out, err = capsys.readouterr()
    return status, out, err


def test_playbooks_take_the_config_duration_grammar(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outage = books / "crisis" / "service-outage.yaml"
    text = outage.read_text(encoding="utf-8")
    outage.write_text(text.replace("ack_within: 5m", "ack_within: 1h30m"), encoding="utf-8")
    assert check(None, capsys)[0] == 0
    outage.write_text(text.replace("ack_within: 5m", "ack_within: 5x"), encoding="utf-8")
    status, _, err = check(None, capsys)
    assert status == 2
    line = text.splitlines().index("ack_within: 5m") + 1
    assert (
        f"{outage}:{line}: ack_within: bad duration '5x': use forms like 90s, 16m, 2h, 1h30m" in err
    )
    assert "Value error" not in err and "pattern" not in err


def test_config_problems_name_the_person_not_a_list_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "playcaller.yaml"
    config.write_text(
        SAMPLE.replace("roles: [responder], spokes: [care]}", "roles: [responder, wizard]}", 1)
        .replace("urgent: {warn: 5m", "urgent: {warn: 5x")
        .replace("{id: jo,", "{id: Jo,"),
        encoding="utf-8",
    )
    status, _, err = check(config, capsys)
    assert status == 2
    lines = config.read_text(encoding="utf-8").splitlines()
    sam = next(n for n, line in enumerate(lines, 1) if "id: sam" in line)
    jo = next(n for n, line in enumerate(lines, 1) if "id: Jo" in line)
    assert (
        f"{config}:{sam}: people[sam].roles: 'wizard' is not one of admin, coach, responder, "
        "crisis_lead or legal" in err
    )
    assert f"{config}:{jo}: people[Jo].id: 'Jo' is not a valid id: start with a lower-case" in err
    assert "sla.urgent.warn: bad duration '5x'" in err
    for leak in ("Value error", "people.1", "Input should", "String should match", "^[a-z]"):
        assert leak not in err


def test_a_guideline_owner_must_be_a_person(
    books: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (books / "guidelines" / "parking.md").write_text(
        "---\ntitle: Parking\nowner: nobody\n---\n# Parking\nBay seven.\n", encoding="utf-8"
    )
    status, _, err = check(None, capsys)
    assert status == 2
    parking = books / "guidelines" / "parking.md"
    assert f"{parking}:3: owner: 'nobody' is not a person in the config (use an id: maria," in err


def test_a_spoke_without_a_channel_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "playcaller.yaml"
    config.write_text(
        SAMPLE.replace('    channels:\n      console: "#talent"\n', "")
        + "\nplatforms: [console, slack]\n",
        encoding="utf-8",
    )
    status, out, _ = check(config, capsys)
    assert status == 0
    assert (
        f"note: {config}: spoke 'talent' has no console channel: its cards wait until an admin "
        "types /playcaller link talent in one, or spokes[talent].channels.console is set" in out
    )
    assert "spoke 'care' has no slack channel" in out
    assert "spoke 'care' has no console channel" not in out
