"""Bluesky, Reddit, Facebook, Instagram and YouTube normalizers on payloads
written to each network's documented shape (``tests/fixtures/sources``, the
pages they follow in its README). RSS/Atom and hostile text: test_intake_feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.intake.batch import Item, parse_lines
from bot.intake.feed import IncomingMention, LineProblem
from tests.test_intake_sources import FIXTURES, entries, fixture, problems


def mentions(document: Any, source: str) -> list[IncomingMention]:
    found = entries(document, source)
    return [e.mention for e in found if isinstance(e, Item)]


def fields(document: Any, source: str) -> list[str]:
    return [f for f, _ in problems(document, source)]


# -- Bluesky -------------------------------------------------------------------


def test_bluesky_get_posts_gives_each_post_view() -> None:
    first, reply = mentions(fixture("bluesky_get_posts.json"), "bluesky")
    assert first.network == "bluesky"
    assert first.external_id == (
        "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbdzt5xbgc2o"
    )
    assert first.text.startswith("@acmeair flight AC212 cancelled")
    assert first.created_at == datetime(2026, 11, 30, 9, 14, 22, 481000, tzinfo=UTC)
    assert (first.author.handle, first.author.name) == ("mara-okafor.bsky.social", "Mara Okafor")
    assert first.url == "https://bsky.app/profile/mara-okafor.bsky.social/post/3lbdzt5xbgc2o"
    assert first.lang == "en"
    assert first.extra == {"likes": 118, "reposts": 31}
    assert reply.in_reply_to == first.external_id
    assert reply.author.name is None  # an empty displayName is no name


def test_bluesky_feed_pages_and_single_views_read_alike() -> None:
    views = fixture("bluesky_get_posts.json")["posts"]
    page = {"cursor": "c", "feed": [{"post": views[0]}, {"post": views[1], "reason": None}]}
    assert [m.external_id for m in mentions(page, "bluesky")] == [v["uri"] for v in views]
    assert mentions(views[0], "bluesky")[0].external_id == views[0]["uri"]


def test_bluesky_notifications_keep_mentions_and_refuse_likes_by_reason() -> None:
    document = fixture("bluesky_notifications.json")
    [mention] = mentions(document, "bluesky")
    assert mention.author.handle == "priya.bsky.social"
    assert mention.text.startswith("@acmeair.bsky.social thank you")
    assert fields(document, "bluesky") == ["notifications[1].reason"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda v: v.pop("uri"), "posts[0].uri"),
        (lambda v: v["author"].pop("handle"), "posts[0].author.handle"),
        (lambda v: v.pop("record"), "posts[0].record"),
        (lambda v: v["record"].update({"$type": "app.bsky.feed.like"}), "posts[0].record.$type"),
        (lambda v: v["record"].pop("text"), "posts[0].record.text"),
        (lambda v: v["record"].pop("createdAt"), "posts[0].record.createdAt"),
        (lambda v: v["record"].update(createdAt="yesterday"), "created_at"),
        (lambda v: v.update(likeCount=-1), "posts[0].likeCount"),
    ],
)
def test_bluesky_malformed_views_name_the_path_and_keep_the_rest(change: Any, field: str) -> None:
    document = fixture("bluesky_get_posts.json")
    change(document["posts"][0])
    assert fields(document, "bluesky") == [field]
    assert len(mentions(document, "bluesky")) == 1


def test_bluesky_not_a_list_is_named() -> None:
    assert fields({"posts": {}}, "bluesky") == ["posts"]
    assert fields({"feed": ["x"]}, "bluesky") == ["feed[0]"]


def test_bluesky_jetstream_lines_keep_created_posts_only() -> None:
    lines = (FIXTURES / "bluesky_jetstream.jsonl").read_bytes().splitlines(keepends=True)
    found = list(parse_lines(lines, "bluesky"))
    post = found[0]
    assert isinstance(post, IncomingMention)
    assert (
        post.external_id == "at://did:plc:4t6bsbvlxxcmqeq4jkwsdmwz/app.bsky.feed.post/3lbe3hq2nqk2y"
    )
    assert post.author.handle == "did:plc:4t6bsbvlxxcmqeq4jkwsdmwz"
    assert post.url == (
        "https://bsky.app/profile/did:plc:4t6bsbvlxxcmqeq4jkwsdmwz/post/3lbe3hq2nqk2y"
    )
    assert post.text == "acme air lost my bag again, third time this year"
    assert [(p.line, p.field) for p in found[1:] if isinstance(p, LineProblem)] == [
        (2, "commit.collection"),
        (3, "kind"),
    ]


def test_bluesky_jetstream_malformed_commits_name_the_path() -> None:
    event = json.loads((FIXTURES / "bluesky_jetstream.jsonl").read_text().splitlines()[0])
    del event["commit"]["record"]["text"]
    assert fields(event, "bluesky") == ["commit.record.text"]
    event["commit"]["operation"] = "delete"
    assert fields(event, "bluesky") == ["commit.operation"]
    del event["did"]
    assert fields(event, "bluesky") == ["did"]


# -- Reddit --------------------------------------------------------------------


def test_reddit_listing_gives_comments_replies_and_links() -> None:
    comment, reply, link = mentions(fixture("reddit_comments_listing.json"), "reddit")
    assert (comment.network, comment.external_id) == ("reddit", "t1_lz8q9xk")
    assert comment.text.startswith("File a claim online **and** keep")
    assert comment.author.handle == "u/throwaway_gate12"
    assert comment.created_at == datetime(2026, 11, 30, 8, 57, 21, tzinfo=UTC)
    assert comment.url == (
        "https://www.reddit.com/r/travel/comments/1h2k7fq/"
        "acme_air_lost_my_bag_and_customer_service_hung_up/lz8q9xk/"
    )
    assert comment.in_reply_to == "t3_1h2k7fq"
    assert comment.extra == {"subreddit": "travel", "score": 42}
    assert (reply.external_id, reply.in_reply_to) == ("t1_lz8r1ab", "t1_lz8q9xk")
    assert link.external_id == "t3_1h2k7fq"
    assert link.text.startswith("Acme Air lost my bag and customer service hung up on me twice\n\n")
    assert link.text.endswith("I want a refund for the replacement clothes.")
    assert fields(fixture("reddit_comments_listing.json"), "reddit") == []  # "more" is skipped


def test_reddit_article_answer_is_a_list_of_listings() -> None:
    listing = fixture("reddit_comments_listing.json")
    link_listing = {"kind": "Listing", "data": {"children": [listing["data"]["children"][1]]}}
    found = mentions([link_listing, listing], "reddit")
    assert [m.external_id for m in found] == [
        "t3_1h2k7fq",
        "t1_lz8q9xk",
        "t1_lz8r1ab",
        "t3_1h2k7fq",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("body"), "data.children[0].data.body"),
        (lambda d: d.pop("author"), "data.children[0].data.author"),
        (lambda d: d.pop("name"), "data.children[0].data.name"),
        (lambda d: d.update(created_utc="today"), "data.children[0].data.created_utc"),
        (lambda d: d.update(created_utc=1e20), "data.children[0].data.created_utc"),
    ],
)
def test_reddit_malformed_things_name_the_path_and_keep_the_rest(change: Any, field: str) -> None:
    document = fixture("reddit_comments_listing.json")
    change(document["data"]["children"][0]["data"])
    assert fields(document, "reddit") == [field]
    assert [m.external_id for m in mentions(document, "reddit")][-1] == "t3_1h2k7fq"


def test_reddit_unknown_kinds_are_named() -> None:
    assert fields({"kind": "t5", "data": {}}, "reddit") == ["kind"]
    assert fields({"kind": "Listing", "data": {"children": 3}}, "reddit") == ["data.children"]
    assert fields([{"kind": "t1"}], "reddit") == ["[0].data"]


# -- Facebook and Instagram ----------------------------------------------------


def test_facebook_feed_comment_is_a_mention_and_a_reaction_is_refused() -> None:
    document = fixture("facebook_feed_comment.json")
    [comment] = mentions(document, "facebook")
    assert (comment.network, comment.external_id) == (
        "facebook",
        "982374650192837_1029384756102938",
    )
    assert comment.text == "Third cancellation in a row. I want my money back, not a voucher."
    assert comment.author.handle == "Lena Hartmann"
    assert comment.created_at == datetime(2026, 11, 30, 9, 49, 47, tzinfo=UTC)
    assert comment.url == "https://www.facebook.com/acmeair/posts/pfbid02XkL8qzR1mT5vU"
    assert comment.in_reply_to == "104728392846571_982374650192837"
    assert problems(document, "facebook") == [
        ("entry[0].changes[1].value.item", "'reaction' carries no text (comment, post, status)")
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda v: v.pop("message"), "entry[0].changes[0].value.message"),
        (lambda v: v.pop("comment_id"), "entry[0].changes[0].value.comment_id"),
        (lambda v: v.pop("from"), "entry[0].changes[0].value.from"),
        (lambda v: v.update(verb="remove"), "entry[0].changes[0].value.verb"),
        (lambda v: v.update(created_time="now"), "entry[0].changes[0].value.created_time"),
    ],
)
def test_facebook_malformed_changes_name_the_path(change: Any, field: str) -> None:
    document = fixture("facebook_feed_comment.json")
    change(document["entry"][0]["changes"][0]["value"])
    assert fields(document, "facebook")[0] == field


def test_a_facebook_post_without_permalink_links_to_its_id_and_mentions_are_refused() -> None:
    document = fixture("facebook_feed_comment.json")
    value = document["entry"][0]["changes"][0]["value"]
    value.update(item="status", post_id="104728392846571_55/../evil?x=1")
    del value["post"]
    document["entry"][0]["changes"][1] = {
        "field": "mention",
        "value": {"post_id": "1_2", "sender_id": "3", "item": "post", "verb": "add"},
    }
    [status] = mentions(document, "facebook")
    assert status.external_id == "104728392846571_55/../evil?x=1"
    assert status.url == "https://www.facebook.com/104728392846571_55%2F..%2Fevil%3Fx%3D1"
    [(field, message)] = problems(document, "facebook")
    assert field == "entry[0].changes[1].value.message" and "only ids" in message


def test_instagram_comment_uses_the_entry_time_and_mentions_are_refused() -> None:
    document = fixture("instagram_comments.json")
    [comment] = mentions(document, "instagram")
    assert (comment.network, comment.external_id) == ("instagram", "17865799348089039")
    assert comment.author.handle == "sunny.side.travels"
    assert comment.text.startswith("@acmeair still waiting on my refund")
    assert comment.created_at == datetime(2026, 11, 30, 10, 10, 2, tzinfo=UTC)
    assert comment.extra == {"media_id": "18023948572039481"}
    [(field, message)] = problems(document, "instagram")
    assert field == "[0].entry[0].changes[1].value.text"
    assert "value.comment_id" in message


def test_meta_envelopes_are_checked_for_their_object() -> None:
    assert fields(fixture("instagram_comments.json"), "facebook") == ["[0].object"]
    assert fields(fixture("facebook_feed_comment.json"), "instagram") == ["object"]
    broken = fixture("instagram_comments.json")
    del broken[0]["entry"][0]["time"]
    assert fields(broken, "instagram")[0] == "[0].entry[0].time"
    broken[0]["entry"][0]["time"] = 1796033402
    del broken[0]["entry"][0]["changes"][0]["value"]["from"]["username"]
    assert fields(broken, "instagram")[0] == "[0].entry[0].changes[0].value.from.username"


# -- YouTube -------------------------------------------------------------------


def test_youtube_threads_give_top_level_comments_and_their_replies() -> None:
    top, reply, other = mentions(fixture("youtube_comment_threads.json"), "youtube")
    assert (top.network, top.external_id) == ("youtube", "UgzX4kL2b8oQe1HrAvB4AaABAg")
    assert top.text == "Love the new cabin but the *wifi* never works & nobody fixes it"
    assert top.author.handle == "@frequentflyer_ana"
    assert top.created_at == datetime(2026, 11, 29, 18, 2, 11, tzinfo=UTC)
    assert top.url == "https://www.youtube.com/watch?v=dQ7rT3xK9aE&lc=UgzX4kL2b8oQe1HrAvB4AaABAg"
    assert top.extra == {"likes": 57}
    assert reply.in_reply_to == top.external_id
    # Without textOriginal the display text is read as HTML.
    assert other.text == "Great video, booked my honeymoon with you!"


def test_youtube_display_html_becomes_plain_text() -> None:
    document = fixture("youtube_comment_threads.json")
    del document["items"][0]["snippet"]["topLevelComment"]["snippet"]["textOriginal"]
    top = mentions(document, "youtube")[0]
    assert top.text == "Love the new cabin but the wifi never works & nobody fixes it"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: t.update(kind="youtube#video"), "items[0].kind"),
        (lambda t: t["snippet"].pop("topLevelComment"), "items[0].snippet.topLevelComment"),
        (
            lambda t: t["snippet"]["topLevelComment"]["snippet"].pop("publishedAt"),
            "items[0].snippet.topLevelComment.snippet.publishedAt",
        ),
        (
            lambda t: t["replies"]["comments"][0]["snippet"].pop("authorDisplayName"),
            "items[0].replies.comments[0].snippet.authorDisplayName",
        ),
    ],
)
def test_youtube_malformed_threads_name_the_path(change: Any, field: str) -> None:
    document = fixture("youtube_comment_threads.json")
    change(document["items"][0])
    assert fields(document, "youtube") == [field]
    assert mentions(document, "youtube")[-1].external_id == "Ugw9Pq1Lr3sT5vX7zB2dAaABAg"
