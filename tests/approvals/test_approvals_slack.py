"""Approvals in Slack end to end, against the fake Web API: Draft reply opens a
modal, the submission lints and sends Maria a DM card, a self-approval is
refused privately, Approve updates the card in place, hostile text stays inert."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Loaded
from handlers.approvals.records import KIND, DraftState, from_record
from tests.fakes import slack_requests as slack
from tests.slack.slack_rig import (
    SECRET,
    SlackRig,
    assert_no_mrkdwn_but_dates,
    shown_text,
    slack_rig,
)
from tests.slack.test_slack_platform import button, click, link_care, post_mention

_TRIGGERS = itertools.count(1)
HOSTILE = "Hi @dana <!channel> so *sorry* about _that_, the refund is on its way <@U0ADA>"


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    async with slack_rig(loaded, *store_backend) as opened:
        yield opened


def dm_of(rig: SlackRig, user: str) -> str:
    return next(c for c, users in rig.fake.dm_channels.items() if users == user)


def dm_click(
    rig: SlackRig, message: dict[str, Any], label: str, user: str
) -> tuple[bytes, dict[str, str]]:
    element = button(message, label)
    stored = rig.fake.messages[message["channel"]]
    header = message["blocks"][0]["text"]  # a card keeps its headline through updates
    ts = next(m["ts"] for m in stored if (m.get("blocks") or [{}])[0].get("text") == header)
    return slack.block_action(
        SECRET,
        user_id=user,
        action_id=element["action_id"],
        value=element["value"],
        channel_id=message["channel"],
        message_ts=str(ts),
        trigger_id=f"T-{user}-{next(_TRIGGERS)}",
    )


async def submit_draft(rig: SlackRig, text: str) -> dict[str, Any]:
    await link_care(rig)
    card = await post_mention(rig)
    await rig.send(click(rig, card, "Claim", "U0SAM"))
    await rig.settle()
    claimed = rig.updates()[-1]
    await rig.send(click(rig, {**claimed, "channel": "C0CARE"}, "Draft reply", "U0SAM"))
    await rig.settle()
    [opened] = rig.fake.calls_to("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "approvals.draft"
    inputs = [b for b in view["blocks"] if b.get("type") == "input"]
    assert inputs[0]["block_id"] == "text" and inputs[0]["element"]["multiline"] is True
    status, _ = await rig.send(
        slack.view_submission(
            SECRET,
            user_id="U0SAM",
            callback_id="approvals.draft",
            private_metadata=view["private_metadata"],
            values={"text": {"value": {"type": "plain_text_input", "value": text}}},
        )
    )
    assert status == 200
    await rig.settle()
    return claimed


async def test_draft_approve_in_slack_with_hostile_text_inert(rig: SlackRig) -> None:
    await submit_draft(rig, HOSTILE)
    maria = dm_of(rig, "U0MARIA")
    [approval] = rig.posted(maria)
    shown = shown_text(approval)
    assert "Reply to @dana for approval" in shown
    # Shown as typed, in rich_text: no broadcast, no bold, no user ping.
    assert "Hi @dana <!channel> so *sorry* about _that_" in shown
    assert_no_mrkdwn_but_dates(approval["blocks"])
    # Sam cannot approve his own draft: told privately, nothing changes.
    await rig.send(dm_click(rig, approval, "Approve", "U0SAM"))
    await rig.settle()
    assert any("cannot approve or decide on it" in t for t in rig.ephemerals("U0SAM"))
    [record] = await rig.runtime.store.find(KIND, "state:pending")
    assert from_record(record).state is DraftState.PENDING
    # Maria approves: the card updates in place, the author gets Mark as sent.
    await rig.send(dm_click(rig, approval, "Approve", "U0MARIA"))
    await rig.settle()
    updated = [u for u in rig.updates() if u["channel"] == maria][-1]
    assert "Approved by Maria Lopez" in shown_text(updated)
    assert "Approve" not in [b["text"]["text"] for b in _buttons(updated)]
    sam = dm_of(rig, "U0SAM")
    assert any("Mark as sent" in shown_text(m) for m in rig.posted(sam))
    care = [u for u in rig.updates() if u["channel"] == "C0CARE"][-1]
    assert "Reply by Sam approved by Maria" in shown_text(care)
    for message in rig.posted() + rig.updates():
        assert_no_mrkdwn_but_dates(message["blocks"])
    # A stale click on the decided card: "already approved by", privately.
    await rig.send(dm_click(rig, approval, "Approve", "U0MARIA"))
    await rig.settle()
    assert any("Already approved by Maria Lopez" in t for t in rig.ephemerals("U0MARIA"))


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for block in message["blocks"]
        for e in block.get("elements", [])
        if e.get("type") == "button"
    ]


async def test_blocking_findings_go_to_the_author_only(rig: SlackRig) -> None:
    await submit_draft(rig, "Hi @dana, email me at dan.reyes@example.org and we sort it")
    found = rig.ephemerals("U0SAM")
    assert any("e-mail" in t.lower() or "email" in t.lower() for t in found)
    assert not [c for c, users in rig.fake.dm_channels.items() if users == "U0MARIA"]
