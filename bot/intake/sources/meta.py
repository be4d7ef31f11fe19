"""Facebook Page and Instagram webhook notifications (Graph API ``changes``).

Both arrive as ``{"object": "page"|"instagram", "entry": [{"id", "time",
"changes": [{"field", "value"}]}]}`` (or a list of such, as Meta's examples
show). Each change is one item:

* Facebook ``feed`` changes whose ``value.item`` is a comment, post, status,
  photo or video, with ``verb`` ``add`` or ``edited`` (reactions, likes and
  removals carry no text and are refused by that field). Shape:
  https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed
* Instagram ``comments`` and ``live_comments``. Shape:
  https://developers.facebook.com/docs/instagram-platform/webhooks/examples/
  and https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram
  An Instagram comment carries no time of its own: the entry's ``time``
  (when Meta sent it) stands in.

Facebook ``mention`` and Instagram ``mentions`` notifications carry only ids
(the text must be fetched with the Graph API), so they are refused naming the
missing text and what to fetch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bot.core.errors import InvalidInput
from bot.intake.sources.paths import (
    epoch,
    join,
    listed,
    obj,
    optional_text,
    segment,
    text,
)

_FACEBOOK_ITEMS = frozenset({"comment", "post", "status", "photo", "video"})
_FACEBOOK_VERBS = frozenset({"add", "edited"})
_INSTAGRAM_FIELDS = frozenset({"comments", "live_comments"})


def normalize_facebook(document: Any) -> Iterator[dict[str, Any] | InvalidInput]:
    yield from _changes(document, "page", _facebook)


def normalize_instagram(document: Any) -> Iterator[dict[str, Any] | InvalidInput]:
    yield from _changes(document, "instagram", _instagram)


# One change and its path, with its entry and the entry's path, to an intake dict.
ChangeReader = Callable[[dict[str, Any], str, dict[str, Any], str], dict[str, Any]]


def _changes(
    document: Any, expected: str, read: ChangeReader
) -> Iterator[dict[str, Any] | InvalidInput]:
    envelopes = (
        [(join("", n), e) for n, e in enumerate(document)]
        if isinstance(document, list)
        else [("", document)]
    )
    for path, value in envelopes:
        try:
            envelope = obj(value, path)
            if envelope.get("object") != expected:
                raise InvalidInput(join(path, "object"), f"required, {expected!r}")
            entries = listed(envelope.get("entry"), join(path, "entry"))
        except InvalidInput as error:
            yield error
            continue
        for n, entry in enumerate(entries):
            entry_path = join(join(path, "entry"), n)
            try:
                entry = obj(entry, entry_path)
                changes_path = join(entry_path, "changes")
                changes = listed(entry.get("changes"), changes_path)
            except InvalidInput as error:
                yield error
                continue
            for m, change in enumerate(changes):
                try:
                    where = join(changes_path, m)
                    yield read(obj(change, where), where, entry, entry_path)
                except InvalidInput as error:
                    yield error


def _facebook(
    change: dict[str, Any], path: str, entry: dict[str, Any], entry_path: str
) -> dict[str, Any]:
    field = change.get("field")
    value_path = join(path, "value")
    if field == "mention":
        raise InvalidInput(
            join(value_path, "message"),
            "a Page mention notification carries only ids; fetch the post by value.post_id",
        )
    if field != "feed":
        raise InvalidInput(join(path, "field"), "required, 'feed'")
    value = obj(change.get("value"), value_path)
    kind = text(value, "item", value_path)
    if kind not in _FACEBOOK_ITEMS:
        raise InvalidInput(
            join(value_path, "item"), f"{kind[:40]!r} carries no text (comment, post, status)"
        )
    verb = text(value, "verb", value_path)
    if verb not in _FACEBOOK_VERBS:
        raise InvalidInput(join(value_path, "verb"), f"{verb[:40]!r} is not a new or edited post")
    post_id = text(value, "post_id", value_path)
    item_id = text(value, "comment_id", value_path) if kind == "comment" else post_id
    from_path = join(value_path, "from")
    sender = obj(value.get("from"), from_path)
    name = optional_text(sender, "name", from_path)
    message = value.get("message")
    if not isinstance(message, str):
        raise InvalidInput(join(value_path, "message"), "required, a string")
    item: dict[str, Any] = {
        "network": "facebook",
        "id": item_id,
        "text": message,
        "created_at": epoch(value, "created_time", value_path),
        "author": {"handle": name or text(sender, "id", from_path), "name": name},
    }
    post = value.get("post")
    permalink = (
        optional_text(post, "permalink_url", join(value_path, "post"))
        if isinstance(post, dict)
        else None
    )
    item["url"] = permalink or f"https://www.facebook.com/{segment(post_id)}"
    parent = optional_text(value, "parent_id", value_path)
    if kind == "comment" and parent:
        item["in_reply_to"] = parent
    return item


def _instagram(
    change: dict[str, Any], path: str, entry: dict[str, Any], entry_path: str
) -> dict[str, Any]:
    field = change.get("field")
    value_path = join(path, "value")
    if field == "mentions":
        raise InvalidInput(
            join(value_path, "text"),
            "a mentions notification carries only ids; fetch the comment by value.comment_id "
            "(GET /{ig-user-id}?fields=mentioned_comment.comment_id(...))",
        )
    if field not in _INSTAGRAM_FIELDS:
        raise InvalidInput(join(path, "field"), "required, 'comments' or 'live_comments'")
    value = obj(change.get("value"), value_path)
    from_path = join(value_path, "from")
    sender = obj(value.get("from"), from_path)
    body = value.get("text")
    if not isinstance(body, str):
        raise InvalidInput(join(value_path, "text"), "required, a string")
    item: dict[str, Any] = {
        "network": "instagram",
        "id": text(value, "id", value_path),
        "text": body,
        "created_at": epoch(entry, "time", entry_path),
        "author": {"handle": text(sender, "username", from_path)},
    }
    parent = optional_text(value, "parent_id", value_path)
    if parent:
        item["in_reply_to"] = parent
    media = value.get("media")
    if isinstance(media, dict) and isinstance(media.get("id"), str):
        item["media_id"] = media["id"]
    return item
