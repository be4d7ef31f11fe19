"""The outbox queue, card references and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.storage import (
    JSON,
    NO_EFFECTS,
    AuditEntry,
    Backlog,
    Effects,
    LeasedOutboxItem,
    OutboxItem,
)
from bot.store import dumps, duration_us, from_us, loads_object, settlement_effects, to_us
from bot.store.redis.base import RedisBase
from bot.store.redis.codec import audit_entry


class RedisOutbox(RedisBase):
    """The outbox queue, card references and the audit log."""

    async def lease_outbox(
        self, platform: str, now: datetime, owner: str, lease_for: timedelta, limit: int = 50
    ) -> list[LeasedOutboxItem]:
        """Lease deliverable items for ``platform``: by priority, then FIFO."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []
        rows = await self._run(
            "lease_outbox",
            [f"{self._p}obq:{platform}"],
            [self._p, now_us, until, owner, limit],
        )
        leased: list[LeasedOutboxItem] = []
        for item_id, plat, op, dest, has_card, card, body, prio, created, nb, tok, n in rows:
            item = OutboxItem(
                id=item_id,
                platform=plat,
                op=op,
                destination=dest,
                body=loads_object(body),
                created_at=from_us(int(created)),
                card_key=card if has_card == "1" else None,
                priority=int(prio),
                not_before=from_us(int(nb)) if nb else None,
            )
            leased.append(LeasedOutboxItem(item, int(tok), int(n)))
        return leased

    async def finish_outbox(
        self,
        item_id: str,
        token: int,
        card_ref: tuple[str, JSON] | None = None,
        effects: Effects = NO_EFFECTS,
    ) -> bool:
        """Remove a delivered item, remember ``card_ref`` and apply ``effects``,
        atomically; False (nothing written) if fenced off."""
        encoded = settlement_effects(effects)
        ref_args = ["0", "", ""] if card_ref is None else ["1", card_ref[0], dumps(card_ref[1])]
        reply = await self._run(
            "finish_outbox",
            [f"{self._p}ob:{item_id}"],
            [self._p, item_id, str(int(token)), *ref_args, *self._effect_args(encoded)],
        )
        return int(reply) == 1

    async def retry_outbox(self, item_id: str, token: int, not_before: datetime) -> bool:
        """Release a leased item for another try at ``not_before``."""
        reply = await self._run(
            "retry_outbox",
            [f"{self._p}ob:{item_id}"],
            [str(int(token)), to_us(not_before), self._p, item_id],
        )
        return int(reply) == 1

    async def cancel_outbox(self, item_id: str) -> bool:
        """Remove a waiting item, or mark it if a sender holds it (see the port)."""
        reply = await self._run("cancel_outbox", [f"{self._p}ob:{item_id}"], [self._p, item_id])
        return int(reply) == 1

    async def outbox_size(self, platform: str | None = None) -> int:
        """Items waiting (leased or not), for one platform or all."""
        if platform is None:
            return int(await self._redis().scard(self._p + "outbox:ids"))
        return int(await self._redis().zcard(f"{self._p}obq:{platform}"))

    async def outbox_backlog(self) -> dict[str, Backlog]:
        """Per platform with items waiting: how many, and the oldest's creation time."""
        rows = await self._run("outbox_backlog", [self._p + "outbox:ids"], [self._p])
        return {str(p): Backlog(int(n), from_us(int(oldest))) for p, n, oldest in rows}

    async def outbox_waiting_for(
        self,
        platform: str,
        card_keys: Sequence[str],
        destinations: Sequence[str],
        ops: Sequence[str] = (),
    ) -> bool:
        """Whether an item waits on ``platform`` for one of ``card_keys`` or to
        one of ``destinations`` (a read of the platform's queue: the rare
        caller is a room's archive, once per incident)."""
        redis = self._redis()
        ids: list[Any] = await redis.zrange(f"{self._p}obq:{platform}", 0, -1)
        if not ids:
            return False
        pipe = redis.pipeline(transaction=False)
        for item_id in ids:
            pipe.hmget(f"{self._p}ob:{item_id}", "has_card", "card", "dest", "op")
        keys, places, kinds = set(card_keys), set(destinations), set(ops)
        for has_card, card, dest, op in await pipe.execute():
            if kinds and op not in kinds:
                continue
            if (has_card == "1" and card in keys) or dest in places:
                return True
        return False

    async def card_refs(self, platform: str, card_key: str) -> list[JSON]:
        """Where a card was posted on ``platform``, in posting order."""
        refs: list[Any] = await self._redis().lrange(self._card_prefix(platform) + card_key, 0, -1)
        return [loads_object(ref) for ref in refs]

    # -- audit ---------------------------------------------------------------

    async def audit_log(self, subject: str | None = None, limit: int = 1000) -> list[AuditEntry]:
        """The oldest ``limit`` audit entries, optionally for one subject."""
        if limit <= 0:
            return []
        stream = self._p + "audit"
        raw: Any
        if subject is None:
            raw = await self._redis().xrange(stream, count=limit)
        else:
            raw = await self._run("audit_subject", [f"{self._p}audit:s:{subject}", stream], [limit])
        return [audit_entry(fields) for _, fields in raw]
