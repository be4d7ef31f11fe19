"""Length as each network counts it; X against twitter-text's own conformance cases."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.core.accounts import Network
from handlers.approvals.length import LIMITS, measure
from tests.conftest import SCHEMAS

CONFORMANCE = yaml.safe_load(
    (SCHEMAS / "twitter-text" / "validate-weighted-v3.yml").read_text(encoding="utf-8")
)["tests"]["WeightedTweetsWithDiscountedEmojiCounterTest"]


def utf16_index(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


@pytest.mark.parametrize("case", CONFORMANCE, ids=[c["description"] for c in CONFORMANCE])
def test_x_weighted_length_matches_twitter_text(case: dict[str, Any]) -> None:
    text, expected = case["text"], case["expected"]
    length = measure(text, Network.X)
    assert length.count == expected["weightedLength"]
    assert (length.over_at is None) == expected["valid"]
    if length.over_at is not None:
        # validRangeEnd is the last UTF-16 index that still fits.
        assert utf16_index(text, length.over_at) - 1 == expected["validRangeEnd"]


def test_conformance_file_holds_all_cases() -> None:
    assert len(CONFORMANCE) == 17


def test_x_counts_bare_domains_and_links_as_23() -> None:
    assert (
        measure(
            "Status: status.acme.com and https://acme.com/a/very/long/path?x=1", Network.X
        ).count
        == 8 + 23 + 5 + 23
    )
    # A single-label country domain without a path is a word, not a link.
    assert measure("go.to", Network.X).count == 5
    assert measure("go.to/x", Network.X).count == 23


def test_x_counts_keycaps_flags_and_skin_tones_as_one_emoji() -> None:
    assert measure("1\ufe0f\u20e3 🇬🇧 👍🏽", Network.X).count == 2 + 1 + 2 + 1 + 2


def test_x_overflow_inside_plain_text_after_an_emoji() -> None:
    text = "🎉" + "a" * 279
    assert measure(text, Network.X).over_at == 279  # 2 + 278 fits, the 279th "a" does not


def test_bluesky_counts_graphemes_not_code_points() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"  # 7 code points, one grapheme
    flag = "🇬🇧"
    text = "Sorry! " + family + flag + "é" + "e\u0301"
    assert measure(text, Network.BLUESKY).count == 7 + 4
    fits = "a" * 299 + family
    assert measure(fits, Network.BLUESKY).over_at is None
    over = "a" * 300 + family
    assert measure(over, Network.BLUESKY).over_at == 300


def test_mastodon_counts_links_as_23_and_remote_mentions_by_user() -> None:
    text = "@jane@mastodon.social see https://acme.com/" + "x" * 200
    assert measure(text, Network.MASTODON).count == len("@jane") + len(" see ") + 23
    assert measure("é" * 500, Network.MASTODON).over_at is None
    assert measure("e\u0301" * 501, Network.MASTODON).over_at == 1000


def test_utf16_networks_count_astral_emoji_twice() -> None:
    assert measure("😷" * 75, Network.TIKTOK).over_at is None
    assert measure("😷" * 76, Network.TIKTOK).over_at == 75
    assert measure("a" * 150, Network.TIKTOK).over_at is None
    assert measure("a" * 151, Network.TIKTOK).over_at == 150


def test_reddit_counts_code_points() -> None:
    assert measure("😷" * 10_000, Network.REDDIT).over_at is None
    assert measure("😷" * 10_001, Network.REDDIT).over_at == 10_000


@pytest.mark.parametrize(
    ("network", "limit"),
    [
        (Network.X, 280),
        (Network.BLUESKY, 300),
        (Network.MASTODON, 500),
        (Network.THREADS, 500),
        (Network.INSTAGRAM, 2_200),
        (Network.LINKEDIN, 3_000),
        (Network.FACEBOOK, 8_000),
        (Network.REDDIT, 10_000),
        (Network.TIKTOK, 150),
    ],
)
def test_every_network_limit(network: Network, limit: int) -> None:
    assert LIMITS[network] == limit
    assert measure("y" * limit, network).over_at is None
    over = measure("y" * (limit + 1), network)
    assert (over.count, over.limit, over.over_at) == (limit + 1, limit, limit)


def test_the_joiner_class_holds_every_character_that_can_join_a_grapheme() -> None:
    # If a character outside the class could join its neighbour, text made of
    # plain characters and it would be counted one grapheme per character
    # wrongly. Checked against the grapheme break property of the regex module.
    import regex

    from handlers.approvals.length import _JOINER

    can_join = regex.compile(
        r"[\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=ZWJ}"
        r"\p{Grapheme_Cluster_Break=SpacingMark}\p{Grapheme_Cluster_Break=Prepend}"
        r"\p{Grapheme_Cluster_Break=L}\p{Grapheme_Cluster_Break=V}\p{Grapheme_Cluster_Break=T}"
        r"\p{Grapheme_Cluster_Break=LV}\p{Grapheme_Cluster_Break=LVT}"
        r"\p{Grapheme_Cluster_Break=Regional_Indicator}\r]"
    )
    planes = [*range(0x30000), *range(0xE0000, 0xE1000)]
    missing = [hex(c) for c in planes if can_join.match(chr(c)) and not _JOINER.match(chr(c))]
    assert missing == []


def test_grapheme_networks_count_joined_text_exactly() -> None:
    korean = "\u1100\u1161\u11a8" * 301  # conjoining jamo: one syllable each
    assert measure(korean, Network.BLUESKY).count == 301
    assert measure(korean, Network.BLUESKY).over_at == 900
    thai = "\u0e01\u0e33" * 301  # SARA AM joins the consonant before it
    assert measure(thai, Network.BLUESKY).count == 301
