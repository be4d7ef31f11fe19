"""Hostile text cannot stall intake in the sentiment engine.

Every admitted mention goes through :class:`VaderSentiment` on the event
loop, so an expression that backtracks exponentially on some text stops the
whole process: thirty handles in a row (``"@a @b …"``, 90 characters) once
took minutes in the praise-opener expression. These texts are built from the
pieces such expressions trip on (handles, punctuation runs, repeated cue
words, emoji, quotes); each must be assessed at all. The alarm is not a
timing target: the linear engine needs milliseconds, the exponential one
more than the age of the universe, so any bound in between tells them apart.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from bot.intake.enrich import VaderSentiment

PIECES = (
    "@a ",
    "@acme.bsky.social ",
    "@x@mastodon.example ",
    "@ ",
    "!",
    "?",
    "?!",
    ". ",
    ", ",
    "'",
    '"',
    "\u2019",
    "not ",
    "never ",
    "still ",
    "but ",
    "no ",
    "so ",
    "great. ",
    "thanks ",
    "for ",
    "nothing ",
    "waiting ",
    "9 hours ",
    "refund ",
    "again ",
    "🙂",
    "😡",
    "🙃 ",
    "\n",
    "   ",
    "aaaaaaaaaaaaaaaaaaaa",
    "http://example.com/a?b=c ",
    "#fail ",
)
GIVE_UP_SECONDS = 60


def hostile_texts() -> Iterator[tuple[str, str]]:
    for piece in PIECES:
        yield f"{piece!r} repeated", (piece * (5000 // len(piece) + 1))[:5000]
        yield f"{piece!r} after a handle", "@acme " + piece * 40
        yield f"{piece!r} between praise", ("wonderful, " + piece) * 30
    for first in PIECES[:12]:
        for second in PIECES[12:24]:
            yield f"{first!r}{second!r} alternating", ((first + second) * 200)[:5000]


@pytest.fixture
def alarm() -> Iterator[None]:
    def give_up(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"sentiment still running after {GIVE_UP_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(GIVE_UP_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_hostile_texts_are_assessed_not_stalled_on(alarm: None) -> None:
    engine = VaderSentiment()
    assessed = {name: engine.assess(text, "x") for name, text in hostile_texts()}
    assert len(assessed) == 3 * len(PIECES) + 144
    # Thirty handles before a complaint still read as the complaint it is.
    thirty = "".join(f"@user{n} " for n in range(30)) + "still waiting for my refund after 3 weeks"
    assert engine.assess(thirty, "x").complaint
