"""Text from the social web is hostile: it is shown inert on every renderer."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from bot.core.cards import Card, Field, TextBlock
from bot.core.text import neutralize, safe_url, snippet, truncate
from bot.platforms.console.render import plain_lines, rich_card
from tests.conftest import Chat

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_broadcast_mentions_are_defused() -> None:
    for word in ("@everyone", "@here", "@channel", "@Everyone"):
        shown = neutralize(f"hey {word} look", 100)
        assert word not in shown
        assert "\uff20" + word[1:] in shown


def test_invisible_and_direction_controls_are_removed() -> None:
    shown = neutralize(f"pay{ZERO_WIDTH}pal \u202egnp.exe{BIDI}", 100)
    assert shown == "paypal gnp.exe"


def test_control_characters_are_removed_but_lines_kept() -> None:
    assert neutralize("a\x00b\x1b[31mred\r\nnext\n\n\n\nend", 100) == "ab[31mred\nnext\n\nend"


def test_long_text_is_truncated_with_a_visible_marker() -> None:
    shown = neutralize("x" * 40_000, 3000)
    assert len(shown) == 3000
    assert shown.endswith("more characters]")
    hidden = int(shown.rsplit("truncated: ", 1)[1].split()[0])
    assert hidden == 40_000 - shown.index("…")


@pytest.mark.parametrize("limit", [1, 5, 30, 31, 50, 3000])
def test_truncation_never_exceeds_the_limit(limit: int) -> None:
    assert len(truncate("y" * 5000, limit)) <= limit


def test_snippet_cuts_with_an_ellipsis() -> None:
    assert snippet("one two  three\nfour", 100) == "one two three four"
    assert snippet("abcdefghij", 5) == "abcd…"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://evil.example|yourbank.com",
        "https://ok.example/\u202egnp",
        "data:text/html,<script>",
        "https://a.example/ x",
        "<https://evil.example>",
    ],
)
def test_only_plain_web_links_are_linkable(url: str) -> None:
    assert safe_url(url) is None


def test_plain_web_links_pass() -> None:
    assert safe_url(" https://x.com/a/status/1?s=20 ") == "https://x.com/a/status/1?s=20"


HOSTILE = (
    "<!channel> <!here> @everyone <@U123> <https://evil.example|yourbank.com> "
    "<b>bold</b><script>alert(1)</script> [yourbank.com](https://evil.example) "
    "**[Claim]** [bold red]rich markup[/] " + ZERO_WIDTH + BIDI + "end"
)


def test_console_renderers_show_hostile_text_inert() -> None:
    card = Card(
        title="[bold]title[/bold] @here",
        blocks=(TextBlock(HOSTILE + "z" * 40_000, quote=True),),
        fields=(Field("Author", "<@U123> [link](https://evil.example)"),),
    )
    lines = "\n".join(plain_lines(card, 1, "#care"))
    output = io.StringIO()
    Console(file=output, width=200, color_system=None).print(rich_card(card, 1, "#care"))
    screen = output.getvalue()
    for shown in (lines, screen):
        assert "@everyone" not in shown and "@here" not in shown
        assert "\uff20everyone" in shown
        assert "[bold red]rich markup[/]" in shown  # printed literally, not interpreted
        assert "[bold]title[/bold]" in shown
        assert not any(ch in shown for ch in ZERO_WIDTH + BIDI)
        assert "more characters]" in shown
    assert "z" * 3000 not in lines


async def test_hostile_mention_reaches_the_card_inert(chat: Chat) -> None:
    mention = {
        "network": "facebook",
        "id": "666",
        "text": HOSTILE + "q" * 40_000,
        "created_at": "2026-03-02T08:00:00Z",
        "url": "javascript:alert(1)",
        "author": {"handle": "evil\u202e", "name": "<!channel> Support @here"},
    }
    echoed = await chat.run("mention " + json.dumps(mention))
    assert "[#1 · #care]" in echoed
    out = chat.card(1)
    assert "@here" not in out and "@everyone" not in out
    assert "javascript:" not in out and "Open post" not in out
    assert "more characters]" in out
    assert not any(ch in out for ch in ZERO_WIDTH + BIDI)
    assert "[Claim] [Resolve] · more: [Escalate to coach]" in out  # the card is intact
    details = await chat.run("click Details #1")
    assert "Link: not a plain web link, withheld" in details and "javascript:" not in details
