"""Log set-up for the command line, and the id that ties a request's lines together.

``PLAYCALLER_LOG_FORMAT=json`` writes one JSON object per line; every line
logged while handling a Slack or Teams request carries that request's id. The
web app binds a fresh id to each HTTP request; a platform's inbound path then
binds the platform's own id (Slack's event id or trigger id, the Teams
activity id) with :func:`bind_request_id`. Tasks started while handling a
request copy the context, so work done after the acknowledgement keeps the id.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Protocol

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Writable(Protocol):
    """Where log lines go."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


_request_id: ContextVar[str | None] = ContextVar("playcaller_request_id", default=None)


def bind_request_id(value: str | None) -> None:
    """Tag every later log line of this request (and the tasks it starts) with ``value``."""
    if value:
        _request_id.set(value)


def new_request_id() -> str:
    """A fresh id for a request that has none of its own yet."""
    return f"req-{uuid.uuid4().hex[:16]}"


def request_id() -> str | None:
    """The id bound to the current request, if any."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(raw: str | None) -> str:
    """``PLAYCALLER_LOG_FORMAT``: ``text`` (default) or ``json``; anything else is refused."""
    chosen = (raw or "text").strip().lower() or "text"
    if chosen not in FORMATS:
        raise ValueError(f"PLAYCALLER_LOG_FORMAT must be text or json, not {raw!r}")
    return chosen


class CurrentStderr:
    """``sys.stderr`` as it is at each write: while ``ingest`` draws its progress
    bar, rich stands in for stderr and prints log lines above the bar."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def handler(fmt: str, stream: Writable) -> logging.Handler:
    """A handler writing to ``stream`` in ``fmt`` (see :func:`log_format`)."""
    chosen: logging.StreamHandler[Writable] = logging.StreamHandler(stream)
    chosen.addFilter(RequestIdFilter())
    chosen.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return chosen


def configure(level: str, fmt: str, stream: Writable | None = None) -> None:
    """Send the root logger's records to ``stream`` (default: stderr) in ``fmt``."""
    chosen = stream if stream is not None else CurrentStderr()
    logging.basicConfig(level=level, handlers=[handler(fmt, chosen)], force=True)
