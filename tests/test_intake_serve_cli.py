"""``playcaller serve`` as a process: ``POST /intake`` follows the environment."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp

from bot.signing import sign
from bot.store import open_store
from handlers.triage.records import KIND
from tests.conftest import ROOT
from tests.test_serve_cli import clean_env, cli, serve

SECRET = "serve-cli-intake-secret"
MENTION = {
    "network": "x",
    "id": "cli-1",
    "text": "@acme my order never arrived",
    "created_at": "2026-03-02T09:00:00Z",
    "author": {"handle": "dana"},
}


async def test_serve_takes_signed_intake_with_the_secret_and_not_without(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    body = json.dumps(MENTION).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Playcaller-Timestamp": str(timestamp),
        "X-Playcaller-Signature": sign(SECRET, timestamp, body),
    }
    env = clean_env(PLAYCALLER_INTAKE_SECRET=SECRET)
    async with (
        serve(tmp_path, env, "--store", url) as running,
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{running.port}/intake", data=body, headers=headers) as answer,
    ):
        assert answer.status == 200
        assert (await answer.json())["stored"] == 1
    assert SECRET not in running.stderr[0]
    store = open_store(url, namespace="playcaller")
    await store.open()
    try:
        assert await store.get(KIND, "x:cli-1") is not None
    finally:
        await store.close()
    async with (
        serve(tmp_path, clean_env(), "--store", url) as running,
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{running.port}/intake", data=body, headers=headers) as answer,
    ):
        assert answer.status == 404


async def test_a_bad_intake_size_stops_serve_with_a_sentence(tmp_path: Path) -> None:
    env = clean_env(PLAYCALLER_INTAKE_SECRET=SECRET, PLAYCALLER_INTAKE_MAX_BYTES="5MB")
    done = await asyncio.to_thread(
        cli,
        "--config",
        str(ROOT / "playcaller.yaml"),
        "serve",
        "--port",
        "0",
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 2
    assert "PLAYCALLER_INTAKE_MAX_BYTES: '5MB' is not a positive number of bytes" in done.stderr
