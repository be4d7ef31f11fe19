"""What an approved reply or post is, on its way to the company's social
media management system (the :class:`bot.core.ports.Publisher` port)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.accounts import Account


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
