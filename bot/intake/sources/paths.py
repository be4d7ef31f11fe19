"""Reading nested payloads with errors that name the path at fault."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.core.errors import InvalidInput


def obj(value: Any, path: str) -> dict[str, Any]:
    """``value`` if it is a JSON object."""
    if not isinstance(value, dict):
        raise InvalidInput(path or "(document)", "required, an object")
    return value


def text(parent: dict[str, Any], key: str, path: str, *, hint: str = "") -> str:
    """The non-empty string at ``parent[key]``."""
    value = parent.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(join(path, key), "required, a non-empty string" + hint)
    return value


def optional_text(parent: dict[str, Any], key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(join(path, key), "must be a string")
    return value


def count(parent: dict[str, Any], key: str, path: str) -> int | None:
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(join(path, key), "must be a non-negative integer")
    return value


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def epoch(parent: dict[str, Any], key: str, path: str) -> str:
    """The Unix time (seconds) at ``parent[key]`` as an ISO 8601 UTC timestamp."""
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidInput(join(path, key), "required, a Unix time in seconds")
    try:
        return datetime.fromtimestamp(value, UTC).isoformat()
    except (OverflowError, OSError, ValueError) as error:
        raise InvalidInput(join(path, key), "not a Unix time in seconds") from error


def listed(value: Any, path: str) -> list[Any]:
    """``value`` if it is a JSON array."""
    if not isinstance(value, list):
        raise InvalidInput(path or "(document)", "required, a list")
    return value


def segment(value: str) -> str:
    """``value`` as one URL path segment or query value: an id from a payload
    cannot add a path, a query or a fragment to a link built around it."""
    return quote(value, safe="@:")
