"""The architecture's boundaries: core and handlers import no platform SDK and no I/O library."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "slack_bolt",
    "slack_sdk",
    "botbuilder",
    "botframework",
    "aiohttp",
    "redis",
    "aiosqlite",
    "sqlite3",
    "socket",
    "requests",
    "httpx",
    "urllib",
    "http",
    "ssl",
    "subprocess",
    "asyncio",
    "rich",
    "yaml",
    "jinja2",
    "bot.store",
    "bot.platforms",
    "bot.web",
    "bot.cli",
    "bot.app",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(folder: Path) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.py")):
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


def test_core_imports_no_io_library_or_platform() -> None:
    assert violations(ROOT / "bot" / "core") == []


def test_handlers_import_no_io_library_or_platform() -> None:
    assert violations(ROOT / "handlers") == []


def test_handlers_only_use_the_core() -> None:
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        for name in imports_of(path):
            if name.startswith("bot."):
                assert name.startswith("bot.core"), f"{path} imports {name}"


def test_the_checker_catches_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    folder = tmp_path / "handlers"
    folder.mkdir()
    (folder / "sneaky.py").write_text(
        "import redis.asyncio\nfrom slack_sdk import WebClient\nfrom bot.core.cards import Card\n",
        encoding="utf-8",
    )
    assert sorted(violations(folder)) == [
        "handlers/sneaky.py imports redis.asyncio",
        "handlers/sneaky.py imports slack_sdk",
    ]


@pytest.mark.parametrize("package", ["publishing", "paging"])
def test_adapters_stay_outside_the_runtime_and_the_outbox(package: str) -> None:
    for path in sorted((ROOT / "bot" / package).rglob("*.py")):
        for name in imports_of(path):
            for banned in ("bot.runtime", "bot.outbox", "bot.platforms", "bot.store", "handlers"):
                assert not (name == banned or name.startswith(banned + ".")), (
                    f"{path} imports {name}"
                )


# Handler packages import each other one way only (docs/architecture.md): a
# feature learns what another did through events, timers or tags, never by
# the other importing it back (approvals tells crisis of a draft's change with
# a ``crisis.draft_changed`` timer, not an import).
HANDLER_IMPORTS = {
    "admin": set(),
    "ask": set(),
    "help": set(),
    "triage": set(),
    "approvals": {"triage"},
    "crisis": {"approvals", "triage"},
    "surge": {"crisis", "triage"},
}


def test_handler_packages_import_each_other_one_way() -> None:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        parts = path.relative_to(ROOT / "handlers").parts
        if len(parts) < 2:
            continue
        package = parts[0]
        for name in imports_of(path):
            if name.startswith("handlers."):
                other = name.split(".")[1]
                if other != package:
                    found.setdefault(package, set()).add(other)
    for package, others in found.items():
        assert others <= HANDLER_IMPORTS.get(package, set()), f"{package} imports {others}"
