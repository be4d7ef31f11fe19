"""What an approved reply or post is, on its way to the company's social
media management system (the :class:`bot.core.ports.Publisher` port)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.accounts import Account, Network
from bot.core.events import PublicationSettled, TimerFired
from bot.core.storage import OutboxItem, Timer


@dataclass(frozen=True)
class ReplyTarget:
    """The post a reply answers: its network, the network's id and its link."""

    network: str
    id: str
    url: str | None = None


@dataclass(frozen=True)
class Publication:
    """One approved version of a draft, to be published exactly once.

    ``key`` (``<draft id>:<version>``) is the same on every attempt, so a
    receiver that remembers it publishes a retried request only once.
    ``drafted_by`` and ``approved_by`` are person ids from the config.
    """

    draft_id: str
    version: int
    account: Account
    text: str
    drafted_by: str
    approved_by: tuple[str, ...]
    approved_at: datetime
    in_reply_to: ReplyTarget | None = None

    @property
    def key(self) -> str:
        return f"{self.draft_id}:{self.version}"


@dataclass(frozen=True)
class Published:
    """Where the published post landed, when the receiver says (cards link it)."""

    url: str | None = None
    id: str | None = None


# -- the publish lane of the outbox --------------------------------------------
#
# A publication rides the outbox like a card: an item in its own lane
# (``platform`` = PUBLISH_LANE), written in the same transaction as the record
# change that approved it, leased by the publish sender, settled with one
# fenced store write that also schedules the settlement timer below. The timer
# becomes a :class:`PublicationSettled` event for the routers.

PUBLISH_LANE = "publish"
"""The outbox lane (an ``OutboxItem.platform`` that is no chat platform)."""

SETTLED_TIMER = "publication.settled"
"""The timer kind that carries a settlement to the routers."""

PUBLISH_WITHIN = timedelta(hours=24)
"""How long a publication is retried (connection errors, timeouts, 429, 5xx)
after it was queued before it fails."""


def item_id(key: str, round: int) -> str:
    """The outbox item id of round ``round`` of the publication ``key``."""
    return f"{PUBLISH_LANE}:{key}:r{round}"


def publication_item(publication: Publication, *, round: int, now: datetime) -> OutboxItem:
    """The outbox item that publishes ``publication`` (see :meth:`Turn.publish`)."""
    if round < 0:
        raise ValueError(f"a retry round counts from 0, got {round}")
    if publication.approved_at.tzinfo is None:
        raise ValueError("approved_at must be timezone-aware")
    account = publication.account
    target = publication.in_reply_to
    body: dict[str, Any] = {
        "draft_id": publication.draft_id,
        "version": publication.version,
        "round": round,
        "account": {
            "id": account.id,
            "network": account.network.value,
            "handle": account.handle,
            "spoke": account.spoke,
        },
        "in_reply_to": None
        if target is None
        else {"network": target.network, "id": target.id, "url": target.url},
        "text": publication.text,
        "drafted_by": publication.drafted_by,
        "approved_by": list(publication.approved_by),
        "approved_at": publication.approved_at.isoformat(),
    }
    return OutboxItem(
        id=item_id(publication.key, round),
        platform=PUBLISH_LANE,
        op="publish",
        destination=f"account:{account.id}",
        body=body,
        created_at=now,
        priority=0,
    )


def queued_publication(item: OutboxItem) -> tuple[Publication, int]:
    """The publication an outbox item carries, and its retry round."""
    body = item.body
    account = body["account"]
    target = body["in_reply_to"]
    publication = Publication(
        draft_id=str(body["draft_id"]),
        version=int(body["version"]),
        account=Account(
            id=str(account["id"]),
            network=Network(account["network"]),
            handle=str(account["handle"]),
            spoke=str(account["spoke"]),
        ),
        text=str(body["text"]),
        drafted_by=str(body["drafted_by"]),
        approved_by=tuple(str(person) for person in body["approved_by"]),
        approved_at=datetime.fromisoformat(str(body["approved_at"])),
        in_reply_to=None
        if target is None
        else ReplyTarget(str(target["network"]), str(target["id"]), target.get("url")),
    )
    return publication, int(body["round"])


def settlement_timer(
    publication: Publication,
    *,
    round: int,
    published: Published | None,
    reason: str,
    attempts: int,
    at: datetime,
) -> Timer:
    """The durable timer, due at once, that brings a settled publication to
    the routers as :class:`PublicationSettled` (``published`` None: failed)."""
    return Timer(
        key=f"{SETTLED_TIMER}:{publication.key}:r{round}",
        kind=SETTLED_TIMER,
        due_at=at,
        payload={
            "draft_id": publication.draft_id,
            "version": publication.version,
            "round": round,
            "published": published is not None,
            "url": published.url if published else None,
            "post_id": published.id if published else None,
            "reason": reason,
            "attempts": attempts,
            "settled_at": at.isoformat(),
        },
    )


def settled_event(fired: TimerFired) -> PublicationSettled:
    """The :class:`PublicationSettled` a settlement timer carries; handling it
    completes the timer (fenced by the timer's lease token)."""
    data = fired.payload
    return PublicationSettled(
        platform=PUBLISH_LANE,
        actor=fired.actor,
        received_at=fired.received_at,
        draft_id=str(data["draft_id"]),
        version=int(data["version"]),
        round=int(data["round"]),
        published=bool(data["published"]),
        url=data.get("url"),
        post_id=data.get("post_id"),
        reason=str(data.get("reason", "")),
        attempts=int(data["attempts"]),
        settled_at=datetime.fromisoformat(str(data["settled_at"])),
        settlement=(fired.key, fired.token),
    )
