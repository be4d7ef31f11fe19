"""Publishing approved replies and posts: the signed webhook request and its
adapter (the Publisher port)."""

from bot.publishing.request import PublishRequest, build_request
from bot.publishing.webhook import PublishRejected, WebhookPublisher, WebhookSettings

__all__ = [
    "PublishRejected",
    "PublishRequest",
    "WebhookPublisher",
    "WebhookSettings",
    "build_request",
]
