"""Holding statements through the approval workflow, end to end in the
console on SQLite and Redis: Draft statement on the incident card drafts a
new post per affected account, a coach approves (legal too when the playbook
says so), it is published once, and the card and timeline follow."""

from __future__ import annotations

from handlers.approvals.records import KIND as DRAFT_KIND
from handlers.approvals.records import Draft, DraftState
from handlers.approvals.records import from_record as draft_from_record
from handlers.crisis.incident import Happened
from tests.crisis.test_console import DECLARE, incident
from tests.conftest import Chat


async def statement_drafts(chat: Chat) -> dict[str, Draft]:
    found = await chat.store.find(DRAFT_KIND, "origin:crisis:CR-1:first")
    return {d.account_id: d for d in map(draft_from_record, found)}


async def test_story(chat: Chat) -> None:
    out = await chat.run(*DECLARE)
    print(out)
    out = await chat.run("as sam", "click Draft statement #1")
    print(out)
    print(chat.card(1))
    out = await chat.run("as maria", "click Approve", "advance 1s")
    print(out)
    print(chat.card(1))
    assert False
