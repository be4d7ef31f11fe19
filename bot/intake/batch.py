"""An intake request body as items: one JSON object, a JSON array, or NDJSON.

Whole-body problems (not UTF-8, not JSON, neither object nor array) raise
:class:`InvalidInput`; a bad item becomes an :class:`ItemProblem` for its
position and the other items go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.core.errors import InvalidInput
from bot.core.jsontext import decode_json
from bot.intake.feed import IncomingMention, LineProblem, parse_mention
from bot.intake.sources import FEED_SOURCES, FEED_TYPES, normalize

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


def parse_body(
    body: bytes, content_type: str, *, max_bytes: int, source: str | None = None
) -> list[Item | ItemProblem]:
    """Every item of ``body`` validated in the intake format, in order.

    With a ``source`` (or a ``source`` field in a document) each document is
    first normalized from that network's payload; a document carrying several
    posts gives several entries with the document's position.
    """
    if content_type in FEED_TYPES or (
        source in FEED_SOURCES and content_type not in NDJSON_TYPES | {"application/json"}
    ):
        return list(parse_document(1, body, source or "rss"))
    parsed: list[Item | ItemProblem] = []
    for number, document in documents(body, content_type, max_bytes=max_bytes):
        if isinstance(document, InvalidInput):
            parsed.append(ItemProblem(number, document.field, document.problem))
            continue
        parsed.extend(parse_document(number, document, source))
    return parsed


def parse_document(number: int, document: Any, source: str | None) -> Iterator[Item | ItemProblem]:
    """The entries of one decoded document (see :func:`parse_body`)."""
    for normalized in normalize(source, document):
        try:
            if isinstance(normalized, InvalidInput):
                raise normalized
            if not isinstance(normalized, dict):
                raise InvalidInput("(item)", "expected a JSON object")
            yield Item(number, parse_mention(normalized))
        except InvalidInput as error:
            yield ItemProblem(number, error.field, error.problem)


def parse_lines(
    lines: Iterable[str | bytes], source: str | None = None
) -> Iterator[IncomingMention | LineProblem]:
    """Each JSONL line's mentions (normalized from ``source`` if given), or
    the problem with its line number; lines are decoded one by one, so a bad
    line costs only itself. A feed source (RSS, Atom) reads all the lines as
    one feed; its problems carry line 1."""
    if source in FEED_SOURCES:
        whole = b"".join(line if isinstance(line, bytes) else line.encode() for line in lines)
        for entry in parse_document(1, whole, source):
            if isinstance(entry, Item):
                yield entry.mention
            else:
                yield LineProblem(1, entry.field, entry.message)
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            document = decode_json(line)
        except InvalidInput as error:
            yield LineProblem(number, error.field, error.problem)
            continue
        for entry in parse_document(number, document, source):
            if isinstance(entry, Item):
                yield entry.mention
            else:
                yield LineProblem(number, entry.field, entry.message)
