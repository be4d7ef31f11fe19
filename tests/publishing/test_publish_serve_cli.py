"""``playcaller serve`` and the publishing environment: a URL without its
secret stops start-up with a sentence naming the variable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_serve_cli import clean_env, cli


@pytest.mark.parametrize(
    ("extra", "sentence"),
    [
        (
            {},
            "PLAYCALLER_PUBLISH_SECRET must be set (at least 16 characters) "
            "when PLAYCALLER_PUBLISH_URL is",
        ),
        (
            {
                "PLAYCALLER_PUBLISH_SECRET": "whsec-test-0123456789",
                "PLAYCALLER_PUBLISH_LEASE_SECONDS": "soon",
            },
            "PLAYCALLER_PUBLISH_LEASE_SECONDS must be a positive number of seconds",
        ),
    ],
)
async def test_a_publish_url_without_what_it_needs_stops_serve(
    tmp_path: Path, extra: dict[str, str], sentence: str
) -> None:
    env = clean_env(PLAYCALLER_PUBLISH_URL="http://127.0.0.1:9/publish", **extra)
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
    assert f"playcaller: environment: {sentence}" in done.stderr
    assert "serving on" not in done.stdout
