"""Publishing approved replies and posts: the signed webhook request, its
adapter (the Publisher port) and the outbox lane that sends through it."""

from bot.publishing.lane import PublishLane, warn_unpublished
from bot.publishing.request import PublishRequest, build_request
from bot.publishing.webhook import PublishRejected, WebhookPublisher, WebhookSettings

__all__ = [
    "PublishLane",
    "PublishRejected",
    "PublishRequest",
    "WebhookPublisher",
    "WebhookSettings",
    "build_request",
    "warn_unpublished",
]
