"""Helpers shared by the benchmark scripts: store URLs, cleanup, statistics."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "playcaller.yaml"
BACKENDS = ("sqlite", "redis")


def redis_url() -> str:
    """``REDIS_URL``, else the local default."""
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def new_namespace(prefix: str) -> str:
    """A Redis namespace nobody else uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def store_url(backend: str, tmp_dir: Path) -> str:
    """The store URL for ``backend``; SQLite lives in ``tmp_dir``."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / 'bench.db'}"
    if backend == "redis":
        return redis_url()
    raise ValueError(f"unknown backend {backend!r}")


def wipe_redis_namespace(namespace: str) -> int:
    """Delete every key of ``namespace`` (they all start with ``{namespace}``)."""
    import redis

    client = redis.Redis.from_url(redis_url())
    deleted = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{{{namespace}}}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += int(client.unlink(*batch))
                batch = []
        if batch:
            deleted += int(client.unlink(*batch))
    finally:
        client.close()
    return deleted


def redis_version() -> str:
    """The Redis server version (INFO server), or why it is unknown."""
    import redis

    try:
        client = redis.Redis.from_url(redis_url(), socket_connect_timeout=2)
        try:
            return str(client.info("server")["redis_version"])
        finally:
            client.close()
    except Exception as error:  # reported, not fatal
        return f"unavailable ({type(error).__name__})"


def environment() -> str:
    """One line naming the interpreter and backend versions."""
    return (
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"Redis {redis_version()}, {os.cpu_count()} CPUs"
    )


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (``q`` in 0..100)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _cpu_ticks() -> tuple[int, int, int]:
    """(total, idle incl. iowait, steal) jiffies over all CPUs, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0, 0, 0
    steal = fields[7] if len(fields) > 7 else 0
    return sum(fields[:8]), fields[3] + fields[4], steal


class HostLoad:
    """How busy the whole machine was while a benchmark ran (others included)."""

    def __init__(self) -> None:
        self._start = _cpu_ticks()
        self.load_before = os.getloadavg()[0]

    def summary(self) -> str:
        total, idle, steal = (b - a for a, b in zip(self._start, _cpu_ticks(), strict=True))
        if total <= 0:
            return "host load unknown"
        busy = 100 * (total - idle) / total
        return (
            f"host CPUs busy {busy:.0f}% of {os.cpu_count()} (steal {100 * steal / total:.1f}%), "
            f"load average {self.load_before:.2f} -> {os.getloadavg()[0]:.2f}"
        )
