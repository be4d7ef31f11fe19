"""Inbound authentication for Teams: the Bot Connector's JWT, checked without blocking.

botbuilder's own check (``JwtTokenValidation`` -> ``JwtTokenExtractor`` ->
``_OpenIdMetadata``) downloads the OpenID metadata and signing keys with a
blocking ``requests.get`` and no timeout, on the event loop, the first time a
request arrives and daily after; a key endpoint that never answers freezes the
whole bot. Here the keys are fetched with aiohttp under a timeout, cached for
their lifetime and refreshed in the background; a request is never made to
wait for them: without keys it is refused (503), and every bad token is 401.

The checks are those of botbuilder's ``ChannelValidation`` for tokens from the
Bot Framework channel: signed RS256/384/512 by a published key (endorsed for
the channel), issuer ``https://api.botframework.com``, audience our app id,
not expired (5 minutes' leeway), and a ``serviceurl`` claim equal to the
activity's service URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import jwt
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from bot.core.clock import Clock

log = logging.getLogger(__name__)

OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
ISSUER = "https://api.botframework.com"
ALGORITHMS = ("RS256", "RS384", "RS512")
LEEWAY = timedelta(minutes=5)
# Keys are refreshed daily unless their response says otherwise (within bounds).
DEFAULT_LIFETIME = timedelta(hours=24)
SHORTEST_LIFETIME = timedelta(minutes=5)
# An unknown key id triggers a refresh, at most this often (rotation picks up fast).
UNKNOWN_KEY_REFRESH = timedelta(minutes=5)
# Requests that find no keys start a fetch at most this often.
ON_DEMAND_SPACING = timedelta(seconds=10)
FETCH_TIMEOUT = 5.0
RETRY_FIRST, RETRY_LONGEST = 5.0, 300.0
_MAX_AGE = re.compile(r"max-age=(\d+)")


class Refused(PermissionError):
    """The request is not authenticated (401). botbuilder's CloudAdapter maps
    ``PermissionError`` to 401."""


class KeysUnavailable(Exception):
    """The signing keys have not been fetched yet (503: the channel retries)."""


@dataclass(frozen=True)
class SigningKey:
    """One published key: its id, RSA public key, and the channels it may sign for."""

    kid: str
    key: RSAPublicKey
    endorsements: frozenset[str]


class SigningKeys:
    """The Bot Framework's signing keys, fetched asynchronously and cached.

    :meth:`lookup` never waits on the network: with no keys (or an unknown key
    id, or keys past their lifetime) it starts a refresh in the background and
    answers from what it has.
    """

    def __init__(
        self,
        clock: Clock,
        metadata_url: str = OPENID_METADATA_URL,
        *,
        timeout: float = FETCH_TIMEOUT,
    ) -> None:
        self.clock = clock
        self.metadata_url = metadata_url
        self.timeout = timeout
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: datetime | None = None
        self._expires_at: datetime | None = None
        self._refresh: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._last_attempt: datetime | None = None
        self._loop: asyncio.Task[None] | None = None
        self.fetches = 0

    def lookup(self, kid: str) -> SigningKey:
        now = self.clock.now()
        if not self._keys:
            self.refresh_soon()
            raise KeysUnavailable("the signing keys have not been fetched yet")
        if self._expires_at is not None and now >= self._expires_at:
            self.refresh_soon()  # meanwhile the cached keys still serve
        key = self._keys.get(kid)
        if key is None:
            if self._fetched_at is None or now - self._fetched_at >= UNKNOWN_KEY_REFRESH:
                self.refresh_soon()
            raise Refused(f"unknown signing key {kid[:40]!r}")
        return key

    def refresh_soon(self) -> None:
        """Start one refresh in the background, unless one is running or the
        last attempt was moments ago (requests must not become a fetch storm)."""
        now = self.clock.now()
        recent = self._last_attempt is not None and now - self._last_attempt < ON_DEMAND_SPACING
        if self._in_flight or recent:
            return
        self._refresh = asyncio.create_task(self._refresh_logged(), name="teams-keys")

    async def settled(self) -> None:
        """Wait for a background refresh started by :meth:`lookup`, if any."""
        if self._refresh is not None:
            await asyncio.gather(self._refresh, return_exceptions=True)

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except Exception as error:
            log.warning("Teams signing keys could not be fetched: %r", error)

    async def refresh(self) -> timedelta:
        """Fetch the metadata, then the keys; return how long they are good for."""
        self.fetches += 1
        self._in_flight += 1
        self._last_attempt = self.clock.now()
        try:
            document, lifetime = await self._fetch()
        finally:
            self._in_flight -= 1
        keys = _parse_keys(document)
        if not keys:
            raise ValueError("the key set holds no usable RSA key")
        now = self.clock.now()
        self._keys, self._fetched_at, self._expires_at = keys, now, now + lifetime
        log.info("Teams signing keys fetched: %d keys, good for %s", len(keys), lifetime)
        return lifetime

    async def _fetch(self) -> tuple[Any, timedelta]:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(self.metadata_url) as response:
                response.raise_for_status()
                metadata = await response.json(content_type=None)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str):
                raise ValueError("the OpenID metadata has no jwks_uri")
            async with http.get(jwks_uri) as response:
                response.raise_for_status()
                document = await response.json(content_type=None)
                return document, _lifetime(response.headers.get("Cache-Control", ""))

    def start(self) -> None:
        """Keep the keys fresh in the background (until :meth:`stop`)."""
        if self._loop is None:
            self._loop = asyncio.create_task(self._keep_fresh(), name="teams-keys-refresh")

    async def _keep_fresh(self) -> None:
        retry = RETRY_FIRST
        while True:
            try:
                wait = (await self.refresh()).total_seconds()
                retry = RETRY_FIRST
            except Exception as error:
                log.warning("Teams signing keys could not be fetched: %r", error)
                wait, retry = retry, min(retry * 2, RETRY_LONGEST)
            await asyncio.sleep(wait)

    async def stop(self) -> None:
        for task in (self._loop, self._refresh):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._loop = self._refresh = None


def _lifetime(cache_control: str) -> timedelta:
    found = _MAX_AGE.search(cache_control)
    if not found:
        return DEFAULT_LIFETIME
    return min(max(timedelta(seconds=int(found.group(1))), SHORTEST_LIFETIME), DEFAULT_LIFETIME)


def _parse_keys(document: Any) -> dict[str, SigningKey]:
    keys: dict[str, SigningKey] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid = entry.get("kid")
        try:
            public = RSAAlgorithm.from_jwk(json.dumps(entry))
        except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue
        if not isinstance(kid, str) or not isinstance(public, RSAPublicKey):
            continue
        endorsements = entry.get("endorsements")
        keys[kid] = SigningKey(
            kid,
            public,
            frozenset(e for e in endorsements if isinstance(e, str))
            if isinstance(endorsements, list)
            else frozenset(),
        )
    return keys


class TokenValidator:
    """Checks one request's ``Authorization`` header; returns the token's claims."""

    def __init__(self, app_id: str, keys: SigningKeys, clock: Clock) -> None:
        self.app_id = app_id
        self.keys = keys
        self.clock = clock

    def claims(self, auth_header: str, channel_id: str, service_url: str) -> dict[str, Any]:
        scheme, _, token = (auth_header or "").strip().partition(" ")
        if scheme != "Bearer" or not token.strip():
            raise Refused("no Bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise Refused(f"malformed token ({error})") from error
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise Refused(f"signing algorithm {str(alg)[:20]!r} is not accepted")
        if unverified.get("iss") != ISSUER:
            raise Refused(f"issuer {str(unverified.get('iss'))[:80]!r} is not the Bot Framework")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Refused("the token names no signing key")
        key = self.keys.lookup(kid)
        if key.endorsements and channel_id not in key.endorsements:
            raise Refused(f"the signing key is not endorsed for channel {channel_id[:40]!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.app_id,
                issuer=ISSUER,
                # Time is checked below, on the injected clock.
                options={
                    "require": ["exp", "iss", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as error:
            raise Refused(f"invalid token ({error})") from error
        now = self.clock.now().timestamp()
        leeway = LEEWAY.total_seconds()
        if not isinstance(claims["exp"], int | float) or now > claims["exp"] + leeway:
            raise Refused("the token has expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and now + leeway < nbf:
            raise Refused("the token is not valid yet")
        if claims.get("serviceurl") != service_url:
            raise Refused("the token's serviceurl is not the activity's")
        return claims


class TeamsAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's authentication with inbound checks replaced by :class:`TokenValidator`.

    Outbound (connector clients, tokens) stays botbuilder's. In anonymous mode
    the inner configuration accepts requests without a header and nothing is
    fetched.
    """

    def __init__(
        self,
        inner: BotFrameworkAuthentication,
        validator: TokenValidator | None,
    ) -> None:
        self.inner = inner
        self.validator = validator

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        if self.validator is None:  # anonymous (development) mode
            result: AuthenticateRequestResult = await self.inner.authenticate_request(activity, "")
            return result
        try:
            claims = self.validator.claims(
                auth_header, activity.channel_id or "", activity.service_url or ""
            )
        except Refused as error:
            log.warning("Teams request refused (401): %s", error)
            raise
        except KeysUnavailable as error:
            log.warning("Teams request refused (503): %s", error)
            raise
        except Exception as error:  # this is the boundary: a token we cannot read is a 401
            log.warning("Teams request refused (401): unreadable token (%s)", type(error).__name__)
            raise Refused("unreadable token") from error
        identity = ClaimsIdentity(claims, True)
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = self.inner.get_originating_audience()
        result.caller_id = CallerIdConstants.public_azure_channel
        result.connector_factory = self.inner.create_connector_factory(identity)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise Refused("streaming connections are not accepted")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self.inner.create_connector_factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return await self.inner.create_user_token_client(claims_identity)

    def get_originating_audience(self) -> str:
        audience: str = self.inner.get_originating_audience()
        return audience

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        raise Refused("skill requests are not accepted")
