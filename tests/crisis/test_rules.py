"""Incident transitions: legal moves change the incident and its timeline,
illegal ones are refused with a reason the refusal template words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.errors import InvalidInput
from bot.core.playbook import Playbook, Severity, StatementError
from bot.core.settings import Settings
from bot.statements import SandboxedStatements
from bot.templates import JinjaTemplates
from handlers.crisis import rules
from handlers.crisis.incident import Happened, Incident, IncidentState, parse_incident_id
from handlers.crisis.rules import Refusal
from tests.conftest import ROOT, START

OUTAGE_VARS = {"service": "the AcmePay app", "status_url": "https://status.acme.com"}


def declared(playbooks: dict[str, Playbook], settings: Settings, **extra: object) -> Incident:
    return rules.declare(
        42,
        playbooks["service-outage"],
        summary="  AcmePay app\n down for card payments ",
        lead="priya",
        declared_by="priya",
        variables=OUTAGE_VARS,
        accounts=settings.accounts,
        renderer=SandboxedStatements(),
        now=START,
    )


def test_declare_fills_the_incident_from_the_playbook(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = declared(playbooks, settings)
    assert incident.id == "CR-42" and parse_incident_id("cr-42") == 42
    assert incident.summary == "AcmePay app down for card payments"
    assert incident.state is IncidentState.DECLARED and incident.severity is Severity.SEV2
    assert incident.accounts == ("acme-x", "acme-bsky") and incident.spokes == ("care",)
    assert incident.publishing_paused
    first = incident.statements[0]
    assert first.id == "first"
    assert first.text.startswith("Some of you cannot use the AcmePay app right now.")
    assert first.text.endswith("Live status: https://status.acme.com")
    assert len(incident.checklist) == len(playbooks["service-outage"].checklist)
    assert [(e.what, e.actor) for e in incident.timeline] == [(Happened.DECLARED, "priya")]


def test_a_playbook_without_accounts_affects_every_account(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = rules.declare(
        1,
        playbooks["data-incident"],
        summary="Claims of leaked e-mails",
        lead="priya",
        declared_by="maria",
        variables={"topic": "a list of e-mail addresses"},
        accounts=settings.accounts,
        renderer=SandboxedStatements(),
        now=START,
        severity=Severity.SEV2,
    )
    assert incident.accounts == tuple(settings.accounts)
    assert set(incident.spokes) == {"care", "comms", "talent"}
    assert incident.severity is Severity.SEV2
    assert all(s.requires_legal for s in incident.statements)


def test_a_missing_variable_is_refused_at_declare_naming_it(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    with pytest.raises(StatementError) as caught:
        rules.declare(
            1,
            playbooks["misconduct-viral"],
            summary="Video of a manager shouting",
            lead="priya",
            declared_by="priya",
            variables={"subject": "a video"},
            accounts=settings.accounts,
            renderer=SandboxedStatements(),
            now=START,
        )
    assert caught.value.missing == ("where",)
    assert "missing variable where" in caught.value.user_message()


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"servise": "x", **OUTAGE_VARS}, "variables.servise"),
        ({**OUTAGE_VARS, "service": " "}, "variables.service"),
    ],
)
def test_unknown_or_empty_variables_are_refused(
    playbooks: dict[str, Playbook], settings: Settings, variables: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.declare(
            1,
            playbooks["service-outage"],
            summary="Down",
            lead="priya",
            declared_by="priya",
            variables=variables,
            accounts=settings.accounts,
            renderer=SandboxedStatements(),
            now=START,
        )
    assert caught.value.field == field


def test_an_empty_summary_is_refused(playbooks: dict[str, Playbook], settings: Settings) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.declare(
            1,
            playbooks["service-outage"],
            summary=" \n ",
            lead="priya",
            declared_by="priya",
            variables=OUTAGE_VARS,
            accounts=settings.accounts,
            renderer=SandboxedStatements(),
            now=START,
        )
    assert caught.value.field == "summary"


def test_state_runs_forward_only(playbooks: dict[str, Playbook], settings: Settings) -> None:
    incident = declared(playbooks, settings)
    later = START + timedelta(minutes=20)
    mitigated = rules.mitigate(incident, "priya", later)
    assert isinstance(mitigated, Incident) and mitigated.mitigated_at == later
    assert isinstance(again := rules.mitigate(mitigated, "maria", later), Refusal)
    assert again.reason == "already_mitigated" and again.incident is mitigated
    resolved = rules.resolve(mitigated, "priya", later + timedelta(hours=1))
    assert isinstance(resolved, Incident) and resolved.state is IncidentState.RESOLVED
    assert not resolved.publishing_paused
    refused = rules.mitigate(resolved, "priya", later)
    assert isinstance(refused, Refusal) and refused.reason == "cannot_mitigated_from_resolved"
    assert [e.what for e in resolved.timeline] == [
        Happened.DECLARED,
        Happened.MITIGATED,
        Happened.RESOLVED,
    ]
    # A false alarm goes straight from declared to resolved.
    assert isinstance(rules.resolve(incident, "priya", later), Incident)


def test_acknowledge_is_per_person_and_once(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = declared(playbooks, settings)
    stranger = rules.acknowledge(incident, "maria", START)
    assert isinstance(stranger, Refusal) and stranger.reason == "not_paged"
    paged = rules.record_page(
        incident,
        person="maria",
        page_id="CR-42:maria:s0:r0",
        step=0,
        channels=("chat", "email"),
        now=START,
    )
    assert isinstance(paged, Incident)
    twice = rules.record_page(
        paged, person="maria", page_id="CR-42:maria:s0:r0", step=0, channels=("chat",), now=START
    )
    assert isinstance(twice, Refusal) and twice.reason == "already_paged"
    acked = rules.acknowledge(paged, "maria", START + timedelta(minutes=3))
    assert isinstance(acked, Incident)
    assert acked.acks() == {"maria": START + timedelta(minutes=3)}
    again = rules.acknowledge(acked, "maria", START + timedelta(minutes=4))
    assert isinstance(again, Refusal) and again.reason == "already_acknowledged"
    assert again.incident.acks() == {"maria": START + timedelta(minutes=3)}


def test_repeated_pages_merge_channels_and_count(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = declared(playbooks, settings)
    first = rules.record_page(
        incident, person="lee", page_id="a", step=1, channels=("chat",), now=START
    )
    assert isinstance(first, Incident)
    second = rules.record_page(
        first,
        person="lee",
        page_id="b",
        step=1,
        channels=("email", "chat"),
        now=START + timedelta(minutes=5),
    )
    assert isinstance(second, Incident)
    lee = second.paged_person("lee")
    assert lee is not None
    assert (lee.channels, lee.times, lee.paged_at, lee.last_paged_at) == (
        ("chat", "email"),
        2,
        START,
        START + timedelta(minutes=5),
    )


def test_checklist_severity_lead_notes_and_pause(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = declared(playbooks, settings)
    at = START + timedelta(minutes=7)
    done = rules.complete_item(incident, 0, "priya", at)
    assert isinstance(done, Incident) and done.checklist[0].done_by == "priya"
    assert isinstance(r := rules.complete_item(done, 0, "maria", at), Refusal)
    assert r.reason == "item_already_done"
    assert isinstance(r := rules.complete_item(done, 99, "maria", at), Refusal)
    assert r.reason == "no_such_item"
    added = rules.add_item(done, "Call the bank partner", "maria", at)
    assert isinstance(added, Incident) and added.checklist[-1].added_by == "maria"
    sev = rules.set_severity(added, Severity.SEV1, "priya", at)
    assert isinstance(sev, Incident) and sev.severity is Severity.SEV1
    assert isinstance(rules.set_severity(sev, Severity.SEV1, "priya", at), Refusal)
    led = rules.set_lead(sev, "maria", "priya", at)
    assert isinstance(led, Incident) and led.lead == "maria"
    noted = rules.add_note(led, "Bank confirms the card network is down", "maria", at)
    assert noted.timeline[-1].detail == "Bank confirms the card network is down"
    with pytest.raises(InvalidInput):
        rules.add_note(noted, "   ", "maria", at)
    paused = rules.pause_publishing(noted, "priya", at)
    assert isinstance(paused, Refusal) and paused.reason == "already_paused"
    resumed = rules.resume_publishing(noted, "priya", at)
    assert isinstance(resumed, Incident) and not resumed.publishing_paused
    kinds = [e.what for e in resumed.timeline]
    assert kinds == [
        Happened.DECLARED,
        Happened.CHECKLIST_DONE,
        Happened.CHECKLIST_ADDED,
        Happened.SEVERITY,
        Happened.LEAD,
        Happened.NOTE,
        Happened.RESUMED,
    ]


def test_statements_are_recorded_once_per_account(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = declared(playbooks, settings)
    at = START + timedelta(minutes=12)
    approved = rules.statement_approved(incident, "first", "maria", at)
    assert isinstance(approved, Incident)
    assert isinstance(rules.statement_approved(approved, "first", "lee", at), Refusal)
    assert isinstance(rules.statement_approved(approved, "nope", "lee", at), Refusal)
    published = rules.statement_published(approved, "first", "acme-x", at)
    assert isinstance(published, Incident)
    again = rules.statement_published(published, "first", "acme-x", at)
    assert isinstance(again, Refusal) and again.reason == "already_published"
    assert isinstance(rules.statement_published(published, "first", "acme-bsky", at), Incident)


def test_every_refusal_reason_has_words() -> None:
    templates = JinjaTemplates(ROOT / "templates")
    source = (ROOT / "handlers" / "crisis" / "rules.py").read_text(encoding="utf-8")
    import re

    reasons = set(re.findall(r'Refusal\(\s*"([a-z_]+)"', source))
    reasons |= {"already_mitigated", "already_resolved", "cannot_mitigated_from_resolved"}
    assert len(reasons) > 10
    for reason in sorted(reasons):
        words = templates.render("crisis/refusal.txt", reason=reason, incident="CR-7")
        assert "Nothing was changed (" not in words, reason
        assert "CR-7" in words or reason.startswith(
            ("item_", "already_approved", "already_published")
        ), reason
