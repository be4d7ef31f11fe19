"""/draft ACCOUNT: new posts with an optional publish time. An approved
scheduled post goes out at its time, not before; approvals that are not
complete 5 minutes before it mean it is not published, and the author is told."""

from __future__ import annotations

from bot.external_sends import ExternalSender
from handlers.approvals.records import DraftState
from tests.approvals.test_approval_flow import only_draft
from tests.conftest import Chat
from tests.fakes.webhook_receiver import FakeReceiver

POST = "Our new travel card ships in May: https://acme.com/travel"


async def scheduled(chat: Chat, at: str) -> str:
    await chat.run("as sam", "channel #care")
    form = await chat.run("/draft acme-x")
    assert "[form · New post]" in form and "publish_at" in form
    return await chat.run(f'fill text="{POST}" publish_at="{at}"', "submit")


async def test_draft_names_the_accounts_and_refuses_others(chat: Chat) -> None:
    out = await chat.run("as sam", "/draft")
    assert "Usage: /draft ACCOUNT. Accounts you may draft for: acme-x, acme-bsky." in out
    out = await chat.run("/draft acme-linkedin")
    assert "You may not draft for acme-corp." in out
    out = await chat.run("as jo", "/draft acme-x")
    assert "Only a responder or coach or crisis lead or legal can draft posts." in out


async def test_a_publish_time_too_soon_is_refused_and_nothing_is_stored(chat: Chat) -> None:
    out = await scheduled(chat, "2026-03-02 09:03")
    assert "choose a time more than 5 minutes from now" in out
    assert not await chat.store.find("draft", "author:sam")


async def test_an_approved_scheduled_post_goes_out_at_its_time(chat: Chat) -> None:
    out = await scheduled(chat, "2026-03-02 10:00")
    assert "Submitted for approval: Coach (Maria Lopez)" in out
    assert "New post on @acme on X for approval" in out
    assert "Publish at: 2026-03-02 10:00 UTC" in out
    out = await chat.run("as maria", "click Approve")
    assert "Approved." in out and "publish it now" not in out
    out = await chat.run("advance 59m")
    assert "publish it now" not in out
    out = await chat.run("advance 2m")
    assert "Approved post: publish it now" in out


async def test_late_approvals_mean_the_post_is_not_published(chat: Chat) -> None:
    await scheduled(chat, "2026-03-02 09:30")
    draft = await only_draft(chat)
    assert draft.steps[0].due_at is not None and draft.steps[0].due_at.minute == 15
    out = await chat.run("advance 26m")
    assert "Post not published" in out
    assert "were not complete 5 minutes before the publish time" in out
    assert (await only_draft(chat)).state is DraftState.MISSED
    out = await chat.run("as maria", "click Approve")
    assert "no card on screen has a button" in out or "not approved in time" in out


async def test_scheduled_post_is_published_by_the_lane_at_its_time_not_before(
    chat: Chat,
    receiver: FakeReceiver,
    lane: ExternalSender,
) -> None:
    await scheduled(chat, "2026-03-02 10:00")
    await chat.run("as maria", "click Approve")
    await lane.drain()
    await chat.run("advance 59m")
    await lane.drain()
    assert receiver.published == []
    await chat.run("advance 1m")
    await lane.drain()
    await chat.run("advance 1s")
    assert len(receiver.published) == 1 and receiver.published[0]["in_reply_to"] is None
    assert (await only_draft(chat)).state is DraftState.PUBLISHED
