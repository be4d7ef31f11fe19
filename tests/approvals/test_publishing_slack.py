"""Webhook publishing end to end in Slack, on SQLite and Redis: the coach's
signed Approve click reaches the bot over HTTP, the loopback receiver gets
exactly one signed POST with the version's Idempotency-Key, and the mention
card in the care channel is updated in place with the reply's link; a 422
shows its reason with Retry and Cancel publishing, and Retry publishes once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Loaded
from bot.external_sends import ExternalSender
from handlers.approvals.records import KIND, Draft, DraftState, from_record
from tests.approvals.test_approvals_slack import dm_click, dm_of, submit_draft
from tests.fakes.webhook_receiver import FakeReceiver
from tests.publish_lane import signed_receiver, webhook_lane
from tests.slack.slack_rig import CARE, SlackRig, shown_text, slack_rig

REPLY = "Hi @dana, so sorry about the double charge. The refund is on its way."


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    async with slack_rig(loaded, *store_backend) as opened:
        yield opened


@pytest.fixture
async def receiver(rig: SlackRig) -> AsyncIterator[FakeReceiver]:
    async with signed_receiver(rig.clock) as fake:
        yield fake


@pytest.fixture
async def lane(rig: SlackRig, receiver: FakeReceiver) -> AsyncIterator[ExternalSender]:
    async with webhook_lane(rig.runtime, rig.clock, receiver) as sender:
        yield sender


async def the_draft(rig: SlackRig) -> Draft:
    found = [
        from_record(r)
        for state in DraftState
        for r in await rig.runtime.store.find(KIND, f"state:{state}")
    ]
    (draft,) = found
    return draft


async def publish(rig: SlackRig, lane: ExternalSender) -> None:
    """The publish lane sends, its settlement timer runs, the cards go out."""
    await lane.drain()
    scheduler = rig.runtime.scheduler()
    for _ in range(20):
        if not await scheduler.tick():
            break
    await rig.settle()


def care_card(rig: SlackRig) -> dict[str, Any]:
    return [u for u in rig.updates() if u["channel"] == CARE][-1]


def link_urls(message: dict[str, Any]) -> dict[str, str]:
    return {
        e["text"]["text"]: e["url"]
        for block in message["blocks"]
        for e in block.get("elements", [])
        if e.get("type") == "button" and e.get("url")
    }


def latest(rig: SlackRig, channel: str, headline: str) -> dict[str, Any]:
    """The message in ``channel`` whose headline has ``headline``, as it is now."""
    stored = rig.fake.messages[channel]
    found = [m for m in stored if headline in str((m.get("blocks") or [{}])[0].get("text"))]
    return {**found[-1], "channel": channel}


def labels(message: dict[str, Any]) -> list[str]:
    return [
        e["text"]["text"]
        for block in message["blocks"]
        for e in block.get("elements", [])
        if e.get("type") == "button"
    ]


async def test_approve_in_slack_publishes_once_and_links_the_reply(
    rig: SlackRig, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    await submit_draft(rig, REPLY)
    maria = dm_of(rig, "U0MARIA")
    [approval] = rig.posted(maria)
    status, _ = await rig.send(dm_click(rig, approval, "Approve", "U0MARIA"))
    assert status == 200
    await rig.settle()
    draft = await the_draft(rig)
    # On its way: the approvers' card and the author's offer Cancel publishing.
    assert "Cancel publishing" in labels(latest(rig, maria, "for approval"))
    sam = dm_of(rig, "U0SAM")
    assert "Cancel publishing" in labels(latest(rig, sam, "Publishing"))
    await publish(rig, lane)
    assert [(a.key, a.status) for a in receiver.attempts] == [(f"{draft.id}:1", 200)]
    [body] = receiver.published
    assert body["text"] == REPLY
    assert body["drafted_by"] == "sam" and body["approved_by"] == ["maria"]
    assert body["in_reply_to"]["network"] == "x" and body["in_reply_to"]["id"]
    published = await the_draft(rig)
    assert published.state is DraftState.PUBLISHED
    approved = published.last("approved")
    assert approved is not None
    at = approved.at.strftime("%H:%M")
    care = care_card(rig)
    assert f"Replied by Sam, approved by Maria, {at}" in shown_text(care)
    assert link_urls(care)["Open reply"] == "https://social.example/posts/1"
    assert "Published" in shown_text(latest(rig, maria, "for approval"))
    author = latest(rig, sam, "Published")
    assert "Your reply to @dana is published." in shown_text(author)
    assert link_urls(author)["Open reply"] == "https://social.example/posts/1"
    # A second drain finds nothing: one POST per version.
    await publish(rig, lane)
    assert len(receiver.attempts) == 1


async def test_a_422_shows_its_reason_and_retry_publishes_once_in_slack(
    rig: SlackRig, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    await submit_draft(rig, REPLY)
    maria = dm_of(rig, "U0MARIA")
    [approval] = rig.posted(maria)
    receiver.reject_next(422, "duplicate content <!channel>")
    await rig.send(dm_click(rig, approval, "Approve", "U0MARIA"))
    await rig.settle()
    await publish(rig, lane)
    assert (await the_draft(rig)).state is DraftState.FAILED
    sam = dm_of(rig, "U0SAM")
    failed = latest(rig, sam, "Publishing failed")
    assert "could not be published: duplicate content <!channel>" in shown_text(failed)
    assert labels(failed) == ["Retry", "Cancel publishing"]
    card = latest(rig, maria, "for approval")
    assert "The publishing system said: duplicate content <!channel>" in shown_text(card)
    assert labels(card) == ["Retry", "Cancel publishing"]
    assert "could not be published" in shown_text(care_card(rig))
    status, _ = await rig.send(dm_click(rig, failed, "Retry", "U0SAM"))
    assert status == 200
    await rig.settle()
    assert any("Publishing again" in t for t in rig.ephemerals("U0SAM"))
    await publish(rig, lane)
    draft = await the_draft(rig)
    assert draft.state is DraftState.PUBLISHED and draft.publish_round == 1
    assert [(a.key, a.status) for a in receiver.attempts] == [
        (f"{draft.id}:1", 422),
        (f"{draft.id}:1", 200),
    ]
    assert len(receiver.published) == 1
    assert "Replied by Sam, approved by Maria" in shown_text(care_card(rig))
    assert labels(latest(rig, sam, "Published")) == ["Open reply"]
