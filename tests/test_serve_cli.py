"""``playcaller serve`` and ``ingest`` as separate processes: ports, and which
platforms the cards are queued for."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.store import open_store
from tests.conftest import ROOT, SAMPLES


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any Playcaller, Slack or Teams setting."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PLAYCALLER_", "SLACK_", "MICROSOFT_", "TEAMS_"))
    }
    return {**env, **extra}


def cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Running:
    port: int
    stderr: list[str]


@asynccontextmanager
async def serve(cwd: Path, env: dict[str, str], *args: str) -> AsyncIterator[Running]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        found = re.fullmatch(r"playcaller: serving on http://127\.0\.0\.1:(\d+)\n", line)
        assert found, line
        running = Running(int(found.group(1)), [])
        assert running.port != 3978
        # The socket listens before start-up ends: this request waits for the app.
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{running.port}/healthz") as answer,
        ):
            assert answer.status == 200
        yield running
    finally:
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
        if "running" in locals():
            running.stderr.append(err.decode())


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("99999", "--port 99999 is out of range: use 1 to 65535, or 0 for any free port"),
        ("-1", "--port -1 is out of range"),
        ("eighty", "--port must be a number from 0 to 65535, not 'eighty'"),
    ],
)
def test_a_bad_port_is_a_sentence_and_exit_2(tmp_path: Path, port: str, message: str) -> None:
    done = cli("serve", "--port", port, cwd=tmp_path, env=clean_env())
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli(
            "serve", "--host", "127.0.0.1", "--port", str(port), cwd=tmp_path, env=clean_env()
        )
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use by another program" in done.stderr
    assert "cannot reach the store" not in done.stderr


def test_the_environment_port_is_checked_too(tmp_path: Path) -> None:
    done = cli("serve", cwd=tmp_path, env=clean_env(PLAYCALLER_PORT="70000"))
    assert done.returncode == 2
    assert "PLAYCALLER_PORT 70000 is out of range" in done.stderr


async def outbox(url: str) -> dict[str, int]:
    store = open_store(url, namespace="playcaller")
    await store.open()
    try:
        return {p: await store.outbox_size(p) for p in ("console", "slack", "teams")}
    finally:
        await store.close()


async def test_ingest_without_credentials_queues_for_the_platform_serve_posts_to(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    feed = tmp_path / "feed.jsonl"
    feed.write_text((SAMPLES / "feed.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n")
    config = ["--config", str(ROOT / "playcaller.yaml")]
    # serve runs with Teams credentials (anonymous, for the test) and records its platforms.
    async with serve(tmp_path, clean_env(PLAYCALLER_TEAMS_ANONYMOUS="1"), "--store", url):
        pass
    # ingest runs later from a bare environment (a cron job): no credentials at all.
    done = await asyncio.to_thread(
        cli, *config, "ingest", str(feed), "--store", url, cwd=tmp_path, env=clean_env()
    )
    assert done.returncode == 0, done.stderr
    assert "cards are queued for teams (recorded by serve)" in done.stderr
    assert await outbox(url) == {"console": 0, "slack": 0, "teams": 1}
    audit = await asyncio.to_thread(
        cli, "--config", str(ROOT / "playcaller.yaml"), "audit", "--subject",
        "deployment:platforms", "--json", "--store", url, cwd=tmp_path, env=clean_env(),
    )  # fmt: skip
    [changed] = [json.loads(line) for line in audit.stdout.splitlines()]
    assert (changed["actor"], changed["action"]) == ("system", "deployment.platforms")
    assert changed["detail"]["platforms"] == ["teams"] and changed["detail"]["before"] is None
    # A serve that cannot post to Teams says what waits for it.
    async with serve(tmp_path, clean_env(), "--store", url) as console_only:
        pass
    assert (
        "1 card(s) wait in the outbox for teams, which this process does not serve"
        in (console_only.stderr[0])
    )


def test_platforms_in_the_config_beat_the_environment_guess(tmp_path: Path) -> None:
    config = tmp_path / "playcaller.yaml"
    config.write_text(
        (ROOT / "playcaller.yaml").read_text(encoding="utf-8") + "\nplatforms: [slack]\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    feed = tmp_path / "feed.jsonl"
    feed.write_text((SAMPLES / "feed.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n")
    done = cli("ingest", str(feed), "--store", url, cwd=tmp_path, env=clean_env())
    assert done.returncode == 0, done.stderr
    assert "cards are queued for slack (config)" in done.stderr
    assert asyncio.run(outbox(url)) == {"console": 0, "slack": 1, "teams": 0}


def test_a_guess_is_a_visible_warning(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text((SAMPLES / "feed.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n")
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    done = cli(
        "--config", str(ROOT / "playcaller.yaml"), "ingest", str(feed), "--store", url,
        cwd=tmp_path, env=clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "WARNING" in done.stderr
    assert "cards are queued for console (guessed from no setting)" in done.stderr
