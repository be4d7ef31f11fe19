"""Access tokens for the bot's calls to the Bot Connector, fetched without
blocking the event loop.

botbuilder's own credentials fetch them with msal, whose HTTP calls are
blocking ``requests`` with no timeout, made on the event loop while a
Connector client signs its request: an Azure AD endpoint that accepts and
never answers stopped the whole bot (no acknowledgement, no ``/healthz``).
Here the client-credentials grant is one aiohttp POST with a timeout, awaited
where botbuilder asks for credentials (``create_credentials`` is async, and
every Connector client is made through it), and the token is kept until
shortly before it expires; the credentials a Connector client signs with only
read that cache. A stalled or failing endpoint fails the outbound call that
needed the token (the outbox retries it) and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    ServiceClientCredentialsFactory,
)

from bot.platforms.teams.settings import TeamsSettings

log = logging.getLogger(__name__)

LOGIN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
FETCH_TIMEOUT = 10.0  # seconds for one token request
# A token is replaced this long before it expires, so a call never signs with
# one that runs out on the way.
RENEW_BEFORE = 300.0


class TokenUnavailable(Exception):
    """No access token could be had for an outbound call (it fails; it is retried)."""


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: float  # monotonic seconds


class OutboundTokens:
    """The bot's access tokens per scope, from Azure AD's token endpoint.

    One request at a time per scope: callers that need a token while one is
    being fetched wait for that one. ``now`` is monotonic seconds.
    """

    def __init__(
        self,
        app_id: str,
        password: str,
        token_url: str,
        *,
        timeout: float = FETCH_TIMEOUT,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self._password = password
        self.token_url = token_url
        self.timeout = timeout
        self._now = now
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None

    def cached(self, scope: str) -> str:
        """The current token for ``scope``; never fetches (safe on the event loop)."""
        token = self._tokens.get(scope)
        if token is None:
            raise TokenUnavailable(f"no access token for {scope} yet")
        return token.value

    async def token(self, scope: str) -> str:
        """A token for ``scope``: the cached one while it is fresh, else a new one."""
        fresh = self._fresh(scope)
        if fresh is not None:
            return fresh
        lock = self._locks.setdefault(scope, asyncio.Lock())
        async with lock:
            fresh = self._fresh(scope)  # fetched while this caller waited
            if fresh is not None:
                return fresh
            self._tokens[scope] = await self._fetch(scope)
            return self._tokens[scope].value

    def _fresh(self, scope: str) -> str | None:
        token = self._tokens.get(scope)
        return token.value if token is not None and self._now() < token.renew_at else None

    async def _fetch(self, scope: str) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.app_id,
            "client_secret": self._password,
            "scope": scope if scope.endswith("/.default") else f"{scope}/.default",
        }
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        asked = self._now()
        try:
            async with self._session.post(
                self.token_url, data=form, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as response:
                answer = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("no Teams access token from %s: %r", self.token_url, error)
            raise TokenUnavailable(f"the token endpoint failed: {error!r}") from error
        value = answer.get("access_token") if isinstance(answer, dict) else None
        lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(value, str) or not value:
            reason = answer.get("error") if isinstance(answer, dict) else None
            log.warning("Teams access token refused (%d): %s", status, reason or "no token")
            raise TokenUnavailable(f"the token endpoint answered {status}: {reason or 'no token'}")
        seconds = float(lifetime) if isinstance(lifetime, int | float | str) else 3600.0
        return _Token(value, asked + max(0.0, seconds - RENEW_BEFORE))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _CachedTokenCredentials(AppCredentials):  # type: ignore[misc]
    """What a Connector client signs its requests with: the cached token only
    (msrest calls :meth:`get_access_token` synchronously, on the loop)."""

    def __init__(self, tokens: OutboundTokens, scope: str) -> None:
        super().__init__(app_id=tokens.app_id, oauth_scope=scope)
        self._tokens = tokens
        self._scope = scope

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._tokens.cached(self._scope)


class OutboundCredentials(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """botbuilder's credentials factory for this bot: fetches the token (async,
    with a timeout) before it hands out credentials that sign with it."""

    def __init__(self, tokens: OutboundTokens) -> None:
        self.tokens = tokens

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.tokens.app_id

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(
        self,
        app_id: str,
        oauth_scope: str | None,
        login_endpoint: str | None,
        validate_authority: bool,
    ) -> AppCredentials:
        if app_id != self.tokens.app_id:
            raise PermissionError(f"no credentials for app {app_id}")
        scope = oauth_scope or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        await self.tokens.token(scope)
        return _CachedTokenCredentials(self.tokens, scope)


def outbound_tokens(teams: TeamsSettings) -> OutboundTokens | None:
    """The bot's token source (None in anonymous mode: nothing is fetched)."""
    if teams.anonymous:
        return None
    url = teams.token_url or LOGIN_URL.format(tenant=teams.tenant_id)
    return OutboundTokens(teams.app_id, teams.app_password, url)
