"""Markdown as other organisations write it, reduced to the text a reader sees.

Handbooks exported from Hugo, Jekyll or a wiki carry links, inline HTML, HTML
comments and template tags. The index and the quoted passages want the words:
a link becomes its text (an e-mail address is kept when the text does not show it,
since it is often the contact the answer is about), HTML tags are dropped (block
tags end a line), entities are decoded, and comments and template tags vanish.
"""

from __future__ import annotations

import html
import re

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TEMPLATE_TAG = re.compile(r"\{\{[<%].*?[%>]\}\}|\{%.*?%\}", re.DOTALL)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_LINK_DEFINITION = re.compile(r"^[ ]{0,3}\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_HTML_ANCHOR = re.compile(r"<a\s[^>]*?href=[\"']([^\"']*)[\"'][^>]*>(.*?)</a\s*>", re.I | re.S)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|br|li|ul|ol|tr|table|h[1-6]|details|summary|hr)\b[^>]*>", re.I
)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?>")


def blank_comments(text: str) -> str:
    """``text`` with HTML comments and template tags blanked, keeping every line break.

    Done on the whole body before it is split into lines, so a heading-like line inside
    a comment is not a heading and line numbers stay those of the file.
    """

    def blank(match: re.Match[str]) -> str:
        return "\n" * match.group(0).count("\n")

    return _TEMPLATE_TAG.sub(blank, _COMMENT.sub(blank, text))


def _link_text(text: str, target: str) -> str:
    if target.lower().startswith("mailto:"):
        address = target[7:].split("?", 1)[0]
        if address and address.lower() not in text.lower():
            return f"{text} ({address})"
    return text


def plain_text(text: str) -> str:
    """The words of a Markdown passage: links, images and HTML reduced to their text."""
    text = _LINK_DEFINITION.sub("", text)
    text = _IMAGE.sub(r"\1", text)
    text = _HTML_ANCHOR.sub(lambda m: _link_text(_TAG.sub("", m.group(2)), m.group(1)), text)
    text = _LINK.sub(lambda m: _link_text(m.group(1), m.group(2)), text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _BLOCK_TAG.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    # Blank lines left by removed blocks: at most one in a row.
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()
