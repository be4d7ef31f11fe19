"""One JSON POST and one classification of its answer, shared by the HTTP
pagers: 2xx sent; 429 retry after its ``Retry-After`` (pacing, not failure);
408, 5xx, timeouts and connection errors retry with back-off; any other
status is :class:`PageRejected` with the receiver's reason."""

from __future__ import annotations

import random
from datetime import datetime

from bot.core.errors import RetryLater, Undeliverable
from bot.webhooks import Answer, backoff, clean, retry_after_wait


class PageRejected(Undeliverable):
    """The receiver refused the page; ``reason`` is its own words."""

    def __init__(self, receiver: str, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{receiver} refused the page ({status}): {reason}")


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


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.isoformat(timespec="seconds")
