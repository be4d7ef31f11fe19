"""/crisis on Slack against the local fake Web API: the declare modal, the
incident card in the hub channel, the page DM with Acknowledge, escalation,
a checklist tick and resolve, all as valid Block Kit with no mrkdwn."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from handlers.crisis.records import KIND, from_record
from tests.fakes import slack_requests as slack
from tests.slack.slack_rig import SECRET, SlackRig, assert_no_mrkdwn_but_dates

HUB = "C0HUB"


def shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def rig(slack_crisis: SlackRig) -> SlackRig:
    return slack_crisis


async def command(rig: SlackRig, user: str, name: str, text: str, command: str = "/crisis") -> None:
    await rig.slash(text, command=command, user=user, name=name)


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return dict(element)
    raise AssertionError(f"no button {label!r}")


async def click(rig: SlackRig, message: dict[str, Any], label: str, user: str) -> None:
    element = button(message, label)
    channel = message["channel"]
    header = message["blocks"][0]["text"]  # a card keeps its headline through updates
    ts = [m["ts"] for m in rig.fake.messages[channel] if m["blocks"][0].get("text") == header][-1]
    status, _ = await rig.send(
        slack.block_action(
            SECRET,
            user_id=user,
            action_id=element["action_id"],
            value=element["value"],
            channel_id=channel,
            message_ts=str(ts),
        )
    )
    assert status == 200
    await rig.settle()


async def test_declare_page_ack_escalate_tick_and_resolve_on_slack(rig: SlackRig) -> None:
    await command(rig, "U0ADA", "ada", "link hub", command="/playcaller")
    # The modal: the playbooks, a summary, the severity and every variable.
    await command(rig, "U0PRIYA", "priya", "")
    [opened] = rig.fake.calls_to("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "crisis.declare"
    status, _ = await rig.send(
        slack.view_submission(
            SECRET,
            user_id="U0PRIYA",
            callback_id="crisis.declare",
            private_metadata=view["private_metadata"],
            values={
                "playbook": {
                    "value": {
                        "type": "static_select",
                        "selected_option": {
                            "value": "service-outage",
                            "text": {"type": "plain_text", "text": "service-outage"},
                        },
                    }
                },
                "summary": {
                    "value": {"type": "plain_text_input", "value": "AcmePay <!here> *down*"}
                },
                "severity": {
                    "value": {
                        "type": "static_select",
                        "selected_option": {
                            "value": "default",
                            "text": {"type": "plain_text", "text": "default"},
                        },
                    }
                },
                "var_service": {"value": {"type": "plain_text_input", "value": "AcmePay"}},
                "var_status_url": {
                    "value": {"type": "plain_text_input", "value": "https://status.acme.com"}
                },
            },
        )
    )
    assert status == 200
    await rig.settle()
    record = await rig.runtime.store.get(KIND, "CR-1")
    assert record is not None
    card = rig.posted(HUB)[-1]
    text = shown(card["blocks"])
    assert "CR-1 · Customer-facing service outage" in text
    assert "0 of 2" not in text and "1 of 2 acknowledged" in text
    # The summary is literal text (rich_text/plain_text, never mrkdwn): no broadcast.
    assert "AcmePay <!here> *down*" in text
    assert_no_mrkdwn_but_dates(card["blocks"])
    # Maria's page is a DM with Acknowledge.
    pages = [m for m in rig.posted() if m["channel"].startswith("D")]
    assert len(pages) == 1 and "You are paged: CR-1" in shown(pages[0]["blocks"])
    # Five minutes without an acknowledgement: a reminder DM.
    rig.manual_clock.advance(timedelta(minutes=5))
    await rig.runtime.scheduler().tick()
    await rig.settle()
    pages = [m for m in rig.posted() if m["channel"].startswith("D")]
    assert len(pages) == 2 and "Reminder 1" in shown(pages[1]["blocks"])
    await click(rig, pages[1], "Acknowledge", "U0MARIA")
    assert any("You acknowledged CR-1" in shown(u["blocks"]) for u in rig.updates())
    assert "2 of 2 acknowledged" in shown(
        [u["blocks"] for u in rig.updates() if u["channel"] == HUB][-1]
    )
    hub_card = rig.posted(HUB)[-1]
    await click(rig, hub_card, "Done", "U0SAM")
    latest = [u for u in rig.updates() if u["channel"] == HUB][-1]
    assert "Checklist 1/8" in shown(latest["blocks"])
    await command(rig, "U0PRIYA", "priya", "resolve")
    latest = [u for u in rig.updates() if u["channel"] == HUB][-1]
    assert "Resolved after 5m" in shown(latest["blocks"])
    # The post-incident summary goes into the incident's own room channel.
    [summary] = [m for m in rig.posted() if "Resolved: CR-1" in shown(m["blocks"])]
    room = rig.fake.channel_named("crisis-cr-1-service-outage")
    assert room is not None and summary["channel"] == room["id"]
    record = await rig.runtime.store.get(KIND, "CR-1")
    assert record is not None and not from_record(record).open
    for message in [*rig.posted(), *rig.updates()]:
        assert_no_mrkdwn_but_dates(message["blocks"])


async def test_holding_statement_through_approval_on_slack(rig: SlackRig) -> None:
    """Draft statement on the hub card, the coach's approval card as a DM,
    Approve, and the incident card updated in place, all without mrkdwn."""
    await command(rig, "U0ADA", "ada", "link hub", command="/playcaller")
    await command(
        rig,
        "U0PRIYA",
        "priya",
        'service-outage service="the *AcmePay* app" status_url=https://status.acme.com '
        "Payments fail <!channel>",
    )
    hub_card = rig.posted(HUB)[-1]
    assert 'Statement \\"first\\" not drafted on @acme' in shown(hub_card["blocks"])
    await click(rig, hub_card, "Draft statement", "U0SAM")
    approvals = [
        m
        for m in rig.posted()
        if m["channel"].startswith("D") and "for approval" in shown(m["blocks"])
    ]
    assert len(approvals) == 2
    x_card = next(m for m in approvals if "@acme on X" in shown(m["blocks"]))
    assert "the *AcmePay* app" in shown(x_card["blocks"])
    latest = [u for u in rig.updates() if u["channel"] == HUB][-1]
    assert 'Statement \\"first\\" on @acme: awaiting Maria Lopez (Coach)' in shown(latest["blocks"])
    await click(rig, x_card, "Approve", "U0MARIA")
    await rig.runtime.scheduler().tick()
    await rig.settle()
    latest = [u for u in rig.updates() if u["channel"] == HUB][-1]
    assert 'Statement \\"first\\" on @acme: approved by Maria Lopez' in shown(latest["blocks"])
    for message in [*rig.posted(), *rig.updates()]:
        assert_no_mrkdwn_but_dates(message["blocks"])
