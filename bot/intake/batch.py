"""An intake request body as items: one JSON object, a JSON array, or NDJSON.

Whole-body problems (not UTF-8, not JSON, neither object nor array) raise
:class:`InvalidInput`; a bad item becomes an :class:`ItemProblem` for its
position and the other items go on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.core.errors import InvalidInput
from bot.core.jsontext import decode_json
from bot.intake.feed import IncomingMention, parse_mention

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})


@dataclass(frozen=True)
class ItemProblem:
    """A refused item: its 1-based position (the line number for NDJSON) and why."""

    item: int
    field: str
    message: str


@dataclass(frozen=True)
class Item:
    """An accepted item and its 1-based position."""

    item: int
    mention: IncomingMention


def documents(body: bytes, content_type: str, *, max_bytes: int) -> Iterator[tuple[int, Any]]:
    """Each decoded document with its position; a line that does not decode is
    yielded as its :class:`InvalidInput` (NDJSON only: a broken JSON body raises)."""
    if content_type in NDJSON_TYPES:
        for number, line in enumerate(body.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                yield number, decode_json(line, max_bytes=max_bytes)
            except InvalidInput as error:
                yield number, error
        return
    document = decode_json(body, max_bytes=max_bytes)
    if isinstance(document, dict):
        yield 1, document
    elif isinstance(document, list):
        yield from enumerate(document, start=1)
    else:
        raise InvalidInput("(body)", "expected a JSON object, a JSON array of objects, or NDJSON")


def parse_body(body: bytes, content_type: str, *, max_bytes: int) -> list[Item | ItemProblem]:
    """Every item of ``body`` validated in the intake format, in order."""
    parsed: list[Item | ItemProblem] = []
    for number, document in documents(body, content_type, max_bytes=max_bytes):
        try:
            if isinstance(document, InvalidInput):
                raise document
            if not isinstance(document, dict):
                raise InvalidInput("(item)", "expected a JSON object")
            parsed.append(Item(number, parse_mention(document)))
        except InvalidInput as error:
            parsed.append(ItemProblem(number, error.field, error.problem))
    return parsed
