"""Source normalizers on the networks' documented example payloads
(``tests/fixtures/sources``, sources and licences in its README)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.intake.batch import Item, ItemProblem, parse_document, parse_lines
from bot.intake.feed import IncomingMention, LineProblem
from bot.store import open_store
from handlers.triage.records import KIND
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "sources"
CONFIG = str(ROOT / "playcaller.yaml")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def entries(document: Any, source: str | None) -> list[Item | ItemProblem]:
    return list(parse_document(1, document, source))


def one_mention(document: Any, source: str | None) -> IncomingMention:
    [entry] = entries(document, source)
    assert isinstance(entry, Item), entry
    return entry.mention


def problems(document: Any, source: str | None) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in entries(document, source) if isinstance(e, ItemProblem)]


def x_post_with_author() -> dict[str, Any]:
    """The documented combination: the "Fields" post (tweet.fields=created_at,lang)
    asked with expansions=author_id and user.fields=public_metrics, whose
    includes are the documented "Fields for related objects" response."""
    document = fixture("x_fields_related.json")
    post = fixture("x_fields_post.json")["data"]
    document["data"].update(created_at=post["created_at"], lang=post["lang"])
    return document


# -- X API v2 ------------------------------------------------------------------


def test_x_post_with_its_expanded_author() -> None:
    mention = one_mention(x_post_with_author(), "x")
    assert (mention.network, mention.external_id, mention.text) == (
        "x",
        "1234567890",
        "Hello world!",
    )
    assert mention.created_at == datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
    assert (mention.author.handle, mention.author.name) == ("xdevelopers", "X Developers")
    assert mention.author.followers == 570842
    assert mention.lang == "en"
    assert mention.url == "https://x.com/xdevelopers/status/1234567890"


def test_x_default_fields_are_refused_naming_the_field_to_request() -> None:
    [(field, message)] = problems(fixture("x_expansions_author.json"), "x")
    assert field == "data.created_at"
    assert "tweet.fields=created_at" in message
    [(field, message)] = problems(fixture("x_fields_post.json"), "x")
    assert field == "data.author_id"
    assert "expansions=author_id" in message


def test_x_a_list_of_posts_keeps_the_good_ones_and_locates_the_bad() -> None:
    document = x_post_with_author()
    good = document["data"]
    no_text = {k: v for k, v in good.items() if k != "text"} | {"id": "2"}
    stranger = good | {"id": "3", "author_id": "999"}
    reply = good | {"id": "4", "referenced_tweets": [{"type": "replied_to", "id": "1"}]}
    document["data"] = [good, no_text, stranger, reply]
    found = entries(document, "x")
    assert [type(e).__name__ for e in found] == ["Item", "ItemProblem", "ItemProblem", "Item"]
    assert [(e.field) for e in found if isinstance(e, ItemProblem)] == [
        "data[1].text",
        "data[2].author_id",
    ]
    last = found[3]
    assert isinstance(last, Item) and last.mention.in_reply_to == "1"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"includes": {}}, "data"),
        ({"data": "x"}, "data"),
        ({"data": {}, "includes": {"users": {}}}, "includes.users"),
        ({"data": {}, "includes": {"users": [{"name": "no id"}]}}, "includes.users[0].id"),
        ([1, 2], "(document)"),
    ],
)
def test_x_malformed_shapes_name_the_path(document: Any, field: str) -> None:
    assert [f for f, _ in problems(document, "x")] == [field]


def test_x_author_without_username_names_the_user_path() -> None:
    document = x_post_with_author()
    del document["includes"]["users"][0]["username"]
    assert [f for f, _ in problems(document, "x")] == ["includes.users[0].username"]


# -- Mastodon ------------------------------------------------------------------


def test_mastodon_status_from_the_docs() -> None:
    mention = one_mention(fixture("mastodon_status.json"), "mastodon")
    assert mention.network == "mastodon"
    assert (
        mention.external_id == "https://mastodon.social/users/Gargron/statuses/103270115826048975"
    )
    assert mention.text.startswith(
        '"I lost my inheritance with one wrong digit on my sort code"\n\n'
        "https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance"
    )
    assert "<" not in mention.text and "&quot;" not in mention.text
    assert mention.created_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)
    assert (mention.author.handle, mention.author.name) == ("Gargron", "Eugen")
    assert mention.author.followers == 322930
    assert mention.url == "https://mastodon.social/@Gargron/103270115826048975"
    assert mention.lang == "en"


def test_a_mastodon_boost_stands_for_the_boosted_status() -> None:
    status = fixture("mastodon_status.json")
    boost = status | {"uri": "https://example.social/boost/1", "content": "", "reblog": status}
    mention = one_mention(boost, "mastodon")
    assert mention.external_id == status["uri"]


def test_mastodon_lists_locate_a_bad_status() -> None:
    status = fixture("mastodon_status.json")
    no_account = {k: v for k, v in status.items() if k != "account"}
    no_acct = status | {"account": {"display_name": "x"}}
    found = problems([status, no_account, no_acct, "text"], "mastodon")
    assert [f for f, _ in found] == ["[1].account", "[2].account.acct", "[3]"]


# -- choosing the source -------------------------------------------------------


def test_a_document_may_name_its_own_source() -> None:
    mention = one_mention({"source": "mastodon", **fixture("mastodon_status.json")}, None)
    assert mention.network == "mastodon"
    assert problems({"source": "myspace"}, None)[0][0] == "source"
    assert problems({"source": 3}, None)[0][0] == "source"


def test_an_unknown_source_is_refused_listing_the_known_ones() -> None:
    [(field, message)] = problems({}, "friendster")
    assert field == "source"
    assert "mastodon" in message and "x" in message


def test_ingest_lines_normalize_per_line() -> None:
    lines = [
        json.dumps(fixture("mastodon_status.json")),
        "",
        json.dumps({"account": {}}),
        "{broken",
    ]
    found = list(parse_lines(lines, "mastodon"))
    assert isinstance(found[0], IncomingMention)
    assert [(p.line, p.field) for p in found[1:] if isinstance(p, LineProblem)] == [
        (3, "uri"),
        (4, "(json)"),
    ]


async def test_playcaller_ingest_takes_a_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "x.jsonl"
    feed.write_text(
        json.dumps(x_post_with_author()) + "\n" + json.dumps(fixture("x_fields_post.json")) + "\n",
        encoding="utf-8",
    )
    db = tmp_path / "p.db"
    url = f"sqlite:///{db}"
    code = await _run_main(
        ["--config", CONFIG, "ingest", str(feed), "--store", url, "--source", "x"]
    )
    assert code == 1  # one line refused
    captured = capsys.readouterr()
    assert "ingested 1 mentions" in captured.out
    assert f"{feed}:line 2: data.author_id:" in captured.err
    store = open_store(url, namespace="playcaller")
    await store.open()
    try:
        assert await store.get(KIND, "x:1234567890") is not None
    finally:
        await store.close()
    assert await _run_main(["--config", CONFIG, "ingest", str(feed), "--source", "nope"]) == 2
    assert "--source: 'nope' is not a known source" in capsys.readouterr().err


async def _run_main(argv: list[str]) -> int:
    import asyncio

    return await asyncio.to_thread(main, argv)
