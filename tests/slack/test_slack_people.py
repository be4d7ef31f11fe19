"""Who a Slack user is costs one users.info call per user for a while,
whatever the answer, so a burst of events from a stranger stays cheap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import Loaded
from bot.platforms.slack.people import FAILED_LOOKUP_TTL, PEOPLE_CACHE_TTL
from tests.fakes import slack_requests as slack
from tests.slack.slack_rig import SECRET, SlackRig, slack_rig


@pytest.fixture
async def rig(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    async with slack_rig(loaded, *store_backend) as opened:
        yield opened


async def say(rig: SlackRig, user: str, times: int) -> None:
    for n in range(times):
        status, _ = await rig.send(
            slack.event(SECRET, event=slack.direct_message(user, f"hello {n}"))
        )
        assert status == 200
    await rig.settle()


def lookups(rig: SlackRig, user: str) -> int:
    return sum(1 for call in rig.fake.calls_to("users.info") if call.args.get("user") == user)


async def test_a_user_slack_will_not_describe_is_looked_up_once_for_a_while(
    rig: SlackRig,
) -> None:
    # U0GUEST is not in the workspace the fake knows: users.info says user_not_found.
    await say(rig, "U0GUEST", 6)
    assert lookups(rig, "U0GUEST") == 1
    # Every event was still handled: the bot tried to answer each one.
    assert len(rig.ephemerals("U0GUEST")) == 6

    rig.manual_clock.advance(PEOPLE_CACHE_TTL - timedelta(seconds=5))
    await say(rig, "U0GUEST", 2)
    assert lookups(rig, "U0GUEST") == 1
    rig.manual_clock.advance(timedelta(seconds=10))
    await say(rig, "U0GUEST", 2)
    assert lookups(rig, "U0GUEST") == 2  # asked again once the answer is stale


async def test_a_user_outside_the_config_is_looked_up_once(rig: SlackRig) -> None:
    # U0STRANGER exists in Slack, but their email is nobody in the config.
    await say(rig, "U0STRANGER", 5)
    assert lookups(rig, "U0STRANGER") == 1


async def test_a_rate_limited_look_up_is_not_repeated_before_retry_after(rig: SlackRig) -> None:
    rig.fake.rate_limit("users.info", times=1, retry_after=45)
    await say(rig, "U0GUEST", 4)
    assert lookups(rig, "U0GUEST") == 1
    rig.manual_clock.advance(timedelta(seconds=40))
    await say(rig, "U0GUEST", 2)
    assert lookups(rig, "U0GUEST") == 1  # Retry-After (45 s) outlasts the 30 s failure pause
    rig.manual_clock.advance(timedelta(seconds=10))
    await say(rig, "U0GUEST", 2)
    assert lookups(rig, "U0GUEST") == 2
    assert timedelta(seconds=45) > FAILED_LOOKUP_TTL
