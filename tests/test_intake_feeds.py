"""RSS and Atom feeds through feedparser, ``ingest --source`` for each network,
and hostile text in every network's own shape reaching the card inert."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.cli import main
from bot.intake.batch import Item, ItemProblem, parse_body, parse_lines
from bot.intake.feed import LineProblem
from bot.intake.sources import normalize
from bot.store import open_store
from handlers.triage.records import KIND
from tests.conftest import ROOT, Chat
from tests.test_hostile_text import BIDI, HOSTILE, ZERO_WIDTH
from tests.test_intake_sources import FIXTURES, fixture

CONFIG = str(ROOT / "playcaller.yaml")


def feed(name: str, content_type: str = "application/rss+xml") -> list[Item | ItemProblem]:
    body = (FIXTURES / name).read_bytes()
    return parse_body(body, content_type, max_bytes=1_000_000)


# -- RSS and Atom --------------------------------------------------------------


def test_rss_items_become_mentions_with_sanitized_plain_text() -> None:
    first, second, undated = feed("rss_feed.xml")
    assert isinstance(first, Item) and isinstance(second, Item)
    news = first.mention
    assert (news.network, news.external_id) == ("rss", "travelwire-2026-11-30-0412")
    assert news.text == (
        "Acme Air cancels 40 flights as crew dispute deepens\n\n"
        "Passengers at Lisbon and Porto faced long queues on Monday.\n\n"
        "The airline said refunds & rebooking are available."
    )
    assert "alert" not in news.text  # feedparser drops scripts
    assert news.author.handle == "Sam Whitlock"
    assert news.created_at == datetime(2026, 11, 30, 7, 58, tzinfo=UTC)
    assert news.url == "https://travelwire.example.com/2026/11/30/acme-air-cancellations"
    assert news.lang == "en-gb"
    # No guid: the link is the id; no author: the feed's title.
    assert second.mention.external_id == "https://travelwire.example.com/2026/11/29/winter-routes"
    assert second.mention.author.handle == "Travel Wire"
    assert undated == ItemProblem(1, "entries[2].published", undated.message)


def test_atom_entries_read_alike() -> None:
    [entry] = feed("atom_feed.xml", "application/atom+xml")
    assert isinstance(entry, Item)
    assert entry.mention.external_id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert entry.mention.text == (
        "Is Acme Air's new lounge worth it?\n\nShort answer: yes, if you fly before 7am."
    )
    assert entry.mention.author.handle == "R. Castillo"


@pytest.mark.parametrize(
    "body",
    [b"/etc/passwd", b"http://127.0.0.1:9/feed.xml", b"file:///etc/hostname", b"{not xml"],
)
def test_a_feed_body_is_never_a_path_or_url_to_open(body: bytes) -> None:
    [problem] = parse_body(body, "application/xml", max_bytes=1000)
    assert isinstance(problem, ItemProblem)
    assert problem.field == "(document)"
    assert problem.message.startswith("not an RSS or Atom feed")


def test_entity_declarations_are_refused_before_parsing() -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss version="2.0"><channel>'
        "<title>t</title><item><guid>g</guid><pubDate>Mon, 30 Nov 2026 07:58:00 GMT</pubDate>"
        "<title>&a9;</title></item></channel></rss>"
    )
    [problem] = parse_body(bomb.encode(), "application/rss+xml", max_bytes=10_000)
    assert isinstance(problem, ItemProblem)
    assert (problem.field, problem.message) == (
        "(document)",
        "entity declarations (<!ENTITY) are not accepted",
    )


def test_a_feed_in_a_json_string_or_named_by_source() -> None:
    xml = (FIXTURES / "atom_feed.xml").read_text(encoding="utf-8")
    [in_json] = parse_body(
        json.dumps({"source": "atom"}).encode(), "application/json", max_bytes=10**6
    )
    assert isinstance(in_json, ItemProblem) and in_json.field == "(document)"
    [named] = parse_body(xml.encode(), "text/plain", max_bytes=10**6, source="atom")
    assert isinstance(named, Item)
    line = json.dumps(xml).encode()
    [from_line] = parse_body(line, "application/x-ndjson", max_bytes=10**6, source="rss")
    assert isinstance(from_line, Item)


def test_ingest_reads_a_whole_feed_file_as_one_document() -> None:
    lines = (FIXTURES / "rss_feed.xml").read_bytes().splitlines(keepends=True)
    found = list(parse_lines(lines, "rss"))
    assert [type(f).__name__ for f in found] == [
        "IncomingMention",
        "IncomingMention",
        "LineProblem",
    ]
    last = found[2]
    assert isinstance(last, LineProblem) and last.field == "entries[2].published"


async def test_playcaller_ingest_takes_each_network_source(tmp_path: Path) -> None:
    import asyncio

    url = f"sqlite:///{tmp_path / 'p.db'}"
    reddit = tmp_path / "reddit.jsonl"
    reddit.write_text(json.dumps(fixture("reddit_comments_listing.json")) + "\n", "utf-8")
    # The feed's undated item is refused (exit 1), the rest stored.
    for path, source, code in ((reddit, "reddit", 0), (FIXTURES / "rss_feed.xml", "rss", 1)):
        argv = ["--config", CONFIG, "ingest", str(path), "--store", url, "--source", source]
        assert await asyncio.to_thread(main, argv) == code
    store = open_store(url, namespace="playcaller")
    await store.open()
    try:
        for key in ("reddit:t1_lz8q9xk", "reddit:t1_lz8r1ab", "rss:travelwire-2026-11-30-0412"):
            assert await store.get(KIND, key) is not None, key
        assert await store.get(KIND, "rss:travelwire-undated") is None
    finally:
        await store.close()


# -- hostile text --------------------------------------------------------------


HOSTS = {
    "bluesky": {"bsky.app"},
    "reddit": {"www.reddit.com"},
    "facebook": {"www.facebook.com"},
    "instagram": set(),
    "youtube": {"www.youtube.com"},
    "rss": {None},  # javascript: has no host, and the card withholds it
}


def hostile_payloads() -> list[tuple[str, Any]]:
    """The same hostile text and a hostile id in each network's own shape."""
    evil_id = "1?x=<!channel>#\u202e"
    bluesky = fixture("bluesky_get_posts.json")["posts"][0]
    bluesky["record"]["text"] = HOSTILE
    bluesky["uri"] = "at://did:plc:x/app.bsky.feed.post/" + evil_id
    reddit = copy.deepcopy(fixture("reddit_comments_listing.json")["data"]["children"][0])
    reddit["data"].update(body=HOSTILE, author="<!here>", replies="")
    facebook = fixture("facebook_feed_comment.json")
    value = facebook["entry"][0]["changes"][0]["value"]
    value.update(message=HOSTILE, post_id=evil_id)
    del value["post"]
    value["from"]["name"] = "<!channel> @everyone"
    instagram = fixture("instagram_comments.json")[0]
    instagram["entry"][0]["changes"][0]["value"]["text"] = HOSTILE
    youtube = fixture("youtube_comment_threads.json")["items"][1]
    youtube["snippet"]["videoId"] = evil_id
    youtube["snippet"]["topLevelComment"]["snippet"]["textDisplay"] = HOSTILE
    rss = (
        "<rss version='2.0'><channel><title>t</title><item><guid>g</guid>"
        "<pubDate>Mon, 30 Nov 2026 07:58:00 GMT</pubDate>"
        "<link>javascript:alert(1)</link><title>@here news</title>"
        "<description><![CDATA[<a href='https://evil.example'>yourbank.com</a> <!channel>"
        f"{ZERO_WIDTH}{BIDI} @everyone]]></description></item></channel></rss>"
    )
    return [
        ("bluesky", bluesky),
        ("reddit", reddit),
        ("facebook", facebook),
        ("instagram", instagram),
        ("youtube", youtube),
        ("rss", rss),
    ]


@pytest.mark.parametrize(("source", "document"), hostile_payloads())
async def test_hostile_network_text_reaches_the_card_inert(
    chat: Chat, source: str, document: Any
) -> None:
    [item] = [i for i in normalize(source, document) if isinstance(i, dict)][:1]
    item["text"] += "\n" + "q" * 40_000
    echoed = await chat.run("mention " + json.dumps(item))
    assert "[#1 ·" in echoed
    out = chat.card(1)
    assert "@here" not in out and "@everyone" not in out
    assert "javascript:" not in out
    assert not any(ch in out for ch in ZERO_WIDTH + BIDI)
    assert "more characters]" in out
    assert "[Claim]" in out  # the card is intact
    details = await chat.run("click Details #1")
    assert "javascript:" not in details
    assert "\u202e" not in details
    # An id from the payload stays inside its path segment or query value:
    # no fragment, no markup, the network's own host.
    url = item.get("url")
    if url is not None:
        parts = urlsplit(url)
        assert parts.fragment == "" and "<" not in url and "\u202e" not in url
        assert parts.hostname in HOSTS[source]
