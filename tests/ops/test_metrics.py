"""``GET /metrics`` scraped over real HTTP from a running app, parsed with
prometheus_client's own text parser, after known activity."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from slack_sdk.errors import SlackApiError

from bot.app import Loaded, open_runtime
from bot.core.cards import Card, TextBlock
from bot.core.clock import ManualClock
from bot.core.storage import Effects, OutboxItem, Timer
from bot.intake.feed import parse_mention
from bot.store import open_store
from bot.web import create_app
from tests.conftest import ROOT, START
from tests.fakes import teams_activities as teams
from tests.ops.ops_rig import ADA, CARE, IDLE_POLL, MENTION, link_care, running, scrape, value

# The fake Bot Connector's operation names, as botframework-connector's methods.
CONNECTOR_METHODS = {
    "create": "create_conversation",
    "send": "send_to_conversation",
    "reply": "reply_to_activity",
    "update": "update_activity",
    "delete": "delete_activity",
    "members": "get_conversation_members",
    "member": "get_conversation_member",
    "pagedmembers": "get_conversation_paged_members",
}
# What Prometheus 2.x and 3.x send when scraping.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def card(text: str) -> dict[str, object]:
    return Card(title="Queued", blocks=(TextBlock(text),)).to_json()


async def test_store_gauges_and_intake_counts_describe_the_shared_store(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> None:
    url, namespace = store_backend
    clock = ManualClock(START)
    runtime = await open_runtime(
        loaded, store=open_store(url, namespace=namespace), clock=clock, platforms=["slack"]
    )
    store = runtime.store
    # Three cards waiting for Slack, the oldest queued five minutes ago.
    await store.apply(
        Effects(
            outbox=tuple(
                OutboxItem(
                    id=f"queued-{n}",
                    platform="slack",
                    op="post",
                    destination="care",
                    body=card(f"card {n}"),
                    created_at=START - timedelta(minutes=minutes),
                )
                for n, minutes in enumerate((5, 2, 1))
            ),
            timers=(
                Timer("late", "test.late", START - timedelta(minutes=5)),
                Timer("just-due", "test.due", START - timedelta(seconds=10)),
                Timer("later", "test.later", START + timedelta(hours=1)),
            ),
        )
    )
    # Another process holds the due timers (as a stuck worker would).
    leased = await store.lease_timers(START, "elsewhere", timedelta(hours=2))
    assert sorted(t.timer.key for t in leased) == ["just-due", "late"]

    # A separate `ingest` process: 2 new mentions, 1 duplicate, 1 refused line.
    feed = tmp_path / "feed.jsonl"
    lines = [
        json.dumps(MENTION),
        json.dumps({**MENTION, "id": "8"}),
        json.dumps(MENTION),
        json.dumps({**MENTION, "id": ""}),
    ]
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "--config",
        str(ROOT / "playcaller.yaml"),
        "ingest",
        str(feed),
        "--store",
        url,
        env={
            **os.environ,
            "PLAYCALLER_STORE_NAMESPACE": namespace,
            "PLAYCALLER_PLATFORMS": "teams",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 1, err.decode()  # a refused line makes the exit status 1
    assert "ingested 2 mentions" in out.decode()

    app = create_app(runtime, [], poll_seconds=IDLE_POLL)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        content_type, samples = await scrape(server)
        assert content_type.startswith("text/plain; version=0.0.4")
        assert value(samples, "playcaller_outbox_items", platform="slack") == 3
        assert value(samples, "playcaller_outbox_oldest_age_seconds", platform="slack") == 300
        # `ingest` queued two cards for Teams, which this process does not serve.
        assert value(samples, "playcaller_outbox_items", platform="teams") == 2
        assert value(samples, "playcaller_timers_due") == 2
        assert value(samples, "playcaller_timers_overdue") == 1
        assert value(samples, "playcaller_intake_mentions_total", outcome="stored") == 2
        assert value(samples, "playcaller_intake_mentions_total", outcome="duplicate") == 1
        assert value(samples, "playcaller_intake_mentions_total", outcome="refused") == 1

        # Scrape-time values: time passes, one card goes, the next scrape says so.
        clock.advance(timedelta(minutes=1))
        [first] = await store.lease_outbox("slack", clock.now(), "test", timedelta(minutes=1), 1)
        assert await store.finish_outbox(first.item.id, first.token)
        _, samples = await scrape(server)
        assert value(samples, "playcaller_outbox_items", platform="slack") == 2
        assert value(samples, "playcaller_outbox_oldest_age_seconds", platform="slack") == 180
        assert value(samples, "playcaller_timers_due") == 2
    finally:
        await server.close()


async def test_platform_calls_count_429s_and_ack_latency_is_a_histogram(
    loaded: Loaded, tmp_path: Path
) -> None:
    async with running(loaded, tmp_path) as bot:
        # Slack: link #care, then a mention whose first post is rate limited.
        assert await bot.to_slack(link_care()) == 200
        await bot.slack.idle()
        bot.fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)
        # Teams: the bot joins a team, links its channel, and the first send is throttled.
        assert await bot.to_teams(
            teams.bot_added_to_team(bot.connector.service_url, installer=ADA)
        ) in (200, 201)
        link = teams.channel_message(bot.connector.service_url, text="link care", user=ADA)
        assert await bot.to_teams(link) in (200, 201)
        await bot.deliver(bot.teams)
        bot.connector.throttle(1, retry_after=1)

        assert await bot.runtime.ingest(parse_mention(MENTION))
        await bot.deliver(bot.slack)
        await bot.deliver(bot.teams)

        _, samples = await scrape(bot.server)
        calls = "playcaller_platform_calls_total"
        slack_429s = [c for c in bot.fake_slack.calls_to("chat.postMessage") if c.rate_limited]
        assert len(slack_429s) == 1
        assert value(samples, calls, platform="slack", method="chat.postMessage", status="429") == 1
        slack_posts = [c for c in bot.fake_slack.calls_to("chat.postMessage") if not c.rate_limited]
        assert (
            value(samples, calls, platform="slack", method="chat.postMessage", status="ok")
            == len(slack_posts)
            >= 1
        )
        teams_429s = [c for c in bot.connector.calls if c.status == 429]
        assert len(teams_429s) == 1
        assert (
            value(samples, calls, platform="teams", method="send_to_conversation", status="429")
            == 1
        )
        # Every Bot Connector call the fake answered is counted once, replies
        # within a turn (the answer to "link care") as well as proactive posts.
        answered = Counter(
            (CONNECTOR_METHODS[c.operation], "ok" if c.ok else str(c.status))
            for c in bot.connector.calls
        )
        counted = {
            (dict(labels)["method"], dict(labels)["status"]): n
            for (name, labels), n in samples.items()
            if name == calls and ("platform", "teams") in labels
        }
        assert counted == answered
        assert answered[("reply_to_activity", "ok")] >= 1
        assert answered[("send_to_conversation", "ok")] >= 1
        # One Slack request and two Teams activities were answered.
        assert value(samples, "playcaller_ack_seconds_count", platform="slack") == 1
        assert value(samples, "playcaller_ack_seconds_count", platform="teams") == 2
        assert value(samples, "playcaller_ack_seconds_bucket", platform="slack", le="+Inf") == 1
        # Only the platforms' routes are timed (not scrapes or health checks).
        assert {
            dict(labels)["platform"]
            for name, labels in samples
            if name == "playcaller_ack_seconds_count"
        } == {"slack", "teams"}
        assert value(samples, "playcaller_outbox_items", platform="slack") == 0


async def test_slack_refusals_and_lost_connections_have_their_own_status(
    loaded: Loaded, tmp_path: Path
) -> None:
    async with running(loaded, tmp_path) as bot:
        with pytest.raises(SlackApiError):
            await bot.slack.client.chat_update(channel=CARE, ts="1767225600.000001", text="hi")
        bot.fake_slack.fail_connection("chat.postMessage")
        with pytest.raises(aiohttp.ClientError):
            await bot.slack.client.chat_postMessage(channel=CARE, text="hello")
        _, samples = await scrape(bot.server)
    calls = "playcaller_platform_calls_total"
    assert (
        value(samples, calls, platform="slack", method="chat.update", status="message_not_found")
        == 1
    )
    assert (
        value(samples, calls, platform="slack", method="chat.postMessage", status="unreachable")
        == 1
    )


async def test_a_failed_store_read_leaves_the_metric_out_and_is_counted(
    loaded: Loaded, tmp_path: Path
) -> None:
    runtime = await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{tmp_path / 'gone.db'}"),
        clock=ManualClock(START),
        platforms=["console"],
    )
    server = TestServer(create_app(runtime, [], poll_seconds=IDLE_POLL), host="127.0.0.1")
    await server.start_server()
    try:
        await runtime.store.close()
        _, samples = await scrape(server)
    finally:
        await server.close()
    assert not any(name == "playcaller_outbox_items" for name, _ in samples)
    failures = "playcaller_metric_read_failures_total"
    assert value(samples, failures, metric="playcaller_outbox_items") == 1
    assert value(samples, failures, metric="playcaller_timers_due") == 1


async def test_prometheus_asking_for_openmetrics_gets_it(loaded: Loaded, tmp_path: Path) -> None:
    runtime = await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{tmp_path / 'om.db'}"),
        clock=ManualClock(START),
        platforms=["console"],
    )
    runtime.metrics.platform_calls.labels(
        platform="teams", method="update_activity", status="429"
    ).inc()
    server = TestServer(create_app(runtime, [], poll_seconds=IDLE_POLL), host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                server.make_url("/metrics"),
                headers={"Accept": PROMETHEUS_ACCEPT},
            ) as response,
        ):
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("application/openmetrics-text")
            text = await response.text()
    finally:
        await server.close()
    families = {f.name: f for f in openmetrics_families(text)}
    [throttled] = [
        s for s in families["playcaller_platform_calls"].samples if s.name.endswith("_total")
    ]
    assert throttled.labels == {"platform": "teams", "method": "update_activity", "status": "429"}
    assert throttled.value == 1
    assert [s.value for s in families["playcaller_outbox_items"].samples] == [0]


async def test_metrics_are_per_app_not_process_wide(loaded: Loaded, tmp_path: Path) -> None:
    first = await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{tmp_path / 'a.db'}"),
        clock=ManualClock(START),
        platforms=["console"],
    )
    second = await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{tmp_path / 'b.db'}"),
        clock=ManualClock(START),
        platforms=["console"],
    )
    first.metrics.platform_calls.labels(platform="slack", method="chat.update", status="ok").inc()
    servers = [TestServer(create_app(r, []), host="127.0.0.1") for r in (first, second)]
    for server in servers:
        await server.start_server()
    try:
        _, one = await scrape(servers[0])
        _, two = await scrape(servers[1])
    finally:
        for server in servers:
            await server.close()
    key = (
        "playcaller_platform_calls_total",
        frozenset({"platform": "slack", "method": "chat.update", "status": "ok"}.items()),
    )
    assert one[key] == 1
    assert key not in two


async def test_adding_a_metric_is_one_line(loaded: Loaded, tmp_path: Path) -> None:
    runtime = await open_runtime(
        loaded,
        store=open_store(f"sqlite:///{tmp_path / 'c.db'}"),
        clock=ManualClock(START),
        platforms=["console"],
    )
    pages = runtime.metrics.counter("pages_sent", "Pages sent, by channel.", ["channel"])

    async def drafts() -> dict[tuple[str, ...], float]:
        return {(): 4.0}

    runtime.metrics.scraped("drafts_waiting", "Drafts waiting for approval.", drafts)
    pages.labels(channel="sms").inc(2)
    server = TestServer(create_app(runtime, []), host="127.0.0.1")
    await server.start_server()
    try:
        _, samples = await scrape(server)
    finally:
        await server.close()
    assert value(samples, "playcaller_pages_sent_total", channel="sms") == 2
    assert value(samples, "playcaller_drafts_waiting") == 4
