"""The webhook Publisher: a signed POST to the company's own receiver.

Outcomes, per attempt (the outbox decides when to try again):

* 2xx: published; an optional JSON body ``{"url": ..., "id": ...}`` says
  where the post landed.
* connection errors, timeouts, 408, 5xx: :class:`RetryLater` after an
  exponential back-off with jitter; 429: after its ``Retry-After`` (a rate
  limit is pacing, not failure). Every attempt carries the same
  ``Idempotency-Key``, so a receiver that got an earlier attempt publishes
  once.
* any other status: :class:`PublishRejected` with the receiver's reason.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp

from bot.core.clock import Clock
from bot.core.errors import ConfigError, Problem, RetryLater, Undeliverable
from bot.core.publishing import Publication, Published
from bot.publishing.request import build_request
from bot.webhooks import backoff, clean, json_object, post, retry_after_wait


@dataclass(frozen=True)
class WebhookSettings:
    """Where to publish and the shared secret (never shown in ``repr``)."""

    url: str
    secret: str = field(repr=False)
    timeout: timedelta = timedelta(seconds=10)
    # How long one process holds a publication before another may send it
    # again (same key): well above ``timeout``.
    lease: timedelta = timedelta(seconds=60)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> WebhookSettings | None:
        """``PLAYCALLER_PUBLISH_URL`` and ``PLAYCALLER_PUBLISH_SECRET``; ``None``
        when no URL is set (publishing is then manual)."""
        url = environ.get("PLAYCALLER_PUBLISH_URL", "").strip()
        if not url:
            return None
        problems = []
        if not re.match(r"^https?://[^\s/]+", url):
            problems.append(
                Problem("environment", None, "PLAYCALLER_PUBLISH_URL must be an http(s) URL")
            )
        secret = environ.get("PLAYCALLER_PUBLISH_SECRET", "")
        if len(secret) < 16:
            problems.append(
                Problem(
                    "environment",
                    None,
                    "PLAYCALLER_PUBLISH_SECRET must be set (at least 16 characters) "
                    "when PLAYCALLER_PUBLISH_URL is",
                )
            )
        lease = timedelta(seconds=60)
        raw_lease = environ.get("PLAYCALLER_PUBLISH_LEASE_SECONDS", "").strip()
        if raw_lease:
            try:
                lease = timedelta(seconds=float(raw_lease))
            except ValueError:
                lease = timedelta(0)
            if lease <= timedelta(0):
                problems.append(
                    Problem(
                        "environment",
                        None,
                        "PLAYCALLER_PUBLISH_LEASE_SECONDS must be a positive number of seconds",
                    )
                )
        if problems:
            raise ConfigError(problems)
        return cls(url, secret, lease=lease)


class PublishRejected(Undeliverable):
    """The receiver refused the publication; ``reason`` is its own words."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"the publishing system refused it ({status}): {reason}")


class WebhookPublisher:
    """The :class:`bot.core.ports.Publisher` over HTTP."""

    def __init__(
        self,
        settings: WebhookSettings,
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

    async def publish(self, publication: Publication, *, attempt: int) -> Published:
        request = build_request(publication, secret=self.settings.secret, now=self.clock.now())
        answer = await post(
            self._session_for_use(),
            self.settings.url,
            request.body,
            request.headers,
            limit=self.settings.timeout,
            attempt=attempt,
            rng=self._rng,
            receiver="the receiver",
        )
        return self.outcome(answer.status, answer.body, answer.retry_after, attempt=attempt)

    def outcome(
        self, status: int, answer: bytes, retry_after: str | None, *, attempt: int
    ) -> Published:
        """Classify the receiver's answer (raising for anything but success)."""
        if 200 <= status < 300:
            return _published(answer)
        if status == 429:
            wait = retry_after_wait(retry_after, self.clock.now()) or backoff(attempt, self._rng)
            raise RetryLater(wait, "the receiver is rate limiting (429)", paced=True)
        if status == 408 or status >= 500:
            raise RetryLater(backoff(attempt, self._rng), f"the receiver answered {status}")
        raise PublishRejected(status, _reason(answer, status))

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _session_for_use(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


def _published(answer: bytes) -> Published:
    document = json_object(answer)
    url = document.get("url")
    identifier = document.get("id")
    return Published(
        url=url if isinstance(url, str) and re.match(r"^https?://\S+$", url) else None,
        id=str(identifier)[:200] if isinstance(identifier, str | int) else None,
    )


def _reason(answer: bytes, status: int) -> str:
    document = json_object(answer)
    for key in ("error", "reason", "message"):
        value = document.get(key)
        if isinstance(value, str) and value.strip():
            return clean(value)
    if document:
        return f"status {status}"
    text = answer.decode("utf-8", errors="replace")
    return clean(text) if text.strip() else f"status {status}"
