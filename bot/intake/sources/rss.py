"""RSS and Atom feeds, read by ``feedparser`` (RSS 0.9x, 1.0, 2.0, Atom 0.3, 1.0).

A document is a whole feed: the XML text (an ``/intake`` body sent as
``application/rss+xml``, ``application/atom+xml`` or ``?source=rss``; a file
given to ``ingest --source rss``; or a JSON string holding the XML). Each
entry is a mention: its id is the entry's ``guid``/``id`` (else its link), its
text the title and the summary as plain text, its author the entry's author
(else the feed's title). Feeds give no reach.

feedparser is handed the bytes in a stream: given a string it would fetch a
URL or open a file of that name, and a request body must never do either.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.core.errors import InvalidInput
from bot.intake.sources.mastodon import html_to_text

NETWORK = "rss"
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml"}
)


def normalize(document: Any) -> Iterator[dict[str, Any] | InvalidInput]:
    if isinstance(document, str):
        document = document.encode("utf-8")
    if not isinstance(document, bytes):
        yield InvalidInput("(document)", "required, the feed's XML (RSS or Atom)")
        return
    if b"<!ENTITY" in document:
        # No feed needs its own entities, and nested ones ("billion laughs")
        # cost seconds of CPU before the parser gives up on them.
        yield InvalidInput("(document)", "entity declarations (<!ENTITY) are not accepted")
        return
    parsed = feedparser.parse(io.BytesIO(document), sanitize_html=True)
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        detail = f": {str(reason)[:120]}" if reason else ""
        yield InvalidInput("(document)", f"not an RSS or Atom feed{detail}")
        return
    feed = parsed.get("feed", {})
    feed_title = _plain(feed, "title")
    language = feed.get("language") if isinstance(feed.get("language"), str) else None
    for n, entry in enumerate(parsed.get("entries", [])):
        try:
            yield _entry(entry, f"entries[{n}]", feed_title, language)
        except InvalidInput as error:
            yield error


def _entry(entry: Any, path: str, feed_title: str | None, language: str | None) -> dict[str, Any]:
    link = entry.get("link") if isinstance(entry.get("link"), str) else None
    entry_id = entry.get("id") or link
    if not isinstance(entry_id, str) or not entry_id.strip():
        raise InvalidInput(f"{path}.id", "required, a guid/id or a link")
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not isinstance(stamp, time.struct_time):
        raise InvalidInput(f"{path}.published", "required, a pubDate/published/updated date")
    title = _plain(entry, "title") or ""
    summary = _plain(entry, "summary") or ""
    body = f"{title}\n\n{summary}".strip() if summary != title else title
    author = _plain(entry, "author") or feed_title
    if not author:
        raise InvalidInput(f"{path}.author", "required, the entry's author or the feed's title")
    item: dict[str, Any] = {
        "network": NETWORK,
        "id": entry_id.strip(),
        "text": body,
        "created_at": datetime(*stamp[:6], tzinfo=UTC).isoformat(),
        "author": {"handle": author},
    }
    if link:
        item["url"] = link
    if language:
        item["lang"] = language
    return item


def _plain(parent: Any, key: str) -> str | None:
    """A feed text as plain text: HTML (sanitized by feedparser) loses its tags,
    plain text stays as written."""
    value = parent.get(key)
    if not isinstance(value, str):
        return None
    detail = parent.get(f"{key}_detail")
    kind = detail.get("type", "") if isinstance(detail, dict) else ""
    plain = html_to_text(value) if "html" in kind else value
    return plain.strip() or None
