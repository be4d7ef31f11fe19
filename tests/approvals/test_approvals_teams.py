"""Approvals in Teams end to end, against the fake Bot Connector: Draft reply
opens a form on the card (Input.Text isMultiline), the approval card reaches
Maria's personal chat, Approve refreshes it in the invoke response and in
place, a self-approval and a stale click are refused to the clicker only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Loaded
from handlers.approvals.records import KIND, DraftState, from_record
from tests.fakes import teams_activities as teams
from tests.teams.teams_rig import PEOPLE, TeamsRig, action_data, cards_in, teams_rig, texts
from tests.teams.test_teams_platform import card_in_channel, install_and_link, press

HOSTILE = "Hi @dana <at>everyone</at> so **sorry**, [refund](https://evil.example) is on its way"


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[TeamsRig]:
    async with teams_rig(loaded, *store_backend) as opened:
        yield opened


def personal_press(
    rig: TeamsRig, card: dict[str, Any], title: str, person: str, activity_id: str, **extra: Any
) -> dict[str, Any]:
    verb, data = action_data(card, title)
    return teams.execute_invoke(
        rig.url, verb=verb, data={**data, **extra}, user=PEOPLE[person], reply_to_id=activity_id
    )


def inputs_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


async def test_draft_and_approve_in_teams(rig: TeamsRig) -> None:
    await install_and_link(rig)
    for person in ("maria", "sam"):
        await rig.post(teams.personal_message(rig.url, text="help", user=PEOPLE[person]))
    activity_id, card = await card_in_channel(rig)
    status, body = await rig.post(press(rig, card, "Claim", "sam", activity_id))
    claimed = body["value"]
    status, body = await rig.post(press(rig, claimed, "Draft reply", "sam", activity_id))
    assert status == 200
    form = body["value"]
    [text_input] = [i for i in inputs_of(form) if i["id"].endswith("text")]
    assert text_input["type"] == "Input.Text" and text_input["isMultiline"] is True
    verb, data = action_data(form, "Submit for approval")
    status, body = await rig.post(
        teams.execute_invoke(
            rig.url,
            verb=verb,
            data={
                **data,
                text_input["id"]: HOSTILE.replace("[refund](https://evil.example)", "the refund"),
            },
            user=PEOPLE["sam"],
            reply_to_id=activity_id,
            channel_id=teams.CHANNEL_ID,
            team_id=teams.TEAM_ID,
        )
    )
    assert status == 200
    assert "Submitted for approval" in json.dumps(body)
    await rig.settle()
    maria = teams.personal_conversation_id(PEOPLE["maria"]["id"])
    [approval_activity] = [
        a
        for a in rig.connector.sent(maria)
        if cards_in(a) and "Reply to @dana for approval" in texts(cards_in(a)[0])
    ]
    approval = cards_in(approval_activity)[0]
    shown = texts(approval)
    assert "Reply to @dana for approval" in shown and "<at>everyone</at> so **sorry**" in shown
    assert "<at>" not in json.dumps(
        [n for n in _text_nodes(approval) if n.get("type") == "TextBlock"]
    )
    # Sam presses Approve on Maria's card: refused, to him only.
    status, body = await rig.post(
        personal_press(rig, approval, "Approve", "sam", approval_activity["id"])
    )
    assert "cannot approve or decide on it" in json.dumps(body)
    status, body = await rig.post(
        personal_press(rig, approval, "Approve", "maria", approval_activity["id"])
    )
    assert status == 200
    assert "Approved by Maria Lopez" in texts(body["value"])
    await rig.settle()
    current = rig.connector.activity(maria, approval_activity["id"])
    assert current is not None and "Approved by Maria Lopez" in texts(cards_in(current)[0])
    [record] = await rig.runtime.store.find(KIND, "state:approved")
    assert from_record(record).state is DraftState.APPROVED
    sam = teams.personal_conversation_id(PEOPLE["sam"]["id"])
    assert any("Mark as sent" in texts(c) for c in rig.cards_sent(sam))
    # The old card pressed again: "already approved by", to the clicker only.
    status, body = await rig.post(
        personal_press(rig, approval, "Approve", "maria", approval_activity["id"])
    )
    assert "Already approved by Maria Lopez" in json.dumps(body)
    rig.validate_everything()


def _text_nodes(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found
