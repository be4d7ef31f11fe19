"""Decisions on one draft take turns within a process, but the answer to a
clicker is sent after the turn is released: a slow Slack or Teams answer to
one approver does not hold up another approver's decision on the same draft.
A click that waited for another decision is judged on the draft as stored
when it decides, even if a write that takes no turn (the author's edit)
landed meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.core.accounts import ApprovalStep
from bot.core.cards import Card, Form
from bot.core.events import Event, FormSubmitted
from bot.core.ports import Responder
from bot.core.storage import Effects, Record, Written
from bot.core.taking import Slot
from bot.turns import KeyedTurns
from handlers.approvals.records import DraftState
from handlers.triage.records import KIND as MENTION_KIND
from tests.approvals.test_approval_flow import GOOD_REPLY, click_as, only_draft, submitted
from tests.conftest import START, Chat

PATIENCE = 10  # a hang guard only: every wait ends as soon as its step happens


class SlowAnswers:
    """A platform that is slow to answer: each answer waits for ``answer_now``."""

    def __init__(self, screen: Responder) -> None:
        self.screen = screen
        self.answering = asyncio.Event()
        self.answer_now = asyncio.Event()

    async def reply(self, event: Event, card: Card, *, ephemeral: bool) -> None:
        self.answering.set()
        await self.answer_now.wait()
        await self.screen.reply(event, card, ephemeral=ephemeral)

    async def open_form(self, event: Event, form: Form) -> None:
        self.answering.set()
        await self.answer_now.wait()
        await self.screen.open_form(event, form)


async def test_a_slow_answer_to_a_refused_click_does_not_hold_up_the_next_decision(
    chat: Chat,
) -> None:
    settings = chat.runtime.settings
    two = replace(settings.approvals, steps=(ApprovalStep("Coach", members=("maria", "ada")),))
    chat.session.runtime.settings = replace(settings, approvals=two)
    await submitted(chat)
    draft = await only_draft(chat)
    slow = SlowAnswers(chat.session)
    # Maria clicks a card that showed another version: refused, and her answer is slow.
    stale = click_as(chat, "maria", "approvals.approve", f"{draft.id}|7")
    refused = asyncio.create_task(chat.runtime.handle(stale, slow))
    await asyncio.wait_for(slow.answering.wait(), PATIENCE)
    # Meanwhile Ada approves the same draft: decided without waiting for Maria's answer.
    approve = click_as(chat, "ada", "approvals.approve", f"{draft.id}|1")
    await asyncio.wait_for(chat.runtime.handle(approve, chat.session), PATIENCE)
    assert not refused.done()
    decided = await only_draft(chat)
    assert decided.state is DraftState.APPROVED and decided.approved_by == ("ada",)
    slow.answer_now.set()
    await asyncio.wait_for(refused, PATIENCE)
    transcript = "\n".join(chat.session.transcript)
    assert "That card showed an older version; version 1 is current." in transcript
    log = await chat.store.audit_log(f"draft:{draft.id}")
    assert [e.actor for e in log if e.action == "draft.approved"] == ["ada"]


async def test_answers_given_in_a_failed_hold_are_never_sent(chat: Chat) -> None:
    """A holder that answered and then failed (its write refused) must not
    have that answer sent later by the same turn's next hold: the person
    would read a success the store never recorded."""
    click = click_as(chat, "maria", "approvals.approve", "draft-1|1")
    turn = chat.runtime.turn(click, chat.session)
    start = len(chat.session.transcript)
    try:
        async with turn.hold("draft-1"):
            await turn.say("Approved.")
            raise RuntimeError("the compare-and-set was refused")
    except RuntimeError:
        pass
    async with turn.hold("draft-1"):
        await turn.say("Already decided by Ada Byrne.")
    said = "\n".join(chat.session.transcript[start:])
    assert "Already decided by Ada Byrne." in said
    assert "Approved." not in said


class WatchedTurns(KeyedTurns):
    """The real turn-taking, telling when a second holder starts waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.someone_waits = asyncio.Event()

    @contextlib.asynccontextmanager
    async def hold(self, key: str, holder: object) -> AsyncIterator[Slot]:
        if self.held(key, holder) is None and key in self._entries:
            self.someone_waits.set()  # (its hold starts waiting without yielding first)
        async with super().hold(key, holder) as slot:
            yield slot


def form_as(chat: Chat, person: str, form_id: str, context: str, **values: str) -> FormSubmitted:
    settings = chat.runtime.settings
    return FormSubmitted(
        platform="console",
        actor=settings.actor_for(settings.people[person], "console"),
        received_at=START,
        form_id=form_id,
        values=values,
        context=context,
    )


async def test_a_click_that_waited_is_judged_on_the_draft_as_stored_now(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Maria's decision holds the draft's turn; after her write, inside that
    hold, the author submits version 2 (their edit does not take the turn).
    Ada, who waited for Maria, clicks Approve on the card of version 2: she
    is judged on version 2, never refused on the copy Maria stored."""
    settings = chat.runtime.settings
    two = replace(settings.approvals, steps=(ApprovalStep("Coach", members=("maria", "ada")),))
    chat.session.runtime.settings = replace(settings, approvals=two)
    await submitted(chat)
    draft = await only_draft(chat)
    turns = chat.runtime.turns = WatchedTurns()
    store = chat.store
    real_replace = store.replace
    in_window, leave_window = asyncio.Event(), asyncio.Event()

    async def replace_after_the_draft(record: Record, version: int, effects: Effects) -> Written:
        # Maria's hold, after her draft write: the mention follows the draft.
        if record.kind == MENTION_KIND and not in_window.is_set():
            in_window.set()
            await leave_window.wait()
        return await real_replace(record, version, effects)

    monkeypatch.setattr(store, "replace", replace_after_the_draft)
    changes = form_as(
        chat, "maria", "approvals.changes", f"{draft.id}|1", note="Add the order date"
    )
    maria = asyncio.create_task(chat.runtime.handle(changes, chat.session))
    await asyncio.wait_for(in_window.wait(), PATIENCE)
    assert (await only_draft(chat)).state is DraftState.CHANGES
    edit = form_as(
        chat, "sam", "approvals.draft", f"revise|{draft.id}|1", text=GOOD_REPLY + " (2 March)"
    )
    await asyncio.wait_for(chat.runtime.handle(edit, chat.session), PATIENCE)
    resubmitted = await only_draft(chat)
    assert resubmitted.state is DraftState.PENDING and resubmitted.current.number == 2
    approve = click_as(chat, "ada", "approvals.approve", f"{draft.id}|2")
    ada = asyncio.create_task(chat.runtime.handle(approve, chat.session))
    await asyncio.wait_for(turns.someone_waits.wait(), PATIENCE)
    leave_window.set()
    await asyncio.wait_for(asyncio.gather(maria, ada), PATIENCE)
    transcript = "\n".join(chat.session.transcript)
    assert "[only ada sees this] Approved." in transcript
    decided = await only_draft(chat)
    assert decided.state is DraftState.APPROVED and decided.approved_by == ("ada",)
    assert decided.current.number == 2
    log = await chat.store.audit_log(f"draft:{draft.id}")
    assert [e.actor for e in log if e.action == "draft.approved"] == ["ada"]
