"""Mastodon ``Status`` entities (one, or a list such as a timeline or search).

The id is the status ``uri``, which is unique across the fediverse (the
numeric ``id`` is only unique on the server that answered). A boost
(``reblog``) stands for the boosted status. ``content`` is HTML: it becomes
plain text (paragraphs and line breaks kept, tags dropped, entities decoded).
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from bot.core.errors import InvalidInput
from bot.intake.sources.paths import count, join, obj, optional_text, text

NETWORK = "mastodon"


def normalize(document: Any) -> Iterator[dict[str, Any] | InvalidInput]:
    if isinstance(document, list):
        located = [(f"[{n}]", status) for n, status in enumerate(document)]
    else:
        located = [("", document)]
    for path, status in located:
        try:
            yield _status(status, path)
        except InvalidInput as error:
            yield error


def _status(value: Any, path: str) -> dict[str, Any]:
    status = obj(value, path)
    if isinstance(status.get("reblog"), dict):
        return _status(status["reblog"], join(path, "reblog"))
    uri = text(status, "uri", path)
    created_at = text(status, "created_at", path)
    content = status.get("content")
    if not isinstance(content, str):
        raise InvalidInput(join(path, "content"), "required, a string (HTML)")
    account_path = join(path, "account")
    account = obj(status.get("account"), account_path)
    item: dict[str, Any] = {
        "network": NETWORK,
        "id": uri,
        "text": html_to_text(content),
        "created_at": created_at,
        "author": {
            "handle": text(account, "acct", account_path),
            "name": optional_text(account, "display_name", account_path) or None,
            "followers": count(account, "followers_count", account_path),
        },
    }
    url = optional_text(status, "url", path)
    if url:
        item["url"] = url
    language = optional_text(status, "language", path)
    if language:
        item["lang"] = language
    return item


class _Text(HTMLParser):
    """Text of an HTML fragment: block ends and ``<br>`` become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "div", "li", "blockquote"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()
