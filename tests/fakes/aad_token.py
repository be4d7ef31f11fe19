"""A local fake of Azure AD's token endpoint (client credentials grant), for tests.

``FakeTokenEndpoint`` answers ``POST /<tenant>/oauth2/v2.0/token`` the way
``login.microsoftonline.com`` does for a bot's outbound calls: a form with
``grant_type=client_credentials``, ``client_id``, ``client_secret`` and
``scope``; a JSON answer with ``token_type``, ``expires_in`` and
``access_token``, or ``400`` with ``error: invalid_client`` for a wrong
secret. Every issued token is recorded.

Fault injection: ``stall`` accepts a request and does not answer until
:meth:`release` (or close).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web


class FakeTokenEndpoint:
    """Azure AD's token endpoint for one tenant and one app, on loopback."""

    def __init__(self, *, tenant: str, client_id: str, client_secret: str) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.stall = False
        self.requests: list[dict[str, Any]] = []
        self.issued: list[str] = []
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/{self.tenant}/oauth2/v2.0/token"

    def release(self) -> None:
        """Answer the stalled requests (and every later one at once)."""
        self.stall = False
        self._released.set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(f"/{self.tenant}/oauth2/v2.0/token", self._token)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTokenEndpoint:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append(form)
        if self.stall:
            await self._released.wait()
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return web.json_response({"error": "invalid_client"}, status=400)
        token = f"fake-aad-{uuid.uuid4().hex}"
        self.issued.append(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            }
        )
