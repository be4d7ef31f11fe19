"""A local fake of the Bot Framework's token signing side, for tests.

``FakeOpenId`` is an aiohttp server on 127.0.0.1 serving what
``login.botframework.com`` serves (botbuilder-python ``ChannelValidation``
reads both): the OpenID metadata document at
``/v1/.well-known/openidconfiguration``, whose ``jwks_uri`` points at the key
set ``/v1/.well-known/keys`` (JWKs with ``kid``, ``n``, ``e`` and the
Bot Framework's ``endorsements`` list of channel ids). Keys are real RSA keys
generated here; :meth:`token` signs a token as the Bot Connector would
(``iss`` https://api.botframework.com, ``aud`` the bot's app id, ``serviceurl``).

Fault injection: ``stall`` makes both documents accept the request and never
answer; ``fail`` answers them 503; ``max_age`` sets the key set's ``Cache-Control``.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeOpenId:
    """OpenID metadata and a JWKS with real RSA keys, on loopback."""

    def __init__(self, *, max_age: int | None = 86_400, endorsements: tuple[str, ...] = ()) -> None:
        self.max_age = max_age
        self.endorsements = list(endorsements) or ["msteams", "webchat"]
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.kid = self.add_key()
        self.stall = False
        self.fail = False
        self.requests: list[str] = []
        self._never = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def add_key(self) -> str:
        """Publish a new signing key; return its id."""
        kid = uuid.uuid4().hex[:16]
        self.keys[kid] = new_private_key()
        return kid

    @property
    def metadata_url(self) -> str:
        return f"http://127.0.0.1:{self._port}{METADATA_PATH}"

    @property
    def key_fetches(self) -> int:
        return sum(1 for path in self.requests if path == KEYS_PATH)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(METADATA_PATH, self._metadata)
        app.router.add_get(KEYS_PATH, self._keys)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        self._never.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeOpenId:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _stalled(self) -> None:
        if self.stall:
            await self._never.wait()  # accepted, never answered (until close)
        if self.fail:
            raise web.HTTPServiceUnavailable()

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        await self._stalled()
        base = f"http://127.0.0.1:{self._port}"
        return web.json_response(
            {
                "issuer": ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{base}{KEYS_PATH}",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        await self._stalled()
        keys = []
        for kid, private in self.keys.items():
            jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
            keys.append(
                {**jwk, "kty": "RSA", "use": "sig", "kid": kid, "endorsements": self.endorsements}
            )
        headers = {"Cache-Control": f"public, max-age={self.max_age}"} if self.max_age else {}
        return web.json_response({"keys": keys}, headers=headers)

    def claims(
        self, *, app_id: str, service_url: str, now: datetime, **changes: Any
    ) -> dict[str, Any]:
        """The claims of a token the Bot Connector would send, with ``changes``."""
        issued = int(now.timestamp())
        claims = {
            "serviceurl": service_url,
            "nbf": issued - 60,
            "exp": issued + 3600,
            "iss": ISSUER,
            "aud": app_id,
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self,
        claims: dict[str, Any],
        *,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        alg: str = "RS256",
    ) -> str:
        """A token signed with a published key (or ``key``, e.g. an unpublished one)."""
        kid = kid or self.kid
        signer = key or self.keys[kid]
        return jwt.encode(claims, signer, algorithm=alg, headers={"kid": kid})

    @staticmethod
    def expired(now: datetime) -> dict[str, Any]:
        """Claim changes for a token that expired an hour ago (beyond any leeway)."""
        ended = now - timedelta(hours=1)
        return {"exp": int(ended.timestamp()), "nbf": int((ended - timedelta(hours=1)).timestamp())}
