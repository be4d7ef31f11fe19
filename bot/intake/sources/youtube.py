"""YouTube Data API v3 comment threads (``youtube#commentThread``).

Accepted documents: one comment thread, or a ``commentThreads.list`` answer
(``youtube#commentThreadListResponse`` with ``items``). The top-level
comment and every reply the thread carries are each a mention (a thread
holds only some replies; ``comments.list`` pages the rest). Shapes:
https://developers.google.com/youtube/v3/docs/commentThreads and
https://developers.google.com/youtube/v3/docs/comments (resource
representations).

The text is ``textOriginal`` when the API gives it, else ``textDisplay``
(HTML when requested with ``textFormat=html``, so read as HTML). The author
is ``authorDisplayName`` (the channel handle, ``@name``); YouTube gives no
subscriber count with a comment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.core.errors import InvalidInput
from bot.intake.sources.mastodon import html_to_text
from bot.intake.sources.paths import (
    count,
    join,
    listed,
    obj,
    optional_text,
    segment,
    text,
)

NETWORK = "youtube"
THREAD = "youtube#commentThread"
LIST = "youtube#commentThreadListResponse"


def normalize(document: Any) -> Iterator[dict[str, Any] | InvalidInput]:
    try:
        root = obj(document, "")
        if root.get("kind") == LIST:
            items = listed(root.get("items"), "items")
            threads = [(join("items", n), thread) for n, thread in enumerate(items)]
        else:
            threads = [("", root)]
    except InvalidInput as error:
        yield error
        return
    for path, thread in threads:
        yield from _thread(thread, path)


def _thread(value: Any, path: str) -> Iterator[dict[str, Any] | InvalidInput]:
    try:
        thread = obj(value, path)
        if thread.get("kind") != THREAD:
            raise InvalidInput(join(path, "kind"), f"required, {THREAD!r}")
        snippet_path = join(path, "snippet")
        snippet = obj(thread.get("snippet"), snippet_path)
        video = optional_text(snippet, "videoId", snippet_path)
        top_path = join(snippet_path, "topLevelComment")
        top = obj(snippet.get("topLevelComment"), top_path)
    except InvalidInput as error:
        yield error
        return
    try:
        yield _comment(top, top_path, video)
    except InvalidInput as error:
        yield error
    replies = thread.get("replies")
    if not isinstance(replies, dict):
        return
    replies_path = join(join(path, "replies"), "comments")
    try:
        comments = listed(replies.get("comments"), replies_path)
    except InvalidInput as error:
        yield error
        return
    for n, reply in enumerate(comments):
        try:
            yield _comment(reply, join(replies_path, n), video)
        except InvalidInput as error:
            yield error


def _comment(value: Any, path: str, video: str | None) -> dict[str, Any]:
    comment = obj(value, path)
    comment_id = text(comment, "id", path)
    snippet_path = join(path, "snippet")
    snippet = obj(comment.get("snippet"), snippet_path)
    original = optional_text(snippet, "textOriginal", snippet_path)
    if original is None:
        shown = snippet.get("textDisplay")
        if not isinstance(shown, str):
            raise InvalidInput(join(snippet_path, "textOriginal"), "required, a string")
        original = html_to_text(shown)
    item: dict[str, Any] = {
        "network": NETWORK,
        "id": comment_id,
        "text": original,
        "created_at": text(snippet, "publishedAt", snippet_path),
        "author": {"handle": text(snippet, "authorDisplayName", snippet_path)},
    }
    video = optional_text(snippet, "videoId", snippet_path) or video
    if video:
        item["url"] = f"https://www.youtube.com/watch?v={segment(video)}&lc={segment(comment_id)}"
    parent = optional_text(snippet, "parentId", snippet_path)
    if parent:
        item["in_reply_to"] = parent
    likes = count(snippet, "likeCount", snippet_path)
    if likes is not None:
        item["likes"] = likes
    return item
