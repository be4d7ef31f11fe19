"""Reddit things from the JSON API: comments (``t1``) and links (``t3``).

Accepted documents: one thing (``{"kind": "t1", "data": {...}}``); a
``Listing`` (``{"kind": "Listing", "data": {"children": [...]}}``), as
``/r/{sub}/comments``, ``/new`` or ``/search`` answer; or a list of either
(``/comments/{article}`` answers the link's listing and the comments'
listing). Replies nested in a comment are read too; ``more`` stubs are skipped
(they carry only ids). Shapes: https://github.com/reddit-archive/reddit/wiki/JSON
("thing", "listing", "comment implements votable | created", "link").

The id is the fullname (``t1_c3v7f8u``), unique across Reddit. A comment's
text is its ``body``; a link's is its ``title`` and, for a self post, its
``selftext``. Reddit does not give an author's follower count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.core.errors import InvalidInput
from bot.intake.sources.paths import epoch, join, listed, obj, optional_text, text

NETWORK = "reddit"
SITE = "https://www.reddit.com"
# A comment tree deeper than this is cut: the API nests replies, and a hostile
# document could nest them without end.
MAX_DEPTH = 50


def normalize(document: Any) -> Iterator[dict[str, Any] | InvalidInput]:
    things = (
        [(join("", n), t) for n, t in enumerate(document)]
        if isinstance(document, list)
        else [("", document)]
    )
    for path, thing in things:
        yield from _thing(thing, path, 0)


def _thing(value: Any, path: str, depth: int) -> Iterator[dict[str, Any] | InvalidInput]:
    try:
        thing = obj(value, path)
        kind = thing.get("kind")
        data_path = join(path, "data")
        data = obj(thing.get("data"), data_path)
        if kind == "Listing":
            children_path = join(data_path, "children")
            children = listed(data.get("children"), children_path)
        elif kind in ("t1", "t3"):
            children = []
        elif kind == "more":
            return
        else:
            raise InvalidInput(join(path, "kind"), "required, 't1', 't3' or 'Listing'")
    except InvalidInput as error:
        yield error
        return
    if kind == "Listing":
        for n, child in enumerate(children):
            yield from _thing(child, join(children_path, n), depth)
        return
    try:
        yield _comment(data, data_path) if kind == "t1" else _link(data, data_path)
    except InvalidInput as error:
        yield error
    replies = data.get("replies")
    if isinstance(replies, dict) and depth < MAX_DEPTH:
        yield from _thing(replies, join(data_path, "replies"), depth + 1)


def _common(data: dict[str, Any], path: str, body: str) -> dict[str, Any]:
    author = text(data, "author", path)
    item: dict[str, Any] = {
        "network": NETWORK,
        "id": text(data, "name", path),
        "text": body,
        "created_at": epoch(data, "created_utc", path),
        "author": {"handle": f"u/{author}"},
    }
    permalink = optional_text(data, "permalink", path)
    if permalink and permalink.startswith("/"):
        item["url"] = SITE + permalink
    subreddit = optional_text(data, "subreddit", path)
    if subreddit:
        item["subreddit"] = subreddit
    score = data.get("score")
    if isinstance(score, int) and not isinstance(score, bool):
        item["score"] = score
    return item


def _comment(data: dict[str, Any], path: str) -> dict[str, Any]:
    body = data.get("body")
    if not isinstance(body, str):
        raise InvalidInput(join(path, "body"), "required, a string (the comment's Markdown)")
    item = _common(data, path, body)
    parent = optional_text(data, "parent_id", path)
    if parent:
        item["in_reply_to"] = parent
    return item


def _link(data: dict[str, Any], path: str) -> dict[str, Any]:
    title = text(data, "title", path)
    selftext = optional_text(data, "selftext", path) or ""
    return _common(data, path, f"{title}\n\n{selftext}".strip())
