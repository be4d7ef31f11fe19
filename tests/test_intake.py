"""The intake format, enrichment, routing and the ``ingest`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.intake.enrich import VaderSentiment, enrich
from bot.intake.feed import LineProblem, parse_lines
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
