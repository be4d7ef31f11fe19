"""The Dockerfile, compose.yaml and the docs hold what running in production needs.

No Docker engine runs the tests, so the image is not built here: these tests
check the files' content, and run the image's health check command against a
real ``serve``.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.test_serve_cli import clean_env, serve

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(f"{name} ")]


def test_the_image_is_slim_locked_and_not_root() -> None:
    assert [f.split()[0] for f in instructions("FROM")] == ["python:3.11-slim"] * 2
    runs = " ".join(instructions("RUN"))
    assert "uv sync --no-dev --locked" in runs
    [user] = instructions("USER")
    assert user.strip() not in ("root", "0")
    assert re.search(rf"useradd .*\b{user.strip()}\b", runs)
    [health] = instructions("HEALTHCHECK")
    assert '"python", "-m", "bot.healthcheck"' in health
    assert instructions("CMD") == ['["playcaller", "serve"]']


def test_everything_the_image_copies_is_in_the_repository() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for copy in instructions("COPY"):
        parts = [p for p in shlex.split(copy) if not p.startswith("--")]
        if any(p.startswith("--from") for p in shlex.split(copy)):
            continue
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_compose_runs_redis_with_an_append_only_file_and_no_secrets() -> None:
    redis = COMPOSE["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--appendfsync" in command
    assert "redis-data:/data" in redis["volumes"]
    bot = COMPOSE["services"]["playcaller"]
    assert bot["environment"]["PLAYCALLER_STORE_URL"].startswith("redis://redis:")
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    for name, value in bot["environment"].items():
        if name.startswith(("SLACK_", "MICROSOFT_")):
            assert value == f"${{{name}:-}}", f"{name} must come from the environment"
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "Several instances may share the Redis store" in text


def test_the_docs_stand_alone() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Running in production" in readme and "docs/operations.md" in readme
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for topic in ("uv sync --no-dev --locked", "append-only", "Several instances",
                  "ingest", "Finding a channel id", "restart", "playcaller audit",
                  "business hours", "/playcaller link hub"):  # fmt: skip
        assert topic in operations, topic
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        assert "shared architecture notes" not in text and "/work/" not in text, doc.name


async def test_the_health_check_command_asks_a_running_serve(tmp_path: Path) -> None:
    async def healthcheck(port: int) -> int:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot.healthcheck"],
            env=clean_env(PLAYCALLER_PORT=str(port)),
            capture_output=True,
            timeout=30,
            check=False,
        )
        return done.returncode

    url = f"sqlite:///{tmp_path / 'h.db'}"
    async with serve(tmp_path, clean_env(), "--store", url) as running:
        assert await healthcheck(running.port) == 0
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        free = closed.getsockname()[1]
    assert await healthcheck(free) == 1
