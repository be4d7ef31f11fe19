"""The stores' JSON text (``bot.store.dumps``) is what ``json.dumps`` wrote
(sorted keys, compact, unescaped text, datetimes as ISO strings), now that
``orjson`` writes it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import pytest

from bot.core.cards import Button, ButtonStyle, Card, Field, TextBlock, Tone
from bot.store import dumps


class Colour(StrEnum):
    RED = "red"


def reference(value: Any) -> str:
    def default(value: object) -> str:
        if isinstance(value, datetime | date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default
    )


CARD = Card(
    title="X · @dana",
    blocks=(TextBlock("“quoted” <!channel> 😡\n*bold*", quote=True, tone=Tone.ATTENTION),),
    fields=(Field("Sentiment", "negative"),),
    buttons=(Button("Claim", "triage.claim", "x:1@1", style=ButtonStyle.PRIMARY),),
    card_key="mention:x:1",
    at=datetime(2026, 3, 2, 9, 0, 1, 5000, tzinfo=UTC),
).to_json()

SAME_TEXT = [
    CARD,
    {"b": 1, "a": {"z": [True, False, None], "y": (1, 2)}, "é": 'ü\n\t\x01\x7f\u2028"\\'},
    {"at": datetime(2026, 3, 2, 9, tzinfo=UTC), "day": date(2026, 3, 2), "c": Colour.RED},
    {"compound": -0.4215, "score": 0.1, "big": 1e300, "zero": -0.0, "edge": 2**63 - 1},
    {2: "integer keys", 1: "x"},  # orjson refuses them, json takes them
    [2**70, -(2**64)],  # beyond 64 bits: the same
    "\ud800",  # a lone surrogate: written as json wrote it
]


@pytest.mark.parametrize("value", SAME_TEXT)
def test_the_text_is_what_json_wrote(value: Any) -> None:
    assert dumps(value) == reference(value)


def test_small_floats_differ_in_spelling_only() -> None:
    value = {"tiny": 1e-7, "small": 0.00001}
    assert json.loads(dumps(value)) == json.loads(reference(value)) == value


@dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [{"p": Point(1)}, {"s": {1, 2}}, {"t": object()}])
def test_what_json_refused_is_still_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        reference(value)
    with pytest.raises(TypeError):
        dumps(value)
