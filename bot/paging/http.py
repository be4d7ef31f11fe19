"""One JSON POST and one classification of its answer, shared by the HTTP
pagers: 2xx sent; 429 retry after its ``Retry-After`` (pacing, not failure);
408, 5xx, timeouts and connection errors retry with back-off; any other
status is :class:`PageRejected` with the receiver's reason."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bot.core.errors import RetryLater, Undeliverable
from bot.publishing.webhook import backoff, retry_after_wait

MAX_ANSWER_BYTES = 64 * 1024
MAX_REASON = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")


class PageRejected(Undeliverable):
    """The receiver refused the page; ``reason`` is its own words."""

    def __init__(self, receiver: str, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{receiver} refused the page ({status}): {reason}")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    retry_after: str | None

    def document(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return {}
        return parsed if isinstance(parsed, dict) else {}


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    limit: timedelta,
    attempt: int,
    rng: random.Random,
    receiver: str,
) -> Answer:
    """POST ``body``; raise :class:`RetryLater` when no answer came."""
    try:
        async with session.post(
            url,
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=limit.total_seconds()),
            allow_redirects=False,
        ) as response:
            answer = await response.content.read(MAX_ANSWER_BYTES)
            return Answer(response.status, answer, response.headers.get("Retry-After"))
    except TimeoutError as error:
        seconds = limit.total_seconds()
        raise RetryLater(
            backoff(attempt, rng), f"{receiver}: no answer within {seconds:g}s"
        ) from error
    except aiohttp.ClientError as error:
        raise RetryLater(
            backoff(attempt, rng), f"could not reach {receiver} ({type(error).__name__})"
        ) from error


def raise_unless_sent(
    answer: Answer, *, attempt: int, rng: random.Random, now: datetime, receiver: str
) -> None:
    """Return on 2xx; otherwise raise what the outbox should do next."""
    if 200 <= answer.status < 300:
        return
    if answer.status == 429:
        wait = retry_after_wait(answer.retry_after, now) or backoff(attempt, rng)
        raise RetryLater(wait, f"{receiver} is rate limiting (429)", paced=True)
    if answer.status == 408 or answer.status >= 500:
        raise RetryLater(backoff(attempt, rng), f"{receiver} answered {answer.status}")
    raise PageRejected(receiver, answer.status, reason_of(answer))


def reason_of(answer: Answer) -> str:
    document = answer.document()
    parts = []
    for key in ("message", "error", "reason"):
        value = document.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(value)
            break
    errors = document.get("errors")
    if isinstance(errors, list):
        parts += [str(e) for e in errors[:5]]
    if not parts:
        text = answer.body.decode("utf-8", errors="replace")
        parts = [text] if text.strip() and not document else [f"status {answer.status}"]
    return clean(": ".join(parts))


def clean(text: str, limit: int = MAX_REASON) -> str:
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.isoformat(timespec="seconds")
