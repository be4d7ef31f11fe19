"""E-mail pages over SMTP (``aiosmtplib``).

``PLAYCALLER_SMTP_URL`` is ``smtp://host[:port]`` (STARTTLS when the server
offers it, port 587 by default) or ``smtps://host[:port]`` (TLS from the
first byte, port 465); user and password come from the URL or from
``PLAYCALLER_SMTP_USER`` / ``PLAYCALLER_SMTP_PASSWORD``.
``PLAYCALLER_SMTP_FROM`` is the sender. The subject carries the incident id;
the ``Message-ID`` is derived from the page key, so a mail system that
dedups by it shows a retried page once.

Outcomes: 4xx replies, timeouts and lost connections retry later; 5xx
replies (a refused recipient, failed authentication) are undeliverable.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.core.errors import ConfigError, Problem, RetryLater, Undeliverable
from bot.core.paging import Page, PageSent
from bot.webhooks import backoff, clean

MAX_SUBJECT = 150
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    implicit_tls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: timedelta = timedelta(seconds=20)
    validate_certs: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SmtpSettings | None:
        """``None`` unless ``PLAYCALLER_SMTP_URL`` is set."""
        url = environ.get("PLAYCALLER_SMTP_URL", "").strip()
        if not url:
            return None
        problems: list[Problem] = []
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            problems.append(
                Problem(
                    "environment",
                    None,
                    "PLAYCALLER_SMTP_URL must look like smtp://host:587 or smtps://host:465",
                )
            )
        try:
            port = parts.port
        except ValueError:
            port = None
            problems.append(Problem("environment", None, "PLAYCALLER_SMTP_URL has a bad port"))
        sender = environ.get("PLAYCALLER_SMTP_FROM", "").strip()
        if not _ADDRESS.match(sender):
            problems.append(
                Problem(
                    "environment",
                    None,
                    "PLAYCALLER_SMTP_FROM must be an e-mail address when "
                    "PLAYCALLER_SMTP_URL is set",
                )
            )
        if problems:
            raise ConfigError(problems)
        implicit = parts.scheme == "smtps"
        user = unquote(parts.username) if parts.username else environ.get("PLAYCALLER_SMTP_USER")
        password = (
            unquote(parts.password) if parts.password else environ.get("PLAYCALLER_SMTP_PASSWORD")
        )
        return cls(
            host=parts.hostname or "",
            port=port or (465 if implicit else 587),
            sender=sender,
            implicit_tls=implicit,
            user=user or None,
            password=password or None,
        )


def message_of(page: Page, sender: str) -> EmailMessage:
    """The e-mail for ``page`` (which must have a recipient)."""
    if page.recipient is None:
        raise Undeliverable("an e-mail page needs a recipient")
    if not _ADDRESS.match(page.recipient.email):
        raise Undeliverable(f"{page.recipient.person} has no usable e-mail address")
    message = EmailMessage()
    message["From"] = formataddr(("Playcaller", sender))
    message["To"] = formataddr((clean(page.recipient.name, 100), page.recipient.email))
    subject = f"[{page.incident}] {page.severity.value.upper()} crisis: {page.summary}"
    message["Subject"] = clean(subject, MAX_SUBJECT)
    message["Date"] = format_datetime(page.created_at)
    domain = sender.rsplit("@", 1)[1]
    message["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9.-]', '.', page.key)}@{domain}>"
    message["X-Playcaller-Incident"] = page.incident
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(page.text)
    return message


class SmtpPager:
    """The :class:`bot.core.ports.Pager` over SMTP."""

    channel = "email"

    def __init__(self, settings: SmtpSettings, *, rng: random.Random | None = None) -> None:
        self.settings = settings
        self._rng = rng or random.Random()

    async def send(self, page: Page, *, attempt: int) -> PageSent:
        message = message_of(page, self.settings.sender)
        settings = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.port,
                username=settings.user,
                password=settings.password,
                use_tls=settings.implicit_tls,
                start_tls=None if not settings.implicit_tls else False,
                validate_certs=settings.validate_certs,
                timeout=settings.timeout.total_seconds(),
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            reason = "; ".join(clean(r.message, 120) for r in error.recipients)
            if codes and all(400 <= code < 500 for code in codes):
                wait = backoff(attempt, self._rng)
                raise RetryLater(wait, f"recipient deferred: {reason}") from error
            raise Undeliverable(f"the mail server refused the recipient: {reason}") from error
        except aiosmtplib.SMTPResponseException as error:
            reason = f"{error.code} {clean(error.message, 200)}"
            if 400 <= error.code < 500:
                raise RetryLater(
                    backoff(attempt, self._rng), f"the mail server deferred: {reason}"
                ) from error
            raise Undeliverable(f"the mail server refused the page: {reason}") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise RetryLater(
                backoff(attempt, self._rng),
                f"could not reach the mail server ({type(error).__name__})",
            ) from error
        return PageSent(message["Message-ID"])
