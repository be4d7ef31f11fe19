"""One signed JSON POST to a receiver of ours and the timing rules shared by
every outbound webhook (publishing, paging): exponential back-off with jitter,
``Retry-After`` honoured and capped, and the receiver's words made safe to show."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from bot.core.errors import RetryLater
from bot.core.text_repair import json_without_lone_surrogates, without_lone_surrogates

MAX_ANSWER_BYTES = 64 * 1024
MAX_REASON = 300
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=15)
RETRY_AFTER_CAP = timedelta(hours=1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")


def backoff(attempt: int, rng: random.Random) -> timedelta:
    """Exponential back-off with jitter: 5 s doubling per attempt up to
    15 min, then a random point in the upper half, so many publishers that
    failed together do not retry together."""
    ceiling: timedelta = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(max(0, attempt - 1), 20))
    return ceiling * rng.uniform(0.5, 1.0)


def retry_after_wait(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as a wait, capped."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            wait = parsedate_to_datetime(value) - now
        except (TypeError, ValueError, IndexError):
            return None
    return max(timedelta(seconds=1), min(wait, RETRY_AFTER_CAP))


def clean(text: str, limit: int = MAX_REASON) -> str:
    """``text`` on one line, without control characters or lone surrogates
    (U+FFFD instead, so the outcome it explains can be recorded), at most
    ``limit`` long."""
    flat = " ".join(_CONTROL.sub(" ", without_lone_surrogates(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def json_object(answer: bytes) -> dict[str, Any]:
    try:
        document = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    # Half an emoji in an escape (a lone surrogate) becomes U+FFFD: the
    # outcome (a URL, an id, a refusal reason) must encode to be recorded.
    return json_without_lone_surrogates(document) if isinstance(document, dict) else {}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    retry_after: str | None

    def document(self) -> dict[str, Any]:
        return json_object(self.body)


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
        raise RetryLater(backoff(attempt, rng), f"no answer within {seconds:g}s") from error
    except aiohttp.ClientError as error:
        raise RetryLater(
            backoff(attempt, rng), f"could not reach {receiver} ({type(error).__name__})"
        ) from error
