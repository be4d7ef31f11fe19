"""Teams inbound authentication: real RS256 tokens from a fake OpenID/JWKS server.

Every forged token is 401 with one log line and nothing processed; the signing
keys are fetched without blocking the event loop, so a key endpoint that never
answers costs a 503, not the bot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from botframework.connector.auth import PasswordServiceClientCredentialFactory
from cryptography.hazmat.primitives import serialization

from bot.app import Loaded, open_runtime
from bot.core.clock import ManualClock
from bot.platforms.teams.auth import SHORTEST_LIFETIME
from bot.platforms.teams.directory import CONVERSATION_KIND
from bot.platforms.teams.platform import TeamsPlatform, TeamsSettings
from bot.store import open_store
from bot.web import create_app
from handlers.ask.records import KIND as QUESTION
from tests.conftest import START
from tests.fakes import teams_activities as teams
from tests.fakes.openid import FakeOpenId, new_private_key
from tests.teams.teams_rig import PEOPLE, TeamsRig, teams_rig

APP_ID = teams.APP_ID
# A guard, not a measurement: a frozen bot fails the test instead of hanging it.
GUARD = aiohttp.ClientTimeout(total=20)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: Any, claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(signature)


def hs256_with_public_key(openid: FakeOpenId, claims: dict[str, Any]) -> str:
    """The key-confusion forgery: HMAC keyed with the published RSA public key."""
    public = openid.keys[openid.kid].public_key()
    secret = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": openid.kid}
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())


@pytest.fixture
async def openid() -> AsyncIterator[FakeOpenId]:
    async with FakeOpenId(max_age=600) as fake:
        yield fake


@pytest.fixture
async def rig(
    store_backend: tuple[str, str], loaded: Loaded, openid: FakeOpenId
) -> AsyncIterator[TeamsRig]:
    settings = TeamsSettings(APP_ID, "secret", "tenant-1", openid_metadata_url=openid.metadata_url)
    async with teams_rig(loaded, *store_backend, settings) as opened:
        keys = opened.platform.keys
        assert keys is not None
        await keys.refresh()
        yield opened


def good_claims(rig: TeamsRig, openid: FakeOpenId, **changes: Any) -> dict[str, Any]:
    return openid.claims(app_id=APP_ID, service_url=rig.url, now=rig.clock.now(), **changes)


def question(rig: TeamsRig) -> dict[str, Any]:
    return teams.personal_message(
        rig.url, text="can I reply to an angry customer?", user=PEOPLE["sam"]
    )


async def processed(rig: TeamsRig) -> bool:
    """Whether anything of the request reached the bot: conversation, question, audit."""
    store = rig.runtime.store
    return bool(
        await store.audit_log()
        or await store.find(CONVERSATION_KIND, "type:personal")
        or await store.find(QUESTION, "asker:sam", limit=5)
        or rig.connector.calls
    )


async def test_a_valid_token_is_accepted_and_processed(rig: TeamsRig, openid: FakeOpenId) -> None:
    token = openid.token(good_claims(rig, openid))
    status, _ = await rig.post(question(rig), headers={"Authorization": f"Bearer {token}"})
    assert status in (200, 201)
    [asked] = await rig.runtime.store.find(QUESTION, "asker:sam", limit=5)
    assert asked.data["text"] == "can I reply to an angry customer?"
    assert openid.key_fetches == 1


FORGERIES = [
    "garbage",
    "alg_none",
    "hs256_public_key",
    "expired",
    "wrong_audience",
    "wrong_issuer",
    "other_service_url",
    "unpublished_key",
    "no_expiry",
    "text_expiry",
    "header_not_an_object",
    "empty_bearer",
    "not_bearer",
    "no_header",
]


def forged(kind: str, rig: TeamsRig, openid: FakeOpenId) -> dict[str, str]:
    claims = good_claims(rig, openid)
    header = {"alg": "RS256", "typ": "JWT", "kid": openid.kid}
    tokens = {
        "garbage": "garbage",
        "alg_none": unsigned({**header, "alg": "none"}, claims),
        "hs256_public_key": hs256_with_public_key(openid, claims),
        "expired": openid.token({**claims, **FakeOpenId.expired(rig.clock.now())}),
        "wrong_audience": openid.token({**claims, "aud": "someone-elses-bot"}),
        "wrong_issuer": openid.token({**claims, "iss": "https://evil.example"}),
        "other_service_url": openid.token({**claims, "serviceurl": "https://evil.example/"}),
        "unpublished_key": openid.token(claims, key=new_private_key()),
        "no_expiry": openid.token({k: v for k, v in claims.items() if k != "exp"}),
        "text_expiry": openid.token({**claims, "exp": "tomorrow"}),
        "header_not_an_object": unsigned([header], claims),
    }
    if kind == "empty_bearer":
        return {"Authorization": "Bearer "}
    if kind == "no_header":
        return {}
    if kind == "not_bearer":
        return {"Authorization": "Basic " + base64.b64encode(b"bot:secret").decode()}
    return {"Authorization": f"Bearer {tokens[kind]}"}


@pytest.mark.parametrize("kind", FORGERIES)
async def test_each_forged_token_is_401_with_one_log_line_and_nothing_processed(
    rig: TeamsRig, openid: FakeOpenId, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status, body = await rig.post(question(rig), headers=forged(kind, rig, openid))
    assert status == 401
    assert isinstance(body, dict) and body.get("error")
    assert not await processed(rig)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].getMessage().startswith("Teams request refused (401): ")
    assert not any(r.exc_info for r in caplog.records)


async def test_keys_are_cached_for_their_lifetime_then_refreshed_in_the_background(
    rig: TeamsRig, openid: FakeOpenId
) -> None:
    keys = rig.platform.keys
    assert keys is not None
    for _ in range(3):
        token = openid.token(good_claims(rig, openid))
        status, _ = await rig.post(question(rig), headers={"Authorization": f"Bearer {token}"})
        assert status in (200, 201)
    assert openid.key_fetches == 1  # max-age=600: no fetch per request
    rig.clock.advance(timedelta(seconds=600) + SHORTEST_LIFETIME)
    token = openid.token(good_claims(rig, openid))
    status, _ = await rig.post(question(rig), headers={"Authorization": f"Bearer {token}"})
    assert status in (200, 201)  # the cached keys serve while the refresh runs
    await keys.settled()
    assert openid.key_fetches == 2


async def test_a_rotated_key_is_picked_up_without_waiting_on_a_request(
    rig: TeamsRig, openid: FakeOpenId
) -> None:
    keys = rig.platform.keys
    assert keys is not None
    rig.clock.advance(timedelta(minutes=6))  # past the unknown-key refresh spacing
    new_kid = openid.add_key()
    token = openid.token(good_claims(rig, openid), kid=new_kid)
    status, _ = await rig.post(question(rig), headers={"Authorization": f"Bearer {token}"})
    assert status == 401  # unknown yet: refused at once, a refresh starts
    await keys.settled()
    status, _ = await rig.post(question(rig), headers={"Authorization": f"Bearer {token}"})
    assert status in (200, 201)


async def test_requests_without_keys_get_503_and_do_not_hammer_the_key_endpoint(
    store_backend: tuple[str, str], loaded: Loaded, openid: FakeOpenId
) -> None:
    openid.fail = True
    settings = TeamsSettings(APP_ID, "secret", "tenant-1", openid_metadata_url=openid.metadata_url)
    async with teams_rig(loaded, *store_backend, settings) as rig:
        keys = rig.platform.keys
        assert keys is not None
        headers = {"Authorization": f"Bearer {openid.token(good_claims(rig, openid))}"}
        for _ in range(5):
            status, _ = await rig.post(question(rig), headers=headers)
            assert status == 503
            await keys.settled()
        assert keys.fetches == 1  # one attempt, not one per request
        openid.fail = False
        rig.clock.advance(timedelta(seconds=11))
        status, _ = await rig.post(question(rig), headers=headers)
        assert status == 503  # this request starts the next attempt, and does not wait for it
        await keys.settled()
        assert keys.fetches == 2
        status, _ = await rig.post(question(rig), headers=headers)
        assert status in (200, 201)
        assert len(await rig.runtime.store.find(QUESTION, "asker:sam", limit=5)) == 1


async def test_a_stalled_key_endpoint_costs_503_and_healthz_keeps_answering(
    store_backend: tuple[str, str], loaded: Loaded, openid: FakeOpenId
) -> None:
    openid.stall = True
    runtime = await open_runtime(
        loaded,
        store=open_store(store_backend[0], namespace=store_backend[1]),
        clock=ManualClock(START),
        platforms=["teams"],
    )
    settings = TeamsSettings(APP_ID, "secret", "tenant-1", openid_metadata_url=openid.metadata_url)
    platform = TeamsPlatform(settings, runtime, outbound=PasswordServiceClientCredentialFactory())
    server = TestServer(create_app(runtime, [platform], poll_seconds=0.05), host="127.0.0.1")
    await server.start_server()
    try:
        claims = openid.claims(app_id=APP_ID, service_url="http://127.0.0.1:9/", now=START)
        activity = teams.personal_message("http://127.0.0.1:9/", text="help", user=PEOPLE["sam"])
        headers = {"Authorization": f"Bearer {openid.token(claims)}"}
        async with aiohttp.ClientSession(timeout=GUARD) as http:
            async with http.post(
                server.make_url("/api/messages"), json=activity, headers=headers
            ) as response:
                assert response.status == 503
                assert response.headers["Retry-After"] == "5"
            for _ in range(10):
                async with http.get(server.make_url("/healthz")) as health:
                    assert health.status == 200
                    assert (await health.json())["status"] == "ok"
        assert openid.requests  # the key endpoint was asked, and is still hanging
        assert await runtime.store.audit_log() == []
    finally:
        await server.close()


async def test_oversized_and_deeply_nested_bodies_are_refused_before_anything_else(
    rig: TeamsRig,
) -> None:
    deep = question(rig)
    deep["value"] = json.loads("[" * 150 + "]" * 150)
    status, body = await rig.post(deep)
    assert (status, body) == (400, {"error": "(json): nested deeper than 100 levels"})
    async with aiohttp.ClientSession() as http:
        async with http.post(
            rig.server.make_url("/api/messages"),
            data=io.BytesIO(b'{"a": "' + b"x" * 1_100_000 + b'"}'),
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 413
        async with http.post(
            rig.server.make_url("/api/messages"),
            data=b'{"type": "message", "text": "caf\xe9"}',
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 400
            assert "not valid UTF-8" in (await response.json())["error"]
    assert not await processed(rig)
