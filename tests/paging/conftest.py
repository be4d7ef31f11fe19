"""Pages as the crisis feature will build them."""

from __future__ import annotations

from bot.core.paging import Page, PageAction, Recipient
from bot.core.playbook import Severity
from tests.conftest import START

LEE = Recipient("lee", "Lee Novak", "lee@example.com")


def a_page(
    action: PageAction = PageAction.TRIGGER,
    *,
    key: str = "CR-42:lee:s1:r0:email",
    summary: str = "AcmePay app down for card payments",
    recipient: Recipient | None = LEE,
) -> Page:
    return Page(
        key=key,
        incident="CR-42",
        action=action,
        severity=Severity.SEV1,
        summary=summary,
        text="You are paged for CR-42 as legal.\nAcknowledge in the crisis room.",
        created_at=START,
        recipient=recipient,
        room_url="https://acme.slack.com/archives/C42",
        playbook="service-outage",
    )
