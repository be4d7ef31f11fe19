"""Neutralization of text before any renderer shows it.

Text from the social web is hostile. This step is shared by every platform:
it removes invisible and direction-changing characters, defuses broadcast
mentions, and truncates with a visible marker. Each platform then applies its
own escaping (Slack ``&<>``, Teams markdown, rich markup) on top.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

# Zero-width and invisible formatting characters, and bidirectional controls
# (embeddings, overrides, isolates and marks) that can reorder what is shown.
_INVISIBLE = re.compile(
    "["
    "\u00ad"  # soft hyphen
    "\u034f"  # combining grapheme joiner
    "\u061c"  # Arabic letter mark
    "\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f"  # zero-width space/joiners, LRM, RLM
    "\u202a-\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2060-\u206f"  # word joiner, invisible operators, LRI/RLI/FSI/PDI, deprecated
    "\u3164\ufeff\uffa0"
    "\ufff9-\ufffb"  # interlinear annotation
    "\U000e0000-\U000e007f"  # tag characters
    "]"
)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BROADCAST = re.compile(r"@(?=(everyone|here|channel|all|group)\b)", re.IGNORECASE)
_MANY_NEWLINES = re.compile(r"\n{3,}")

TRUNCATION_MARKER = "… [truncated: {hidden} more characters]"


def neutralize(text: str, limit: int) -> str:
    """Inert, visible-as-sent text of at most ``limit`` characters.

    * invisible and bidirectional control characters are removed;
    * ``@everyone``/``@here``/``@channel`` get a full-width at sign, so no
      platform reads them as a broadcast;
    * line endings are normalized and long runs of blank lines collapsed;
    * text longer than ``limit`` is cut and ends with a marker saying how
      much was hidden.
    """
    cleaned = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    cleaned = _INVISIBLE.sub("", cleaned)
    cleaned = _CONTROLS.sub("", cleaned.replace("\t", "    "))
    cleaned = _BROADCAST.sub("\uff20", cleaned)
    cleaned = _MANY_NEWLINES.sub("\n\n", cleaned)
    return truncate(cleaned, limit)


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters including a marker, if needed."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return text
    # The marker's own length depends on how much is hidden; two passes settle it.
    hidden = len(text) - limit
    for _ in range(2):
        marker = TRUNCATION_MARKER.format(hidden=hidden)
        keep = max(limit - len(marker), 0)
        hidden = len(text) - keep
    marker = TRUNCATION_MARKER.format(hidden=hidden)
    if len(marker) >= limit:
        return text[: limit - 1] + "…"
    return text[:keep].rstrip() + marker


def single_line(text: str, limit: int) -> str:
    """Neutralized text folded onto one line (titles, field values)."""
    return neutralize(" ".join(text.split()), limit)


def snippet(text: str, limit: int) -> str:
    """A one-line preview: neutralized, ending in an ellipsis when cut."""
    flat = neutralize(" ".join(text.split()), len(text) + 1)
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) URL with nothing hidden in it, else None."""
    if not url:
        return None
    candidate = url.strip()
    if _INVISIBLE.search(candidate) or _CONTROLS.search(candidate):
        return None
    if not re.fullmatch(r"https?://[^\s<>\"'|`\\]{1,2000}", candidate, flags=re.IGNORECASE):
        return None
    return candidate


def format_duration(value: timedelta) -> str:
    """``2h 05m``, ``14m``, ``40s``: absolute value, most significant units."""
    seconds = abs(int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def format_count(value: int | None) -> str:
    """``1.2M``, ``35.4k``, ``812``; ``unknown`` for None."""
    if value is None:
        return "unknown"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return str(value)
