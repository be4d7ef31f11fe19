"""Webhook publishing in the console: a local signed receiver (``receiver``)
and the publish lane's sender pointed at it (``lane``), with the console's
runtime switched to webhook mode. Import both fixtures where needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.external_sends import ExternalSender
from bot.publishing import PublishLane, WebhookPublisher, WebhookSettings
from tests.conftest import Chat
from tests.fakes.webhook_receiver import FakeReceiver

SECRET = "whsec-console-0123456789abcdef"


@pytest.fixture
async def receiver(chat: Chat) -> AsyncIterator[FakeReceiver]:
    fake = FakeReceiver(SECRET, now=lambda: chat.session.clock.now().timestamp())
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def lane(chat: Chat, receiver: FakeReceiver) -> AsyncIterator[ExternalSender]:
    chat.session.runtime.settings = replace(chat.runtime.settings, publish_webhook=True)
    publisher = WebhookPublisher(WebhookSettings(receiver.url, SECRET), chat.session.clock)
    yield chat.runtime.external_sender(PublishLane(publisher))
    await publisher.close()
