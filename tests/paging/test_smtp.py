"""E-mail pages over real SMTP to a local aiosmtpd server: authenticated,
the incident id in the subject, deferrals retried, refusals undeliverable."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.errors import ConfigError, RetryLater, Undeliverable
from bot.paging import SmtpPager, SmtpSettings
from tests.fakes.smtp_server import FakeSmtp, self_signed_tls
from tests.paging.conftest import a_page

USER, PASSWORD = "pager@acme.com", "p@ss:word/1"


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSmtp]:
    server = FakeSmtp(USER, PASSWORD)
    await server.start()
    yield server
    await server.close()


def settings_for(server: FakeSmtp, **extra: str) -> SmtpSettings:
    settings = SmtpSettings.from_env(
        {
            "PLAYCALLER_SMTP_URL": f"smtp://127.0.0.1:{server.port}",
            "PLAYCALLER_SMTP_USER": USER,
            "PLAYCALLER_SMTP_PASSWORD": PASSWORD,
            "PLAYCALLER_SMTP_FROM": "crisis@acme.com",
            **extra,
        }
    )
    assert settings is not None
    return settings


async def test_a_page_arrives_with_the_incident_in_the_subject(smtp: FakeSmtp) -> None:
    pager = SmtpPager(settings_for(smtp))
    sent = await pager.send(a_page(summary="AcmePay down\r\nBcc: everyone@acme.com"), attempt=1)
    assert smtp.logins == [USER]
    assert smtp.envelopes == [("crisis@acme.com", ["lee@example.com"])]
    message = smtp.messages[0]
    assert message["Subject"] == "[CR-42] SEV1 crisis: AcmePay down Bcc: everyone@acme.com"
    assert message["Bcc"] is None
    assert message["To"] == "Lee Novak <lee@example.com>"
    assert message["X-Playcaller-Incident"] == "CR-42"
    assert message["Message-ID"] == sent.reference == "<CR-42.lee.s1.r0.email@acme.com>"
    assert message.get_content().replace("\r\n", "\n").strip() == (
        "You are paged for CR-42 as legal.\nAcknowledge in the crisis room."
    )


async def test_user_and_password_may_come_from_the_url(smtp: FakeSmtp) -> None:
    settings = SmtpSettings.from_env(
        {
            "PLAYCALLER_SMTP_URL": f"smtp://pager%40acme.com:p%40ss%3Aword%2F1@127.0.0.1:{smtp.port}",
            "PLAYCALLER_SMTP_FROM": "crisis@acme.com",
        }
    )
    assert settings is not None and PASSWORD not in repr(settings)
    await SmtpPager(settings).send(a_page(), attempt=1)
    assert smtp.logins == [USER] and len(smtp.messages) == 1


async def test_a_wrong_password_is_undeliverable(smtp: FakeSmtp) -> None:
    pager = SmtpPager(replace(settings_for(smtp), password="nope"))
    with pytest.raises(Undeliverable, match="the mail server refused the page: 535"):
        await pager.send(a_page(), attempt=1)
    assert smtp.messages == []


async def test_deferrals_retry_and_refusals_do_not(smtp: FakeSmtp) -> None:
    pager = SmtpPager(settings_for(smtp), rng=random.Random(5))
    smtp.fail_data_next(451, "Greylisted, try again")
    with pytest.raises(RetryLater, match="451 Greylisted"):
        await pager.send(a_page(), attempt=1)
    smtp.refuse_recipient_next(450, "Mailbox busy")
    with pytest.raises(RetryLater, match="recipient deferred"):
        await pager.send(a_page(), attempt=2)
    smtp.refuse_recipient_next(550, "No such user here")
    with pytest.raises(Undeliverable, match="refused the recipient: No such user here"):
        await pager.send(a_page(), attempt=3)
    assert smtp.messages == []
    await pager.send(a_page(), attempt=4)
    assert len(smtp.messages) == 1


async def test_a_server_that_is_down_is_retried(smtp: FakeSmtp) -> None:
    settings = settings_for(smtp)
    await smtp.close()
    with pytest.raises(RetryLater, match="could not reach the mail server"):
        await SmtpPager(settings).send(a_page(), attempt=1)


async def test_a_page_without_an_address_is_undeliverable(smtp: FakeSmtp) -> None:
    with pytest.raises(Undeliverable, match="needs a recipient"):
        await SmtpPager(settings_for(smtp)).send(a_page(recipient=None), attempt=1)


async def test_smtps_speaks_tls_from_the_first_byte(tmp_path: Path) -> None:
    server = FakeSmtp(USER, PASSWORD)
    await server.start(tls=self_signed_tls(tmp_path))
    try:
        settings = SmtpSettings.from_env(
            {
                "PLAYCALLER_SMTP_URL": f"smtps://127.0.0.1:{server.port}",
                "PLAYCALLER_SMTP_USER": USER,
                "PLAYCALLER_SMTP_PASSWORD": PASSWORD,
                "PLAYCALLER_SMTP_FROM": "crisis@acme.com",
            }
        )
        assert settings is not None and settings.implicit_tls
        # The test certificate is self-signed; production keeps validation on.
        await SmtpPager(replace(settings, validate_certs=False)).send(a_page(), attempt=1)
        assert len(server.messages) == 1
        with pytest.raises(RetryLater):  # plain SMTP to a TLS port never gets a greeting
            plain = replace(settings, implicit_tls=False, timeout=settings.timeout / 20)
            await SmtpPager(plain).send(a_page(), attempt=1)
    finally:
        await server.close()


def test_settings_from_the_environment() -> None:
    assert SmtpSettings.from_env({}) is None
    settings = SmtpSettings.from_env(
        {"PLAYCALLER_SMTP_URL": "smtps://mail.acme.com", "PLAYCALLER_SMTP_FROM": "c@acme.com"}
    )
    assert settings is not None and (settings.port, settings.implicit_tls) == (465, True)
    settings = SmtpSettings.from_env(
        {"PLAYCALLER_SMTP_URL": "smtp://mail.acme.com", "PLAYCALLER_SMTP_FROM": "c@acme.com"}
    )
    assert settings is not None and (settings.port, settings.user) == (587, None)
    with pytest.raises(ConfigError) as caught:
        SmtpSettings.from_env({"PLAYCALLER_SMTP_URL": "http://mail.acme.com"})
    text = str(caught.value)
    assert "PLAYCALLER_SMTP_URL must look like smtp://host:587" in text
    assert "PLAYCALLER_SMTP_FROM must be an e-mail address" in text
