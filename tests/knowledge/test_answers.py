"""What the shipped guidelines answer: the demo questions, the advice quoted, safety topics."""

from __future__ import annotations

import pytest

from bot.knowledge import GuidelineStore

PERSONAL = "Posting about work on your personal accounts"
PRESS = "When a journalist contacts you"
THREATS = "Harassment, trolls and threats"
COMPLAINTS = "Answering a customer complaint in public"
SEP = " \u203a "


@pytest.mark.parametrize(
    ("question", "heading"),
    [
        # The README's example, once "I don't know".
        (
            "can I say I work here on my own Instagram?",
            f"{PERSONAL}{SEP}Disclosing that you work at Acme",
        ),
        # Once "I don't know" although a section has this title.
        ("who answers journalists?", f"{PRESS}{SEP}Who answers journalists at Acme"),
        # Once a confident wrong answer from the recruiting guideline.
        (
            "am I allowed to mention my job at acme on my personal instagram?",
            f"{PERSONAL}{SEP}Disclosing that you work at Acme",
        ),
        # Once "Not sure" in Teams with the right sections listed as leads.
        ("what should I do if a journalist contacts me?", PRESS),
    ],
)
def test_the_demo_questions_get_the_right_answer(
    acme: GuidelineStore, question: str, heading: str
) -> None:
    answer = acme.answer(question)
    assert answer.answered, answer
    assert answer.sources[0].heading == heading


def test_the_quote_is_the_advice_not_the_opening(acme: GuidelineStore) -> None:
    journalist = acme.answer("what should I do if a journalist contacts me?")
    assert journalist.passage == (
        'Only the PR & communications team (the "comms" spoke) speaks to the media for Acme.'
    )
    assert "This page explains" not in journalist.passage
    disclose = acme.answer("can I say I work here on my own Instagram?")
    # The section opens with the rule and its wording; the quote carries both.
    assert disclose.passage.startswith("Whenever a personal post mentions Acme")
    assert '"(I work at Acme)"' in disclose.passage
    handover = acme.answer("what do I send to press@acme.example about a journalist?")
    assert handover.sources[0].heading.endswith("Handing a press enquiry to comms")
    assert "Send those details to press@acme.example within one hour" in handover.passage
    assert not handover.passage.startswith("Reply politely")


def test_an_answer_keeps_its_source_section_and_review_date(acme: GuidelineStore) -> None:
    answer = acme.answer("who answers journalists?")
    source = answer.sources[0]
    assert (source.doc, source.owner, str(source.last_reviewed)) == (
        "press-enquiries.md",
        "priya",
        "2026-08-02",
    )


@pytest.mark.parametrize(
    ("question", "heading", "words"),
    [
        (
            "someone threatened to hurt our staff in a comment, what do I do?",
            f"{THREATS}{SEP}Threats of violence or self-harm",
            "threat of violence",
        ),
        (
            "a follower says he wants to kill himself",
            f"{THREATS}{SEP}Threats of violence or self-harm",
            "self-harm",
        ),
        (
            "a customer says they will sue us",
            f"{COMPLAINTS}{SEP}Complaints that go to a coach immediately",
            "lawyer or legal action",
        ),
        (
            "got a message from a lawyer about a reply we posted",
            f"{COMPLAINTS}{SEP}Complaints that go to a coach immediately",
            "lawyer",
        ),
    ],
)
def test_safety_topics_are_never_answered_with_not_sure(
    acme: GuidelineStore, question: str, heading: str, words: str
) -> None:
    answer = acme.answer(question)
    assert answer.answered, answer
    assert answer.sources[0].heading == heading
    assert words in answer.passage


def test_a_covered_safety_topic_is_answered_even_at_low_confidence(
    acme: GuidelineStore,
) -> None:
    found = acme.retrieve("bomb??")
    assert found.safety == frozenset({"violence"})
    strict = GuidelineStore(acme.folder, cache_dir=None, threshold=1.0, check_interval=None)
    answer = strict.answer("bomb??")
    assert answer.answered
    assert "threat" in answer.passage.lower()
    assert not strict.answer("who answers journalists?").answered  # other topics: threshold


def test_questions_the_guidelines_do_not_answer_get_not_sure(acme: GuidelineStore) -> None:
    for question in (
        "what is the cafeteria menu on friday?",
        "how many vacation days do I get?",
        "which laptop should I order?",
    ):
        answer = acme.answer(question)
        assert not answer.answered, (question, answer)
        assert answer.passage == ""
