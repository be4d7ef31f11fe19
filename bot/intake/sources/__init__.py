"""Source normalizers: a network's own documented payload to the intake format.

``normalize(source, document)`` turns one decoded document (one JSON value of
an ``/intake`` body or ``ingest`` line) into intake-format dicts, one per post
it carries; a post that lacks what the intake format needs is an
:class:`InvalidInput` naming the path of the missing field
(``data[1].created_at``), and the document's other posts go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bot.core.errors import InvalidInput
from bot.intake.sources import bluesky, mastodon, meta, reddit, rss, x, youtube

Normalized = dict[str, Any] | InvalidInput
Normalizer = Callable[[Any], Iterator[Normalized]]

# The intake format itself: the document is one mention as it stands.
NATIVE = "playcaller"


def _native(document: Any) -> Iterator[Normalized]:
    yield document


SOURCES: dict[str, Normalizer] = {
    NATIVE: _native,
    "x": x.normalize,
    "mastodon": mastodon.normalize,
    "bluesky": bluesky.normalize,
    "reddit": reddit.normalize,
    "facebook": meta.normalize_facebook,
    "instagram": meta.normalize_instagram,
    "youtube": youtube.normalize,
    "rss": rss.normalize,
    "atom": rss.normalize,
}


# Sources whose document is a whole feed (XML), not JSON: an ``/intake`` body
# or an ``ingest`` file is then one document.
FEED_SOURCES = frozenset({"rss", "atom"})
FEED_TYPES = rss.FEED_TYPES


def normalizer(name: str) -> Normalizer:
    """The normalizer called ``name``, or :class:`InvalidInput` listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise InvalidInput("source", f"{name[:40]!r} is not a known source ({known})") from None


def normalize(source: str | None, document: Any) -> Iterator[Normalized]:
    """The intake dicts in ``document``: by ``source`` if given, else by the
    document's own ``source`` field, else the document is in the intake format."""
    if source is None and isinstance(document, dict) and "source" in document:
        named = document["source"]
        if not isinstance(named, str):
            yield InvalidInput("source", "must be a string naming a source")
            return
        source = named
    try:
        chosen = normalizer(source or NATIVE)
    except InvalidInput as error:
        yield error
        return
    yield from chosen(document)
