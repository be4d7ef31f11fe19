"""Finding links in draft text the way social networks autolink them.

A link is anything starting ``http://`` or ``https://`` (any host), a host
starting ``www.``, or a bare host name whose top-level domain is a generic
one from ``GENERIC_TLDS`` or a country code (a country-code domain of a
single label, like ``foo.io``, needs a path, as twitter-text requires).
Every host label is 1-63 letters, digits, hyphens or underscores, never
starting or ending with a hyphen (63 also in punycode), and a host name is at
most 253 characters, as in DNS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pycountry
import regex

# Generic top-level domains recognised without a scheme; the rest of the
# IANA list is still found with http:// or https:// in front.
GENERIC_TLDS = frozenset(
    """
    com net org info biz edu gov mil int name pro aero coop museum mobi jobs tel travel
    app dev io ai co xyz online site store shop tech blog news live media cloud page
    link club top icu vip work world today space website fun art design agency email
    support help services solutions company business group global network digital social
    community events money bank insure finance capital ventures fund health care
    """.split()  # noqa: SIM905
)

_LABEL = r"(?!-)[\p{L}\p{N}_-]{1,63}(?<!-)"
# Characters a URL path may hold; trailing punctuation is trimmed afterwards.
_PATH = r"(?:[/?#][^\s<>\"'|`{}\[\]\\^]*)?"
_LINK = regex.compile(
    rf"(?P<scheme>[hH][tT][tT][pP][sS]?://)(?P<userinfo>[^\s/@<>|]+@)?(?P<host>\[[0-9a-fA-F:.]+\]|{_LABEL}(?:\.{_LABEL})*)"
    rf"(?::\d{{1,5}})?(?P<path>{_PATH})"
    # Atomic: a dotted run is taken whole and its last label checked after,
    # so "a.a.a..." costs one pass instead of backtracking label by label.
    rf"|(?<![\w@.\-/])(?P<bare>(?>{_LABEL}(?:\.{_LABEL})+))(?![\w\-])"
    rf"(?::\d{{1,5}})?(?P<barepath>{_PATH})",
    regex.VERSION1,
)
_HINT = re.compile(r"://|[^\s.]\.[^\s.]")
_SPACE = re.compile(r"\s")
_MAX_HOST = 253  # DNS: a longer name cannot resolve, so it is not a link
_TRAILING = ".,:;!?)]}'\"\u2019\u201d\u2026"


@dataclass(frozen=True)
class Link:
    """A link in the text: ``text[start:end]`` and its lowercased host."""

    start: int
    end: int
    url: str
    host: str


@cache
def country_tlds() -> frozenset[str]:
    """Two-letter country-code domains (ISO 3166 plus uk, eu, ac)."""
    codes = {c.alpha_2.lower() for c in pycountry.countries}
    return frozenset(codes | {"uk", "eu", "ac"})


def find_links(text: str) -> list[Link]:
    """Every link in ``text``, in order."""
    links = []
    for window_start, window_end in _windows(text):
        links += _links_in(text, window_start, window_end)
    return links


def _windows(text: str) -> list[tuple[int, int]]:
    # A link has no whitespace and holds "://" or a dot between two
    # non-spaces; the full pattern runs only on the words around those.
    windows: list[tuple[int, int]] = []
    for hint in _HINT.finditer(text):
        if windows and hint.start() < windows[-1][1]:
            continue
        # Other Unicode spaces only widen a window; the pattern stops at them.
        start = max(text.rfind(" ", 0, hint.start()), text.rfind("\n", 0, hint.start())) + 1
        after = _SPACE.search(text, hint.end())
        windows.append((start, after.start() if after else len(text)))
    return windows


def _links_in(text: str, window_start: int, window_end: int) -> list[Link]:
    links = []
    for match in _LINK.finditer(text, window_start, window_end):
        start = match.start()
        if match.group("scheme"):
            host = match.group("host")
            if not _labels_fit(host):
                continue
        else:
            host = match.group("bare")
            tld = host.rsplit(".", 1)[1].lower()
            if not _bare_host_is_link(host, tld, bool(match.group("barepath"))):
                continue
        if len(host) > _MAX_HOST:
            continue
        url = match.group(0)
        while url and url[-1] in _TRAILING and not _balanced_close(url):
            url = url[:-1]
        links.append(Link(start, start + len(url), url, host.lower().strip("[]")))
    return links


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Is ``host`` one of ``allowed`` or a subdomain of one?"""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in allowed)


def _bare_host_is_link(host: str, tld: str, has_path: bool) -> bool:
    if not tld.isalpha() or len(tld) < 2:
        return False
    if host.lower().startswith("www."):
        return True
    if tld in GENERIC_TLDS:
        return True
    if tld not in country_tlds():
        return False
    return has_path or host.count(".") >= 2 or host.lower() == "t.co"


def _labels_fit(host: str) -> bool:
    # A non-ASCII label travels as punycode ("xn--..."), which must fit 63 too.
    for label in host.split("."):
        if not label.isascii() and len("xn--" + label.encode("punycode").decode("ascii")) > 63:
            return False
    return True


def _balanced_close(url: str) -> bool:
    # Keep a closing parenthesis that closes one opened inside the URL
    # (Wikipedia links), trim one that closes the surrounding sentence.
    return url[-1] == ")" and url.count("(") >= url.count(")")
