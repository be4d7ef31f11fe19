"""Approved replies published through the outbox's publish lane (webhook mode),
against the loopback receiver: one POST per version, the link on the cards,
a refusal shown with Retry and Cancel."""

from __future__ import annotations

from bot.external_sends import ExternalSender
from handlers.approvals.records import DraftState
from tests.approvals.test_approval_flow import click_as, only_draft, submitted
from tests.conftest import Chat
from tests.fakes.webhook_receiver import FakeReceiver


async def test_approval_publishes_once_and_links_the_reply(
    chat: Chat, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    await submitted(chat)
    draft = await only_draft(chat)
    out = await chat.run("as maria", "click Approve #2")
    assert "Approved." in out
    assert "Mark as sent" not in out
    # A double click after the decision queues nothing more.
    await chat.runtime.handle(
        click_as(chat, "maria", "approvals.approve", f"{draft.id}|1"), chat.session
    )
    await lane.drain()
    out = await chat.run("advance 1s")
    assert len(receiver.published) == 1
    sent = receiver.published[0]
    assert sent["text"].startswith("Hi @dana, so sorry")
    assert sent["approved_by"] == ["maria"] and sent["drafted_by"] == "sam"
    assert sent["in_reply_to"]["id"] == "42"
    assert [a.key for a in receiver.attempts] == [f"{draft.id}:1"]
    published = await only_draft(chat)
    assert published.state is DraftState.PUBLISHED and published.published_url
    assert "Published" in chat.card(2) and "[Open reply ↗]" in chat.card(2)
    assert "Replied by Sam, approved by Maria, 09:00" in chat.card(1)
    assert "Your reply to @dana is published." in out
    log = await chat.store.audit_log(f"draft:{draft.id}")
    assert [e.action for e in log][-2:] == ["draft.publish_queued", "draft.published"]


async def test_a_refusal_is_shown_and_retry_publishes(
    chat: Chat, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    await submitted(chat)
    draft = await only_draft(chat)
    receiver.reject_next(422, "duplicate content")
    await chat.run("as maria", "click Approve #2")
    await lane.drain()
    out = await chat.run("advance 1s")
    assert (await only_draft(chat)).state is DraftState.FAILED
    assert "could not be published" in out and "duplicate content" in out
    assert "Publishing failed" in chat.card(2)
    assert "could not be published" in chat.card(1)
    # Someone who neither wrote nor approved it may not retry it.
    await chat.runtime.handle(
        click_as(chat, "jo", "approvals.retry", f"{draft.id}|1"), chat.session
    )
    assert (await only_draft(chat)).state is DraftState.FAILED
    out = await chat.run("as sam", "click Retry")
    assert "Publishing again" in out
    await lane.drain()
    await chat.run("advance 1s")
    assert (await only_draft(chat)).state is DraftState.PUBLISHED
    assert len(receiver.published) == 1
    assert {a.key for a in receiver.attempts} == {f"{draft.id}:1"}


async def test_a_refusal_with_half_an_emoji_is_shown_with_u_fffd_and_not_resent(
    chat: Chat, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    """A receiver's reason holding a lone surrogate as a JSON escape: the
    failure is recorded and shown (the half as U+FFFD) with Retry and Cancel,
    instead of the outcome failing to be written and the POST being re-sent."""
    await submitted(chat)
    draft = await only_draft(chat)
    receiver.reject_next(422, "duplicate \ud83d content")
    await chat.run("as maria", "click Approve #2")
    await lane.drain()
    out = await chat.run("advance 1s")
    assert (await only_draft(chat)).state is DraftState.FAILED
    assert "could not be published" in out and "duplicate \ufffd content" in out
    card = chat.card(2)
    assert "Publishing failed" in card and "duplicate \ufffd content" in card
    assert "Retry" in card and "Cancel" in card
    # A lease later, nothing is sent again.
    await chat.run("advance 10m")
    await lane.drain()
    assert [a.key for a in receiver.attempts] == [f"{draft.id}:1"]
