"""``POST /intake``: signed batches of mentions from a listening tool.

The body is one JSON object, a JSON array of them, or NDJSON
(``Content-Type: application/x-ndjson``), at most ``max_bytes`` (413 beyond);
``?source=x`` (or a ``source`` field in a document) reads each document as
that network's payload (:mod:`bot.intake.sources`).
It must carry ``X-Playcaller-Timestamp`` and ``X-Playcaller-Signature``
(:mod:`bot.signing`, secret ``PLAYCALLER_INTAKE_SECRET``); anything else is
401 and nothing is read further. Each item is answered ``stored``,
``duplicate`` (its (network, id) is already held) or ``refused`` with the
field at fault; the good items of a mixed batch are stored. The answer comes
after the store has committed every stored item: the mentions themselves, or
with the Redis store their entries in the intake stream
(:mod:`bot.intake.stream`), which the ``serve`` processes admit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.core.errors import InvalidInput
from bot.core.jsontext import TooLarge
from bot.intake.batch import Item, ItemProblem, parse_body
from bot.intake.sources import normalizer
from bot.intake.stream import StreamSettings, enqueue, stream_of
from bot.operations import intake_counts
from bot.runtime import Runtime
from bot.signing import SignatureError, verify

log = logging.getLogger(__name__)

PATH = "/intake"
SECRET_ENV = "PLAYCALLER_INTAKE_SECRET"
MAX_BYTES_ENV = "PLAYCALLER_INTAKE_MAX_BYTES"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
TIMESTAMP_HEADER = "X-Playcaller-Timestamp"
SIGNATURE_HEADER = "X-Playcaller-Signature"
_CHUNK = 64 * 1024
# Mentions admitted per store call: one SQLite transaction or one Redis pipeline.
BATCH = 500


@dataclass(frozen=True)
class IntakeSettings:
    """What ``/intake`` needs; the secret never appears in a repr or a log.
    With ``stream`` (Redis store only) the items go through the intake stream
    (:mod:`bot.intake.stream`) instead of being admitted in the request."""

    secret: str = field(repr=False)
    max_bytes: int = DEFAULT_MAX_BYTES
    stream: StreamSettings | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> IntakeSettings | None:
        """From the environment; None (no ``/intake`` route) without a secret.
        The stream settings apply only where the store is Redis (``create_app``)."""
        secret = environ.get(SECRET_ENV, "")
        if not secret:
            return None
        stream = StreamSettings.from_env(environ)
        raw = environ.get(MAX_BYTES_ENV, "").strip()
        if not raw:
            return cls(secret, stream=stream)
        if not raw.isdigit() or int(raw) < 1:
            raise InvalidInput(MAX_BYTES_ENV, f"{raw[:40]!r} is not a positive number of bytes")
        return cls(secret, int(raw), stream)


def mount(app: web.Application, runtime: Runtime, settings: IntakeSettings) -> None:
    """Add ``POST /intake`` to ``app``."""

    async def intake(request: web.Request) -> web.Response:
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not timestamp or not signature:
            return _refused(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
        if request.content_length is not None and request.content_length > settings.max_bytes:
            return _too_large(request.content_length, settings.max_bytes)
        body = await _read_capped(request, settings.max_bytes)
        if body is None:
            return _too_large(None, settings.max_bytes)
        try:
            verify(
                settings.secret,
                timestamp=timestamp,
                signature=signature,
                body=body,
                now=runtime.clock.now().timestamp(),
            )
        except SignatureError as error:
            return _refused(str(error))
        source = request.query.get("source")
        try:
            if source is not None:
                normalizer(source)
            items = parse_body(
                body, request.content_type, max_bytes=settings.max_bytes, source=source
            )
        except TooLarge as error:
            return web.json_response({"error": error.problem}, status=413)
        except InvalidInput as error:
            return web.json_response({"error": error.problem, "field": error.field}, status=400)
        answer = await admit_items(runtime, items, streamed=settings.stream is not None)
        return web.json_response(answer)

    app.router.add_post(PATH, intake)


async def admit_items(
    runtime: Runtime, items: list[Item | ItemProblem], *, streamed: bool = False
) -> dict[str, Any]:
    """Store the good items, :data:`BATCH` per store call (``streamed``: into
    the intake stream, see :mod:`bot.intake.stream`); the per-item answer and totals."""
    accepted = [entry for entry in items if isinstance(entry, Item)]
    stream = stream_of(runtime) if streamed else None
    stored: list[bool] = []
    # Mentions admission refused on their own (the rest of their batch is stored).
    refused: dict[int, Exception] = {}
    for start in range(0, len(accepted), BATCH):
        chunk = [entry.mention for entry in accepted[start : start + BATCH]]
        if stream is not None:
            stored += await enqueue(stream, chunk, runtime.clock.now())
        else:
            failed: dict[int, Exception] = {}
            stored += await runtime.ingest_batch(chunk, refused=failed)
            refused.update({start + index: error for index, error in failed.items()})
    outcome_of = {id(entry): ok for entry, ok in zip(accepted, stored, strict=True)}
    problem_of = {id(accepted[index]): error for index, error in refused.items()}
    results: list[dict[str, Any]] = []
    totals = {"stored": 0, "duplicate": 0, "refused": 0}
    for entry in items:
        if isinstance(entry, ItemProblem):
            outcome: dict[str, Any] = {
                "item": entry.item,
                "status": "refused",
                "field": entry.field,
                "error": entry.message,
            }
        elif id(entry) in problem_of:
            error = problem_of[id(entry)]
            log.error("intake item %d refused at admission", entry.item, exc_info=error)
            outcome = {
                "item": entry.item,
                "status": "refused",
                "field": "(admission)",
                "error": f"could not be admitted ({type(error).__name__})",
            }
        else:
            outcome = {
                "item": entry.item,
                "status": "stored" if outcome_of[id(entry)] else "duplicate",
                "network": entry.mention.network,
                "id": entry.mention.external_id,
            }
        totals[outcome["status"]] += 1
        results.append(outcome)
    await runtime.store.add_counts(
        intake_counts(totals["stored"], totals["duplicate"], totals["refused"])
    )
    return {**totals, "items": results}


async def _read_capped(request: web.Request, limit: int) -> bytes | None:
    """The body, or None once it passes ``limit`` bytes (the rest is not read)."""
    parts: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _refused(reason: str) -> web.Response:
    log.warning("intake request refused: %s", reason)
    return web.json_response({"error": f"not signed correctly: {reason}"}, status=401)


def _too_large(size: int | None, limit: int) -> web.Response:
    shown = f"{size} bytes is" if size is not None else "the body is"
    return web.json_response({"error": f"{shown} over the limit of {limit} bytes"}, status=413)
