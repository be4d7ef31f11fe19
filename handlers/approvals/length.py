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

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from bot.core.accounts import Network
from handlers.approvals.links import find_links

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


def measure(text: str, network: Network) -> Length:
    """Count ``text`` for ``network``."""
    limit = LIMITS[network]
    if network is Network.X:
        return _weighted(text, limit)
    if network is Network.BLUESKY:
        return _counted(_graphemes(text, 0, len(text)), limit)
    if network is Network.MASTODON:
        return _counted(_mastodon_units(text), limit)
    if network is Network.REDDIT:
        return _counted(((i, 1) for i in range(len(text))), limit)
    return _counted(((i, 2 if ord(c) > 0xFFFF else 1) for i, c in enumerate(text)), limit)


def _counted(units: Iterable[tuple[int, int]], limit: int) -> Length:
    total = 0
    over_at = None
    for start, size in units:
        total += size
        if over_at is None and total > limit:
            over_at = start
    return Length(total, limit, over_at)


def _graphemes(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(m.start(), 1) for m in _GRAPHEME.finditer(text, start, end)]


def _mastodon_units(text: str) -> list[tuple[int, int]]:
    special: list[tuple[int, int, int]] = [(k.start, k.end, 23) for k in find_links(text)]
    for mention in _REMOTE_MENTION.finditer(text):
        if not any(s <= mention.start() < e for s, e, _ in special):
            local = mention.group(1)
            special.append((mention.start(), mention.end(), len(_graphemes(local, 0, len(local)))))
    special.sort()
    units: list[tuple[int, int]] = []
    position = 0
    for start, end, size in special:
        units += _graphemes(text, position, start)
        units.append((start, size))
        position = end
    units += _graphemes(text, position, len(text))
    return units


def _weighted(text: str, limit: int) -> Length:
    # twitter-text counts the NFC form; spans map back through each
    # character's own normalisation, which NFC never merges across a
    # grapheme boundary.
    normal, origin = _nfc_with_origin(text)
    links = {link.start: link.end for link in find_links(normal)}
    budget = limit * _SCALE
    if normal.isascii():
        return _weighted_ascii(normal, links, limit)
    total = 0
    over_at = None
    skip_until = 0
    for cluster in _GRAPHEME.finditer(normal):
        start, end = cluster.span()
        if end <= skip_until:
            continue
        if start >= skip_until and start not in links and _EMOJI_START.match(normal, start, end):
            weighted = [(start, _DEFAULT_WEIGHT)]
        else:
            weighted = []
            for index in range(max(start, skip_until), end):
                if index < skip_until:
                    continue
                if index in links:
                    weighted.append((index, _URL_WEIGHT))
                    skip_until = links[index]
                else:
                    weighted.append((index, _char_weight(normal[index])))
        for index, weight in weighted:
            total += weight
            if over_at is None and total > budget:
                over_at = origin[index]
    return Length(total // _SCALE, limit, over_at)


def _weighted_ascii(text: str, links: dict[int, int], limit: int) -> Length:
    # Every ASCII character weighs 1 and there are no emoji: count in spans.
    budget = limit * _SCALE
    total = 0
    over_at = None
    position = 0
    for start, end in [*sorted(links.items()), (len(text), len(text))]:
        plain = (start - position) * _SCALE
        if over_at is None and total + plain > budget:
            over_at = position + (budget - total) // _SCALE
        total += plain
        if start < len(text):
            total += _URL_WEIGHT
            if over_at is None and total > budget:
                over_at = start
        position = end
    return Length(total // _SCALE, limit, over_at)


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
