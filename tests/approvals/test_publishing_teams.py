"""Webhook publishing end to end in Teams, on SQLite and Redis: the coach
presses Approve on the card in her personal chat (an Action.Execute invoke
over HTTP to the bot), the loopback receiver gets exactly one signed POST
with the version's Idempotency-Key, and the mention card in the channel is
updated in place with the reply's link; a 422 shows its reason with Retry
and Cancel publishing, and Retry publishes once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Loaded
from bot.external_sends import ExternalSender
from handlers.approvals.records import KIND, Draft, DraftState, from_record
from tests.approvals.test_approvals_teams import inputs_of, personal_press
from tests.fakes import teams_activities as teams
from tests.fakes.webhook_receiver import FakeReceiver
from tests.publish_lane import signed_receiver, webhook_lane
from tests.teams.teams_rig import PEOPLE, TeamsRig, action_data, cards_in, teams_rig, texts
from tests.teams.test_teams_platform import CHANNEL, card_in_channel, install_and_link, press

REPLY = "Hi @dana, so sorry about the double charge. The refund is on its way."
MARIA = teams.personal_conversation_id(PEOPLE["maria"]["id"])
SAM = teams.personal_conversation_id(PEOPLE["sam"]["id"])


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[TeamsRig]:
    async with teams_rig(loaded, *store_backend) as opened:
        yield opened


@pytest.fixture
async def receiver(rig: TeamsRig) -> AsyncIterator[FakeReceiver]:
    async with signed_receiver(rig.clock) as fake:
        yield fake


@pytest.fixture
async def lane(rig: TeamsRig, receiver: FakeReceiver) -> AsyncIterator[ExternalSender]:
    async with webhook_lane(rig.runtime, rig.clock, receiver) as sender:
        yield sender


async def the_draft(rig: TeamsRig) -> Draft:
    (draft,) = [
        from_record(r)
        for state in DraftState
        for r in await rig.runtime.store.find(KIND, f"state:{state}")
    ]
    return draft


async def publish(rig: TeamsRig, lane: ExternalSender) -> None:
    """The publish lane sends, its settlement timer runs, the cards go out."""
    await lane.drain()
    scheduler = rig.runtime.scheduler()
    for _ in range(20):
        if not await scheduler.tick():
            break
    await rig.settle()


def current(rig: TeamsRig, conversation: str, headline: str) -> tuple[str, dict[str, Any]]:
    """The activity id and current card of the first card in ``conversation``
    whose text has ``headline`` when it was sent."""
    for activity in rig.connector.sent(conversation):
        cards = cards_in(activity)
        if cards and headline in texts(cards[0]):
            now = rig.connector.activity(conversation, str(activity["id"]))
            assert now is not None
            return str(activity["id"]), cards_in(now)[0]
    raise AssertionError(f"no card with {headline!r} in {conversation}")


def open_urls(card: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.OpenUrl":
                found[str(node["title"])] = str(node["url"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


async def approved_by_maria(rig: TeamsRig) -> str:
    """A claimed mention, Sam's reply submitted, Maria's Approve pressed;
    the mention card's activity id."""
    await install_and_link(rig)
    for person in ("maria", "sam"):
        await rig.post(teams.personal_message(rig.url, text="help", user=PEOPLE[person]))
    activity_id, card = await card_in_channel(rig)
    _, body = await rig.post(press(rig, card, "Claim", "sam", activity_id))
    _, body = await rig.post(press(rig, body["value"], "Draft reply", "sam", activity_id))
    form = body["value"]
    [text_input] = [i for i in inputs_of(form) if i["id"].endswith("text")]
    verb, data = action_data(form, "Submit for approval")
    status, _ = await rig.post(
        teams.execute_invoke(
            rig.url,
            verb=verb,
            data={**data, text_input["id"]: REPLY},
            user=PEOPLE["sam"],
            reply_to_id=activity_id,
            channel_id=teams.CHANNEL_ID,
            team_id=teams.TEAM_ID,
        )
    )
    assert status == 200
    await rig.settle()
    approval_id, approval = current(rig, MARIA, "Reply to @dana for approval")
    status, body = await rig.post(personal_press(rig, approval, "Approve", "maria", approval_id))
    assert status == 200
    assert "[Cancel publishing]" in texts(body["value"])
    await rig.settle()
    return activity_id


async def test_approve_in_teams_publishes_once_and_links_the_reply(
    rig: TeamsRig, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    mention_id = await approved_by_maria(rig)
    _, author = current(rig, SAM, "Publishing")
    assert "[Cancel publishing]" in texts(author)
    await publish(rig, lane)
    draft = await the_draft(rig)
    assert draft.state is DraftState.PUBLISHED
    assert [(a.key, a.status) for a in receiver.attempts] == [(f"{draft.id}:1", 200)]
    [body] = receiver.published
    assert body["text"] == REPLY
    assert body["drafted_by"] == "sam" and body["approved_by"] == ["maria"]
    assert body["in_reply_to"]["network"] == "x"
    approved = draft.last("approved")
    assert approved is not None
    now = rig.connector.activity(CHANNEL, mention_id)
    assert now is not None
    mention = cards_in(now)[0]
    assert f"Replied by Sam, approved by Maria, {approved.at:%H:%M}" in texts(mention)
    assert open_urls(mention)["Open reply"] == "https://social.example/posts/1"
    _, author = current(rig, SAM, "Publishing")
    assert "Your reply to @dana is published." in texts(author)
    assert open_urls(author)["Open reply"] == "https://social.example/posts/1"
    _, approval = current(rig, MARIA, "Reply to @dana for approval")
    assert "Published" in texts(approval) and "[Cancel publishing]" not in texts(approval)
    await publish(rig, lane)
    assert len(receiver.attempts) == 1


async def test_a_422_shows_its_reason_and_retry_publishes_once_in_teams(
    rig: TeamsRig, receiver: FakeReceiver, lane: ExternalSender
) -> None:
    receiver.reject_next(422, "duplicate content <at>everyone</at>")
    mention_id = await approved_by_maria(rig)
    await publish(rig, lane)
    assert (await the_draft(rig)).state is DraftState.FAILED
    author_id, author = current(rig, SAM, "Publishing")
    shown = texts(author)
    assert "could not be published: duplicate content <at>everyone</at>" in shown
    assert "[Retry]" in shown and "[Cancel publishing]" in shown
    _, approval = current(rig, MARIA, "Reply to @dana for approval")
    assert "The publishing system said: duplicate content" in texts(approval)
    status, body = await rig.post(personal_press(rig, author, "Retry", "sam", author_id))
    assert status == 200 and "Publishing again" in str(body)
    await rig.settle()
    await publish(rig, lane)
    draft = await the_draft(rig)
    assert draft.state is DraftState.PUBLISHED and draft.publish_round == 1
    assert [(a.key, a.status) for a in receiver.attempts] == [
        (f"{draft.id}:1", 422),
        (f"{draft.id}:1", 200),
    ]
    assert len(receiver.published) == 1
    now = rig.connector.activity(CHANNEL, mention_id)
    assert now is not None
    assert "Replied by Sam, approved by Maria" in texts(cards_in(now)[0])
