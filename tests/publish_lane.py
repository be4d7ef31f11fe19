"""Webhook publishing in tests: a local signed receiver and the publish
lane's sender pointed at it, with a runtime switched to webhook mode
(:func:`signed_receiver`, :func:`webhook_lane`, for any rig), and the
console's fixtures built on them (``receiver``, ``lane``: import both where
needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from bot.core.clock import Clock
from bot.external_sends import ExternalSender
from bot.publishing import PublishLane, WebhookPublisher, WebhookSettings
from bot.runtime import Runtime
from tests.conftest import Chat
from tests.fakes.webhook_receiver import FakeReceiver

SECRET = "whsec-console-0123456789abcdef"


@asynccontextmanager
async def signed_receiver(clock: Clock) -> AsyncIterator[FakeReceiver]:
    """A loopback publishing receiver checking signatures made with ``SECRET``."""
    fake = FakeReceiver(SECRET, now=lambda: clock.now().timestamp())
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@asynccontextmanager
async def webhook_lane(
    runtime: Runtime, clock: Clock, receiver: FakeReceiver
) -> AsyncIterator[ExternalSender]:
    """``runtime`` in webhook mode, and its publish lane's sender to ``receiver``."""
    runtime.settings = replace(runtime.settings, publish_webhook=True)
    publisher = WebhookPublisher(WebhookSettings(receiver.url, SECRET), clock)
    try:
        yield runtime.external_sender(PublishLane(publisher))
    finally:
        await publisher.close()


@pytest.fixture
async def receiver(chat: Chat) -> AsyncIterator[FakeReceiver]:
    async with signed_receiver(chat.session.clock) as fake:
        yield fake


@pytest.fixture
async def lane(chat: Chat, receiver: FakeReceiver) -> AsyncIterator[ExternalSender]:
    async with webhook_lane(chat.session.runtime, chat.session.clock, receiver) as sender:
        yield sender
