"""Holding statements through the approval workflow, end to end in the
console on SQLite and Redis: **Draft statement** on the incident card drafts
a new post on each affected account, a coach approves (legal too when the
playbook says so), it is published once through the existing lane, and the
incident card and timeline follow."""

from __future__ import annotations

import pytest

from bot.external_sends import ExternalSender
from handlers.approvals.records import KIND as DRAFT_KIND
from handlers.approvals.records import Draft, DraftState
from handlers.approvals.records import from_record as draft_from_record
from handlers.crisis.incident import Happened
from tests.approvals.test_approval_flow import click_as
from tests.conftest import Chat
from tests.crisis.test_console import DECLARE, incident
from tests.fakes.webhook_receiver import FakeReceiver

FIRST = (
    "Some of you cannot use the AcmePay app right now. We know, our engineers are working "
    "on it, and we will post the next update here within 30 minutes. "
    "Live status: https://status.acme.com"
)


async def statement_drafts(chat: Chat, statement: str = "first") -> dict[str, Draft]:
    found = await chat.store.find(DRAFT_KIND, f"origin:crisis:CR-1:{statement}")
    return {d.account_id: d for d in map(draft_from_record, found)}


async def test_drafted_approved_marked_sent_and_on_the_card(chat: Chat) -> None:
    await chat.run(*DECLARE)
    assert 'Statement "first" not drafted on @acme, acme.bsky.social' in chat.card(1)
    click = chat.press("sam", "Draft statement", 1)
    out = await chat.run("as sam", "click Draft statement #1")
    assert (
        'Drafted holding statement "first" on @acme, acme.bsky.social: '
        "it waits for Coach (Maria Lopez)." in out
    )
    drafts = await statement_drafts(chat)
    assert set(drafts) == {"acme-x", "acme-bsky"}
    for draft in drafts.values():
        assert draft.text == FIRST and draft.author == "sam" and draft.mention_key is None
        assert draft.state is DraftState.PENDING
        assert [(s.name, s.people) for s in draft.steps] == [("Coach", ("maria",))]
    assert "New post on @acme on X for approval" in out
    assert "New post on acme.bsky.social on Bluesky for approval" in out
    assert 'Statement "first" on @acme: awaiting Maria Lopez (Coach)' in chat.card(1)
    # A double click (or a retry) drafts nothing more.
    await chat.runtime.handle(click, chat.session)
    assert "Already drafted on @acme, acme.bsky.social." in chat.session.transcript[-1]
    assert len(await statement_drafts(chat)) == 2

    x_card = next(
        n for n, s in chat.session.shown.items() if "@acme on X for approval" in s.card.title
    )
    out = await chat.run("as maria", f"click Approve #{x_card}", "advance 1s")
    assert "Post this text from @acme on X in your social media tool" in out
    assert (
        'Statement "first" on @acme: approved by Maria Lopez 09:00, waiting for Sam Okafor to post it'
        in (chat.card(1))
    )
    assert "acme.bsky.social: awaiting Maria Lopez" in chat.card(1)
    out = await chat.run(
        "advance 7m",
        "as sam",
        "click Mark as sent",
        "fill url=https://x.com/acme/status/1",
        "submit",
        "advance 1s",
    )
    assert 'Statement "first" on @acme: published 09:07 [Open post ↗]' in chat.card(1)
    stored = await incident(chat)
    events = [(e.what, e.actor, e.detail) for e in stored.timeline if "statement" in e.what]
    assert events == [
        (Happened.STATEMENT_APPROVED, "maria", "first on acme-x"),
        (Happened.STATEMENT_PUBLISHED, "sam", "first on acme-x"),
    ]
    out = await chat.run("as priya", "click Resolve #1")
    assert "First public statement 7m after the declaration." in out
    log = await chat.store.audit_log("incident:CR-1")
    drafted = [e for e in log if e.action == "incident.statement_drafted"]
    assert [(e.actor, e.detail["statement"]) for e in drafted] == [("sam", "first")]


async def test_webhook_mode_publishes_once_on_the_right_account(
    chat: Chat, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    await chat.run(*DECLARE, "as sam", "click Draft statement #1")
    x = (await statement_drafts(chat))["acme-x"]
    await chat.run("as maria")
    approve = click_as(chat, "maria", "approvals.approve", f"{x.id}|1")
    await chat.runtime.handle(approve, chat.session)
    await chat.runtime.handle(approve, chat.session)  # a double click
    await lane.drain()
    await chat.run("advance 1s")
    await lane.drain()
    await chat.run("advance 1s")
    assert len(receiver.published) == 1
    sent = receiver.published[0]
    assert sent["account"]["id"] == "acme-x" and sent["account"]["handle"] == "@acme"
    assert sent["text"] == FIRST and sent["in_reply_to"] is None
    assert sent["drafted_by"] == "sam" and sent["approved_by"] == ["maria"]
    assert [a.key for a in receiver.attempts] == [f"{x.id}:1"]
    assert (await statement_drafts(chat))["acme-x"].state is DraftState.PUBLISHED
    assert 'Statement "first" on @acme: published 09:00 [Open post ↗]' in chat.card(1)
    stored = await incident(chat)
    published = [e for e in stored.timeline if e.what is Happened.STATEMENT_PUBLISHED]
    assert [(e.actor, e.detail) for e in published] == [("playcaller", "first on acme-x")]


async def test_requires_legal_adds_the_legal_step(chat: Chat) -> None:
    await chat.run(
        "as priya",
        "channel #hub",
        '/crisis data-incident topic="a list of e-mail addresses" Posts claim a leak',
    )
    assert 'Statement "first" not drafted on' in chat.card(1)
    assert "(coach and legal approve)" in chat.card(1)
    out = await chat.run("as sam", "click Draft statement #1")
    # No accounts named: every account is affected; Sam drafts for his spoke's only.
    assert "You may not draft for acme-corp, @acme.careers" in out
    assert "it waits for Coach (Maria Lopez), then legal." in out
    drafts = await statement_drafts(chat)
    assert set(drafts) == {"acme-x", "acme-bsky"}
    x = drafts["acme-x"]
    assert [s.name for s in x.steps] == ["Coach", "Legal"]
    assert "A legal approval step was added: the crisis playbook says legal approves" in out
    await chat.runtime.handle(
        click_as(chat, "maria", "approvals.approve", f"{x.id}|1"), chat.session
    )
    await chat.run("advance 1s")
    assert 'Statement "first" on @acme: awaiting Lee Novak (Legal)' in chat.card(1)
    assert (await statement_drafts(chat))["acme-x"].state is DraftState.PENDING
    await chat.runtime.handle(click_as(chat, "lee", "approvals.approve", f"{x.id}|1"), chat.session)
    await chat.run("advance 1s")
    assert (await statement_drafts(chat))["acme-x"].state is DraftState.APPROVED
    assert 'Statement "first" on @acme: approved by Lee Novak' in chat.card(1)


async def test_four_eyes_and_who_may_draft(chat: Chat) -> None:
    await chat.run(*DECLARE)
    # The crisis lead is no drafter for the care spoke's accounts.
    out = await chat.run("as priya", "click Draft statement #1")
    assert "Nothing was drafted. You may not draft for @acme, acme.bsky.social" in out
    assert await statement_drafts(chat) == {}
    # The coach drafts: she may not approve it, so the backup approver gets it.
    out = await chat.run("as maria", "click Draft statement #1")
    assert "it waits for Coach (Ada Byrne)" in out
    x = (await statement_drafts(chat))["acme-x"]
    await chat.runtime.handle(
        click_as(chat, "maria", "approvals.approve", f"{x.id}|1"), chat.session
    )
    assert (
        "You wrote a version of this draft, so you cannot approve" in (chat.session.transcript[-1])
    )
    assert (await statement_drafts(chat))["acme-x"].state is DraftState.PENDING
    # Rejected: the statement may be drafted again on that account (a new draft).
    await chat.runtime.handle(click_as(chat, "ada", "approvals.reject", f"{x.id}|1"), chat.session)
    await chat.run('fill note="Wait for the status page"', "submit", "advance 1s")
    assert 'Statement "first" on @acme: rejected by Ada Byrne' in chat.card(1)
    assert 'Statement "first" not drafted on @acme' in chat.card(1)
    out = await chat.run("as sam", "click Draft statement #1")
    assert 'Drafted holding statement "first" on @acme:' in out
    assert "Already drafted on acme.bsky.social." in out
    assert (await statement_drafts(chat)).keys() == {"acme-x", "acme-bsky"}
    assert len(await chat.store.find(DRAFT_KIND, "origin:crisis:CR-1:first")) == 3


async def test_hostile_variables_stay_inert(chat: Chat) -> None:
    await chat.run(
        "as priya",
        "channel #hub",
        '/crisis service-outage service="<!channel> *AcmePay* <https://evil.example|acme.com>" '
        "status_url=https://status.acme.com Payments fail",
    )
    card = chat.card(1)
    assert "<!channel> *AcmePay* <https://evil.example|acme.com>" in card
    out = await chat.run("as sam", "click Draft statement #1")
    # The lint stops a link to a domain off the allow-list: nothing goes for approval.
    assert "The policy check stopped it on @acme" in out
    assert "evil.example" in out
    assert await statement_drafts(chat) == {}


class Killed(Exception):
    """The process dies between the drafts' writes and the incident's."""


async def test_a_crash_before_the_incident_write_loses_no_draft(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers.crisis import statements

    await chat.run(*DECLARE)

    async def dies(*args: object, **kwargs: object) -> None:
        raise Killed

    click = chat.press("sam", "Draft statement", 1)
    real = statements.transition
    monkeypatch.setattr(statements, "transition", dies)
    with pytest.raises(Killed):
        await chat.run("as sam", "click Draft statement #1")
    monkeypatch.setattr(statements, "transition", real)
    assert len(await statement_drafts(chat)) == 2
    assert (await incident(chat)).statement_posts == ()
    # Each draft's follow-up timer, written with it, tells the incident.
    await chat.run("advance 1s")
    posts = (await incident(chat)).statement_posts
    assert sorted((p.account, p.state) for p in posts) == [
        ("acme-bsky", "pending"),
        ("acme-x", "pending"),
    ]
    assert 'Statement "first" on @acme: awaiting Maria Lopez (Coach)' in chat.card(1)
    # The same button again (an older screen) drafts nothing more.
    assert "[Draft statement]" in chat.card(1)  # ("update" and "resolved" only)
    await chat.runtime.handle(click, chat.session)
    assert (
        "Nothing was drafted. Already drafted on @acme, acme.bsky.social."
        in (chat.session.transcript[-1])
    )
    assert len(await statement_drafts(chat)) == 2
