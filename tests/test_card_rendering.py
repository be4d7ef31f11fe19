"""The rendering check: every card type, rendered as Teams renders it.

Each card the handlers make (see :mod:`tests.card_gallery`) goes through the
Teams renderer and then the official ``adaptivecards`` JavaScript renderer
(npm, pinned in tests/render/package.json) in headless Chromium, with the
Teams light and dark host configs, at 560 px (desktop) and 320 px (phone).
A renderer error, an element past the card's edge or a cut button fails.
PNGs land in tests/render/out/ (git-ignored) for people to look at.

Slack has no public renderer: its cards are checked by slack_sdk and the
Block Kit schemas in tests/slack, and here for one thing a renderer would
show: no social text reaches Slack as mrkdwn.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Loaded
from bot.platforms.slack import render as slack
from bot.platforms.teams import render as teams
from tests.card_gallery import Shot, gallery
from tests.conftest import SCHEMAS, Chat, open_chat, writable_guidelines
from tests.slack.slack_rig import assert_valid_message, assert_valid_modal

HERE = Path(__file__).resolve().parent / "render"
OUT = HERE / "out"
WIDTHS = (560, 320)
BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def browser() -> str | None:
    for path in (os.environ.get("PLAYCALLER_CHROMIUM", ""), *BROWSERS):
        if path and Path(path).exists():
            return path
    return shutil.which("chromium")


def adaptive(shot: Shot) -> dict[str, Any]:
    if shot.form is not None:
        errors = dict(shot.errors)
        return teams.form_card(shot.form, {"note": "later"} if errors else None, errors)
    assert shot.card is not None
    return teams.adaptive_card(shot.card, notes=shot.notes)


@pytest.fixture
async def shots(loaded: Loaded, tmp_path: Path) -> AsyncIterator[dict[str, Shot]]:
    folder = tmp_path
    chat: Chat = await open_chat(
        f"sqlite:///{folder / 'playcaller.db'}",
        "playcaller",
        writable_guidelines(loaded, folder / "guidelines"),
    )
    try:
        yield await gallery(chat)
    finally:
        await chat.store.close()


def render_all(shots: dict[str, Shot]) -> list[dict[str, Any]]:
    path = browser()
    if path is None:
        if os.environ.get("PLAYCALLER_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "no Chromium found (PLAYCALLER_REQUIRE_BROWSER=1): install Debian's chromium"
            )
        pytest.skip("rendering check: no Chromium browser installed (apt-get install chromium)")
    if not (HERE / "node_modules" / "adaptivecards").is_dir() or shutil.which("node") is None:
        if os.environ.get("PLAYCALLER_REQUIRE_BROWSER") == "1":
            pytest.fail("rendering check: run `npm ci` in tests/render first")
        pytest.skip("rendering check: node or tests/render/node_modules missing (npm ci there)")
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    job = {
        "cards": [{"name": name, "card": adaptive(shot)} for name, shot in shots.items()],
        "hostConfigs": {
            theme: str(SCHEMAS / "adaptivecards" / f"microsoft-teams-{theme}.json")
            for theme in ("light", "dark")
        },
        "widths": list(WIDTHS),
        "out": str(OUT),
        "browser": path,
    }
    (OUT / "job.json").write_text(json.dumps(job, indent=1))
    done = subprocess.run(
        ["node", str(HERE / "render.mjs"), str(OUT / "job.json")],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)["results"]
    for r in results:
        assert Path(r["png"]).stat().st_size > 1000, r["png"]
    return results


@pytest.mark.timeout(300)
async def test_every_card_renders_in_teams_without_errors_or_overflow(
    shots: dict[str, Shot],
) -> None:
    results = await asyncio.to_thread(render_all, shots)
    assert len(results) == len(shots) * 2 * len(WIDTHS)
    problems = [
        f"{r['name']} ({r['theme']}, {r['width']}px): {p}"
        for r in results
        for p in (*r["errors"], *r["overflow"], *r["truncated"])
    ]
    assert not problems, "\n".join(problems)


async def test_every_card_is_valid_block_kit_with_no_text_as_mrkdwn(
    shots: dict[str, Shot],
) -> None:
    """Slack: slack_sdk's models and the Block Kit schemas take every card, and
    nothing (the post, an author's ``*name*``, a coach's ``**words**``) is
    sent as mrkdwn, where Slack would format it."""
    assert {"mention-hostile", "triage-queue", "ask-answer", "resolve-form"} <= set(shots)
    for name, shot in shots.items():
        if shot.form is not None:
            assert_valid_modal(slack.modal(shot.form))
            continue
        assert shot.card is not None
        message = slack.message(shot.card)
        assert_valid_message(message)
        if shot.card.blocks and shot.card.blocks[0].quote:
            post = shot.card.blocks[0].text
            quoted = [b for b in message["blocks"] if b["type"] == "rich_text"]
            assert any(
                q["elements"][0]["type"] == "rich_text_quote"
                and q["elements"][0]["elements"][0]["text"] == post[:3000]
                for q in quoted
            ), name


async def test_teams_buttons_keep_their_style_in_the_older_clients_fallback(
    shots: dict[str, Shot],
) -> None:
    styled = 0
    for shot in shots.values():
        for node in _walk(adaptive(shot)):
            if node.get("type") == "Action.Execute":
                assert node["fallback"].get("style") == node.get("style"), node["title"]
                styled += "style" in node
    assert styled >= 10


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found
