"""``playcaller serve`` as a real subprocess on loopback, for crash tests.

The process is started with the repository's config, a store URL and
platform credentials pointing at the tests' fakes, and is killed with
SIGKILL (no clean-up runs: what it acknowledged must already be durable).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from tests.conftest import ROOT

START_TIMEOUT = 120.0  # a cold interpreter on a shared 2-core machine is slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    """One ``serve`` subprocess; ``url`` is its base URL once started."""

    def __init__(
        self,
        store_url: str,
        namespace: str,
        env: Mapping[str, str],
        workdir: Path,
        config: Path = ROOT / "playcaller.yaml",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store_url = store_url
        self.namespace = namespace
        self.env = dict(env)
        self.workdir = workdir
        self.config = config
        self.log = workdir / f"serve-{self.port}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PLAYCALLER_STORE_NAMESPACE": self.namespace,
            "PLAYCALLER_INDEX_DIR": str(self.workdir / "index"),
            **self.env,
        }
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "--config",
                str(self.config),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--store",
                self.store_url,
                env=env,
                cwd=self.workdir,
                stdout=log,
                stderr=log,
            )
        await self._wait_healthy()

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise AssertionError(f"serve exited early:\n{self.output()}")
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"serve did not become healthy:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> None:
        if self.process is not None:
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                self.kill()
                await self.process.wait()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
