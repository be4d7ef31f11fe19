"""Cancel publishing (webhook mode), through the console on SQLite and Redis,
against the loopback receiver: a publication still retrying is withdrawn and
never POSTed again; a cancel racing a POST that goes through ends published,
and the cards say the cancel came too late; one racing a POST the receiver
refuses stays cancelled, with the refusal audited and shown; a crash between the cancelling
write and the withdrawal is caught up by the write's own timer."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.events import Action
from bot.core.publishing import PUBLISH_LANE
from bot.external_sends import ExternalSender
from handlers.approvals import rules
from handlers.approvals.records import DraftState
from tests.approvals.test_approval_flow import click_as, only_draft, submitted
from tests.conftest import START, Chat
from tests.fakes.webhook_receiver import FakeReceiver

HOSTILE = "Hi @dana <!channel> so *sorry* about _that_, the refund is on its way <@U0ADA>"


def numbered(chat: Chat, words: str) -> int:
    """The number of the latest card whose headline has ``words``."""
    return max(n for n, s in chat.session.shown.items() if words in s.card.title)


async def told(chat: Chat, click: Action) -> str:
    """What the clicker is shown for ``click`` (a click on a card as it was)."""
    seen = len(chat.session.transcript)
    await chat.runtime.handle(click, chat.session)
    return "\n".join(chat.session.transcript[seen:])


async def actions(chat: Chat, draft_id: str) -> list[tuple[str, str]]:
    return [(e.action, e.actor) for e in await chat.store.audit_log(f"draft:{draft_id}")]


async def test_cancel_while_the_receiver_answers_500_stops_every_further_post(
    chat: Chat, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    await submitted(chat, HOSTILE)
    draft = await only_draft(chat)
    receiver.fail_next(100, 500)
    await chat.run("as maria", "click Approve #2")
    await lane.drain()
    assert [a.status for a in receiver.attempts] == [500]
    # Still retrying: the approvers' card and the author's card offer the cancel.
    approval = numbered(chat, "for approval")
    assert "[Cancel publishing]" in chat.card(approval)
    author = numbered(chat, "Publishing")
    assert "Approved by Maria Lopez 09:00. Publishing your reply to @dana" in chat.card(author)
    assert "[Cancel publishing]" in chat.card(author)
    # Someone who neither wrote nor approved it, nor may override, is refused.
    await chat.runtime.handle(
        click_as(chat, "jo", "approvals.cancel", f"{draft.id}|1"), chat.session
    )
    assert (await only_draft(chat)).state is DraftState.APPROVED
    marias = chat.press("maria", "Cancel publishing", approval)
    out = await chat.run("as sam", f"click Cancel publishing #{author}")
    assert "Cancelled publishing: nothing more is sent" in out
    # Maria's click on her copy a moment later: one cancel, she is told by whom.
    assert "Already cancelled by Sam Okafor 09:00" in await told(chat, marias)
    assert await chat.store.outbox_size(PUBLISH_LANE) == 0
    for _ in range(5):
        await chat.run("advance 2h")
        await lane.drain()
    assert [a.status for a in receiver.attempts] == [500]
    assert receiver.published == []
    cancelled = await only_draft(chat)
    assert cancelled.state is DraftState.CANCELLED
    assert "Cancelled by Sam Okafor 09:00" in chat.card(approval)
    assert "[Cancel publishing]" not in chat.card(approval)
    assert "Publishing cancelled by Sam Okafor 09:00: nothing more is sent" in chat.card(author)
    assert "[Cancel publishing]" not in chat.card(author)
    # The mention no longer says a reply is on its way.
    assert "approved by" not in chat.card(1)
    log = await actions(chat, draft.id)
    assert log.count(("draft.cancelled", "sam")) == 1
    assert ("draft.published", "system") not in log
    # Hostile text stays literal on every card: no ping, no link made of it.
    for number in (approval, author):
        card = chat.card(number)
        assert "<!channel> so *sorry* about _that_, the refund is on its way <@U0ADA>" in card


async def test_cancel_racing_a_post_that_goes_through_ends_published(
    chat: Chat, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    await submitted(chat)
    draft = await only_draft(chat)
    receiver.gate_after_publish_next()
    await chat.run("as maria", "click Approve #2")
    sending = asyncio.create_task(lane.drain())
    await receiver.held.wait()  # the receiver has published; its answer waits
    approval = numbered(chat, "for approval")
    out = await chat.run("as maria", f"click Cancel publishing #{approval}")
    assert "Cancelled publishing" in out
    assert (await only_draft(chat)).state is DraftState.CANCELLED
    receiver.open_gate()
    assert await sending == 1
    out = await chat.run("advance 1s")
    published = await only_draft(chat)
    assert published.state is DraftState.PUBLISHED
    assert published.published_url == "https://social.example/posts/1"
    assert "Cancel came too late: published at 09:00" in chat.card(approval)
    assert "[Open reply ↗]" in chat.card(approval)
    # The author is told in a new message, since the cancel did not hold.
    assert "Cancel came too late: published at 09:00. Maria Lopez cancelled it" in out
    assert "Replied by Sam, approved by Maria, 09:00" in chat.card(1)
    await lane.drain()
    await chat.run("advance 1h")
    assert len(receiver.published) == 1 and len(receiver.attempts) == 1
    log = await chat.store.audit_log(f"draft:{draft.id}")
    assert [(e.action, e.actor) for e in log][-2:] == [
        ("draft.cancelled", "maria"),
        ("draft.published", "system"),
    ]
    assert log[-1].detail["cancel_too_late"] is True
    # A click on a card from before: it is public, nothing to cancel.
    late = click_as(chat, "sam", "approvals.cancel", f"{draft.id}|1")
    assert "Already published 09:00: it is public and can no longer be cancelled" in await told(
        chat, late
    )


async def test_a_refusal_that_answers_a_cancelled_post_is_audited_and_shown(
    chat: Chat, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    await submitted(chat)
    draft = await only_draft(chat)
    receiver.gate_refusal_next(422, "duplicate content <!channel>")
    await chat.run("as maria", "click Approve #2")
    sending = asyncio.create_task(lane.drain())
    await receiver.held.wait()  # the POST is in flight; the receiver's answer waits
    approval = numbered(chat, "for approval")
    author = numbered(chat, "Publishing")
    out = await chat.run("as sam", f"click Cancel publishing #{author}")
    assert "Cancelled publishing" in out
    receiver.open_gate()
    assert await sending == 1
    await chat.run("advance 1s")
    cancelled = await only_draft(chat)
    assert cancelled.state is DraftState.CANCELLED
    assert receiver.published == []
    said = (
        "The publishing system had already received it and refused it 09:00: "
        "duplicate content <!channel>. Nothing was published."
    )
    assert f"Publishing cancelled by Sam Okafor 09:00. {said}" in chat.card(author)
    assert said in chat.card(approval)
    assert "[Retry]" not in chat.card(author) and "[Retry]" not in chat.card(approval)
    log = await chat.store.audit_log(f"draft:{draft.id}")
    assert [(e.action, e.actor) for e in log][-2:] == [
        ("draft.cancelled", "sam"),
        ("draft.publish_failed", "system"),
    ]
    assert log[-1].detail["reason"] == "duplicate content <!channel>"
    assert log[-1].detail["after_cancel"] is True
    assert log[-1].detail["cancelled_by"] == "sam"
    # The same answer delivered again is recorded once.
    again = rules.settle(cancelled, 1, cancelled.publish_round, START, None, "duplicate content")
    assert isinstance(again, rules.Refusal)


async def test_a_crash_between_the_cancel_and_the_withdrawal_is_caught_up(
    chat: Chat, receiver: FakeReceiver, lane: ExternalSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    await submitted(chat)
    draft = await only_draft(chat)
    receiver.fail_next(100, 503)
    await chat.run("as maria", "click Approve #2")
    await lane.drain()
    store = chat.store
    withdraw = store.cancel_outbox

    async def dies(item_id: str) -> bool:
        raise ConnectionError("the process died here")

    # The process "dies" after the cancelling write, before the withdrawal.
    monkeypatch.setattr(store, "cancel_outbox", dies)
    with pytest.raises(ConnectionError):
        await chat.run("as maria", f"click Cancel publishing #{numbered(chat, 'for approval')}")
    assert (await only_draft(chat)).state is DraftState.CANCELLED
    assert await store.outbox_size(PUBLISH_LANE) == 1
    monkeypatch.setattr(store, "cancel_outbox", withdraw)
    # The timer that rode on the write withdraws it; nothing is POSTed again.
    await chat.run("advance 1s")
    assert await store.outbox_size(PUBLISH_LANE) == 0
    await chat.run("advance 2h")
    await lane.drain()
    assert [a.status for a in receiver.attempts] == [503]
    assert receiver.attempts[0].key == f"{draft.id}:1"
    await chat.run("advance 1s")
    assert (await only_draft(chat)).state is DraftState.CANCELLED
