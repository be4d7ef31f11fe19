"""Pager adapters (the :class:`bot.core.ports.Pager` port), one per vendor:
PagerDuty Events API v2, e-mail over SMTP, and a signed page webhook.

What the crisis feature will use to page people beyond the chat DM; it is
not wired to a command yet."""

from bot.paging.pagerduty import PagerDutyPager, PagerDutySettings
from bot.paging.smtp import SmtpPager, SmtpSettings
from bot.paging.webhook import PageWebhookSettings, WebhookPager

__all__ = [
    "PageWebhookSettings",
    "PagerDutyPager",
    "PagerDutySettings",
    "SmtpPager",
    "SmtpSettings",
    "WebhookPager",
]
