"""Assign: a coach hands a mention to a responder of its spoke."""

from __future__ import annotations

import json

from bot.core.events import FormSubmitted
from bot.core.model import MentionState
from handlers.triage.records import KIND, from_record
from tests.conftest import START, Chat

COMPLAINT = {
    "network": "x",
    "id": "42",
    "text": "@acme charged me twice and support is useless",
    "created_at": "2026-03-02T08:59:00Z",
    "url": "https://x.com/dana/status/42",
    "author": {"handle": "dana", "followers": 900},
}


async def owner(chat: Chat) -> str | None:
    record = await chat.store.get(KIND, "x:42")
    assert record is not None
    return from_record(record).owner


async def test_a_coach_assigns_a_responder_who_is_told_and_it_is_audited(chat: Chat) -> None:
    await chat.run("mention " + json.dumps(COMPLAINT), "as maria")
    out = await chat.run("click Assign #1")
    # Only the spoke's responders are offered.
    assert "person: Responder [required] one of: alex | sam" in out
    out = await chat.run("fill person=alex", "submit")
    assert "Assigned the mention from @dana to Alex Chen." in out
    assert "[#2 · @alex]" in out and "Maria Lopez assigned you the mention from @dana" in out
    assert "Claimed by Alex Chen" in chat.card(1)
    assert await owner(chat) == "alex"
    log = await chat.store.audit_log("mention:x:42")
    assert (log[-1].actor, log[-1].action, log[-1].detail["to"]) == (
        "maria",
        "mention.assign",
        "alex",
    )
    # Alex is nudged on the usual schedule: the assignment is a claim.
    assert "You claimed the mention from @dana 20m ago" in await chat.run("advance 20m")


async def test_assigning_twice_changes_nothing_the_second_time(chat: Chat) -> None:
    await chat.run("mention " + json.dumps(COMPLAINT), "as maria", "click Assign #1")
    form = chat.session.form
    assert form is not None
    await chat.run("fill person=sam", "submit")
    settings = chat.runtime.settings
    again = FormSubmitted(
        platform="console",
        actor=settings.actor_for(settings.people["maria"], "console"),
        received_at=START,
        form_id=form.form.form_id,
        values={"person": "sam"},
        context=form.form.context,
    )
    await chat.session._dispatch(again)
    await chat.session.settle()
    said = "\n".join(chat.session.transcript)
    assert "Sam Okafor already holds this mention. Nothing was changed." in said
    actions = [e.action for e in await chat.store.audit_log("mention:x:42")]
    assert actions.count("mention.assign") == 1
    assert await owner(chat) == "sam"


async def test_only_coaches_assign_and_only_to_the_spokes_responders(chat: Chat) -> None:
    await chat.run("mention " + json.dumps(COMPLAINT), "as sam")
    assert "Only a coach can assign mentions." in await chat.run("click Assign #1")
    await chat.run("as maria", "click Assign #1")
    form = chat.session.form
    assert form is not None
    settings = chat.runtime.settings
    outsider = FormSubmitted(
        platform="console",
        actor=settings.actor_for(settings.people["maria"], "console"),
        received_at=START,
        form_id=form.form.form_id,
        values={"person": "priya"},
        context=form.form.context,
    )
    await chat.session._dispatch(outsider)
    await chat.session.settle()
    assert "choose a responder of the mention's spoke" in "\n".join(chat.session.transcript)
    record = await chat.store.get(KIND, "x:42")
    assert record is not None and from_record(record).state is MentionState.OPEN
