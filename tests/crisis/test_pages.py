"""From the escalation plan to the wire: the pages due at declaration, built
for each channel, go out through the real adapters to their local fakes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.clock import ManualClock
from bot.core.errors import RetryLater
from bot.core.paging import PageAction
from bot.core.playbook import Playbook
from bot.core.settings import Settings
from bot.paging import PagerDutyPager, PagerDutySettings, SmtpPager, SmtpSettings
from bot.statements import SandboxedStatements
from bot.templates import JinjaTemplates
from handlers.crisis import pages, rules
from handlers.crisis.escalation import pages_due, plan
from handlers.crisis.incident import Incident
from tests.conftest import ROOT, START
from tests.fakes.pagerduty_events import FakePagerDuty
from tests.fakes.smtp_server import FakeSmtp

TEMPLATES = JinjaTemplates(ROOT / "templates")
ROOM = "https://acme.slack.com/archives/C42"
KEY = "R0123456789abcdef0123456789abcde"


def outage(playbooks: dict[str, Playbook], settings: Settings) -> Incident:
    return rules.declare(
        42,
        playbooks["service-outage"],
        summary="AcmePay app down <!channel>",
        lead="priya",
        declared_by="priya",
        variables={"service": "AcmePay", "status_url": "https://status.acme.com"},
        accounts=settings.accounts,
        renderer=SandboxedStatements(),
        now=START,
    )


def test_channels_follow_configuration(playbooks: dict[str, Playbook], settings: Settings) -> None:
    maria = settings.people["maria"]
    assert pages.person_channels(maria, ()) == ("chat",)
    assert pages.person_channels(maria, {"email", "webhook"}) == ("chat", "email", "webhook")
    assert pages.person_channels(replace(maria, email=""), {"email"}) == ("chat",)
    assert pages.uses_pagerduty(playbooks["service-outage"], {"pagerduty"})
    assert not pages.uses_pagerduty(playbooks["misconduct-viral"], {"pagerduty"})
    assert not pages.uses_pagerduty(playbooks["service-outage"], ())


def test_a_reminder_says_so(playbooks: dict[str, Playbook], settings: Settings) -> None:
    incident = outage(playbooks, settings)
    escalation = plan(playbooks["service-outage"], incident.id, START, settings.people)
    first = pages_due(escalation, (), (), START)
    later = pages_due(
        escalation, (), {p.id for p in first}, START + playbooks["service-outage"].ack_within
    )
    page = pages.person_page(
        incident,
        later[0],
        settings.people[later[0].person],
        "email",
        title="Customer-facing service outage",
        templates=TEMPLATES,
        room_url=None,
        now=START,
    )
    assert page.key == f"{later[0].id}:email" and later[0].repeat == 1
    assert "This is reminder 1: nobody has acknowledged your page yet." in page.text
    assert "Press Acknowledge on the page the bot sent you in chat." in page.text


async def test_declaration_pages_go_out_by_email_and_pagerduty(
    playbooks: dict[str, Playbook], settings: Settings
) -> None:
    incident = outage(playbooks, settings)
    book = playbooks["service-outage"]
    smtp, pagerduty = FakeSmtp(), FakePagerDuty(KEY)
    await smtp.start()
    await pagerduty.start()
    clock = ManualClock(START)
    settings_for_mail = SmtpSettings.from_env(
        {
            "PLAYCALLER_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
            "PLAYCALLER_SMTP_FROM": "crisis@acme.com",
        }
    )
    assert settings_for_mail is not None
    mail = SmtpPager(settings_for_mail)
    duty = PagerDutyPager(PagerDutySettings(KEY, pagerduty.url), clock)
    try:
        assert pages.uses_pagerduty(book, {"pagerduty", "email"})
        trigger = pages.incident_page(
            incident, PageAction.TRIGGER, templates=TEMPLATES, room_url=ROOM, now=START
        )
        pagerduty.fail_next()
        with pytest.raises(RetryLater, match="500"):  # the outbox tries again later
            await duty.send(trigger, attempt=1)
        await duty.send(trigger, attempt=2)
        due = pages_due(plan(book, incident.id, START, settings.people), (), (), START)
        for item in due:
            person = settings.people[item.person]
            for channel in pages.person_channels(person, {"email"}):
                if channel != "email":
                    continue  # chat DMs are cards: the next session's Delivery
                page = pages.person_page(
                    incident,
                    item,
                    person,
                    channel,
                    title=book.title,
                    templates=TEMPLATES,
                    room_url=ROOM,
                    now=START,
                )
                await mail.send(page, attempt=1)
    finally:
        await duty.close()
        await smtp.close()
        await pagerduty.close()
    assert [m["To"] for m in smtp.messages] == [
        "Maria Lopez <maria@example.com>",
        "Priya Raman <priya@example.com>",
    ]
    body = smtp.messages[0].get_content()
    assert "Maria Lopez, you are paged for crisis CR-42 (SEV2)" in body
    assert f"Join the crisis room and press Acknowledge on your page there: {ROOM}" in body
    assert smtp.messages[0]["Subject"] == "[CR-42] SEV2 crisis: AcmePay app down <!channel>"
    assert pagerduty.statuses == [500, 202] and len(pagerduty.alerts) == 1
    assert pagerduty.alerts[0].summary == "CR-42 (sev2): AcmePay app down <!channel>"
