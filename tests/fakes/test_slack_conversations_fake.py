"""The fake Slack's channel methods, exercised with the real slack_sdk:
conversations.create / invite / setTopic / list and their ok:false errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from .slack_api import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack(known_channels={"C0HUB"})
    await server.start()
    server.add_user("U0PRIYA", "priya", "priya@example.com")
    server.add_user("U0MARIA", "maria", "maria@example.com")
    yield server
    await server.close()


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    web = AsyncWebClient(token="xoxb-test-token", base_url=fake.api_url, retry_handlers=[])
    yield web
    if web.session is not None:
        await web.session.close()


async def error_of(call: object) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_create_names_and_clashes(fake: FakeSlack, client: AsyncWebClient) -> None:
    created = await client.conversations_create(name="crisis-cr-1-outage")
    channel = created["channel"]
    assert channel["name"] == "crisis-cr-1-outage" and channel["creator"] == "U0BOT"
    assert channel["is_member"] and not channel["is_private"]
    for name, error in (
        ("crisis-cr-1-outage", "name_taken"),
        ("Crisis CR-1", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("", "invalid_name_required"),
    ):
        refused = await error_of(client.conversations_create(name=name))
        assert refused.response["ok"] is False and refused.response["error"] == error
    fake.refuse_create("restricted_action")
    refused = await error_of(client.conversations_create(name="crisis-cr-2"))
    assert refused.response["error"] == "restricted_action"
    # The channel is postable once created.
    posted = await client.chat_postMessage(channel=channel["id"], text="hello")
    assert posted["channel"] == channel["id"]


async def test_invite_topic_and_list(fake: FakeSlack, client: AsyncWebClient) -> None:
    channel = (await client.conversations_create(name="room"))["channel"]["id"]
    invited = await client.conversations_invite(channel=channel, users="U0PRIYA")
    assert invited["ok"] and invited["channel"]["num_members"] == 2
    again = await error_of(client.conversations_invite(channel=channel, users="U0PRIYA,U0MARIA"))
    assert again.response["error"] == "already_in_channel"
    assert again.response["errors"] == [
        {"user": "U0PRIYA", "ok": False, "error": "already_in_channel"}
    ]
    forced = await client.conversations_invite(channel=channel, users="U0PRIYA,U0MARIA", force=True)
    assert forced["ok"] and forced["errors"][0]["user"] == "U0PRIYA"
    assert fake.channels[channel]["members"] == ["U0BOT", "U0PRIYA", "U0MARIA"]
    self_invite = await error_of(client.conversations_invite(channel=channel, users="U0BOT"))
    assert self_invite.response["error"] == "cant_invite_self"
    missing = await error_of(client.conversations_invite(channel="C0NOPE", users="U0PRIYA"))
    assert missing.response["error"] == "channel_not_found"
    topic = await client.conversations_setTopic(channel=channel, topic="CR-1 · SEV2")
    assert topic["channel"]["topic"]["value"] == "CR-1 · SEV2"
    too_long = await error_of(client.conversations_setTopic(channel=channel, topic="x" * 251))
    assert too_long.response["error"] == "too_long"
    for n in range(3):
        fake.add_channel(f"other-{n}")
    first = await client.conversations_list(limit=2)
    assert len(first["channels"]) == 2 and first["response_metadata"]["next_cursor"]
    rest = await client.conversations_list(
        limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    names = [c["name"] for c in [*first["channels"], *rest["channels"]]]
    assert names == ["room", "other-0", "other-1", "other-2"]
    assert not rest["response_metadata"]["next_cursor"]
