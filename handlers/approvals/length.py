"""Post length counted the way each network counts it.

* X: twitter-text's weighted length (configuration v3: ``scale`` 100,
  ``defaultWeight`` 200, ``transformedURLLength`` 23, emoji parsing on, the
  four light ranges below), over the NFC-normalised text: each link counts
  23, each emoji (a whole sequence, skin tones and joiners included) 2, a
  character in a light range 1, any other character 2.
* Bluesky: 300 graphemes (user-perceived characters, Unicode UAX #29).
* Mastodon: 500 graphemes, each link counted as 23 and a remote mention
  ``@user@server`` as ``@user`` (its ``StatusLengthValidator``).
* Reddit: 10,000 code points (its servers count Python string length).
* Threads 500, Instagram 2,200, LinkedIn 3,000, Facebook 8,000, TikTok 150:
  UTF-16 code units, what their web composers count (an emoji outside the
  Basic Multilingual Plane is 2).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import regex

from bot.core.accounts import Network
from handlers.approvals.links import Link, find_links

LIMITS: dict[Network, int] = {
    Network.X: 280,
    Network.BLUESKY: 300,
    Network.MASTODON: 500,
    Network.THREADS: 500,
    Network.INSTAGRAM: 2_200,
    Network.LINKEDIN: 3_000,
    Network.FACEBOOK: 8_000,
    Network.REDDIT: 10_000,
    Network.TIKTOK: 150,
}

UNITS: dict[Network, str] = {
    Network.X: "weighted characters",
    Network.BLUESKY: "characters",
    Network.MASTODON: "characters",
    Network.REDDIT: "characters",
}

# twitter-text configuration v3 (config/v3.json).
_SCALE = 100
_DEFAULT_WEIGHT = 200
_URL_WEIGHT = 23 * _SCALE
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

_GRAPHEME = regex.compile(r"\X")
_KEYCAP = "\u20e3"
# Runs of characters outside the light ranges (counted in runs: far fewer
# matches than characters in most text).
_HEAVY_RUN = regex.compile(
    "".join(["[^", *(f"\\u{a:04x}-\\u{b:04x}" for a, b in _LIGHT_RANGES), "]+"])
)
# An emoji grapheme: it starts with a pictograph or flag letter, or is a keycap.
_EMOJI_CLUSTER = regex.compile(
    r"(?=[\p{Extended_Pictographic}\p{Regional_Indicator}])\X|[#*0-9]\ufe0f?\u20e3"
)
# Every character that can join the one before it (or, for a prepended
# mark, the one after) into one grapheme: marks, joiners, Hangul jamo and
# syllables, flag letters, skin tones, tags, CR. Text without any has one
# grapheme per character (tests/approvals/test_length.py checks the list
# against the Unicode data).
_JOINER = regex.compile(
    r"[\p{M}\r\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u0d4e\u0e33\u0eb3"
    r"\u1100-\u11ff\u200c\u200d\ua960-\ua97c\uac00-\ud7a3\ud7b0-\ud7c6\ud7cb-\ud7fb"
    r"\uff9e\uff9f\U000110bd\U000110cd\U000111c2\U000111c3\U000113d1\U0001193f"
    r"\U00011941\U00011a84-\U00011a89\U00011d46\U00011f02\U00016d63\U00016d67-\U00016d6a"
    r"\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_EMOJI_START = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]")
_REMOTE_MENTION = regex.compile(r"(?<![\w@])(@\w+)@[\w.-]+\w")


@dataclass(frozen=True)
class Length:
    """A text's length on a network and where it first goes over the limit.

    ``over_at`` is an index into the original text (``None`` when it fits).
    """

    count: int
    limit: int
    over_at: int | None


def measure(text: str, network: Network, *, links: list[Link] | None = None) -> Length:
    """Count ``text`` for ``network`` (``links``: ``find_links(text)``, when
    the caller has them already)."""
    limit = LIMITS[network]
    if network is Network.X:
        return _weighted(text, limit, links)
    if network is Network.MASTODON:
        return _mastodon(text, limit, links)
    if network is Network.BLUESKY:
        return _graphemes_counted(text, limit)
    if network is Network.REDDIT:
        return Length(len(text), limit, limit if len(text) > limit else None)
    return _utf16_counted(text, limit)


def _graphemes_counted(text: str, limit: int) -> Length:
    if _one_per_character(text):
        return Length(len(text), limit, limit if len(text) > limit else None)
    count = _grapheme_count(text)
    if count <= limit:
        return Length(count, limit, None)
    units = ((m.start(), 1) for m in _GRAPHEME.finditer(text))
    return Length(count, limit, _first_over(units, limit))


def _utf16_counted(text: str, limit: int) -> Length:
    astral = [m.start() for m in _ASTRAL.finditer(text)]
    count = len(text) + len(astral)
    if count <= limit:
        return Length(count, limit, None)
    # Units through index i are i + 1 plus the astral characters up to i.
    extra = 0
    for index in astral:
        if index + extra > limit:
            break
        if index + 2 + extra > limit:
            return Length(count, limit, index)
        extra += 1
    return Length(count, limit, limit - extra)


def _first_over(units: Iterable[tuple[int, int]], limit: int) -> int | None:
    total = 0
    for start, size in units:
        total += size
        if total > limit:
            return start
    return None


def _mastodon(text: str, limit: int, links: list[Link] | None) -> Length:
    found = links if links is not None else find_links(text)
    special: list[tuple[int, int, int]] = [(k.start, k.end, 23) for k in found]
    for mention in _REMOTE_MENTION.finditer(text):
        if not any(s <= mention.start() < e for s, e, _ in special):
            local = mention.group(1)
            special.append((mention.start(), mention.end(), _grapheme_count(local)))
    special.sort()
    # (start, end, size): a link or mention counts ``size``, plain text (-1) by grapheme.
    pieces: list[tuple[int, int, int]] = []
    position = 0
    for start, end, size in special:
        pieces.append((position, start, -1))
        pieces.append((start, end, size))
        position = end
    pieces.append((position, len(text), -1))
    total = sum(_grapheme_count(text[s:e]) if size < 0 else size for s, e, size in pieces)
    if total <= limit:
        return Length(total, limit, None)
    return Length(total, limit, _first_over(_mastodon_units(text, pieces), limit))


def _mastodon_units(text: str, pieces: list[tuple[int, int, int]]) -> Iterator[tuple[int, int]]:
    for start, end, size in pieces:
        if size < 0:
            yield from ((m.start(), 1) for m in _GRAPHEME.finditer(text, start, end))
        else:
            yield start, size


def _grapheme_count(text: str) -> int:
    return len(text) if _one_per_character(text) else len(_GRAPHEME.findall(text))


def _one_per_character(text: str) -> bool:
    if text.isascii():
        return "\r" not in text
    return _JOINER.search(text) is None


def _weighted(text: str, limit: int, known_links: list[Link] | None) -> Length:
    # twitter-text counts the NFC form; spans map back through each
    # character's own normalisation, which NFC never merges across a
    # grapheme boundary. The total is counted in bulk; only a text over the
    # limit is walked, and only up to where it goes over.
    normal, origin = _nfc_with_origin(text)
    found = known_links if known_links is not None and normal is text else find_links(normal)
    links = sorted((link.start, link.end) for link in found)
    total = 0
    position = 0
    for start, end in links:
        total += _bulk_weight(normal, position, start) + _URL_WEIGHT
        position = end
    total += _bulk_weight(normal, position, len(normal))
    budget = limit * _SCALE
    if total <= budget:
        return Length(total // _SCALE, limit, None)
    over = _first_over(_units(normal, links), budget)
    return Length(total // _SCALE, limit, None if over is None else origin[over])


def _units(text: str, links: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """(index, weight) of every counted unit, in order."""
    position = 0
    for start, end in [*links, (len(text), len(text))]:
        if text[position:start].isascii():
            yield from ((index, _SCALE) for index in range(position, start))
        else:
            yield from _weights(text, position, start)
        if start < len(text):
            yield start, _URL_WEIGHT
        position = end


def _weights(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(index, weight) between two links: an emoji sequence (keycaps too)
    weighs as one, every other character by its range."""
    for cluster in _GRAPHEME.finditer(text, start, end):
        value = cluster.group()
        if _EMOJI_START.match(value) or _KEYCAP in value:
            yield cluster.start(), _DEFAULT_WEIGHT
        else:
            for offset, char in enumerate(value):
                yield cluster.start() + offset, _char_weight(char)


def _bulk_weight(text: str, start: int, end: int) -> int:
    """The summed weight of ``text[start:end]`` (no links in it)."""
    if text[start:end].isascii():
        return (end - start) * _SCALE
    heavy = sum(map(len, _HEAVY_RUN.findall(text, start, end)))
    total = (end - start - heavy) * _SCALE + heavy * _DEFAULT_WEIGHT
    for emoji in _EMOJI_CLUSTER.finditer(text, start, end):
        total += _DEFAULT_WEIGHT - sum(_char_weight(c) for c in emoji.group())
    return total


def _char_weight(char: str) -> int:
    code = ord(char)
    for low, high in _LIGHT_RANGES:
        if low <= code <= high:
            return _SCALE
    return _DEFAULT_WEIGHT


def _nfc_with_origin(text: str) -> tuple[str, list[int]]:
    if unicodedata.is_normalized("NFC", text):
        return text, list(range(len(text)))
    parts: list[str] = []
    origin: list[int] = []
    for match in _GRAPHEME.finditer(text):
        normal = unicodedata.normalize("NFC", match.group())
        parts.append(normal)
        origin += [match.start()] * len(normal)
    return "".join(parts), origin
