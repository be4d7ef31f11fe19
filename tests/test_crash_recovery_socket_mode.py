"""Acknowledged means done in Socket Mode too: ``serve`` killed with SIGKILL
mid-burst of envelopes, then restarted.

The real ``playcaller serve`` runs as a subprocess with an app-level token
and no signing secret, so it connects to the fake Slack's Socket Mode
endpoint the way it connects to Slack: ``apps.connections.open`` with the
``xapp-`` token returns the WebSocket URL (``ws://`` on loopback: the fake
has no certificate), Slack sends ``hello``, then envelopes carrying Claim
clicks, each with its ``envelope_id``, and the bot answers each with the ack
frame ``{"envelope_id": ...}``. Slack never re-sends an interactive envelope
it got an ack for, so every click whose ack frame reached the fake must take
effect exactly once, however the process dies; the others at most once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import Loaded
from tests.fakes import slack_requests as slack
from tests.fakes.slack_api import FakeSlack
from tests.serve_process import ServeProcess
from tests.test_crash_recovery import (
    CARE,
    CLICKERS,
    LEASE_SECONDS,
    PERSON,
    ROSTER_DELAY,
    _empty,
    claim_click,
    claims,
    eventually,
    owner,
    seeded_store,
)

APP_TOKEN = "xapp-crash-app-token"
CLICKS = 40
KILL_AFTER = 12  # ack frames received before the kill
CONNECT_TIMEOUT = 60.0  # serve's start-up includes the Socket Mode connection
ACK_TIMEOUT = 30.0
# Two cold starts of serve on a shared machine, plus recovery (as in test_crash_recovery).
pytestmark = pytest.mark.timeout(400)


async def test_acknowledged_socket_mode_envelopes_take_effect_once_through_kill_9(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> None:
    url, namespace = store_backend
    fake = FakeSlack(bot_token="xoxb-crash", app_token=APP_TOKEN)
    await fake.start()
    for user_id, (name, email) in CLICKERS.items():
        fake.add_user(user_id, name, email)
    fake.delay("users.info", ROSTER_DELAY)  # acknowledged work is still pending at the kill
    env = {
        "SLACK_BOT_TOKEN": "xoxb-crash",
        "SLACK_APP_TOKEN": APP_TOKEN,  # Socket Mode: no signing secret, no HTTP endpoint
        "SLACK_API_URL": fake.api_url,
        "PLAYCALLER_PLATFORMS": "slack",
        "PLAYCALLER_INBOX_LEASE_SECONDS": LEASE_SECONDS,
    }
    users = list(CLICKERS)
    first = ServeProcess(url, namespace, env, tmp_path / "serve")
    second = ServeProcess(url, namespace, env, tmp_path / "serve")
    try:
        async with seeded_store(url, namespace, loaded, "slack", CARE, CLICKS) as runtime:
            store = runtime.store
            await first.start()
            await fake.wait_connected(CONNECT_TIMEOUT)
            assert fake.socket_connects == 1
            clicks = {n: claim_click(n, users[n % len(users)], fake.api_url) for n in range(CLICKS)}
            # Every third click also arrives a second time in its own envelope
            # (a double submit): same trigger id, new envelope id.
            burst = [(n, slack.to_envelope(clicks[n])) for n in range(CLICKS)]
            burst += [(n, slack.to_envelope(clicks[n])) for n in range(0, CLICKS, 3)]
            acknowledged: set[int] = set()

            async def acked(n: int, envelope_id: str) -> None:
                try:
                    frame = await fake.wait_ack(envelope_id, ACK_TIMEOUT)
                except TimeoutError:
                    return  # the process died before acknowledging it
                assert frame == {"envelope_id": envelope_id}
                acknowledged.add(n)
                if len(acknowledged) >= KILL_AFTER:
                    first.kill()

            waiting = [asyncio.create_task(acked(n, e["envelope_id"])) for n, e in burst]
            for _, envelope in burst:
                await fake.send_envelope(envelope)
            await first.wait()  # killed by the KILL_AFTER-th ack
            await fake.wait_disconnected(CONNECT_TIMEOUT)
            for task in waiting:
                task.cancel()  # the rest can no longer be acknowledged
            await asyncio.gather(*waiting, return_exceptions=True)
            assert len(acknowledged) >= KILL_AFTER
            unfinished = [n for n in acknowledged if not await claims(store, n)]
            assert unfinished, "the kill came too late to test anything"

            await second.start()
            await fake.wait_connected(CONNECT_TIMEOUT)
            assert fake.socket_connects == 2

            async def recovered() -> bool:
                return all([await claims(store, n) for n in acknowledged])

            await eventually(recovered, "the acknowledged clicks to take effect")
            await eventually(lambda: _empty(store, "slack"), "the inbox to be empty")
            # A click delivered again after the restart (new envelope, same
            # trigger id) is acknowledged and has no second effect.
            again = slack.to_envelope(clicks[sorted(acknowledged)[0]])
            await fake.send_envelope(again)
            assert await fake.wait_ack(again["envelope_id"], ACK_TIMEOUT) == {
                "envelope_id": again["envelope_id"]
            }
            await eventually(lambda: _empty(store, "slack"), "the replay to be handled")
            await second.stop()  # close the Socket Mode client before the fake
            for n in range(CLICKS):
                who = await claims(store, n)
                if n in acknowledged:
                    clicker = PERSON[users[n % len(users)]]
                    assert who == [clicker], (n, who)
                    assert await owner(store, n) == clicker
                else:
                    assert len(who) <= 1, (n, who)
            assert await store.inbox_size() == 0
    finally:
        first.kill()
        await first.wait()
        await second.stop()
        await fake.close()
