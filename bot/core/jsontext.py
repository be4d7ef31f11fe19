"""Decoding untrusted JSON with limits: one helper for every door JSON comes in by.

The standard decoder recurses once per nesting level, so a line of 1,200
``[`` raises ``RecursionError`` (not a decode error) and deep documents go on
to strain every recursive walker after it. Bytes that are not UTF-8 raise
``UnicodeDecodeError``. Both become :class:`InvalidInput` naming what is wrong,
checked before the decoder runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.core.errors import InvalidInput

# Real payloads (Teams activities, Slack views, intake mentions) nest < 30 deep.
MAX_DEPTH = 100
MAX_BYTES = 1_000_000

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class TooLarge(InvalidInput):
    """The document is over the size limit (HTTP answers 413)."""


def nesting_depth(text: str, stop_above: int | None = None) -> int:
    """How deeply arrays and objects nest in ``text`` (brackets inside strings
    do not count); stops counting once past ``stop_above``."""
    if text.count("[") + text.count("{") <= (stop_above or 0):
        return 0  # too few brackets to nest that deep: skip the scan
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(raw: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The decoded document, or :class:`InvalidInput` saying what is wrong with it."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise TooLarge("(size)", f"{size} bytes is over the limit of {max_bytes}")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInput(
                "(encoding)", f"not valid UTF-8 (byte {error.start + 1} cannot be decoded)"
            ) from error
    else:
        text = raw
    if nesting_depth(text, stop_above=max_depth) > max_depth:
        raise InvalidInput("(json)", f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "(json)", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except (ValueError, RecursionError) as error:  # NaN, 5,000-digit integers
        raise InvalidInput("(json)", f"not valid JSON: {error}") from error
