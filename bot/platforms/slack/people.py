"""Slack users to configured people, cached per user."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.clock import Clock
from bot.core.model import Actor
from bot.core.settings import Settings
from bot.outbox import RetryLater, Undeliverable
from bot.platforms.slack.errors import error_of
from bot.platforms.slack.inbound import (
    Origin,
)

log = logging.getLogger(__name__)

PLATFORM = "slack"
PEOPLE_CACHE_TTL = timedelta(minutes=10)
# users.info could not answer (an outage, a timeout): ask again after this.
FAILED_LOOKUP_TTL = timedelta(seconds=30)
# Answers Slack gives for a user it will not describe to us; they are kept
# like any answer, so a burst of events from such a user costs one call.
NO_SUCH_USER = frozenset({"user_not_found", "user_not_visible", "users_not_found"})
# Cached users past this many are pruned of expired entries.
CACHE_PRUNE_AT = 10_000


class SlackPeople:
    """Slack users to configured people: by Slack id in config, else by email."""

    def __init__(
        self, settings: Settings, client: AsyncWebClient, clock: Clock, team_id: str | None
    ) -> None:
        self.settings = settings
        self.client = client
        self.clock = clock
        self.team_id = team_id
        # user id -> (person id or None, display name, valid until)
        self._person_of: dict[str, tuple[str | None, str, datetime]] = {}
        self._lookups: dict[str, asyncio.Future[tuple[str | None, str]]] = {}
        self._user_of: dict[str, tuple[str, datetime]] = {}

    async def actor(self, origin: Origin) -> Actor:
        """The actor for a verified Slack user id."""
        settings = self.settings
        person = settings.person_by_platform_id(PLATFORM, origin.user_id)
        if person is None:
            person_id, name = await self._lookup(origin.user_id, origin.user_name)
            person = settings.people.get(person_id) if person_id else None
            if person is None:
                return settings.unknown_actor(PLATFORM, origin.user_id, name)
        # A verified request says who this person is on Slack: DMs to them
        # (a page, an approval card) need no users.lookupByEmail, a Tier 3
        # call of which a crisis paging fifty people has none to spare.
        self._user_of[person.id] = (origin.user_id, self.clock.now())
        return settings.actor_for(person, PLATFORM, origin.user_id)

    async def _lookup(self, user_id: str, fallback_name: str) -> tuple[str | None, str]:
        now = self.clock.now()
        cached = self._person_of.get(user_id)
        if cached and now < cached[2]:
            return cached[0], cached[1]
        # One users.info call per user at a time: a burst of clicks shares it.
        pending = self._lookups.get(user_id)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch_person(user_id, fallback_name))
            self._lookups[user_id] = pending
            pending.add_done_callback(lambda _: self._lookups.pop(user_id, None))
        return await asyncio.shield(pending)

    async def _fetch_person(self, user_id: str, fallback_name: str) -> tuple[str | None, str]:
        """Who ``user_id`` is in the config, remembered for a while whatever
        the answer: a person, nobody, or no answer at all."""
        now = self.clock.now()
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as error:
            status, code, after = error_of(error)
            log.warning("users.info %s failed: %s", user_id, code or status)
            if code in NO_SUCH_USER:
                keep = PEOPLE_CACHE_TTL
            elif status == 429 or code == "ratelimited":
                keep = max(timedelta(seconds=after), FAILED_LOOKUP_TTL)
            else:
                keep = FAILED_LOOKUP_TTL
            return self._remember(user_id, None, fallback_name or user_id, now + keep)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("users.info %s failed: %r", user_id, error)
            return self._remember(user_id, None, fallback_name or user_id, now + FAILED_LOOKUP_TTL)
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        email = str(profile.get("email") or "")
        name = str(user.get("real_name") or profile.get("real_name") or user.get("name") or user_id)
        person = self.settings.person_by_email(email) if email else None
        return self._remember(user_id, person.id if person else None, name, now + PEOPLE_CACHE_TTL)

    def _remember(
        self, user_id: str, person_id: str | None, name: str, until: datetime
    ) -> tuple[str | None, str]:
        if len(self._person_of) >= CACHE_PRUNE_AT:
            now = self.clock.now()
            for stale in [u for u, (_, _, valid) in self._person_of.items() if valid <= now]:
                del self._person_of[stale]
        self._person_of[user_id] = (person_id, name, until)
        return person_id, name

    async def user_id_for(self, person_id: str) -> str:
        """The Slack user id of a configured person (by config id, else by email)."""
        if person_id.startswith(f"{PLATFORM}:"):
            return person_id.removeprefix(f"{PLATFORM}:")  # not in the config: their Slack id
        person = self.settings.people.get(person_id)
        if person is None:
            raise Undeliverable(f"unknown person {person_id!r}")
        configured = person.platform_ids.get(PLATFORM)
        if configured:
            return configured
        now = self.clock.now()
        cached = self._user_of.get(person_id)
        if cached and now - cached[1] < PEOPLE_CACHE_TTL:
            return cached[0]
        extra = {"team_id": self.team_id} if self.team_id else {}
        try:
            response = await self.client.users_lookupByEmail(email=person.email, **extra)
        except SlackApiError as error:
            status, code, after = error_of(error)
            if status == 429:
                raise RetryLater(
                    timedelta(seconds=after), "users.lookupByEmail rate limited", paced=True
                ) from error
            raise Undeliverable(f"no Slack user for {person.email}: {code}") from error
        user_id = str((response.get("user") or {}).get("id") or "")
        if not user_id:
            raise Undeliverable(f"no Slack user for {person.email}")
        self._user_of[person_id] = (user_id, now)
        return user_id
