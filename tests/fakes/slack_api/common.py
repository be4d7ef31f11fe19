"""Shared pieces of the fake Slack: the recorded call, the error answer, limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JSON_FIELDS = ("blocks", "attachments", "metadata", "view")
"""Fields Slack accepts as JSON-encoded strings in form and query parameters."""

BASE_TS = 1767225600  # 2026-01-01T00:00:00Z: the "updated" time of seeded objects.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_BYTES = 250_000
MAX_VIEW_STACK = 3
CANT_BE_DISPLAYED = "This content can't be displayed."

AuthKind = Literal["bot", "app", "none"]


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``args`` merges query parameters and the body (JSON or form); JSON-encoded
    ``blocks``/``attachments``/``metadata``/``view`` strings are decoded.
    ``headers`` keys are lower-cased. ``at`` is ``time.monotonic()``.
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    rate_limited: bool = False
    dropped: bool = False
    http_method: str = "POST"


class SlackError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": code}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class RateLimit:
    remaining: int
    retry_after: int
    spared: int = 0  # calls still answered before the limit starts


@dataclass
class ViewStack:
    root_id: str
    view_ids: list[str] = field(default_factory=list)


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return False


def ts_value(ts: str) -> float:
    try:
        return float(ts)
    except ValueError:
        return 0.0
