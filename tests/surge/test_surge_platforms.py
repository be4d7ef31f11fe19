"""2,000 mentions for one spoke through ``POST /intake``, on the console, Slack
(fake Web API) and Teams (fake Bot Connector), on SQLite and Redis: one surge
card updated in place, the stand-outs posted singly and first, every mention
stored in the triage queue, and the platforms called at the paces they allow."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Loaded
from bot.runtime import Runtime
from handlers.triage.records import KIND
from tests.conftest import Chat, open_chat, writable_guidelines
from tests.fakes import slack_requests as slack
from tests.fakes import teams_activities as teams
from tests.slack.slack_rig import CARE, SECRET, SlackRig, shown_text, slack_rig
from tests.surge.burst import send_burst, standouts
from tests.teams.teams_rig import PEOPLE, TeamsRig, action_data, cards_in, teams_rig, texts

# 2,000 mentions through every stage on a real store: a minute or more when
# the machine's two cores are shared, over the suite's 60 s default.
pytestmark = pytest.mark.timeout(300)

TOTAL = 2000
ALLOWANCE = 20
REFRESHES = 3


async def queued_in_care(runtime: Runtime) -> int:
    open_ = await runtime.store.find(KIND, "queue:care:open", limit=TOTAL + 10)
    return len(open_)


async def refresh(runtime: Runtime, advance: Any, settle: Any) -> None:
    """Let ten seconds pass and fire what came due (the surge card's refresh)."""
    advance(timedelta(seconds=10))
    await runtime.scheduler().tick()
    await settle()


async def calm_down(runtime: Runtime, advance: Any, settle: Any) -> None:
    """Eleven quiet minutes, refreshed on the way: past the 5-minute window,
    then past the 10 minutes the rate must stay low before the surge ends."""
    for minutes in (6, 5):
        advance(timedelta(minutes=minutes))
        await runtime.scheduler().tick()
        await settle()


# -- console -----------------------------------------------------------------------


@pytest.fixture
async def chat(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> AsyncIterator[Chat]:
    opened = await open_chat(*store_backend, writable_guidelines(loaded, tmp_path / "g"))
    yield opened
    await opened.store.close()


async def test_console_burst(chat: Chat) -> None:
    assert await send_burst(chat.runtime, TOTAL) == TOTAL
    await chat.session.settle()
    for _ in range(REFRESHES):
        await refresh(chat.runtime, chat.session.clock.advance, chat.session.settle)
    shown = "\n".join(chat.session.transcript)
    singles = standouts(TOTAL, ALLOWANCE)
    # One surge card, posted once and then only updated in place.
    cards = list(chat.session.shown.values())
    assert [s.number for s in cards if s.card.card_key == "surge:care:1"] == [1]
    assert shown.count("[#1 · #care (updated)]") in range(1, REFRESHES + 1)
    # The allowance and the stand-outs; nothing else got a card of its own.
    mention_cards = {
        s.card.card_key for s in cards if (s.card.card_key or "").startswith("mention:")
    }
    assert len(mention_cards) == ALLOWANCE + len(singles)
    assert mention_cards >= {f"mention:{key}" for key in singles}
    assert await queued_in_care(chat.runtime) == TOTAL
    # /triage counts all of them and pages on past the first screens.
    queue = await chat.run("as alex", "/triage care")
    assert f"Unclaimed in Customer Care ({TOTAL})" in queue
    assert f"(Showing 1-5 of {TOTAL} unclaimed)" in queue
    assert f"(Showing 6-10 of {TOTAL} unclaimed)" in await chat.run("click Show more")
    # The hostile repost's text is shown as typed: no broadcast, no link markup.
    card = chat.card(1)
    assert "Similar mentions, largest first:" in card


# -- Slack ---------------------------------------------------------------------------


@pytest.fixture
async def slack_on(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    async with slack_rig(loaded, *store_backend) as opened:
        yield opened


HUB = "C0HUB"


async def test_slack_burst(slack_on: SlackRig) -> None:
    rig = slack_on
    for channel, spoke in ((CARE, "care"), (HUB, "hub")):
        await rig.slash(f"link {spoke}", channel=channel, channel_name=spoke)
    hub_before = len(rig.posted(HUB))
    before = len(rig.posted(CARE))
    assert await send_burst(rig.runtime, TOTAL) == TOTAL
    await rig.settle(max_rounds=1000)
    for _ in range(REFRESHES):
        await refresh(rig.runtime, rig.manual_clock.advance, lambda: rig.settle(max_rounds=1000))
    posted = [shown_text(p) for p in rig.posted(CARE)[before:]]
    kinds = [kind_of(text) for text in posted]
    singles = standouts(TOTAL, ALLOWANCE)
    assert kinds.count("surge") == 1, "the surge card is posted once"
    assert kinds.count("standout") == len(singles)
    assert kinds.count("allowance") == ALLOWANCE
    assert len(posted) == 1 + ALLOWANCE + len(singles)
    # The surge card and the stand-outs go ahead of the twenty earlier cards.
    assert kinds[0] == "surge"
    assert max(i for i, k in enumerate(kinds) if k == "standout") < kinds.index("allowance")
    surge_updates = [u for u in rig.updates() if "Surge in Customer Care" in shown_text(u)]
    assert 1 <= len(surge_updates) <= REFRESHES
    assert "Similar mentions, largest first" in shown_text(surge_updates[-1])
    # Slack's pace: posts in one channel at least a second apart (the fake
    # stamps each message with the bot's clock as it lands).
    stamps = [float(m["ts"]) for m in rig.fake.messages[CARE]][before:]
    assert len(stamps) == len(posted)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 1.0, gaps
    assert not [c for c in rig.fake.calls_to("chat.postMessage") if c.rate_limited]
    assert await queued_in_care(rig.runtime) == TOTAL
    # The hub got one spike alert for the spoke and one per topic the burst
    # talks about, each posted once (the burst fits in one hour).
    alerts = [shown_text(p) for p in rig.posted(HUB)[hub_before:]]
    titles = sorted(text.split(" · ")[0] for text in alerts)
    assert titles == [
        "Spike in Customer Care",
        "Spike: mentions of app-outage",
        "Spike: mentions of refunds",
    ]
    # Quiet again: the surge card is updated in place one last time, with its summary.
    await calm_down(rig.runtime, rig.manual_clock.advance, lambda: rig.settle(max_rounds=1000))
    ended = shown_text(rig.updates()[-1])
    assert "Surge in Customer Care ended" in ended
    assert "The surge in Customer Care ended after" in ended and "2,000 mentions" in ended
    assert len([p for p in rig.posted(CARE)[before:] if "Surge in" in shown_text(p)]) == 1


def kind_of(text: str) -> str:
    if "Surge in Customer Care" in text:
        return "surge"
    if "I will sue Acme" in text or "500k followers" in text:
        return "standout"
    return "allowance"


# -- Teams ---------------------------------------------------------------------------


TEAMS_HUB = "19:0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d@thread.tacv2"
TEAMS_HUB_TEAM = "19:5f4e3d2c1b0a4f9e8d7c6b5a4f3e2d1c@thread.tacv2"


@pytest.fixture
async def teams_on(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[TeamsRig]:
    # The hub is a channel of its own team, where the spike alerts go.
    channels = loaded.settings.channels
    settings = dataclasses.replace(
        loaded.settings,
        channels={**channels, "hub": {**channels.get("hub", {}), "teams": TEAMS_HUB}},
    )
    async with teams_rig(dataclasses.replace(loaded, settings=settings), *store_backend) as opened:
        yield opened


async def test_teams_burst(teams_on: TeamsRig) -> None:
    rig = teams_on
    status, _ = await rig.post(teams.bot_added_to_team(rig.url, installer=PEOPLE["ada"]))
    assert status in (200, 201)
    status, _ = await rig.post(teams.channel_message(rig.url, text="link care", user=PEOPLE["ada"]))
    assert status in (200, 201)
    status, _ = await rig.post(
        teams.bot_added_to_team(
            rig.url, installer=PEOPLE["ada"], team_id=TEAMS_HUB_TEAM, channel_id=TEAMS_HUB
        )
    )
    assert status in (200, 201)
    await rig.settle()
    channel = teams.CHANNEL_ID
    hub_before = len(rig.cards_sent(TEAMS_HUB))
    before = len(rig.connector.sent(channel))
    assert await send_burst(rig.runtime, TOTAL) == TOTAL
    await rig.settle(max_rounds=1000)
    for _ in range(REFRESHES):
        await refresh(rig.runtime, rig.clock.advance, lambda: rig.settle(max_rounds=1000))
    posted = [texts(cards_in(a)[0]) for a in rig.connector.sent(channel)[before:] if cards_in(a)]
    kinds = [kind_of(text) for text in posted]
    singles = standouts(TOTAL, ALLOWANCE)
    assert kinds.count("surge") == 1
    assert kinds.count("standout") == len(singles)
    assert kinds.count("allowance") == ALLOWANCE
    assert kinds[0] == "surge"
    updated = [texts(c) for a in rig.connector.updated() for c in cards_in(a)]
    surge_updates = [t for t in updated if "Surge in Customer Care" in t]
    assert 1 <= len(surge_updates) <= REFRESHES
    assert all(call.ok for call in rig.connector.calls)
    assert await queued_in_care(rig.runtime) == TOTAL
    # The hub got one spike alert for the spoke and one per topic, each posted
    # once and afterwards only updated in place.
    alerts = [texts(card) for card in rig.cards_sent(TEAMS_HUB)[hub_before:]]
    titles = sorted(
        title
        for title in (
            "Spike in Customer Care",
            "Spike: mentions of app-outage",
            "Spike: mentions of refunds",
        )
        for text in alerts
        if text.startswith(title)
    )
    assert titles == [
        "Spike in Customer Care",
        "Spike: mentions of app-outage",
        "Spike: mentions of refunds",
    ], alerts
    assert len(alerts) == 3
    # Raise as crisis on the topic alert hands it to the crisis leads in the hub.
    [topic_alert] = [
        a
        for a in rig.connector.sent(TEAMS_HUB)
        if cards_in(a) and texts(cards_in(a)[0]).startswith("Spike: mentions of app-outage")
    ]
    verb, data = action_data(cards_in(topic_alert)[0], "Raise as crisis")
    status, _ = await rig.post(
        teams.execute_invoke(
            rig.url,
            verb=verb,
            data=data,
            user=PEOPLE["maria"],
            reply_to_id=str(topic_alert["id"]),
            conversation_id=TEAMS_HUB,
            team_id=TEAMS_HUB_TEAM,
            channel_id=TEAMS_HUB,
        )
    )
    assert status == 200
    await rig.settle()
    raised = [texts(card) for card in rig.cards_sent(TEAMS_HUB)[hub_before + 3 :]]
    assert len(raised) == 1, raised
    assert "Spike alert:" in raised[0] and "mentions of app-outage" in raised[0]
    assert "Declare" in raised[0] and "Dismiss" in raised[0]
    log = await rig.runtime.store.audit_log(limit=100_000)
    audit = [e for e in log if e.action == "crisis.raised"]
    assert [e.actor for e in audit] == ["maria"]
    # The surge card was updated again and again, and nobody's click waits on
    # it: the platform keeps no copy of those updates.
    assert rig.platform.delivery.last_update == {}
    # Quiet again: the surge card is updated in place one last time, with its summary.
    await calm_down(rig.runtime, rig.clock.advance, lambda: rig.settle(max_rounds=1000))
    ended = [texts(c) for a in rig.connector.updated() for c in cards_in(a)][-1]
    assert "Surge in Customer Care ended" in ended
    assert "The surge in Customer Care ended after" in ended and "2,000 mentions" in ended


def find_button(node: Any, label: str) -> dict[str, Any] | None:
    if isinstance(node, dict):
        if node.get("type") == "button" and node.get("text", {}).get("text") == label:
            return node
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            found = find_button(value, label)
            if found is not None:
                return found
    return None


async def test_slack_two_responders_claim_one_group_at_once(slack_on: SlackRig) -> None:
    import asyncio

    from handlers.surge.records import CLAIM_KIND

    rig = slack_on
    await rig.slash("link care", channel=CARE, channel_name="care")
    assert await send_burst(rig.runtime, 60, per_request=60) == 60
    await rig.settle()
    await refresh(rig.runtime, rig.manual_clock.advance, rig.settle)
    [surge_post] = [p for p in rig.posted(CARE) if "Surge in Customer Care" in shown_text(p)]
    ts = next(m["ts"] for m in rig.fake.messages[CARE] if "Surge in" in json.dumps(m.get("blocks")))
    latest = [u for u in rig.updates() if u["ts"] == ts][-1]
    element = find_button(latest["blocks"], "Claim cluster")
    assert element is not None and surge_post is not None
    clicks = [
        slack.block_action(
            SECRET,
            user_id=user,
            action_id=element["action_id"],
            value=element["value"],
            channel_id=CARE,
            message_ts=ts,
        )
        for user in ("U0SAM", "U0ALEX")
    ]
    results = await asyncio.gather(*(rig.send(c) for c in clicks))
    assert [status for status, _ in results] == [200, 200]
    await rig.settle()
    [claim] = await rig.runtime.store.find(CLAIM_KIND, "surge:care:1")
    winner = claim.data["owner"]
    loser, name = ("U0ALEX", "Sam Okafor") if winner == "sam" else ("U0SAM", "Alex Chen")
    assert any(f"{name} already claimed that group." in t for t in rig.ephemerals(loser))
    winner_id = "U0SAM" if winner == "sam" else "U0ALEX"
    assert any("You claimed" in t for t in rig.ephemerals(winner_id))
    owners = set()
    for key in claim.data["members"]:
        record = await rig.runtime.store.get(KIND, key)
        assert record is not None
        owners.add(record.data["owner"])
    assert owners == {winner}


async def test_teams_two_responders_claim_one_group_at_once(teams_on: TeamsRig) -> None:
    import asyncio

    from handlers.surge.records import CLAIM_KIND
    from tests.teams.teams_rig import action_data

    rig = teams_on
    await rig.post(teams.bot_added_to_team(rig.url, installer=PEOPLE["ada"]))
    await rig.post(teams.channel_message(rig.url, text="link care", user=PEOPLE["ada"]))
    await rig.settle()
    assert await send_burst(rig.runtime, 60, per_request=60) == 60
    await rig.settle()
    await refresh(rig.runtime, rig.clock.advance, rig.settle)
    [ref] = await rig.runtime.store.card_refs("teams", "surge:care:1")
    activity_id = str(ref["activity_id"])
    current = rig.connector.activity(teams.CHANNEL_ID, activity_id)
    assert current is not None
    card = cards_in(current)[0]
    verb, data = action_data(card, "Claim cluster")

    def press(person: str) -> dict[str, Any]:
        return teams.execute_invoke(
            rig.url,
            verb=verb,
            data=data,
            user=PEOPLE[person],
            reply_to_id=activity_id,
            channel_id=teams.CHANNEL_ID,
            team_id=teams.TEAM_ID,
        )

    (s1, b1), (s2, b2) = await asyncio.gather(rig.post(press("sam")), rig.post(press("alex")))
    assert s1 == s2 == 200
    [claim] = await rig.runtime.store.find(CLAIM_KIND, "surge:care:1")
    winner = claim.data["owner"]
    answers = {"sam": json.dumps(b1), "alex": json.dumps(b2)}
    loser = "alex" if winner == "sam" else "sam"
    name = "Sam Okafor" if winner == "sam" else "Alex Chen"
    assert f"{name} already claimed that group." in answers[loser]
    assert "You claimed" in answers[winner]
