"""PagerDuty Events API v2: ``trigger`` when an incident is declared,
``acknowledge`` when its lead acknowledges, ``resolve`` when it is resolved.

``dedup_key`` is the incident id, so PagerDuty keeps one alert per incident
however often a request is retried. Responses, per PagerDuty's documentation:
202 accepted (``{"status": "success", "message": "Event processed",
"dedup_key": ...}``); 400 invalid event (never retried); 429 and 5xx retried
later. Configured by ``PAGERDUTY_ROUTING_KEY`` (the integration key of an
"Events API v2" integration) and optionally ``PAGERDUTY_EVENTS_URL``.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp

from bot.core.clock import Clock
from bot.core.errors import ConfigError, Problem
from bot.core.paging import Page, PageAction, PageSent
from bot.core.playbook import Severity
from bot.paging.http import iso, raise_unless_sent
from bot.webhooks import clean, post

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
MAX_SUMMARY = 1024
SEVERITIES = {Severity.SEV1: "critical", Severity.SEV2: "error", Severity.SEV3: "warning"}
RECEIVER = "PagerDuty"


@dataclass(frozen=True)
class PagerDutySettings:
    routing_key: str = field(repr=False)
    url: str = DEFAULT_URL
    timeout: timedelta = timedelta(seconds=10)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> PagerDutySettings | None:
        """``None`` when ``PAGERDUTY_ROUTING_KEY`` is unset (PagerDuty is off)."""
        key = environ.get("PAGERDUTY_ROUTING_KEY", "").strip()
        if not key:
            return None
        url = environ.get("PAGERDUTY_EVENTS_URL", "").strip() or DEFAULT_URL
        problems = []
        if not re.fullmatch(r"[A-Za-z0-9]{20,64}", key):
            problems.append(
                Problem(
                    "environment",
                    None,
                    "PAGERDUTY_ROUTING_KEY must be the integration key of an Events API v2 "
                    "integration (32 letters and digits)",
                )
            )
        if not re.match(r"^https?://[^\s/]+", url):
            problems.append(
                Problem("environment", None, "PAGERDUTY_EVENTS_URL must be an http(s) URL")
            )
        if problems:
            raise ConfigError(problems)
        return cls(key, url)


def event_of(page: Page, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body for ``page``."""
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": page.action.value,
        "dedup_key": page.incident,
    }
    if page.action is PageAction.TRIGGER:
        summary = clean(f"{page.incident} ({page.severity.value}): {page.summary}", MAX_SUMMARY)
        details: dict[str, str] = {"incident": page.incident, "severity": page.severity.value}
        if page.playbook:
            details["playbook"] = page.playbook
        if page.room_url:
            details["room"] = page.room_url
        event["payload"] = {
            "summary": summary,
            "source": "playcaller",
            "severity": SEVERITIES[page.severity],
            "timestamp": iso(page.created_at),
            "component": page.playbook or "crisis",
            "group": "social-media",
            "class": "social media crisis",
            "custom_details": details,
        }
        event["client"] = "Playcaller"
        if page.room_url:
            event["links"] = [{"href": page.room_url, "text": "Crisis room"}]
    return event


class PagerDutyPager:
    """The :class:`bot.core.ports.Pager` for PagerDuty's Events API v2."""

    channel = "pagerduty"

    def __init__(
        self,
        settings: PagerDutySettings,
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
        body = json.dumps(event_of(page, self.settings.routing_key)).encode()
        if self._session is None:
            self._session = aiohttp.ClientSession()
        answer = await post(
            self._session,
            self.settings.url,
            body,
            {"Content-Type": "application/json", "User-Agent": "Playcaller-Pager/1"},
            limit=self.settings.timeout,
            attempt=attempt,
            rng=self._rng,
            receiver=RECEIVER,
        )
        raise_unless_sent(
            answer, attempt=attempt, rng=self._rng, now=self.clock.now(), receiver=RECEIVER
        )
        reference = answer.document().get("dedup_key")
        return PageSent(str(reference)[:255] if isinstance(reference, str) else page.incident)

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None
