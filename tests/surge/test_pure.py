"""The pure parts of surge mode: rate windows, the sparkline, near-duplicate groups."""

from __future__ import annotations

from datetime import timedelta

from handlers.surge import window
from handlers.surge.clusters import MIN_WORDS, Member, cluster, normalized
from tests.conftest import START


def member(n: int, text: str, followers: int = 10, sentiment: str = "neutral") -> Member:
    return Member(f"x:{n}", text, f"user{n}", followers, sentiment)


def test_reposts_quotes_and_links_join_the_original() -> None:
    texts = [
        "Acme lost my bag again, flight 123 cancelled",
        "RT @traveller: Acme lost my bag again, flight 123 cancelled https://t.co/abc",
        "acme LOST my bag again!!! flight 123 cancelled #acmefail",
        "So true. Acme lost my bag again, flight 123 cancelled",
        "Does anyone know when Acme opens the new lounge in Lisbon?",
    ]
    groups = cluster(member(n, t) for n, t in enumerate(texts))
    assert [g.size for g in groups] == [4, 1]
    assert groups[0].id == "x:0" and groups[0].example.text == texts[0]


def test_short_texts_group_only_when_equal() -> None:
    groups = cluster(member(n, t) for n, t in enumerate(["love it", "Love it!", "hate it"]))
    assert sorted(g.size for g in groups) == [1, 2]
    assert len(normalized("love it").split()) < MIN_WORDS


def test_groups_keep_their_id_as_more_arrive_and_rank_by_size() -> None:
    first = [member(1, "the acme app will not open on my phone today")]
    more = [
        *first,
        member(2, "my acme card was charged twice for one coffee"),
        member(3, "My Acme card was charged twice for one coffee!"),
        member(4, "the acme app will not open on my phone today, again"),
        member(5, "RT @x: my acme card was charged twice for one coffee"),
    ]
    assert cluster(first)[0].id == "x:1"
    groups = cluster(more)
    assert [(g.id, g.size) for g in groups] == [("x:2", 3), ("x:1", 2)]


def test_top_authors_by_reach_once_each_and_the_sentiment_mix() -> None:
    text = "acme support has not answered my ticket in three days"
    groups = cluster(
        [
            member(1, text, 50, "negative"),
            member(2, text, 90_000, "negative"),
            Member("x:3", text, "user2", 80_000, "neutral"),
            member(4, text, 700, "positive"),
        ]
    )
    top = groups[0].top_authors()
    assert [(m.handle, m.followers) for m in top] == [
        ("user2", 90_000),
        ("user4", 700),
        ("user1", 50),
    ]
    assert groups[0].sentiments() == {"negative": 2, "neutral": 1, "positive": 1}


def test_arrivals_in_a_window_and_old_buckets_expire() -> None:
    now = START
    counts = {
        window.arrival_counter("care", now): 5,
        window.arrival_counter("care", now - timedelta(minutes=4)): 7,
        window.arrival_counter("care", now - timedelta(minutes=6)): 11,
        window.arrival_counter("care", now - timedelta(hours=2)): 13,
        window.arrival_counter("comms", now): 100,
    }
    by_bucket = window.buckets(counts, "care")
    assert window.in_window(by_bucket, now, timedelta(minutes=5)) == 12
    assert window.in_window(by_bucket, now, timedelta(minutes=10)) == 23
    assert window.expired(by_bucket, "care", now) == [
        window.arrival_counter("care", now - timedelta(hours=2))
    ]


def test_the_sparkline_scales_to_the_busiest_minute() -> None:
    now = START
    counts = {
        window.arrival_counter("care", now - timedelta(minutes=2)): 10,
        window.arrival_counter("care", now - timedelta(seconds=5)): 40,
    }
    points = window.per_minute(window.buckets(counts, "care"), now)
    assert len(points) == 15 and points[-1] == 40 and points[-3] == 10
    assert window.sparkline(points) == "▁" * 12 + "▃▁█"
    assert window.sparkline([0, 0]) == "▁▁"
