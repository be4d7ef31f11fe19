"""Teams as a real client: Microsoft's Agents Playground in front of ``serve``.

``serve`` runs as its own process with the Teams platform (anonymous, the
Playground sends no tokens) on a SQLite file; the Microsoft 365 Agents
Playground (npm, pinned in tests/playground/package-lock.json) plays Teams and
its Bot Connector on loopback, with the mocked tenant, people and channel of
tests/playground/m365agentsplayground.yml. ``drive.mjs`` uses its web UI in
headless Debian Chromium as Sam would: ``help`` and a question in a personal
chat, an @mention in the care channel, a mention arriving from ``ingest`` in
another process, Claim (an ``adaptiveCard/action`` invoke), the Resolve form
submitted, and reports the text on screen at each step. Screenshots land in
tests/playground/out/ (git-ignored).

Nothing leaves the machine: the Playground runs with a preload that refuses
any connection or name lookup off loopback (it tries telemetry and the cloud
metadata address even with ``--disable-telemetry``), and the browser sends
everything else to a closed port.

In CI (``PLAYCALLER_REQUIRE_BROWSER=1``) a missing part fails the test; on a
machine without Node, Chromium or ``npm ci`` in tests/playground it is skipped
with the reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import Loaded
from bot.store import open_store
from tests.conftest import ROOT, writable_guidelines
from tests.serve_process import ServeProcess

HERE = ROOT / "tests" / "playground"
OUT = HERE / "out"
CLI = HERE / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CARE_CHANNEL = "19:care@thread.tacv2"  # the channel's id in m365agentsplayground.yml
DRIVE_TIMEOUT = 240.0
MENTION = {
    "network": "x",
    "id": "1861000000000000001",
    "text": "@acme my card was charged twice for the same order and nobody answers the phone.",
    "created_at": "2026-03-02T08:41:00Z",
    "url": "https://x.com/angry_dan/status/1861000000000000001",
    "author": {"handle": "angry_dan", "name": "Dan Reyes", "followers": 1240},
}


def browser() -> str | None:
    for path in (os.environ.get("PLAYCALLER_CHROMIUM", ""), *BROWSERS):
        if path and Path(path).exists():
            return path
    return shutil.which("chromium")


def missing() -> str | None:
    """Why the Playground cannot run here, or None."""
    if shutil.which("node") is None:
        return "no node (apt-get install nodejs npm)"
    if browser() is None:
        return "no Chromium browser installed (apt-get install chromium)"
    if not CLI.is_file() or not (HERE / "node_modules" / "playwright-core").is_dir():
        return "tests/playground/node_modules missing (npm ci there)"
    return None


def teams_config(folder: Path) -> Path:
    """The sample config with the care channel and the hub on Teams."""
    config = yaml.safe_load((ROOT / "playcaller.yaml").read_text(encoding="utf-8"))
    config["hub"]["channels"]["teams"] = "19:hub@thread.tacv2"
    care = next(spoke for spoke in config["spokes"] if spoke["id"] == "care")
    care["channels"]["teams"] = CARE_CHANNEL
    path = folder / "playcaller.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


class Playground:
    """The Agents Playground's server, started in ``folder`` with its config there."""

    def __init__(self, folder: Path, endpoint: str) -> None:
        self.folder = folder
        self.endpoint = endpoint
        self.log = folder / "playground.log"
        self.process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[bytes] | None = None
        self.url = ""

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "m365agentsplayground.yml", self.folder / ".m365agentsplayground.yml")
        env = {
            **os.environ,
            "TEAMSAPPTESTER_BROWSER": "none",  # it would open a browser of its own
            "NODE_OPTIONS": f"--require {HERE / 'loopback_only.cjs'}",
        }
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                "node",
                str(CLI),
                "start",
                "--app-endpoint",
                self.endpoint,
                "--channel-id",
                "msteams",
                "--disable-telemetry",
                "--port",
                "0",
                cwd=self.folder,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)
        words = line.decode().split()
        assert words[:2] == ["Listening", "on"], f"the Playground said {line!r}\n{self.output()}"
        self.url = f"http://127.0.0.1:{words[2]}"
        # Keep reading what it prints, so a full pipe never stalls it.
        self._drain = asyncio.create_task(self.process.stdout.read())

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)
        if self._drain is not None:
            await self._drain

    def output(self) -> str:
        found = [self.log, *self.folder.glob("devTools/*.log")]
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in found if p.exists())


@pytest.fixture
async def running(tmp_path: Path, loaded: Loaded) -> AsyncIterator[dict[str, Any]]:
    """``serve`` on Teams and the Playground in front of it."""
    reason = missing()
    if reason is not None:
        if os.environ.get("PLAYCALLER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"agents playground: {reason} (PLAYCALLER_REQUIRE_BROWSER=1)")
        pytest.skip(f"agents playground: {reason}")
    config = teams_config(tmp_path)
    guidelines = writable_guidelines(loaded, tmp_path / "guidelines").knowledge.folder
    store_url = f"sqlite:///{tmp_path / 'playcaller.db'}"
    env = {
        "PLAYCALLER_TEAMS_ANONYMOUS": "1",
        "PLAYCALLER_PLATFORMS": "teams",
        "PLAYCALLER_GUIDELINES": str(guidelines),
    }
    serve = ServeProcess(store_url, "playcaller", env, tmp_path / "serve", config=config)
    await serve.start()
    playground = Playground(tmp_path / "playground", f"{serve.url}/api/messages")
    try:
        await playground.start()
        yield {
            "serve": serve,
            "playground": playground,
            "config": config,
            "store_url": store_url,
            "env": env,
        }
    finally:
        await playground.stop()
        await serve.stop()


async def drive(running: dict[str, Any], folder: Path) -> dict[str, Any]:
    feed = folder / "mention.jsonl"
    feed.write_text(json.dumps(MENTION) + "\n", encoding="utf-8")
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    job = {
        "url": running["playground"].url,
        "browser": browser(),
        "shots": str(OUT),
        "cwd": str(folder),
        "ingest": [
            sys.executable,
            "-m",
            "bot.cli",
            "--config",
            str(running["config"]),
            "ingest",
            "--store",
            running["store_url"],
            str(feed),
        ],
        "botName": "Playcaller",
        "channelName": "Customer Care",
        "question": "Can I reply to an angry customer in public?",
        "mentionTitle": "X mention from @angry_dan",
        # The clicker's private note: the step waits for it, not just for the new state.
        "claimedText": "You claimed the mention from @angry_dan",
        "formText": "How was the mention from @angry_dan handled?",
        "outcomeLabel": "replied",
        "note": "Refunded the second charge",
        "submitLabel": "Resolve",
        "resolvedText": "Resolved the mention from @angry_dan",
    }
    (folder / "job.json").write_text(json.dumps(job, indent=1), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        "node",
        str(HERE / "drive.mjs"),
        str(folder / "job.json"),
        cwd=HERE,
        env={**os.environ, **running["env"]},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), DRIVE_TIMEOUT)
    assert process.returncode == 0, err.decode(errors="replace")[-3000:]
    result: dict[str, Any] = json.loads(out)
    assert not result["errors"], (
        f"{result['errors']}\nsteps: {result['steps']}\n"
        f"--- serve\n{running['serve'].output()}\n--- playground\n{running['playground'].output()}"
    )
    return result


@pytest.mark.timeout(360)
async def test_a_person_in_the_agents_playground_sees_what_the_bot_does(
    running: dict[str, Any], tmp_path: Path
) -> None:
    result = await drive(running, tmp_path)
    steps = result["steps"]

    # Personal chat: the Playground's user is Sam, found through its roster by e-mail.
    assert steps["help"].startswith("What Playcaller can do for you")
    assert "Hi Sam Okafor" in steps["help"]
    assert "/triage" in steps["help"]
    assert "You asked: Can I reply to an angry customer in public?" in steps["answer"]
    assert "answer the problem and ignore the tone" in steps["answer"]
    assert "Source: " in steps["answer"]

    # The mention from another process arrives in the care channel.
    mention = steps["mention"].splitlines()
    assert mention[0] == "X mention from @angry_dan"
    assert "Unclaimed" in mention[1]
    assert MENTION["text"] in mention
    assert "Claim" in mention
    assert steps["mentionCards"] == 1

    # Claim: the clicker's note, and the same card changed in place (no new post).
    claimed = steps["claimed"].splitlines()
    assert (
        claimed[0]
        == "You claimed the mention from @angry_dan. It is yours until you resolve or release it."
    )
    assert claimed[1] == "X mention from @angry_dan"
    assert "Claimed by Sam Okafor" in claimed[2]
    assert "Claim" not in claimed and "Resolve" in claimed
    assert steps["mentionCardsAfterClaim"] == 1

    # Resolve: the form in the card, submitted, and the card again in place.
    assert "Outcome *" in steps["form"].splitlines()
    assert "Cancel" in steps["form"].splitlines()
    resolved = steps["resolved"].splitlines()
    assert resolved[0] == "Resolved the mention from @angry_dan as replied."
    assert "Resolved by Sam Okafor: replied (Refunded the second charge)" in resolved
    assert "Resolve" not in resolved and "Release" not in resolved
    assert steps["mentionCardsAfterResolve"] == 1

    # The store holds what the screen showed, audited with the actor from Teams.
    store = open_store(running["store_url"], namespace="playcaller")
    await store.open()
    try:
        entries = await store.audit_log("mention:x:1861000000000000001")
    finally:
        await store.close()
    done = [(e.action, e.actor) for e in entries if e.action.startswith("mention.")]
    assert ("mention.claim", "sam") in done
    assert ("mention.resolve", "sam") in done
    assert [e.detail.get("note") for e in entries if e.action == "mention.resolve"] == [
        "Refunded the second charge"
    ]
    # Only the page's fonts on Microsoft's CDN were asked for off loopback.
    assert all(host.endswith(".office.net") for host in result["refused"]), result["refused"]
