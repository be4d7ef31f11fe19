"""Pager adapters (the :class:`bot.core.ports.Pager` port), one per vendor:
PagerDuty Events API v2, e-mail over SMTP, and a signed page webhook.

Pages beyond the chat DM go through the outbox's page lane (``lane.py``)."""

from bot.paging.lane import PageLane, configured_channels, pagers_from_env
from bot.paging.pagerduty import PagerDutyPager, PagerDutySettings
from bot.paging.smtp import SmtpPager, SmtpSettings
from bot.paging.webhook import PageWebhookSettings, WebhookPager

__all__ = [
    "PageLane",
    "PageWebhookSettings",
    "PagerDutyPager",
    "PagerDutySettings",
    "SmtpPager",
    "SmtpSettings",
    "WebhookPager",
    "configured_channels",
    "pagers_from_env",
]
