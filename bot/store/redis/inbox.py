"""The inbox: verified inbound requests stored before they are acknowledged."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.storage import InboxEntry, LeasedInboxEntry
from bot.store import dumps, duration_us, from_us, loads_object, to_us
from bot.store.redis.base import RedisBase
from bot.store.redis.codec import q
from bot.store.redis.records import ONCE_SLACK_MS

# An admitted key is remembered as an idempotency key under this prefix.
ADMITTED = "inbox:"


class RedisInbox(RedisBase):
    """Admission (deduplicated, leased at once), recovery leases, fenced completion."""

    def _inbox_queue(self, platform: str) -> str:
        return f"{self._p}inq:{q(platform)}"

    async def admit_inbox(
        self,
        entry: InboxEntry,
        now: datetime,
        owner: str,
        lease_for: timedelta,
        remember_for: timedelta,
    ) -> int | None:
        """Store ``entry`` leased to ``owner``; None for a redelivery (see the port)."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        remember_us = duration_us(remember_for, "remember_for")
        px = -(-remember_us // 1000) + ONCE_SLACK_MS
        reply = await self._run_first(
            [
                f"{self._p}once:{ADMITTED}{entry.key}",
                f"{self._p}in:{entry.key}",
                self._inbox_queue(entry.platform),
            ],
            [
                self._p,
                now_us,
                now_us + remember_us,
                px,
                until,
                owner,
                entry.platform,
                dumps(entry.body),
                to_us(entry.received_at),
                entry.key,
            ],
        )
        token = int(reply)
        return token if token > 0 else None

    async def lease_inbox(
        self, platform: str, now: datetime, owner: str, lease_for: timedelta, limit: int = 50
    ) -> list[LeasedInboxEntry]:
        """Lease ``platform``'s entries whose lease expired at ``now``."""
        now_us = to_us(now)
        until = now_us + duration_us(lease_for, "lease_for")
        if limit <= 0:
            return []
        rows = await self._run(
            "lease_inbox", [self._inbox_queue(platform)], [self._p, now_us, until, owner, limit]
        )
        return [
            LeasedInboxEntry(
                InboxEntry(key, platform, loads_object(body), from_us(int(received))),
                int(token),
                int(attempts),
            )
            for key, body, received, token, attempts in rows
        ]

    async def finish_inbox(self, key: str, token: int) -> bool:
        """Delete entry ``key`` if ``token`` still holds its lease."""
        reply = await self._run("finish_inbox", [f"{self._p}in:{key}"], [key, str(int(token))])
        return int(reply) == 1

    async def inbox_size(self, platform: str | None = None) -> int:
        """Entries waiting (leased or not), for one platform or all."""
        client = self._redis()
        if platform is not None:
            return int(await client.zcard(self._inbox_queue(platform)))
        total = 0
        async for queue in client.scan_iter(match=f"{self._p}inq:*", count=100):
            total += int(await client.zcard(queue))
        return total
