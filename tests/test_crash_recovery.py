"""Acknowledged means done: ``serve`` killed with SIGKILL mid-burst, then restarted.

Each test runs the real ``playcaller serve`` as a subprocess against the
fakes (Slack Web API, Bot Connector), fires a burst of Claim clicks at it,
kills it with SIGKILL once some have been acknowledged or stored (while their
work is still waiting on a slow roster lookup), restarts it on the same
store, and checks in the store and the audit log that every acknowledged
click took effect exactly once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import Loaded, open_runtime
from bot.core.clock import SystemClock
from bot.core.directory import link_record
from bot.core.storage import InboxEntry, Store
from bot.inbox import REMEMBER_FOR
from bot.intake.feed import parse_mention
from bot.platforms.slack.verify import parse_signed_body
from bot.runtime import Runtime
from bot.store import open_store
from handlers.triage.records import KIND, from_record
from tests.conftest import REDIS_URL, _redis_available, _wipe_redis_namespace
from tests.fakes import slack_requests as slack
from tests.fakes import teams_activities as teams
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.slack_api import FakeSlack
from tests.serve_process import ServeProcess

SECRET = "crash-test-signing-secret"
CARE = "C0CARE"
CLICKERS = {"U0SAM": ("sam", "sam@example.com"), "U0ALEX": ("alex", "alex@example.com")}
PERSON = {"U0SAM": "sam", "U0ALEX": "alex"}
CLICKS = 40
KILL_AFTER = 12  # acknowledged clicks seen before the kill
ROSTER_DELAY = 2.0  # users.info answers this late: acknowledged work is still pending
LEASE_SECONDS = "1"
RECOVERY_TIMEOUT = 60.0
# Two cold starts of serve on a shared machine, plus recovery.
pytestmark = pytest.mark.timeout(400)


def mention_key(n: int) -> str:
    return f"x:crash-{n:03d}"


async def seed(runtime: Runtime, platform: str, channel: str, count: int) -> None:
    """Link ``channel`` to the care spoke and admit ``count`` mentions for it."""
    written = await runtime.store.insert(link_record(platform, "care", channel, "ada", 0))
    assert written.ok
    for n in range(count):
        admitted = await runtime.ingest(
            parse_mention(
                {
                    "network": "x",
                    "id": f"crash-{n:03d}",
                    "text": f"@acme order {n} arrived broken",
                    "created_at": "2026-03-02T08:41:00Z",
                    "author": {"handle": f"customer{n}", "followers": 10},
                }
            )
        )
        assert admitted


async def claims(store: Store, n: int) -> list[str]:
    """Who claimed mention ``n``, once per claim in the audit log."""
    entries = await store.audit_log(f"mention:{mention_key(n)}")
    return [e.actor for e in entries if e.action == "mention.claim"]


async def owner(store: Store, n: int) -> str | None:
    record = await store.get(KIND, mention_key(n))
    assert record is not None
    return from_record(record).owner


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll the store until ``check`` holds (the subprocess runs on wall time)."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


@asynccontextmanager
async def seeded_store(
    url: str, namespace: str, loaded: Loaded, platform: str, channel: str, count: int
) -> AsyncIterator[Runtime]:
    runtime = await open_runtime(
        loaded,
        store=open_store(url, namespace=namespace),
        clock=SystemClock(),
        platforms=[platform],
    )
    try:
        await seed(runtime, platform, channel, count)
        yield runtime
    finally:
        await runtime.store.close()


async def post(url: str, request: tuple[bytes, dict[str, str]]) -> int | None:
    body, headers = request
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{url}/slack/events", data=body, headers=headers) as response,
        ):
            await response.read()
            return response.status
    except (aiohttp.ClientError, ConnectionError):
        return None  # the process died before answering


def claim_click(n: int, user_id: str, api_url: str) -> tuple[bytes, dict[str, str]]:
    base = api_url.removesuffix("/").removesuffix("/api")
    return slack.block_action(
        SECRET,
        user_id=user_id,
        user_name=CLICKERS[user_id][0],
        action_id="triage.claim#0",
        value=f"{mention_key(n)}|1",
        channel_id=CARE,
        channel_name="care",
        message_ts=f"1767225600.{n:06d}",
        button_text="Claim",
        style="primary",
        response_url=f"{base}/hooks/actions/T0ACME/1/fake00000001",
    )


async def test_acknowledged_slack_clicks_take_effect_once_through_kill_9(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> None:
    url, namespace = store_backend
    fake = FakeSlack(bot_token="xoxb-crash")
    await fake.start()
    for user_id, (name, email) in CLICKERS.items():
        fake.add_user(user_id, name, email)
    fake.delay("users.info", ROSTER_DELAY)
    env = {
        "SLACK_BOT_TOKEN": "xoxb-crash",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "PLAYCALLER_PLATFORMS": "slack",
        "PLAYCALLER_INBOX_LEASE_SECONDS": LEASE_SECONDS,
    }
    try:
        async with seeded_store(url, namespace, loaded, "slack", CARE, CLICKS) as runtime:
            store = runtime.store
            first = ServeProcess(url, namespace, env, tmp_path / "serve")
            await first.start()
            users = list(CLICKERS)
            clicks = {n: claim_click(n, users[n % len(users)], fake.api_url) for n in range(CLICKS)}
            # Every third click is also delivered twice (a Slack retry, a double submit).
            burst = [(n, request) for n, request in clicks.items()]
            burst += [(n, clicks[n]) for n in range(0, CLICKS, 3)]
            acknowledged: set[int] = set()

            async def send(n: int, request: tuple[bytes, dict[str, str]]) -> None:
                if await post(first.url, request) == 200:
                    acknowledged.add(n)
                    if len(acknowledged) >= KILL_AFTER:
                        first.kill()

            await asyncio.gather(*(send(n, request) for n, request in burst))
            first.kill()
            await first.wait()
            assert len(acknowledged) >= KILL_AFTER
            unfinished = [n for n in acknowledged if not await claims(store, n)]
            # The kill caught acknowledged clicks whose work had not happened yet.
            assert unfinished, "the kill came too late to test anything"

            second = ServeProcess(url, namespace, env, tmp_path / "serve")
            await second.start()
            try:

                async def recovered() -> bool:
                    return all([await claims(store, n) for n in acknowledged])

                await eventually(recovered, "the acknowledged clicks to take effect")
                await eventually(
                    lambda: _empty(store, "slack"), "the inbox to be empty after recovery"
                )
                # A replay of an acknowledged click (same trigger id) has no second effect.
                replayed = sorted(acknowledged)[0]
                assert await post(second.url, clicks[replayed]) == 200
            finally:
                await second.stop()
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
        await fake.close()


async def _empty(store: Store, platform: str) -> bool:
    return await store.inbox_size(platform) == 0


TEAMS_PEOPLE = {
    "sam": teams.user("Sam Okafor", "00000000-0000-0000-0000-000000000001"),
    "alex": teams.user("Alex Chen", "00000000-0000-0000-0000-000000000002"),
}
TEAMS_CLICKS = 24
TEAMS_KILL_AFTER = 8  # stored invokes seen before the kill


def claim_invoke(service_url: str, n: int) -> dict[str, Any]:
    person = ("sam", "alex")[n % 2]
    return teams.execute_invoke(
        service_url,
        verb="triage.claim",
        data={"pc": "action", "action_id": "triage.claim", "value": f"{mention_key(n)}|1"},
        user=TEAMS_PEOPLE[person],
        reply_to_id=f"17672256{n:05d}",
        channel_id=teams.CHANNEL_ID,
        team_id=teams.TEAM_ID,
    )


async def post_activity(url: str, activity: dict[str, Any]) -> int | None:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{url}/api/messages", json=activity) as response,
        ):
            await response.read()
            return response.status
    except (aiohttp.ClientError, ConnectionError):
        return None


async def test_stored_teams_invokes_take_effect_once_through_kill_9(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> None:
    """A Teams invoke is answered after it is handled, so the kill catches
    invokes that were stored but not yet answered: they take effect after the
    restart without being sent again, and the Connector's resends of every
    invoke then change nothing."""
    url, namespace = store_backend
    connector = FakeConnector()
    await connector.start()
    for name, account in TEAMS_PEOPLE.items():
        connector.add_member(
            account["id"], account["name"], account["aadObjectId"], f"{name}@example.com"
        )
    connector.delay("member", ROSTER_DELAY)
    env = {
        "PLAYCALLER_TEAMS_ANONYMOUS": "1",
        "PLAYCALLER_PLATFORMS": "teams",
        "PLAYCALLER_INBOX_LEASE_SECONDS": LEASE_SECONDS,
    }
    try:
        async with seeded_store(
            url, namespace, loaded, "teams", teams.CHANNEL_ID, TEAMS_CLICKS
        ) as runtime:
            store = runtime.store
            first = ServeProcess(url, namespace, env, tmp_path / "serve")
            await first.start()
            invokes = [claim_invoke(connector.service_url, n) for n in range(TEAMS_CLICKS)]
            answered: set[int] = set()

            async def send(n: int) -> None:
                if await post_activity(first.url, invokes[n]) == 200:
                    answered.add(n)

            burst = asyncio.gather(*(send(n) for n in range(TEAMS_CLICKS)))

            async def stored_enough() -> bool:
                return await store.inbox_size("teams") >= TEAMS_KILL_AFTER

            await eventually(stored_enough, "invokes to be stored")
            first.kill()
            await burst
            await first.wait()
            stored_at_kill = await store.inbox_size("teams")
            assert stored_at_kill >= TEAMS_KILL_AFTER

            second = ServeProcess(url, namespace, env, tmp_path / "serve")
            await second.start()
            try:
                await eventually(lambda: _empty(store, "teams"), "the Teams inbox to drain")
                claimed = [n for n in range(TEAMS_CLICKS) if await claims(store, n)]
                # Every stored invoke took effect without being sent again.
                assert len(claimed) >= stored_at_kill + len(answered)
                assert answered <= set(claimed)
                # The Connector resends what it got no answer for (we resend all).
                for activity in invokes:
                    assert await post_activity(second.url, activity) == 200
            finally:
                await second.stop()
            for n in range(TEAMS_CLICKS):
                assert await claims(store, n) == [("sam", "alex")[n % 2]], n
    finally:
        await connector.close()


ORPHANS = 30


@pytest.fixture
async def redis_namespace() -> AsyncIterator[str]:
    if not _redis_available():
        pytest.fail(f"Redis not reachable at {REDIS_URL}: this test needs a shared store")
    namespace = f"test-{uuid.uuid4().hex}"
    yield namespace
    await _wipe_redis_namespace(namespace)


async def test_two_processes_on_one_redis_recover_each_orphan_once(
    redis_namespace: str, loaded: Loaded, tmp_path: Path
) -> None:
    """Clicks a dead process stored and acknowledged are recovered by two live
    processes sweeping the same Redis at once: each takes effect exactly once."""
    fake = FakeSlack(bot_token="xoxb-crash")
    await fake.start()
    for user_id, (name, email) in CLICKERS.items():
        fake.add_user(user_id, name, email)
    env = {
        "SLACK_BOT_TOKEN": "xoxb-crash",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "PLAYCALLER_PLATFORMS": "slack",
        "PLAYCALLER_INBOX_LEASE_SECONDS": LEASE_SECONDS,
    }
    users = list(CLICKERS)
    try:
        async with seeded_store(
            REDIS_URL, redis_namespace, loaded, "slack", CARE, ORPHANS
        ) as runtime:
            store = runtime.store
            # What a process that died right after acknowledging left behind.
            for n in range(ORPHANS):
                body, _ = claim_click(n, users[n % len(users)], fake.api_url)
                payload = parse_signed_body(body, "application/x-www-form-urlencoded")
                entry = InboxEntry(
                    f"slack:click:{payload['trigger_id']}",
                    "slack",
                    {"kind": "action", "body": payload, "bot_user_id": None},
                    runtime.clock.now(),
                )
                token = await store.admit_inbox(
                    entry, runtime.clock.now(), "dead-process", timedelta(seconds=1), REMEMBER_FOR
                )
                assert token is not None
            processes = [
                ServeProcess(REDIS_URL, redis_namespace, env, tmp_path / f"serve-{i}")
                for i in range(2)
            ]
            await asyncio.gather(*(p.start() for p in processes))
            try:
                await eventually(lambda: _empty(store, "slack"), "both processes to recover")
            finally:
                await asyncio.gather(*(p.stop() for p in processes))
            for n in range(ORPHANS):
                assert await claims(store, n) == [PERSON[users[n % len(users)]]], n
    finally:
        await fake.close()
