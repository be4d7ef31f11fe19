"""Near-duplicate clusters of a surge's mentions, pure (rapidfuzz does the matching).

Reposts, quotes and copy-paste campaigns differ by a prefix (``RT @x:``), a
link, a handle or a few words. Texts are reduced to their words, then each
mention joins the first cluster whose example it matches with a token-set
similarity of at least :data:`SIMILAR` (very short texts only when equal),
oldest mention first, so a cluster keeps its id (its first member's key) from
one refresh to the next.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

SIMILAR = 85.0
# Texts of fewer words only cluster when equal: "love it" is not a campaign.
MIN_WORDS = 4
# Past this many clusters, new wording goes to one "everything else" cluster.
MAX_CLUSTERS = 300
OTHER = "other"

_REPOST = re.compile(r"^\s*(?:rt|qt)\s+@\S+:?\s*", re.IGNORECASE)
_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"[@#](\w+)")
_NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Member:
    """What clustering needs of one mention."""

    key: str
    text: str
    handle: str
    followers: int
    sentiment: str
    open: bool = True
    owner: str | None = None


@dataclass
class Cluster:
    """Mentions that say the same thing; ``id`` is its first member's key."""

    id: str
    example: Member
    members: list[Member] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def open_count(self) -> int:
        return sum(1 for m in self.members if m.open)

    def top_authors(self, limit: int = 3) -> list[Member]:
        """The members with the largest audience, one per handle."""
        seen: dict[str, Member] = {}
        for member in sorted(self.members, key=lambda m: -m.followers):
            seen.setdefault(member.handle.lower(), member)
        return list(seen.values())[:limit]

    def sentiments(self) -> Counter[str]:
        return Counter(m.sentiment for m in self.members)


def normalized(text: str) -> str:
    """The words of a post: no repost prefix, links, markers or punctuation."""
    text = _REPOST.sub("", text)
    text = _LINK.sub(" ", text)
    text = _HANDLE.sub(r"\1", text)
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def cluster(members: Iterable[Member]) -> list[Cluster]:
    """Clusters, largest first (ties: the older first)."""
    found: list[Cluster] = []
    exact: dict[str, Cluster] = {}
    examples: list[str] = []
    other: Cluster | None = None
    for member in members:
        words = normalized(member.text)
        home = exact.get(words)
        if home is None and len(words.split()) >= MIN_WORDS and examples:
            match = process.extractOne(
                words, examples, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR
            )
            if match is not None:
                home = found[match[2]]
        if home is None:
            if len(found) >= MAX_CLUSTERS:
                other = other or Cluster(OTHER, member)
                home = other
            else:
                home = Cluster(member.key, member)
                found.append(home)
                # A short example matches only its exact twin (found above).
                examples.append(words if len(words.split()) >= MIN_WORDS else "")
            exact.setdefault(words, home)
        home.members.append(member)
    ordered = sorted(enumerate(found), key=lambda pair: (-pair[1].size, pair[0]))
    result = [c for _, c in ordered]
    if other is not None:
        result.append(other)
    return result


def member_keys(clusters: Sequence[Cluster]) -> dict[str, list[str]]:
    """Cluster id -> its members' keys (stored so a claim takes what was shown)."""
    return {c.id: [m.key for m in c.members] for c in clusters}
