"""Accounts and approval settings in playcaller.yaml: the sample, every problem with its line,
and who may draft for which account."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import parse_settings
from bot.core.accounts import Account, Network, draftable_accounts, may_draft
from bot.core.errors import ConfigError
from bot.core.model import Actor, Role
from bot.core.settings import Settings
from tests.conftest import ROOT

SAMPLE = (ROOT / "playcaller.yaml").read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "bad.yaml")
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return parse_settings(SAMPLE, "playcaller.yaml")


def actor(settings: Settings, person_id: str) -> Actor:
    return settings.actor_for(settings.people[person_id], "console")


def test_sample_lists_the_company_accounts(settings: Settings) -> None:
    assert list(settings.accounts) == ["acme-x", "acme-bsky", "acme-linkedin", "acme-careers"]
    x = settings.accounts["acme-x"]
    assert (x.network, x.handle, x.spoke) == (Network.X, "@acme", "care")
    assert x.drafter_roles == {Role.RESPONDER, Role.COACH}
    linkedin = settings.accounts["acme-linkedin"]
    assert linkedin.drafter_roles == {Role.COACH, Role.CRISIS_LEAD}
    assert linkedin.drafter_people == {"lee"}


def test_sample_approval_settings_are_typed(settings: Settings) -> None:
    lint = settings.approvals.lint
    assert settings.approvals.step_deadline.total_seconds() == 15 * 60
    assert "we guarantee" in lint.phrases_for("care")
    assert "settlement" in lint.phrases_for("care")
    assert "settlement" not in lint.phrases_for("talent")
    assert lint.competitors == ("Globex", "Initech")
    assert "acme.com" in lint.link_allow_list
    assert lint.reference_patterns["order number"].search("your order ORD-1234567 shipped")


def test_defaults_when_the_sections_are_absent() -> None:
    start = SAMPLE.index("# The company's social accounts")
    end = SAMPLE.index("# First matching rule wins")
    settings = parse_settings(SAMPLE[:start] + SAMPLE[end:], "plain.yaml")
    assert settings.accounts == {}
    assert settings.approvals.step_deadline.total_seconds() == 15 * 60
    assert settings.approvals.lint.link_allow_list == ()
    assert settings.approvals.lint.competitors == ("Globex", "Initech")


def test_responder_drafts_only_for_their_spoke(settings: Settings) -> None:
    sam = actor(settings, "sam")  # responder, care
    accounts = settings.accounts
    assert may_draft(sam, accounts["acme-x"], hub_id="hub")
    assert may_draft(sam, accounts["acme-bsky"], hub_id="hub")
    assert not may_draft(sam, accounts["acme-careers"], hub_id="hub")
    assert not may_draft(sam, accounts["acme-linkedin"], hub_id="hub")
    assert [a.id for a in draftable_accounts(sam, accounts, hub_id="hub")] == [
        "acme-x",
        "acme-bsky",
    ]


def test_coach_drafts_for_the_spokes_they_coach(settings: Settings) -> None:
    maria = actor(settings, "maria")  # coach of care
    assert may_draft(maria, settings.accounts["acme-x"], hub_id="hub")
    assert not may_draft(maria, settings.accounts["acme-careers"], hub_id="hub")


def test_hub_coach_drafts_for_every_spoke_that_lets_coaches_draft() -> None:
    hub_coach = Actor("hana", "Hana", frozenset({Role.COACH}), ("hub",))
    talent = Account("t", Network.TIKTOK, "@acme", "talent")
    responders_only = Account(
        "r", Network.X, "@acme_help", "talent", drafter_roles=frozenset({Role.RESPONDER})
    )
    assert may_draft(hub_coach, talent, hub_id="hub")
    assert not may_draft(hub_coach, responders_only, hub_id="hub")


def test_named_people_draft_without_the_role(settings: Settings) -> None:
    lee = actor(settings, "lee")  # legal, no spoke
    priya = actor(settings, "priya")  # crisis lead of comms
    jo = actor(settings, "jo")  # employee
    assert may_draft(lee, settings.accounts["acme-linkedin"], hub_id="hub")
    assert may_draft(priya, settings.accounts["acme-linkedin"], hub_id="hub")
    assert not may_draft(priya, settings.accounts["acme-x"], hub_id="hub")
    assert draftable_accounts(jo, settings.accounts, hub_id="hub") == []


def test_account_problems_name_their_lines() -> None:
    text = SAMPLE.replace(
        "{id: acme-bsky, network: bluesky, handle: acme.bsky.social, spoke: care}",
        "{id: acme-x, network: bluesky, handle: acme.bsky.social, spoke: cares}",
    ).replace("people: [lee]}", "people: [leee]}")
    found = problems_of(text)
    line = line_of(text, "spoke: cares")
    assert f"bad.yaml:{line}: duplicate account id 'acme-x'" in found
    assert f"bad.yaml:{line}: unknown spoke 'cares'" in found
    assert f"bad.yaml:{line_of(text, 'people: [leee]')}: unknown person 'leee'" in found
    assert len(found) == 3


def test_unknown_network_and_bad_handle_name_their_lines() -> None:
    text = SAMPLE.replace('network: x, handle: "@acme"', 'network: myspace, handle: "@ac me"')
    found = problems_of(text)
    line = line_of(text, "network: myspace")
    assert any(p.startswith(f"bad.yaml:{line}: accounts.0.network:") for p in found), found
    assert any(p.startswith(f"bad.yaml:{line}: accounts.0.handle:") for p in found), found


def test_same_handle_twice_on_one_network() -> None:
    text = SAMPLE.replace("handle: acme.bsky.social", 'handle: "@ACME"').replace(
        "network: bluesky", "network: x"
    )
    assert problems_of(text) == [
        f"bad.yaml:{line_of(text, 'id: acme-bsky')}: account '@ACME' on x is listed twice"
    ]


def test_nobody_may_draft_is_refused() -> None:
    text = SAMPLE.replace(
        "handle: acme.bsky.social, spoke: care}",
        "handle: acme.bsky.social, spoke: care, drafters: {roles: []}}",
    )
    assert problems_of(text) == [
        f"bad.yaml:{line_of(text, 'drafters: {roles: []}')}: account 'acme-bsky': nobody may draft for it"
    ]


def test_lint_settings_problems_name_their_lines() -> None:
    text = (
        SAMPLE.replace("      care: [legal action", "      carre: [legal action")
        .replace("[acme.com, acme.help", "[https://acme.com/, acme.help")
        .replace("'\\bORD-?\\d{6,8}\\b'", "'ORD-(\\d{6'")
        .replace("'\\bACC-?\\d{8}\\b'", "'\\d*'")
    )
    found = problems_of(text)
    assert (
        f"bad.yaml:{line_of(text, 'carre:')}: legal_phrases: unknown spoke 'carre' "
        "(use a spoke id or 'default')"
    ) in found
    assert (
        f"bad.yaml:{line_of(text, 'link_allow_list:')}: link_allow_list: 'https://acme.com/' "
        "is not a domain such as example.com"
    ) in found
    order = next(p for p in found if "reference_patterns.order number" in p)
    assert order.startswith(f"bad.yaml:{line_of(text, 'order number:')}: ")
    assert "invalid pattern" in order
    assert (
        f"bad.yaml:{line_of(text, 'account number:')}: reference_patterns.account number: "
        "the pattern matches empty text"
    ) in found
    assert len(found) == 4


def test_bad_step_deadline_names_its_line() -> None:
    text = SAMPLE.replace("step_deadline: 15m", "step_deadline: soon")
    [problem] = problems_of(text)
    assert problem.startswith(f"bad.yaml:{line_of(text, 'step_deadline')}: approvals.step_deadline")


def test_unknown_phone_region_names_its_line() -> None:
    text = SAMPLE.replace("phone_regions: [GB, US]", "phone_regions: [GB, XX]")
    assert problems_of(text) == [
        f"bad.yaml:{line_of(text, 'phone_regions:')}: phone_regions: unknown region 'XX' "
        "(a country code such as GB or US)"
    ]


def test_check_command_reports_an_account_problem_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "playcaller.yaml"
    text = SAMPLE.replace('spoke: "talent"}', 'spoke: "recruiting"}')
    config.write_text(text, encoding="utf-8")
    assert main(["--config", str(config), "check"]) == 2
    line = line_of(text, 'spoke: "recruiting"')
    assert f"{config}:{line}: unknown spoke 'recruiting'" in capsys.readouterr().err
