"""The intake format, enrichment, routing and the ``ingest`` command."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.errors import InvalidInput
from bot.core.jsontext import decode_json, nesting_depth
from bot.intake.enrich import VaderSentiment, enrich
from bot.intake.feed import LineProblem, parse_lines
from bot.store import open_store
from handlers.triage.records import KIND, from_record
from tests.conftest import ROOT, START, Chat

GOOD = {
    "network": "reddit",
    "id": "t3_x",
    "text": "hello",
    "created_at": "2026-03-02T08:00:00+01:00",
    "author": {"handle": "u/a"},
}


def lines_for(*rows: object) -> list[str]:
    return [r if isinstance(r, str) else json.dumps(r) for r in rows]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"network": ""}, "network"),
        ({"network": "Not A Network!"}, "network"),
        ({"id": None}, "id"),
        ({"id": True}, "id"),
        ({"id": "x" * 201}, "id"),
        ({"text": 5}, "text"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"author": {"name": "no handle"}}, "author.handle"),
        ({"author": "bob"}, "author"),
        ({"author": {"handle": "a", "followers": -1}}, "author.followers"),
        ({"author": {"handle": "a", "verified": "yes"}}, "author.verified"),
        ({"url": 7}, "url"),
    ],
)
def test_each_bad_field_is_named(change: dict[str, object], field: str) -> None:
    [problem] = list(parse_lines(lines_for({**GOOD, **change})))
    assert isinstance(problem, LineProblem)
    assert (problem.line, problem.field) == (1, field)


def test_bad_lines_are_skipped_and_the_rest_kept() -> None:
    results = list(
        parse_lines(lines_for(GOOD, "{not json", "", {**GOOD, "id": 2, "extra_field": [1]}))
    )
    assert [type(r).__name__ for r in results] == [
        "IncomingMention",
        "LineProblem",
        "IncomingMention",
    ]
    problem = results[1]
    assert isinstance(problem, LineProblem) and problem.line == 2 and problem.field == "(json)"
    last = results[2]
    assert not isinstance(last, LineProblem)
    assert last.external_id == "2" and last.extra == {"extra_field": [1]}
    first = results[0]
    assert not isinstance(first, LineProblem)
    assert first.created_at.isoformat() == "2026-03-02T07:00:00+00:00"


def test_enrichment_scores_flags_and_routes(loaded: object) -> None:
    from bot.app import Loaded

    assert isinstance(loaded, Loaded)
    settings = loaded.settings
    model = VaderSentiment()

    def routed(text: str, network: str = "x") -> tuple[str, str, tuple[str, ...], str]:
        [incoming] = list(parse_lines(lines_for({**GOOD, "network": network, "text": text})))
        assert not isinstance(incoming, LineProblem)
        mention = enrich(incoming, settings, model, START)
        e = mention.enrichment
        return e.spoke, e.priority.value, e.risks, e.sentiment.label

    assert routed("Acme app outage again, total disaster") == (
        "comms",
        "urgent",
        ("crisis",),
        "negative",
    )
    assert routed("I will sue Acme, calling my lawyer")[:3] == ("care", "high", ("legal",))
    assert routed("Markets close flat", network="news")[:2] == ("comms", "high")
    assert routed("Is Acme hiring engineers?")[:2] == ("talent", "normal")
    assert routed("Acme support is awful and slow")[:2] == ("care", "high")
    assert routed("Great job Acme, love it")[:2] == ("care", "normal")


def test_competitor_and_brand_matches_are_whole_words(loaded: object) -> None:
    from bot.app import Loaded

    assert isinstance(loaded, Loaded)
    [incoming] = list(
        parse_lines(lines_for({**GOOD, "text": "Globex beats AcmePay; acmeish is not us"}))
    )
    assert not isinstance(incoming, LineProblem)
    e = enrich(incoming, loaded.settings, VaderSentiment(), START).enrichment
    assert e.brands == ("AcmePay",) and e.competitors == ("Globex",)


async def test_ingest_drops_duplicates_and_keeps_unknown_fields(chat: Chat) -> None:
    out = await chat.run("ingest feed.jsonl")
    assert "(ingested 8 mentions, 1 duplicates dropped, 0 refused)" in out
    record = await chat.store.get(KIND, "news:ft-2026-03-02-acme")
    assert record is not None
    assert from_record(record).extra == {"outlet": "Example Financial News"}
    out = await chat.run("ingest feed.jsonl")
    assert "(ingested 0 mentions, 9 duplicates dropped, 0 refused)" in out


def test_ingest_command_reports_bad_lines_and_stores_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(
            [
                json.dumps(GOOD),
                json.dumps({**GOOD, "id": "2", "created_at": "soon"}),
                json.dumps({**GOOD, "id": "3"}),
            ]
        ),
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    status = main(["--config", str(ROOT / "playcaller.yaml"), "ingest", str(feed), "--store", url])
    captured = capsys.readouterr()
    assert status == 1
    assert f"{feed}:line 2: created_at: 'soon' is not an ISO 8601 timestamp" in captured.err
    assert "ingested 2 mentions" in captured.out and "1 lines refused" in captured.out


def test_bad_bytes_and_deep_nesting_refuse_their_line_and_keep_every_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Over 8 KB of good lines first, so the bad bytes land past the first read
    # chunk: the line just before them must still be stored.
    padding = "x" * 500
    good = [json.dumps({**GOOD, "id": f"g{n}", "text": padding}) for n in range(20)]
    rows = [
        *(line.encode() for line in good),
        b'{"network": "x", "id": "bad", "text": "caf\xe9 \xff", "created_at": "2026-03-02"}',
        json.dumps({**GOOD, "id": "after-bytes"}).encode(),
        b"[" * 1200 + b"]" * 1200,
        b'{"a": ' * 1200 + b"1" + b"}" * 1200,
        json.dumps({**GOOD, "id": "last"}).encode(),
    ]
    feed = tmp_path / "hostile.jsonl"
    feed.write_bytes(b"\n".join(rows))
    url = f"sqlite:///{tmp_path / 'store.db'}"
    status = main(["--config", str(ROOT / "playcaller.yaml"), "ingest", str(feed), "--store", url])
    captured = capsys.readouterr()
    assert status == 1
    assert (
        f"{feed}:line 21: (encoding): not valid UTF-8 (byte 43 cannot be decoded)" in captured.err
    )
    assert f"{feed}:line 23: (json): nested deeper than 100 levels" in captured.err
    assert f"{feed}:line 24: (json): nested deeper than 100 levels" in captured.err
    assert "Traceback" not in captured.err
    assert "ingested 22 mentions" in captured.out and "3 lines refused" in captured.out

    async def stored() -> set[str]:
        store = open_store(url, namespace="playcaller")
        await store.open()
        try:
            return {r.key for r in await store.find(KIND, "state:open", limit=100)}
        finally:
            await store.close()

    keys = asyncio.run(stored())
    assert keys == {f"reddit:g{n}" for n in range(20)} | {"reddit:after-bytes", "reddit:last"}


def test_half_an_emoji_in_a_json_escape_is_repaired_and_every_line_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lone surrogate (legal JSON, not encodable as UTF-8) in one line's text
    is stored as U+FFFD; it costs neither its line nor the batch around it."""
    rows = [
        json.dumps({**GOOD, "id": "before"}),
        json.dumps({**GOOD, "id": "half", "text": "hi \ud83d there"}),
        json.dumps({**GOOD, "id": "after"}),
    ]
    assert "\\ud83d" in rows[1]
    feed = tmp_path / "emoji.jsonl"
    feed.write_text("\n".join(rows), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    status = main(["--config", str(ROOT / "playcaller.yaml"), "ingest", str(feed), "--store", url])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "ingested 3 mentions" in captured.out

    async def stored() -> dict[str, str]:
        store = open_store(url, namespace="playcaller")
        await store.open()
        try:
            records = await store.find(KIND, "state:open", limit=100)
            return {r.key: from_record(r).text for r in records}
        finally:
            await store.close()

    assert asyncio.run(stored()) == {
        "reddit:before": "hello",
        "reddit:half": "hi \ufffd there",
        "reddit:after": "hello",
    }


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        (b"\xc3\x28", "(encoding)", "not valid UTF-8 (byte 1 cannot be decoded)"),
        ("[" * 101 + "]" * 101, "(json)", "nested deeper than 100 levels"),
        ('{"a": NaN}', "(json)", "not valid JSON: NaN is not JSON"),
        ("1" * 5000, "(json)", "not valid JSON: Exceeds the limit (4300 digits)"),
        ('{"a": "' + "x" * 2_000_000 + '"}', "(size)", "2000009 bytes is over the limit"),
        ('{"a": 1', "(json)", "not valid JSON: Expecting ',' delimiter at line 1 column 8"),
    ],
)
def test_the_json_helper_names_what_is_wrong(raw: bytes | str, field: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_json(raw)
    assert refused.value.field == field
    assert refused.value.problem.startswith(problem)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"text": "[[[[{{{{" * 50, "ok": [[1]]})
    assert nesting_depth(text) == 3
    assert decode_json(text)["ok"] == [[1]]
    assert decode_json("[" * 100 + "]" * 100) == decode_json("[" * 100 + "]" * 100)
