"""kill -9 between the POST and recording it: a real ``playcaller serve``
publishes through the lane, the receiver publishes and holds its answer, the
process is killed with SIGKILL before it can record anything, and after a
restart the retry carries the same Idempotency-Key: the receiver accepts one
publish and the store records it once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.app import Loaded
from bot.core.clock import SystemClock
from bot.core.publishing import PUBLISH_LANE
from bot.core.storage import Store
from tests.fakes.webhook_receiver import FakeReceiver
from tests.publishing.rig import SECRET, PublishRig, a_publication
from tests.serve_process import ServeProcess

KEY = "d-41:2"
RECOVERY_TIMEOUT = 90.0
pytestmark = pytest.mark.timeout(400)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll until ``check`` holds (the subprocess runs on wall time)."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def published_entries(store: Store) -> list[str]:
    return [e.action for e in await store.audit_log(f"publication:{KEY}")]


async def test_a_publish_killed_between_post_and_record_is_retried_with_the_same_key(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> None:
    url, namespace = store_backend
    receiver = FakeReceiver(SECRET)
    await receiver.start()
    env = {
        "PLAYCALLER_PLATFORMS": "console",
        "PLAYCALLER_PUBLISH_URL": receiver.url,
        "PLAYCALLER_PUBLISH_SECRET": SECRET,
        "PLAYCALLER_PUBLISH_LEASE_SECONDS": "2",
    }
    rig = await PublishRig.open(loaded, url, namespace, SystemClock(), receiver)
    try:
        assert await rig.approve(a_publication())
        receiver.hold_after_publish_next()
        first = ServeProcess(url, namespace, env, tmp_path / "serve")
        await first.start()
        try:
            await asyncio.wait_for(receiver.held.wait(), timeout=RECOVERY_TIMEOUT)
        finally:
            first.kill()
            await first.wait()
        # Published by the receiver, but the process died before recording it.
        assert len(receiver.published) == 1
        assert await rig.store.outbox_size(PUBLISH_LANE) == 1
        assert await published_entries(rig.store) == []

        second = ServeProcess(url, namespace, env, tmp_path / "serve")
        await second.start()
        try:

            async def recorded() -> bool:
                return await published_entries(rig.store) == ["publication.published"]

            await eventually(recorded, "the publication to be recorded after the restart")
        finally:
            await second.stop()
        assert [a.key for a in receiver.attempts] == [KEY, KEY]
        assert len(receiver.published) == 1 and receiver.repeats == 1
        assert await rig.store.outbox_size(PUBLISH_LANE) == 0
        [entry] = await rig.store.audit_log(f"publication:{KEY}")
        assert entry.detail["url"] == "https://social.example/posts/1"
        assert entry.detail["attempts"] == 2
    finally:
        await rig.close()
        await receiver.close()
