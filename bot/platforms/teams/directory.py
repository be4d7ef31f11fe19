"""Conversation references and users the bot has met in Teams, kept in the store."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.settings import Settings
from bot.core.storage import Record, Store

log = logging.getLogger(__name__)

CONVERSATION_KIND = "teams-conversation"
USER_KIND = "teams-user"


class TeamsDirectory:
    """Conversation references and users the bot has met, kept in the store."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    async def remember_conversation(self, key: str, reference: dict[str, Any], kind: str) -> bool:
        """Store (or refresh) a conversation's reference; True when it is new."""
        record = await self.store.get(CONVERSATION_KIND, key)
        data = {"reference": reference, "type": kind}
        # Tagged by type: any_reference() finds a service URL through the tag.
        tags = frozenset({f"type:{kind}"})
        if record is None:
            return (await self.store.insert(Record(CONVERSATION_KIND, key, data, 0, tags))).ok
        if record.data != data or record.tags != tags:
            await self.store.replace(
                Record(CONVERSATION_KIND, key, data, record.version, tags), record.version
            )
        return False

    async def reference(self, key: str) -> dict[str, Any] | None:
        record = await self.store.get(CONVERSATION_KIND, key)
        return dict(record.data["reference"]) if record else None

    async def any_reference(self) -> dict[str, Any] | None:
        for kind in ("channel", "personal", "groupChat"):
            found = await self.store.find(CONVERSATION_KIND, f"type:{kind}", limit=1)
            if found:
                return dict(found[0].data["reference"])
        return None

    async def remember_user(self, user_id: str, data: dict[str, Any]) -> None:
        record = await self.store.get(USER_KIND, user_id)
        merged = {**(dict(record.data) if record else {}), **{k: v for k, v in data.items() if v}}
        tags = frozenset({f"person:{merged['person']}"} if merged.get("person") else set())
        if record is None:
            await self.store.insert(Record(USER_KIND, user_id, merged, 0, tags))
        elif dict(record.data) != merged:
            await self.store.replace(
                Record(USER_KIND, user_id, merged, record.version, tags), record.version
            )

    async def user(self, user_id: str) -> dict[str, Any] | None:
        record = await self.store.get(USER_KIND, user_id)
        return dict(record.data) if record else None

    async def user_of_person(self, person_id: str) -> dict[str, Any] | None:
        found = await self.store.find(USER_KIND, f"person:{person_id}", limit=1)
        return dict(found[0].data) if found else None
