"""X API v2 responses: post objects under ``data`` (one or a list), their
authors under ``includes.users`` (``expansions=author_id``).

A post needs ``created_at`` and ``author_id`` (request
``tweet.fields=created_at,author_id``, plus ``lang`` and
``referenced_tweets`` if wanted) and its author in ``includes.users``
(``expansions=author_id``; ``user.fields=public_metrics,verified`` for the
follower count and badge). The filtered stream sends one such document per line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.core.errors import InvalidInput
from bot.intake.sources.paths import count, join, obj, optional_text, text

NETWORK = "x"


def normalize(document: Any) -> Iterator[dict[str, Any] | InvalidInput]:
    try:
        root = obj(document, "")
        posts = root.get("data")
        if isinstance(posts, dict):
            located: list[tuple[str, Any]] = [("data", posts)]
        elif isinstance(posts, list):
            located = [(join("data", n), post) for n, post in enumerate(posts)]
        else:
            raise InvalidInput("data", "required, a post object or a list of them")
        users = _users(root)
    except InvalidInput as error:
        yield error
        return
    for path, post in located:
        try:
            yield _post(post, path, users)
        except InvalidInput as error:
            yield error


def _users(root: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """``includes.users`` by user id, each with its path."""
    includes = root.get("includes", {})
    if not isinstance(includes, dict):
        raise InvalidInput("includes", "must be an object")
    listed = includes.get("users", [])
    if not isinstance(listed, list):
        raise InvalidInput("includes.users", "must be a list of user objects")
    users: dict[str, tuple[str, dict[str, Any]]] = {}
    for n, user in enumerate(listed):
        path = join("includes.users", n)
        user = obj(user, path)
        users[text(user, "id", path)] = (path, user)
    return users


def _post(value: Any, path: str, users: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    post = obj(value, path)
    post_id = text(post, "id", path)
    body = text(post, "text", path)
    created_at = text(post, "created_at", path, hint=" (request tweet.fields=created_at)")
    author_id = text(post, "author_id", path, hint=" (request expansions=author_id)")
    if author_id not in users:
        raise InvalidInput(
            join(path, "author_id"),
            f"user {author_id[:40]!r} is not in includes.users (request expansions=author_id)",
        )
    user_path, user = users[author_id]
    username = text(user, "username", user_path)
    metrics = user.get("public_metrics", {})
    metrics_path = join(user_path, "public_metrics")
    followers = count(obj(metrics, metrics_path), "followers_count", metrics_path)
    verified = user.get("verified", False)
    item: dict[str, Any] = {
        "network": NETWORK,
        "id": post_id,
        "text": body,
        "created_at": created_at,
        "url": f"https://x.com/{username}/status/{post_id}",
        "author": {
            "handle": username,
            "name": optional_text(user, "name", user_path),
            "followers": followers,
            "verified": verified is True,
        },
    }
    lang = optional_text(post, "lang", path)
    if lang and lang != "und":  # X marks a post it cannot classify "und"
        item["lang"] = lang
    replied_to = _replied_to(post, path)
    if replied_to is not None:
        item["in_reply_to"] = replied_to
    return item


def _replied_to(post: dict[str, Any], path: str) -> str | None:
    references = post.get("referenced_tweets")
    if references is None:
        return None
    if not isinstance(references, list):
        raise InvalidInput(join(path, "referenced_tweets"), "must be a list")
    for n, reference in enumerate(references):
        where = join(join(path, "referenced_tweets"), n)
        reference = obj(reference, where)
        if reference.get("type") == "replied_to":
            return text(reference, "id", where)
    return None
