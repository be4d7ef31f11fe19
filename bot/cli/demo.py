"""``playcaller demo``: the bot in a terminal chat on sample data, with an injected clock.

Interactive on a terminal, or a ``--script`` of console commands whose transcript and
expectations make the exit status (the transcript tests run it so).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app import Loaded, make_store, open_runtime
from bot.core.clock import ManualClock
from bot.platforms.console.script import COMMANDS, ScriptError
from bot.platforms.console.session import ConsoleSession
from bot.resources import bundled

# The demo's injected clock starts here, just after the sample feed's posts.
DEMO_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

INTRO = "\n".join(
    [
        "Playcaller demo: a terminal chat on sample data, with an injected clock.",
        "Commands:",
        *(f"  {line}" for line in COMMANDS),
        "People: maria (coach), sam and alex (responders), priya (crisis lead),",
        "  lee (legal), jo (employee), ada (admin).",
        "Channels: #hub #care #comms #talent, and @PERSON for direct messages.",
    ]
)


def run(loaded: Loaded, args: argparse.Namespace, scratch: Path) -> int:
    """The demo in ``scratch``, a folder the caller removes afterwards."""
    script = None
    if args.script:
        path = Path(args.script).resolve()
        try:
            script = (path, path.read_text(encoding="utf-8").splitlines())
        except OSError as error:
            print(f"playcaller: cannot read script {path}: {error.strerror}", file=sys.stderr)
            return 2
    return asyncio.run(demo(loaded, script, args.store, args.width, scratch))


async def demo(
    loaded: Loaded,
    script: tuple[Path, list[str]] | None,
    store: str | None,
    width: int | None,
    scratch: Path,
) -> int:
    from rich.console import Console

    url = store or f"sqlite:///{scratch / 'demo.db'}"
    clock = ManualClock(DEMO_START)
    runtime = await open_runtime(
        loaded, store=make_store(url, source="--store"), clock=clock, platforms=["console"]
    )
    await runtime.start()
    try:
        if script:
            console = Console(width=width or 110, force_terminal=False, color_system=None)
            path, lines = script
            session = ConsoleSession(runtime, clock, console, base_dir=path.parent, plain=True)
            return await run_script(session, path.name, lines)
        console = Console(width=width)
        session = ConsoleSession(runtime, clock, console, base_dir=Path.cwd())
        return await interactive(session)
    finally:
        await runtime.store.close()


async def run_script(session: ConsoleSession, name: str, lines: list[str]) -> int:
    for number, line in enumerate(lines, start=1):
        try:
            await session.run_line(line)
        except ScriptError as error:
            session.note(f"{name}:{number}: {error}", style="bold red")
            return 2
    summary = session.expectations.summary()
    if session.failed_expectations:
        session.note(summary, style="bold red")
        return 1
    session.note(summary, style="bold green")
    return 0


async def interactive(session: ConsoleSession) -> int:
    session.console.print(INTRO, markup=False, highlight=False)
    await session.ingest_file(bundled("samples") / "feed.jsonl")
    await session.settle()
    # A terminal shows what is typed after the prompt; piped input is echoed
    # by the session instead, so every line appears once either way.
    typing = sys.stdin.isatty()
    while True:
        prompt = f"{session.actor.person_id}@{session.channel}> " if typing else ""
        try:
            line = await asyncio.to_thread(input, prompt)
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip() in ("quit", "exit"):
            return 0
        try:
            await session.run_line(line, echo=not typing)
        except ScriptError as error:
            session.note(str(error), style="bold red")
