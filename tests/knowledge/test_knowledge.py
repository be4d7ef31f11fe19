"""The guideline store: loading, sections, retrieval, persistence, FAQ and answers."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.knowledge import FaqEntry, Knowledge
from bot.knowledge import GuidelineStore, ask_json, load_folder
from bot.knowledge.passage import split_sentences
from bot.knowledge.typos import TypoIndex, plausible_typo

SEP = " \u203a "

SOCIAL = """\
---
title: Posting on social networks
owner: maria
last_reviewed: 2026-09-15
audience: [employees]
tags: [social, press]
---
# Posting on social networks

Everyone may post about their work, within these rules.

## Hashtags

Use the official campaign hashtag on every post about a launch. Never invent a new
hashtag without asking the brand team.

## Journalists

Pass every press enquiry to the communications team within the hour.

### Direct messages

Never answer a reporter in a private message. Reply that the communications team
will be in touch, then forward the conversation.

## Café events

Photographs taken at the café need the consent of everyone in them. Ask before
you shoot, and delete a photo when someone asks you to.
"""

TRAVEL = """\
# Travel expenses

Claim travel within thirty days of the trip.

## Hotels

Book hotels through the travel portal. A hotel booked elsewhere is refunded only
up to the portal's nightly rate.
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    guidelines = tmp_path / "guidelines"
    guidelines.mkdir()
    (guidelines / "social.md").write_text(SOCIAL, encoding="utf-8")
    (guidelines / "travel.md").write_text(TRAVEL, encoding="utf-8")
    return guidelines


@pytest.fixture
def store(folder: Path, tmp_path: Path) -> GuidelineStore:
    return GuidelineStore(folder, cache_dir=tmp_path / "cache", check_interval=None)


def test_sections_keep_their_heading_path_text_and_line(folder: Path) -> None:
    documents, problems = load_folder(folder)
    assert problems == []
    social = documents[0]
    assert social.name == "social.md"
    assert (social.owner, social.last_reviewed) == ("maria", dt.date(2026, 9, 15))
    assert (social.audience, social.tags) == (("employees",), ("social", "press"))
    found = [(s.heading, s.line) for s in social.sections]
    title = "Posting on social networks"
    assert found == [
        (title, 10),
        (f"{title}{SEP}Hashtags", 12),
        (f"{title}{SEP}Journalists", 17),
        (f"{title}{SEP}Journalists{SEP}Direct messages", 21),
        (f"{title}{SEP}Café events", 26),
    ]
    assert social.sections[0].text == "Everyone may post about their work, within these rules."
    assert social.sections[3].text.startswith("Never answer a reporter")
    assert "Direct messages" not in social.sections[2].text


def test_a_file_without_header_takes_its_title_from_the_first_heading(folder: Path) -> None:
    documents, _ = load_folder(folder)
    travel = documents[1]
    assert travel.title == "Travel expenses"
    assert (travel.owner, travel.last_reviewed, travel.tags) == (None, None, ())
    assert [(s.heading, s.line) for s in travel.sections] == [
        ("Travel expenses", 3),
        (f"Travel expenses{SEP}Hotels", 5),
    ]


def test_without_header_or_heading_the_file_name_is_the_title(tmp_path: Path) -> None:
    (tmp_path / "dress-code.md").write_text("Wear the team shirt at events.\n")
    documents, problems = load_folder(tmp_path)
    assert problems == []
    assert documents[0].title == "dress code"
    assert documents[0].sections[0].heading == "dress code"


def test_unknown_header_fields_are_kept_and_noted_known_ones_still_checked(
    tmp_path: Path,
) -> None:
    (tmp_path / "hugo.md").write_text(
        "---\ntitle: Press\nowner: priya\nurl: https://example.org/press/\n"
        "licence: CC BY-SA 4.0\nweight: 30\n---\n# Press\n\nSend journalists to comms.\n"
    )
    documents, problems = load_folder(tmp_path)
    assert problems == []
    [document] = documents
    assert (document.title, document.owner) == ("Press", "priya")
    assert dict(document.extra) == {
        "url": "https://example.org/press/",
        "licence": "CC BY-SA 4.0",
        "weight": 30,
    }
    assert [(n.line, n.message) for n in document.notes] == [
        (4, "url: field not used by the bot (kept, ignored)"),
        (5, "licence: field not used by the bot (kept, ignored)"),
        (6, "weight: field not used by the bot (kept, ignored)"),
    ]


def test_headings_inside_code_fences_are_text(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\n```\n# not a heading\n```\n\n## B\n\nText.\n")
    documents, _ = load_folder(tmp_path)
    assert [s.heading for s in documents[0].sections] == ["A", f"A{SEP}B"]


@pytest.mark.parametrize(
    ("header", "line", "message"),
    [
        ("title: [unclosed\nowner: maria\n", 3, "invalid YAML"),
        ("title: Fine\nlast_reviewed: soon\n", 3, "last_reviewed"),
        ("title: Fine\nowner: maria\nlast_reviewed: 2026-13-01\n", 4, "last_reviewed"),
        ("title: ''\n", 2, "title"),
        ("- just\n- a list\n", 2, "mapping"),
    ],
)
def test_a_malformed_header_is_a_problem_with_file_and_line(
    tmp_path: Path, header: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.md"
    path.write_text(f"---\n{header}---\nSome text.\n")
    documents, problems = load_folder(tmp_path)
    assert documents == []
    assert len(problems) == 1
    assert (problems[0].file, problems[0].line) == (str(path), line)
    assert message in problems[0].message
    with pytest.raises(ConfigError) as raised:
        GuidelineStore(tmp_path, cache_dir=None)
    assert f"{path}:{line}" in str(raised.value)


def test_an_unclosed_header_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "open.md").write_text("---\ntitle: Open\n\nText.\n")
    _, problems = load_folder(tmp_path)
    assert [(p.line, p.message) for p in problems] == [
        (1, "the YAML header is not closed with ---")
    ]


def test_the_store_implements_the_knowledge_port(store: GuidelineStore) -> None:
    knowledge: Knowledge = store
    assert [g.doc for g in knowledge.guidelines()] == ["social.md", "travel.md"]
    assert knowledge.guidelines()[0].owner == "maria"


@pytest.mark.parametrize(
    ("question", "heading"),
    [
        ("Can I answer a reporter by private message?", "Direct messages"),  # plain
        ("who handles press enquiries", "Journalists"),  # stemming: enquiries
        ("photographing people at the cafe", "Café events"),  # stemming and accents
        ("CAFÉ photos", "Café events"),  # case and accents
        ("is there a campain hashtag?", "Hashtags"),  # typo: campain
        ("reimbursed for a hotell booked elsewhere", "Hotels"),  # typo: hotell
    ],
)
def test_the_right_section_is_found(store: GuidelineStore, question: str, heading: str) -> None:
    answer = store.answer(question)
    assert answer.answered, answer
    assert answer.sources[0].heading.endswith(heading)
    assert answer.passage and answer.passage in " ".join(
        " ".join(split_sentences(s.text)) for s in store.index.sections
    )


def test_chat_shorthand_is_spelled_out_only_when_not_indexed(store: GuidelineStore) -> None:
    found = store.retrieve("can i dm a journo?")
    assert found.query.corrected == {"dm": "direct message", "journo": "journalist"}
    assert found.hits[0][0].heading.endswith("Direct messages")
    # "hotel" is in the guidelines, so it is searched as written.
    assert store.retrieve("hotel pics").query.corrected == {"pics": "photos"}


def test_typo_tolerance_takes_only_typical_slips() -> None:
    assert plausible_typo("jounralist", "journalist")  # a swap
    assert plausible_typo("hashtg", "hashtag")  # a letter left out
    assert plausible_typo("hotrl", "hotel")  # a neighbouring key
    assert plausible_typo("hotell", "hotel")  # a repeated letter
    assert not plausible_typo("guest", "guess")  # a distant key: another word
    assert not plausible_typo("black", "back")  # an extra letter far from its neighbours
    typos = TypoIndex({"journalist": 3, "hashtag": 2, "hotel": 1})
    assert typos.correct("jurnalist") == "journalist"
    assert typos.correct("hashtga") == "hashtag"
    assert typos.correct("motel") is None  # the first letter differs
    assert typos.correct("hot") is None  # too short to correct
    assert typos.correct("hostels") is None  # two slips


def test_the_passage_is_the_most_relevant_sentences(store: GuidelineStore) -> None:
    answer = store.answer("Should I delete a photo when someone asks?")
    assert answer.answered
    assert answer.passage == "Ask before you shoot, and delete a photo when someone asks you to."


def test_the_index_is_persisted_and_rebuilt_when_a_file_changes(
    folder: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = GuidelineStore(folder, cache_dir=cache, check_interval=None)
    assert not first.index.loaded_from_cache
    assert len(list(cache.iterdir())) == 1
    second = GuidelineStore(folder, cache_dir=cache, check_interval=None)
    assert second.index.loaded_from_cache
    assert (
        second.answer("private message to a reporter")
        .sources[0]
        .heading.endswith("Direct messages")
    )
    assert not second.answer("Which airline do we fly with?").answered

    (folder / "travel.md").write_text(TRAVEL + "\n## Flights\n\nFly with Aerolinea only.\n")
    assert second.refresh() is True
    assert not second.index.loaded_from_cache
    assert second.answer("Which airline do we fly with? Aerolinea?").answered
    assert second.refresh() is False  # nothing changed since


def test_answer_checks_for_changes_at_most_once_per_interval(folder: Path, tmp_path: Path) -> None:
    now = [0.0]
    store = GuidelineStore(folder, cache_dir=None, check_interval=1.0, clock=lambda: now[0])
    (folder / "parking.md").write_text("# Parking\n\nPark in bay seven on level two.\n")
    now[0] = 0.5
    assert not store.answer("where to park, which bay?").answered
    now[0] = 1.5
    answer = store.answer("where to park, which bay?")
    assert answer.answered
    assert answer.sources[0].doc == "parking.md"


def test_a_file_broken_at_run_time_keeps_the_previous_index(
    store: GuidelineStore, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (folder / "travel.md").write_text("---\ntitle: [broken\n---\nText.\n")
    with caplog.at_level(logging.ERROR, logger="bot.knowledge.answer"):
        assert store.refresh() is False
    assert "travel.md:2" in caplog.text
    assert store.answer("book a hotel through the portal").answered
    assert store.problems and store.problems[0].line == 2


def test_save_faq_appends_and_the_entry_becomes_answerable(
    store: GuidelineStore, folder: Path
) -> None:
    question = "Can we reply to customers in Welsh?"
    assert not store.answer(question).answered
    entry = FaqEntry(
        question,
        "Yes: reply in Welsh when the customer writes in Welsh.",
        "priya",
        dt.date(2026, 3, 2),
    )
    assert store.save_faq(entry) == "faq.md"
    second = FaqEntry(
        "Who approves giveaways?", "A coach approves every giveaway.", "maria", dt.date(2026, 3, 3)
    )
    assert store.save_faq(second) == "faq.md"

    text = (folder / "faq.md").read_text()
    assert text.startswith("---\ntitle: Questions answered by coaches\nowner: priya\n")
    assert "last_reviewed: 2026-03-02\n" in text
    assert "## Can we reply to customers in Welsh?" in text
    assert "Answered by maria on 2026-03-03" in text
    assert sorted(p.name for p in folder.iterdir()) == ["faq.md", "social.md", "travel.md"]

    answer = store.answer("Do we answer customers in Welsh?")
    assert answer.answered
    assert answer.sources[0].doc == "faq.md"
    assert answer.sources[0].heading == "Questions answered by coaches" + SEP + question
    assert "Welsh" in answer.passage
    entry = FaqEntry("# Hashes?", "Use them.\n# Not a heading", "priya", dt.date(2026, 3, 4))
    store.save_faq(entry)
    assert "\n## Hashes?\n\nUse them.\n\\# Not a heading\n" in (folder / "faq.md").read_text()
    assert store.answer("hashes use them").passage == "Use them. # Not a heading"
    faq = next(g for g in store.guidelines() if g.doc == "faq.md")
    assert (faq.owner, faq.last_reviewed) == ("priya", dt.date(2026, 3, 2))


def test_empty_and_very_long_questions(store: GuidelineStore) -> None:
    for empty in ("", "   \n\t"):
        answer = store.answer(empty)
        assert (answer.answered, answer.passage, answer.sources) == (False, "", ())
    long = "Which hashtag goes on a launch post? " + "lorem " * 1700
    assert len(long) > 10_000
    assert store.answer(long).sources[0].heading.endswith("Hashtags")
    hidden = "x" * 1000 + " hashtag"  # past the first 1,000 characters: not read
    assert store.answer(hidden).sources == ()


def test_every_answer_has_a_source_and_leads_come_with_a_refusal(store: GuidelineStore) -> None:
    questions = [
        "Can I reply to a journalist by direct message?",
        "hotel refund rate",
        "hashtag for a launch",
        "travel claims deadline",
        "consent for photographs",
        "What time is the canteen open?",
    ]
    for question in questions:
        answer = store.answer(question)
        assert 0.0 <= answer.confidence <= 1.0
        if answer.answered:
            assert answer.sources and answer.passage
        else:
            assert answer.passage == ""
            assert len(answer.sources) <= 3


def test_an_unrelated_question_is_not_answered(store: GuidelineStore) -> None:
    for question in (
        "What is the recipe for banana bread?",
        "How do I reset the VPN token?",
        "What is the wifi password at the hotel?",  # one word in common is not enough
    ):
        answer = store.answer(question)
        assert not answer.answered
        assert answer.passage == ""


def test_ask_json_has_exactly_the_cli_fields(store: GuidelineStore) -> None:
    data = ask_json(store.answer("reply to a reporter in a private message"))
    assert set(data) == {"answered", "confidence", "answer", "sources"}
    assert data["answered"] is True
    assert isinstance(data["confidence"], float)
    assert set(data["sources"][0]) == {"doc", "heading", "score"}
    assert data["sources"][0]["doc"] == "social.md"
    scores = [s["score"] for s in data["sources"]]
    assert scores == sorted(scores, reverse=True)


def test_saving_the_same_entry_twice_adds_it_once(store: GuidelineStore, folder: Path) -> None:
    entry = FaqEntry("Can we reply in Welsh?", "Yes, in Welsh.", "priya", dt.date(2026, 3, 2))
    store.save_faq(entry)
    # The same question and answer again (a retried click, a fresh demo store) a day later.
    store.save_faq(FaqEntry(entry.question, entry.answer, "maria", dt.date(2026, 3, 3)))
    text = (folder / "faq.md").read_text()
    assert text.count("## Can we reply in Welsh?") == 1
    assert "Answered by maria" not in text
