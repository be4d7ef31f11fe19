"""The page lane: pages queued by :meth:`bot.core.turn.Turn.page` go out
through the configured :class:`bot.core.ports.Pager` of their channel, and
each settled page is audited with the outbox item's completion."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.errors import RetryLater
from bot.core.model import SYSTEM
from bot.core.paging import PAGE_LANE, PAGE_WITHIN, queued_page
from bot.core.ports import Pager, SendOutcome
from bot.core.storage import JSON, AuditEntry, Effects, OutboxItem
from bot.paging.pagerduty import PagerDutyPager, PagerDutySettings
from bot.paging.smtp import SmtpPager, SmtpSettings
from bot.paging.webhook import PageWebhookSettings, WebhookPager

# A channel this process has no pager for: another process may have it.
UNCONFIGURED_DELAY = timedelta(minutes=1)


def configured_channels(environ: Mapping[str, str] = os.environ) -> frozenset[str]:
    """The page channels beyond chat whose settings are in ``environ``; a bad
    setting stops start-up (:class:`bot.core.errors.ConfigError`)."""
    found = set()
    if PagerDutySettings.from_env(environ) is not None:
        found.add(PagerDutyPager.channel)
    if SmtpSettings.from_env(environ) is not None:
        found.add(SmtpPager.channel)
    if PageWebhookSettings.from_env(environ) is not None:
        found.add(WebhookPager.channel)
    return frozenset(found)


def pagers_from_env(clock: Clock, environ: Mapping[str, str] = os.environ) -> dict[str, Pager]:
    """A pager for each channel configured in ``environ``."""
    pagers: dict[str, Pager] = {}
    pagerduty = PagerDutySettings.from_env(environ)
    if pagerduty is not None:
        pagers[PagerDutyPager.channel] = PagerDutyPager(pagerduty, clock)
    smtp = SmtpSettings.from_env(environ)
    if smtp is not None:
        pagers[SmtpPager.channel] = SmtpPager(smtp)
    webhook = PageWebhookSettings.from_env(environ)
    if webhook is not None:
        pagers[WebhookPager.channel] = WebhookPager(webhook, clock)
    return pagers


class PageLane:
    """The :class:`bot.core.ports.ExternalLane` of pages."""

    lane = PAGE_LANE

    def __init__(
        self,
        pagers: Mapping[str, Pager],
        *,
        give_up_after: timedelta = PAGE_WITHIN,
        lease_for: timedelta = timedelta(seconds=60),
    ) -> None:
        self.pagers = dict(pagers)
        self.give_up_after = give_up_after
        self.lease_for = lease_for

    async def send(self, item: OutboxItem, *, attempt: int) -> JSON:
        page, channel = queued_page(item)
        pager = self.pagers.get(channel)
        if pager is None:
            raise RetryLater(UNCONFIGURED_DELAY, f"no {channel} pager in this process")
        sent = await pager.send(page, attempt=attempt)
        return {"reference": sent.reference}

    def settled(self, item: OutboxItem, outcome: SendOutcome) -> Effects:
        """The audit entry on the incident's log (``playcaller audit``)."""
        page, channel = queued_page(item)
        entry = AuditEntry(
            at=outcome.at,
            actor=SYSTEM.person_id,
            action="page.sent" if outcome.ok else "page.failed",
            subject=f"incident:{page.incident}",
            detail={
                "channel": channel,
                "key": page.key,
                "action": page.action.value,
                "person": page.recipient.person if page.recipient else None,
                "attempts": outcome.attempts,
                **({"reference": outcome.detail.get("reference")} if outcome.ok else {}),
                **({} if outcome.ok else {"reason": outcome.reason}),
            },
        )
        return Effects(audit=(entry,))

    async def close(self) -> None:
        for pager in self.pagers.values():
            close = getattr(pager, "close", None)
            if close is not None:
                await close()
