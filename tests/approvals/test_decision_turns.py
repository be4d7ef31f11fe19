"""Decisions on one draft take turns within a process, but the answer to a
clicker is sent after the turn is released: a slow Slack or Teams answer to
one approver does not hold up another approver's decision on the same draft."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.core.accounts import ApprovalStep
from bot.core.cards import Card, Form
from bot.core.events import Event
from bot.core.ports import Responder
from handlers.approvals.records import DraftState
from tests.approvals.test_approval_flow import click_as, only_draft, submitted
from tests.conftest import Chat

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
