"""Bluesky (AT Protocol) post views: ``app.bsky.feed.defs#postView``.

Accepted documents: one post view; the answer of ``app.bsky.feed.getPosts``
or ``searchPosts`` (``{"posts": [...]}``); a feed page such as
``getTimeline`` or ``getAuthorFeed`` (``{"feed": [{"post": ...}]}``); and
``app.bsky.notification.listNotifications`` (``{"notifications": [...]}``),
of which only mentions, replies and quotes are posts (likes, reposts and
follows are refused by their ``reason``); and Jetstream firehose events
(``{"did", "time_us", "kind": "commit", "commit": {...}}``, JSON lines from
``wss://jetstream…/subscribe?wantedCollections=app.bsky.feed.post``), of
which only created posts are mentions. A Jetstream event names its author by
DID only: the DID stands as the handle (``bsky.app`` links accept it).

The id is the post's AT URI (``at://did/app.bsky.feed.post/rkey``), unique
across the network. Shapes: the lexicons in ``bluesky-social/atproto``
(``lexicons/app/bsky/feed/defs.json``, ``feed/post.json``,
``notification/listNotifications.json``) and ``bluesky-social/jetstream``'s
README for the firehose events.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.core.errors import InvalidInput
from bot.intake.sources.paths import (
    count,
    join,
    listed,
    obj,
    optional_text,
    segment,
    text,
)

NETWORK = "bluesky"
POST_TYPE = "app.bsky.feed.post"
_POST_REASONS = frozenset({"mention", "reply", "quote"})


def normalize(document: Any) -> Iterator[dict[str, Any] | InvalidInput]:
    if isinstance(document, dict) and "time_us" in document and "kind" in document:
        try:
            yield _jetstream(document)
        except InvalidInput as error:
            yield error
        return
    try:
        located = _located(document)
    except InvalidInput as error:
        yield error
        return
    for path, view, reason in located:
        try:
            if reason is not None and reason not in _POST_REASONS:
                raise InvalidInput(
                    join(path, "reason"), f"{reason[:40]!r} is not a post (mention, reply, quote)"
                )
            yield _post(view, path)
        except InvalidInput as error:
            yield error


def _located(document: Any) -> list[tuple[str, Any, str | None]]:
    """Each post view in ``document`` with its path and, for notifications, its reason."""
    root = obj(document, "")
    if "posts" in root:
        return [(join("posts", n), v, None) for n, v in enumerate(listed(root["posts"], "posts"))]
    if "feed" in root:
        found: list[tuple[str, Any, str | None]] = []
        for n, entry in enumerate(listed(root["feed"], "feed")):
            where = join("feed", n)
            found.append((join(where, "post"), obj(entry, where).get("post"), None))
        return found
    if "notifications" in root:
        notes = listed(root["notifications"], "notifications")
        located: list[tuple[str, Any, str | None]] = []
        for n, note in enumerate(notes):
            where = join("notifications", n)
            reason = obj(note, where).get("reason")
            located.append((where, note, reason if isinstance(reason, str) else None))
        return located
    return [("", root, None)]


def _post(value: Any, path: str) -> dict[str, Any]:
    view = obj(value, path)
    uri = text(view, "uri", path)
    author_path = join(path, "author")
    author = obj(view.get("author"), author_path)
    handle = text(author, "handle", author_path)
    record_path = join(path, "record")
    record = obj(view.get("record"), record_path)
    kind = record.get("$type")
    if kind != POST_TYPE:
        raise InvalidInput(join(record_path, "$type"), f"required, {POST_TYPE!r}")
    body = record.get("text")
    if not isinstance(body, str):
        raise InvalidInput(join(record_path, "text"), "required, a string")
    name = optional_text(author, "displayName", author_path) or None
    record_key = uri.rsplit("/", 1)[-1]
    item: dict[str, Any] = {
        "network": NETWORK,
        "id": uri,
        "text": body,
        "created_at": text(record, "createdAt", record_path),
        "author": {"handle": handle, "name": name},
        "url": f"https://bsky.app/profile/{segment(handle)}/post/{segment(record_key)}",
    }
    langs = record.get("langs")
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        item["lang"] = langs[0]
    reply = record.get("reply")
    if isinstance(reply, dict) and isinstance(reply.get("parent"), dict):
        parent_path = join(join(record_path, "reply"), "parent")
        item["in_reply_to"] = text(reply["parent"], "uri", parent_path)
    # A post view carries the post's engagement, not the author's followers
    # (profileViewBasic has no count): kept among the mention's extra fields.
    for key, name in (("likeCount", "likes"), ("repostCount", "reposts")):
        found = count(view, key, path)
        if found is not None:
            item[name] = found
    return item


def _jetstream(event: dict[str, Any]) -> dict[str, Any]:
    """A Jetstream commit that created a post, as a post view would carry it."""
    if event.get("kind") != "commit":
        raise InvalidInput("kind", "only 'commit' events carry posts")
    did = text(event, "did", "")
    commit = obj(event.get("commit"), "commit")
    if commit.get("operation") != "create":
        raise InvalidInput("commit.operation", "only 'create' is a new post")
    if commit.get("collection") != POST_TYPE:
        raise InvalidInput("commit.collection", f"required, {POST_TYPE!r}")
    record_key = text(commit, "rkey", "commit")
    view = {
        "uri": f"at://{did}/{POST_TYPE}/{record_key}",
        "author": {"did": did, "handle": did},
        "record": commit.get("record"),
    }
    try:
        return _post(view, "")
    except InvalidInput as error:
        # The record sits at commit.record in the event, at record in a view.
        if error.field.startswith("record"):
            raise InvalidInput(f"commit.{error.field}", error.problem) from None
        raise
