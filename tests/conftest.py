"""Shared fixtures: the sample configuration, real stores, a console harness,
and a guard that refuses any network connection beyond loopback."""

from __future__ import annotations

import io
import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot.app import Loaded, load, open_runtime
from bot.core.clock import ManualClock
from bot.core.events import Action
from bot.core.storage import Store
from bot.platforms.console.session import ConsoleSession
from bot.runtime import Runtime
from bot.store import open_store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
# Official schemas and fixtures the tests validate against, copied into the
# repository (see tests/schemas/README.md for sources, versions and licences).
SCHEMAS = ROOT / "tests" / "schemas"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False
    return True  # unix sockets


@pytest.fixture(autouse=True)
def no_network_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reaches the internet: connecting anywhere but loopback fails."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise ConnectionRefusedError(f"tests may not connect to {address!r}")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise ConnectionRefusedError(f"tests may not connect to {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    yield


@pytest.fixture(scope="session")
def loaded() -> Loaded:
    """The bundled sample config, playbooks and templates."""
    return load(str(ROOT / "playcaller.yaml"))


def _redis_available() -> bool:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return True
    except Exception:
        return False


async def _wipe_redis_namespace(namespace: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=f"{{{namespace}}}*", count=500):
            await client.delete(key)
    finally:
        await client.aclose()


@pytest.fixture(params=["sqlite", "redis"])
async def store_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """(store URL, namespace) for a fresh store on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'playcaller.db'}", "playcaller"
        return
    require_redis()
    namespace = f"test-{uuid.uuid4().hex}"
    yield REDIS_URL, namespace
    await _wipe_redis_namespace(namespace)


def require_redis() -> None:
    """Skip the test when no Redis answers, or fail it where Redis is required
    (``PLAYCALLER_REQUIRE_REDIS=1``, as CI sets): a Redis suite that skipped
    there would pass off as green."""
    if not _redis_available():
        if os.environ.get("PLAYCALLER_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis not reachable at {REDIS_URL} (PLAYCALLER_REQUIRE_REDIS=1)")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")


@pytest.fixture
async def redis_namespace() -> AsyncIterator[str]:
    """A fresh key namespace on the test Redis, wiped afterwards."""
    require_redis()
    name = f"test-{uuid.uuid4().hex}"
    yield name
    await _wipe_redis_namespace(name)


class Chat:
    """A console chat with the bot, read like a transcript in tests."""

    def __init__(self, session: ConsoleSession, output: io.StringIO) -> None:
        self.session = session
        self.output = output
        self._read_from = 0

    @property
    def runtime(self) -> Runtime:
        return self.session.runtime

    @property
    def store(self) -> Store:
        return self.session.runtime.store

    async def run(self, *lines: str) -> str:
        """Run script lines; return the transcript they produced."""
        start = len(self.session.transcript)
        for line in lines:
            await self.session.run_line(line)
        return "\n".join(self.session.transcript[start:])

    def press(self, person: str, label: str, number: int = 1, **envelope: Any) -> Action:
        """The Action a configured person's click on card #N's button would send."""
        shown = self.session.shown[number]
        button = next(b for b in shown.card.actions() if b.label == label)
        settings = self.runtime.settings
        return Action(
            platform="console",
            actor=settings.actor_for(settings.people[person], "console"),
            received_at=START,
            action_id=button.action_id,
            value=button.value,
            card_key=shown.card.card_key,
            **envelope,
        )

    def card(self, number: int) -> str:
        """The plain text of card #N as it is now."""
        from bot.platforms.console.render import plain_lines

        shown = self.session.shown[number]
        return "\n".join(plain_lines(shown.card, number, shown.place))


async def open_chat(url: str, namespace: str, loaded: Loaded, person: str = "sam") -> Chat:
    """A chat on the store at ``url``; reopening the same URL continues after a restart.

    ``loaded`` should carry a guideline store the test may write to (see
    :func:`writable_guidelines`): saving guidance appends to its FAQ document.
    """
    store = open_store(url, namespace=namespace)
    clock = ManualClock(START)
    runtime = await open_runtime(loaded, store=store, clock=clock, platforms=["console"])
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False, color_system=None)
    session = ConsoleSession(runtime, clock, console, base_dir=SAMPLES, person=person)
    return Chat(session, output)


def writable_guidelines(loaded: Loaded, folder: Path) -> Loaded:
    """``loaded`` with its guideline store on a private copy of the guidelines."""
    import dataclasses
    import shutil

    from bot.knowledge.answer import GuidelineStore

    shutil.copytree(loaded.knowledge.folder, folder)
    return dataclasses.replace(loaded, knowledge=GuidelineStore(folder, cache_dir=None))


@pytest.fixture
async def chat(
    store_backend: tuple[str, str], loaded: Loaded, tmp_path: Path
) -> AsyncIterator[Chat]:
    """A console chat on a fresh store, on every backend."""
    url, namespace = store_backend
    opened = await open_chat(url, namespace, writable_guidelines(loaded, tmp_path / "guidelines"))
    yield opened
    await opened.store.close()


# -- the embedding model, once per session ------------------------------------------
#
# Embedding the shipped guidelines takes seconds (tens on a busy machine), so the
# window vectors are computed once, before any test runs (no per-test timeout), and
# kept in pytest's cache folder (.pytest_cache, inside the repository) for the next
# session; a fresh clone computes them once. Every store in the session shares the
# one loaded model (bot.knowledge.embedder.shared_embedder).

_EMBEDDINGS_KEY = "playcaller-embeddings"


def pytest_sessionstart(session: pytest.Session) -> None:
    import numpy as np

    from bot.knowledge import GuidelineStore
    from bot.knowledge.embedder import shared_embedder

    embedder = shared_embedder()
    if embedder is None:
        return
    pytest_cache = getattr(session.config, "cache", None)  # None with -p no:cacheprovider
    cache = pytest_cache.mkdir(_EMBEDDINGS_KEY) if pytest_cache else None
    stored = cache / f"{embedder.name.replace('/', '_')}.npz" if cache else None
    if stored is not None and stored.is_file():
        try:
            with np.load(stored) as data:
                embedder.restore([bytes(k) for k in data["keys"]], data["vectors"])
        except (OSError, ValueError, KeyError):
            stored.unlink(missing_ok=True)
    import shutil
    import tempfile

    from tests.knowledge.conftest import FOREIGN, HANDBOOKS

    with tempfile.TemporaryDirectory() as scratch:
        for name in FOREIGN:
            shutil.copy(HANDBOOKS / name, Path(scratch) / name)
        for folder in (ROOT / "playbooks" / "guidelines", Path(scratch)):
            store = GuidelineStore(folder, cache_dir=None, check_interval=None)
            store.index.window_vectors()


def pytest_sessionfinish(session: pytest.Session) -> None:
    import numpy as np

    from bot.knowledge.embedder import shared_embedder

    embedder = shared_embedder()
    pytest_cache = getattr(session.config, "cache", None)
    if embedder is None or pytest_cache is None:
        return
    folder = pytest_cache.mkdir(_EMBEDDINGS_KEY)
    keys, vectors = embedder.export()
    temporary = folder / ".embeddings.tmp.npz"
    np.savez(temporary, keys=np.array(keys, dtype="S16"), vectors=vectors)
    temporary.replace(folder / f"{embedder.name.replace('/', '_')}.npz")
