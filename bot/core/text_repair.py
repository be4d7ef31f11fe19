"""Text from the social web made storable: lone surrogates become U+FFFD.

A JSON escape may hold half a UTF-16 pair (``"hi \\ud83d there"``, an emoji
cut in two by a truncating client): legal JSON, and Python decodes it to a
``str`` with a lone surrogate, which no UTF-8 encoder takes. The store would
then fail the write of a whole batch for one character; the text is repaired
where it comes in instead. Nearly all text is ASCII or has no surrogate, and
pays for one or two scans in C.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (a pair written
    as two escapes that Python kept apart is joined into its character)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def optional_without_lone_surrogates(text: str | None) -> str | None:
    """:func:`without_lone_surrogates` of ``text``, or None."""
    return None if text is None else without_lone_surrogates(text)


def json_without_lone_surrogates(value: Any) -> Any:
    """A decoded JSON value with every string (keys too) repaired."""
    if isinstance(value, str):
        return without_lone_surrogates(value)
    if isinstance(value, dict):
        return {
            without_lone_surrogates(key) if isinstance(key, str) else key: (
                json_without_lone_surrogates(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [json_without_lone_surrogates(item) for item in value]
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def decoded_without_lone_surrogates(json_text: str, value: Any) -> Any:
    """``value`` (``json_text`` decoded) with its strings repaired, walked only
    when the text holds a surrogate escape: raw UTF-8 cannot carry one."""
    if "\\u" not in json_text or _SURROGATE_ESCAPE.search(json_text) is None:
        return value
    return json_without_lone_surrogates(value)
