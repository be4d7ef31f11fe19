"""The signed page webhook: anything else that should hear about pages (an
on-call tool, an SMS gateway, a phone tree) behind
``PLAYCALLER_PAGE_WEBHOOK_URL``.

The same contract as the publishing webhook: a JSON ``POST`` with
``Idempotency-Key: <page key>``, ``X-Playcaller-Timestamp`` and
``X-Playcaller-Signature: v1=<hex HMAC-SHA256 of "v1:<timestamp>:<body>">``
with ``PLAYCALLER_PAGE_WEBHOOK_SECRET`` (:mod:`bot.signing`). Body::

    {"id", "incident", "action", "severity", "summary", "text", "playbook",
     "recipient": {"id", "name", "email"} | null, "room_url", "created_at"}
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp

from bot.core.clock import Clock
from bot.core.errors import ConfigError, Problem
from bot.core.paging import Page, PageSent
from bot.paging.http import iso, raise_unless_sent
from bot.signing import sign
from bot.webhooks import post

RECEIVER = "the page webhook"


@dataclass(frozen=True)
class PageWebhookSettings:
    url: str
    secret: str = field(repr=False)
    timeout: timedelta = timedelta(seconds=10)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> PageWebhookSettings | None:
        """``None`` when ``PLAYCALLER_PAGE_WEBHOOK_URL`` is unset."""
        url = environ.get("PLAYCALLER_PAGE_WEBHOOK_URL", "").strip()
        if not url:
            return None
        problems = []
        if not re.match(r"^https?://[^\s/]+", url):
            problems.append(
                Problem("environment", None, "PLAYCALLER_PAGE_WEBHOOK_URL must be an http(s) URL")
            )
        secret = environ.get("PLAYCALLER_PAGE_WEBHOOK_SECRET", "")
        if len(secret) < 16:
            problems.append(
                Problem(
                    "environment",
                    None,
                    "PLAYCALLER_PAGE_WEBHOOK_SECRET must be set (at least 16 characters) "
                    "when PLAYCALLER_PAGE_WEBHOOK_URL is",
                )
            )
        if problems:
            raise ConfigError(problems)
        return cls(url, secret)


def body_of(page: Page) -> bytes:
    """The same bytes for the same page, every attempt."""
    recipient = page.recipient
    document = {
        "id": page.key,
        "incident": page.incident,
        "action": page.action.value,
        "severity": page.severity.value,
        "summary": page.summary,
        "text": page.text,
        "playbook": page.playbook,
        "recipient": None
        if recipient is None
        else {"id": recipient.person, "name": recipient.name, "email": recipient.email},
        "room_url": page.room_url,
        "created_at": iso(page.created_at),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def headers_of(page: Page, body: bytes, *, secret: str, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Playcaller-Pager/1",
        "Idempotency-Key": page.key,
        "X-Playcaller-Timestamp": str(timestamp),
        "X-Playcaller-Signature": sign(secret, timestamp, body),
    }


class WebhookPager:
    """The :class:`bot.core.ports.Pager` over a signed webhook."""

    channel = "webhook"

    def __init__(
        self,
        settings: PageWebhookSettings,
        clock: Clock,
        *,
        session: aiohttp.ClientSession | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._session = session
        self._own_session = session is None
        self._rng = rng or random.Random()

    async def send(self, page: Page, *, attempt: int) -> PageSent:
        body = body_of(page)
        headers = headers_of(page, body, secret=self.settings.secret, now=self.clock.now())
        if self._session is None:
            self._session = aiohttp.ClientSession()
        answer = await post(
            self._session,
            self.settings.url,
            body,
            headers,
            limit=self.settings.timeout,
            attempt=attempt,
            rng=self._rng,
            receiver=RECEIVER,
        )
        raise_unless_sent(
            answer, attempt=attempt, rng=self._rng, now=self.clock.now(), receiver=RECEIVER
        )
        reference = answer.document().get("id")
        return PageSent(str(reference)[:200] if isinstance(reference, str | int) else None)

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
