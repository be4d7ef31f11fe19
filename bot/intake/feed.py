"""The intake format: one JSON object per line (JSONL).

Required: ``network``, ``id``, ``text``, ``created_at`` (ISO 8601) and
``author.handle``. Optional: ``url``, ``lang``, ``author.name``,
``author.followers``, ``author.verified``, ``in_reply_to``. Unknown fields
are kept in ``extra``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.errors import InvalidInput
from bot.core.jsontext import decode_json
from bot.core.model import Author
from bot.core.text_repair import (
    json_without_lone_surrogates,
    optional_without_lone_surrogates,
    without_lone_surrogates,
)

KNOWN_FIELDS = {"network", "id", "text", "created_at", "author", "url", "lang", "in_reply_to"}
KNOWN_AUTHOR_FIELDS = {"handle", "name", "followers", "verified"}
MAX_TEXT = 100_000
# Ids travel in button values and form contexts, which platforms cap.
MAX_ID = 200
_NETWORK = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")


@dataclass(frozen=True)
class IncomingMention:
    """A validated intake record, before enrichment."""

    network: str
    external_id: str
    text: str
    created_at: datetime
    author: Author
    url: str | None = None
    lang: str | None = None
    in_reply_to: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineProblem:
    """A rejected intake line."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def parse_mention(data: Any) -> IncomingMention:
    """Validate one decoded JSON object; raise :class:`InvalidInput` naming the field."""
    if not isinstance(data, dict):
        raise InvalidInput("(line)", "expected a JSON object")
    network = _required_str(data, "network").lower()
    if not _NETWORK.match(network):
        raise InvalidInput("network", f"{network!r} is not a network name (e.g. x, reddit, news)")
    raw_id = data.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or str(raw_id).strip() == "":
        raise InvalidInput("id", "required, a non-empty string or integer")
    if len(str(raw_id)) > MAX_ID:
        raise InvalidInput("id", f"longer than {MAX_ID} characters")
    text = data.get("text")
    if not isinstance(text, str):
        raise InvalidInput("text", "required, a string")
    if len(text) > MAX_TEXT:
        raise InvalidInput("text", f"longer than {MAX_TEXT} characters")
    created_at = _timestamp(data.get("created_at"))
    author = _author(data.get("author"))
    url = _optional_str(data, "url")
    lang = _optional_str(data, "lang")
    in_reply_to = data.get("in_reply_to")
    if in_reply_to is not None and (
        isinstance(in_reply_to, bool) or not isinstance(in_reply_to, str | int)
    ):
        raise InvalidInput("in_reply_to", "must be a string or integer")
    extra = {k: v for k, v in data.items() if k not in KNOWN_FIELDS}
    author_extra = {k: v for k, v in data["author"].items() if k not in KNOWN_AUTHOR_FIELDS}
    if author_extra:
        extra["author"] = author_extra
    # Lone surrogates (half an emoji in a JSON escape) become U+FFFD here:
    # the store could not encode them, and would fail the whole batch.
    return IncomingMention(
        network=network,
        external_id=without_lone_surrogates(str(raw_id).strip()),
        text=without_lone_surrogates(text),
        created_at=created_at,
        author=author,
        url=optional_without_lone_surrogates(url),
        lang=optional_without_lone_surrogates(lang.lower() if lang else None),
        in_reply_to=None if in_reply_to is None else without_lone_surrogates(str(in_reply_to)),
        extra=json_without_lone_surrogates(extra) if extra else extra,
    )


def parse_lines(lines: Iterable[str | bytes]) -> Iterator[IncomingMention | LineProblem]:
    """Each non-blank line parsed, or the problem with its line number.

    Give a file's lines as bytes (open it in binary mode): each line is then
    decoded on its own, so bad bytes refuse their line and nothing else.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_mention(decode_json(line))
        except InvalidInput as error:
            yield LineProblem(number, error.field, error.problem)


def _required_str(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(name, "required, a non-empty string")
    return value.strip()


def _optional_str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, "must be a string")
    return value.strip() or None


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput("created_at", "required, an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise InvalidInput("created_at", f"{value!r} is not an ISO 8601 timestamp") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _author(value: Any) -> Author:
    if not isinstance(value, dict):
        raise InvalidInput("author", "required, an object with at least a handle")
    handle = value.get("handle")
    if not isinstance(handle, str) or not handle.strip():
        raise InvalidInput("author.handle", "required, a non-empty string")
    name = value.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidInput("author.name", "must be a string")
    followers = value.get("followers")
    if followers is not None and (
        isinstance(followers, bool) or not isinstance(followers, int) or followers < 0
    ):
        raise InvalidInput("author.followers", "must be a non-negative integer")
    verified = value.get("verified", False)
    if not isinstance(verified, bool):
        raise InvalidInput("author.verified", "must be true or false")
    return Author(
        handle=without_lone_surrogates(handle.strip()),
        name=optional_without_lone_surrogates(name),
        followers=followers,
        verified=verified,
    )
