"""Asking the playbook store through the console platform, on both backends."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.events import Action
from handlers.ask.records import KIND, from_record
from tests.conftest import ROOT, START, Chat

WORKS_HERE = (
    "do I have to disclose that I work at Acme when I post about our products on my own account?"
)


async def questions(chat: Chat, tag: str) -> list[object]:
    return [from_record(r) for r in await chat.store.find(KIND, tag)]


async def test_an_answer_quotes_its_source_with_the_review_date(chat: Chat) -> None:
    out = await chat.run("as jo", f"/ask {WORKS_HERE}")
    assert "From the guidelines: Posting about work on your personal accounts" in out
    assert (
        "Source: Posting about work on your personal accounts › Disclosing that you work at Acme"
        in out
    )
    assert "(personal-accounts.md, last reviewed 2026-09-15)" in out
    assert "[Helpful] [Not helpful] [Ask a coach]" in out
    [asked] = await questions(chat, "asker:jo")
    assert asked.answered and asked.sources[0].startswith("personal-accounts.md#")  # type: ignore[attr-defined]
    log = await chat.store.audit_log()
    assert [(e.actor, e.action) for e in log] == [("jo", "question.asked")]


async def test_a_direct_message_is_a_question_and_help_still_works(chat: Chat) -> None:
    out = await chat.run(
        "as jo", "channel @jo", "say a reporter just DMed me on linkedin, what now?"
    )
    assert "When a journalist contacts you" in out
    out = await chat.run("say help")
    assert "/ask QUESTION" in out


async def test_the_store_says_when_it_does_not_know(chat: Chat) -> None:
    out = await chat.run("as jo", "/ask what is the cafeteria menu on friday?")
    assert "Not sure" in out
    assert "I'm not sure the guidelines answer this, and I'd rather not guess." in out
    assert "[Ask a coach]" in out and "[Helpful]" not in out
    assert "Source:" not in out


async def test_empty_long_and_marked_up_questions(chat: Chat) -> None:
    assert "Ask me about the social media guidelines" in await chat.run("as jo", "/ask")
    out = await chat.run("/ask " + "may I post about work " * 700)
    assert "Your question was long, so I read its first 1000 characters." in out
    [long_one] = [q for q in await questions(chat, "asker:jo") if len(q.text) == 1000]  # type: ignore[attr-defined]
    assert long_one is not None
    out = await chat.run(
        "/ask <!channel> @here can I share <https://evil.example|our post> on linkedin?"
    )
    assert "@here" not in out.split("\n", 1)[1]  # the echo of the typed command aside


async def test_votes_are_stored_once_per_person(chat: Chat) -> None:
    await chat.run("as jo", f"/ask {WORKS_HERE}")
    assert "Thanks, glad it helped." in await chat.run("click Helpful")
    assert "You already rated this answer." in await chat.run("click Helpful")
    await chat.run("click Not helpful")
    [asked] = await questions(chat, "asker:jo")
    assert asked.votes == {"jo": "not_helpful"}  # type: ignore[attr-defined]
    assert [e.action for e in await chat.store.audit_log()].count("question.vote") == 2


async def test_ask_a_coach_reply_and_save_as_guidance(chat: Chat, tmp_path: Path) -> None:
    await chat.run("as jo", "/ask can I wear the company hoodie in my dating profile photos?")
    out = await chat.run("click Ask a coach")
    # Queued is not delivered: the asker is told so, and told when it is posted.
    assert "I've queued your question for the coaches in the social media hub." in out
    assert "passed" not in out
    assert re.search(r"\[#\d+ · #hub\]", out) and "Question from Jo Martin" in out
    assert "Your question has reached the coaches" in await chat.run("click Ask a coach")
    assert "Only a coach can answer questions." in await chat.run("as sam", "click Reply")
    out = await chat.run("as maria", "click Reply")
    assert "[form · Answer the question]" in out
    out = await chat.run(
        'fill answer="Yes, branded clothing is fine in personal photos."', "submit"
    )
    assert "[#" in out and "@jo]" in out
    assert "Maria Lopez answered your question" in out
    assert "  Maria Lopez answered:\n  Yes, branded clothing is fine in personal photos." in out
    assert "Answered by Maria Lopez" in out
    assert "[Save as guidance]" in out
    hub = chat.session.shown[int(_last_hub_card(chat))]
    save = next(b for b in hub.card.buttons if b.label == "Save as guidance")
    settings = chat.runtime.settings
    double_click = Action(
        platform="console",
        actor=settings.actor_for(settings.people["maria"], "console"),
        received_at=START,
        action_id=save.action_id,
        value=save.value,
    )
    await chat.runtime.handle(double_click, chat.session)
    await chat.runtime.handle(double_click, chat.session)
    await chat.session.settle()
    said = "\n".join(chat.session.transcript)
    assert said.count("Saved as guidance in faq.md") == 1
    assert said.count("This answer is already saved in faq.md.") == 1
    assert "Saved in: faq.md" in chat.card(int(_last_hub_card(chat)))
    actions = [e.action for e in await chat.store.audit_log()]
    assert (
        actions.count("guidance.saved") == 1
        and "question.reply" in actions
        and "question.handoff" in actions
    )
    out = await chat.run("as jo", "/ask can I wear the company hoodie in my dating profile photos?")
    assert "Questions answered by coaches" in out


def _last_hub_card(chat: Chat) -> str:
    numbers = [n for n, shown in chat.session.shown.items() if shown.place == "#hub"]
    return str(max(numbers))


async def test_report_lists_open_and_unhelpful_questions_for_coaches(chat: Chat) -> None:
    await chat.run(
        "as jo",
        "/ask what is the cafeteria menu on friday?",
        f"/ask {WORKS_HERE}",
        "click Not helpful",
    )
    assert "Only a coach can see the questions report." in await chat.run("/ask report")
    out = await chat.run("as maria", "/ask report")
    assert "Not answered yet (1)" in out and "cafeteria menu" in out
    assert "1 × not helpful" in out


async def test_owners_of_stale_guidelines_are_reminded_weekly(chat: Chat) -> None:
    chat.session.clock.advance(datetime(2026, 11, 23, 12, tzinfo=UTC) - chat.session.clock.now())
    await chat.runtime.start()
    await chat.runtime.start()  # idempotent: still one timer
    [timer] = await chat.store.pending_timers("ask.review")
    assert timer.due_at.weekday() == 0 and timer.due_at.hour == 9
    out = await chat.run("advance 8d")
    # recruiting (2026-05-12) and competitors (2026-03-10) are owned by ada and priya
    assert "due for review" in out
    assert re.search(r"\[#\d+ · @ada\]", out) and "Recruiting and job posts on social media" in out
    assert len(await chat.store.pending_timers("ask.review")) == 1


def test_a_malformed_guideline_header_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    books = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", books)
    (books / "guidelines" / "broken.md").write_text(
        "---\ntitle: Broken\nowner: [maria\n---\n# Broken\n", encoding="utf-8"
    )
    monkeypatch.setenv("PLAYCALLER_PLAYBOOKS", str(books))
    assert main(["--config", str(ROOT / "playcaller.yaml"), "check"]) == 2
    err = capsys.readouterr().err
    assert f"{books / 'guidelines' / 'broken.md'}:" in err


def test_ask_command_prints_json_per_question(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import io
    import json

    from bot.cli import main

    monkeypatch.setenv("PLAYCALLER_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO(
            "a reporter just DMed me on linkedin, what now?\nwhat is the cafeteria menu?\n"
        ),
    )
    assert main(["--config", str(ROOT / "playcaller.yaml"), "ask", "--json", "-"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["answered"] for line in lines] == [True, False]
    first = lines[0]
    assert set(first) == {"answered", "confidence", "answer", "sources"}
    assert first["sources"][0]["doc"] == "press-enquiries.md"
    assert set(first["sources"][0]) == {"doc", "heading", "score"}
    scores = [s["score"] for s in first["sources"]]
    assert scores == sorted(scores, reverse=True)
    assert (
        first["answer"]
        and first["answer"] in (ROOT / "playbooks/guidelines/press-enquiries.md").read_text()
    )


def test_ask_command_reads_another_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from bot.cli import main

    folder = tmp_path / "guides"
    folder.mkdir()
    (folder / "parking.md").write_text(
        "# Parking\n## Visitor parking\nVisitors park in the north lot and sign in at reception.\n",
        encoding="utf-8",
    )
    assert (
        main(
            [
                "--config",
                str(ROOT / "playcaller.yaml"),
                "ask",
                "--guidelines",
                str(folder),
                "where do visitors park their car?",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Visitors park in the north lot" in out and "parking.md" in out


async def test_a_coach_answer_reaches_someone_the_config_does_not_know(chat: Chat) -> None:
    await chat.run(
        "as visitor@elsewhere.example",
        "/ask can I wear the company hoodie in my dating profile photos?",
    )
    await chat.run(
        "click Ask a coach", "as maria", "click Reply", 'fill answer="Yes, that is fine."'
    )
    out = await chat.run("submit")
    assert "[#" in out and "@visitor@elsewhere.example]" in out
    assert "Yes, that is fine." in out
    log = await chat.store.audit_log()
    assert not [e for e in log if e.action.startswith("outbox.")]


def test_check_notes_unknown_guideline_header_fields_and_still_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    books = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", books)
    hugo = books / "guidelines" / "hugo.md"
    hugo.write_text(
        "---\ntitle: Exported from Hugo\nurl: /handbook/press/\nlicence: CC BY-SA 4.0\n---\n"
        "# Exported from Hugo\n\nSend journalists to the press team.\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PLAYCALLER_PLAYBOOKS", str(books))
    assert main(["--config", str(ROOT / "playcaller.yaml"), "check"]) == 0
    out = capsys.readouterr().out
    assert f"note: {hugo}:3: url: field not used by the bot (kept, ignored)" in out
    assert f"note: {hugo}:4: licence: field not used by the bot (kept, ignored)" in out
    # A known field stays validated.
    hugo.write_text("---\ntitle: Bad\nlast_reviewed: someday\nurl: /x/\n---\nText.\n")
    assert main(["--config", str(ROOT / "playcaller.yaml"), "check"]) == 2
    assert f"{hugo}:3: last_reviewed" in capsys.readouterr().err


async def test_questions_are_deleted_once_past_their_retention(chat: Chat) -> None:
    await chat.runtime.start()
    [timer] = await chat.store.pending_timers("ask.retention")
    assert timer.due_at == datetime(2026, 3, 3, 3, tzinfo=UTC)
    await chat.run("as jo", "/ask what is the cafeteria menu on friday?", f"/ask {WORKS_HERE}")
    await chat.run("/ask can I wear the company hoodie in my dating profile photos?")
    await chat.run("click Ask a coach")
    await chat.run("advance 40d", "as sam", "/ask can I post photos from the offsite?")
    await chat.run("as maria", "click Reply")
    await chat.run('fill answer="Yes, in personal photos."', "submit")  # hoodie: active on day 40
    assert len(await questions(chat, "asker:jo")) == 3
    await chat.run("advance 51d")  # day 91: jo's untouched questions are past 90 days
    kept = await questions(chat, "asker:jo")
    assert [q.text for q in kept] == [  # type: ignore[attr-defined]
        "can I wear the company hoodie in my dating profile photos?"
    ]
    assert len(await questions(chat, "asker:sam")) == 1
    deleted = [e for e in await chat.store.audit_log() if e.action == "question.deleted"]
    assert len(deleted) == 2 and {e.actor for e in deleted} == {"system"}
    assert all(e.detail == {"reason": "retention", "days": 90} for e in deleted)
    assert len(await chat.store.pending_timers("ask.retention")) == 1
    await chat.run("advance 50d")  # day 141: hoodie's last activity was day 40
    assert await questions(chat, "asker:jo") == []
    assert await questions(chat, "asker:sam") == []
