"""The ``playcaller`` command line: check, demo, ingest, serve.

Logging is set up here, at the entry point, and nowhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from redis.exceptions import RedisError

from bot import logs
from bot.app import Loaded, load, make_store, open_runtime, store_url
from bot.core.clock import ManualClock, SystemClock
from bot.core.errors import ConfigError
from bot.intake.feed import LineProblem, parse_lines
from bot.intake.progress import progress_console, tracked
from bot.operations import intake_counts
from bot.platforms.console.session import ConsoleSession, ScriptError
from bot.resources import bundled

log = logging.getLogger("playcaller")

# A server allocates fast and keeps many short-lived objects in flight: collect
# the youngest generation less often, and the full collection far less often.
GC_THRESHOLDS = (50_000, 20, 100)

# The demo's injected clock starts here, just after the sample feed's posts.
DEMO_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    level = os.environ.get("PLAYCALLER_LOG_LEVEL", "").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        level = "WARNING" if args.command == "demo" else "INFO"
    try:
        log_format = logs.log_format(os.environ.get("PLAYCALLER_LOG_FORMAT"))
    except ValueError as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    logs.configure(level, log_format)
    # bm25s logs every index build at DEBUG on its own handler.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        loaded = load(args.config, index_cache=_index_cache(args.command))
    except ConfigError as error:
        print(f"playcaller: configuration has {len(error.problems)} problem(s):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    command = args.command
    if command == "check":
        return _check(loaded)
    if command == "manifest":
        return _manifest(args.url, args.socket_mode)
    if command == "package":
        return _package(args)
    if command == "ask":
        return _ask(loaded, args)
    try:
        if command == "demo":
            script = None
            if args.script:
                path = Path(args.script).resolve()
                try:
                    script = (path, path.read_text(encoding="utf-8").splitlines())
                except OSError as error:
                    print(
                        f"playcaller: cannot read script {path}: {error.strerror}", file=sys.stderr
                    )
                    return 2
            return asyncio.run(_demo(loaded, script, args.store, args.width))
        if command == "ingest":
            return asyncio.run(_ingest(loaded, Path(args.file), args.store))
        if command == "serve":
            raw_port = os.environ.get("PLAYCALLER_PORT", "3978")
            if args.port is None and not raw_port.isdigit():
                print(
                    f"playcaller: PLAYCALLER_PORT must be a number, not {raw_port!r}",
                    file=sys.stderr,
                )
                return 2
            port = args.port or int(raw_port)
            return _serve(loaded, args.host, port, args.store)
    except ConfigError as error:
        for problem in error.problems:
            print(f"playcaller: {problem}", file=sys.stderr)
        return 2
    except (OSError, ConnectionError, RedisError) as error:
        print(f"playcaller: cannot reach the store or a service: {error}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {command}")
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="playcaller", description=__doc__)
    parser.add_argument("--config", help="path to playcaller.yaml (default: $PLAYCALLER_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate config, playbooks and templates")
    demo = commands.add_parser("demo", help="a terminal chat with the bot on sample data")
    demo.add_argument("--script", help="run commands from FILE and print the transcript")
    demo.add_argument("--store", help="store URL (default: a fresh SQLite file)")
    demo.add_argument("--width", type=int, default=None, help="terminal width for cards")
    ingest = commands.add_parser("ingest", help="ingest mentions from a JSONL file")
    ingest.add_argument("file", help="one JSON mention per line (see README)")
    ingest.add_argument("--store", help="store URL (default: $PLAYCALLER_STORE_URL)")
    manifest = commands.add_parser("manifest", help="print a platform's app manifest")
    manifest.add_argument("platform", choices=["slack"])
    manifest.add_argument("--url", help="public URL of /slack/events (HTTP mode)")
    manifest.add_argument("--socket-mode", action="store_true", help="use Socket Mode")
    ask = commands.add_parser("ask", help="answer a question from the guidelines")
    ask.add_argument("question", nargs="+", help="the question, or - to read one per line")
    ask.add_argument("--guidelines", help="a guideline folder (default: the configured store)")
    ask.add_argument("--json", action="store_true", help="print a JSON object per question")
    package = commands.add_parser("package", help="build a platform's app package")
    package.add_argument("platform", choices=["teams"])
    package.add_argument("--app-id", help="the bot's Microsoft App ID (default: $MICROSOFT_APP_ID)")
    package.add_argument(
        "--teams-app-id", help="the Teams app's own id (default: $TEAMS_APP_ID, else the App ID)"
    )
    package.add_argument("--host", help="the bot's public host name")
    package.add_argument("--version", default="1.0.0", help="app version (X.Y.Z)")
    package.add_argument("--out", default="playcaller-teams.zip", help="zip file or folder")
    serve = commands.add_parser("serve", help="run the bot's web app")
    serve.add_argument("--port", type=int, help="port (default: $PLAYCALLER_PORT or 3978)")
    serve.add_argument("--host", default=os.environ.get("PLAYCALLER_HOST", "0.0.0.0"))
    serve.add_argument("--store", help="store URL (default: $PLAYCALLER_STORE_URL)")
    return parser


def _check(loaded: Loaded) -> int:
    settings = loaded.settings
    print(
        f"ok: {loaded.config_file} ({len(settings.spokes)} spokes, {len(settings.people)} people, "
        f"{len(settings.rules)} routing rules); {len(loaded.playbooks.crisis)} crisis playbooks, "
        f"{len(loaded.knowledge.guidelines())} guidelines; templates in {loaded.templates.root}"
    )
    return 0


def _manifest(url: str | None, socket_mode: bool) -> int:
    import yaml

    from bot.platforms.slack.manifest import slack_manifest
    from bot.runtime import build_dispatcher

    try:
        manifest = slack_manifest(
            build_dispatcher().commands(), request_url=url, socket_mode=socket_mode
        )
    except ValueError as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), end="")
    return 0


def _index_cache(command: str) -> Path | None:
    """Long-running and repeated commands keep the guideline index on disk."""
    if command in ("serve", "ingest", "ask"):
        return Path(os.environ.get("PLAYCALLER_INDEX_DIR", ".playcaller/index"))
    return None


def _ask(loaded: Loaded, args: argparse.Namespace) -> int:
    from bot.knowledge.answer import GuidelineStore, ask_json

    store = loaded.knowledge
    if args.guidelines:
        try:
            store = GuidelineStore(Path(args.guidelines), cache_dir=_index_cache("ask"))
        except ConfigError as error:
            for problem in error.problems:
                print(f"playcaller: {problem}", file=sys.stderr)
            return 2
    joined = " ".join(args.question)
    questions = sys.stdin.read().splitlines() if joined == "-" else [joined]
    for question in questions:
        answer = store.answer(question)
        if args.json:
            print(json.dumps(ask_json(answer), ensure_ascii=False))
        elif answer.answered:
            best = answer.sources[0]
            print(
                f"{answer.passage}\n  source: {best.doc}: {best.heading}"
                f" (confidence {answer.confidence:.2f})"
            )
        else:
            leads = "; ".join(f"{s.doc}: {s.heading}" for s in answer.sources) or "none"
            print(f"I don't know (confidence {answer.confidence:.2f}). Nearest: {leads}")
    return 0


def _package(args: argparse.Namespace) -> int:
    from bot.platforms.teams.package import build_package

    bot_id = args.app_id or os.environ.get("MICROSOFT_APP_ID", "")
    app_id = args.teams_app_id or os.environ.get("TEAMS_APP_ID", "") or bot_id
    if not bot_id:
        print("playcaller: give --app-id or set MICROSOFT_APP_ID", file=sys.stderr)
        return 2
    try:
        path = build_package(
            Path(args.out), app_id=app_id, bot_id=bot_id, version=args.version, host=args.host
        )
    except ValueError as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


async def _demo(
    loaded: Loaded, script: tuple[Path, list[str]] | None, store: str | None, width: int | None
) -> int:
    from rich.console import Console

    with tempfile.TemporaryDirectory(prefix="playcaller-demo-") as scratch:
        url = store or f"sqlite:///{Path(scratch) / 'demo.db'}"
        clock = ManualClock(DEMO_START)
        runtime = await open_runtime(
            loaded, store=make_store(url), clock=clock, platforms=["console"]
        )
        await runtime.start()
        try:
            if script:
                console = Console(width=width or 110, force_terminal=False, color_system=None)
                path, lines = script
                session = ConsoleSession(runtime, clock, console, base_dir=path.parent)
                return await _run_script(session, path.name, lines)
            console = Console(width=width)
            session = ConsoleSession(runtime, clock, console, base_dir=Path.cwd())
            return await _interactive(session)
        finally:
            await runtime.store.close()


async def _run_script(session: ConsoleSession, name: str, lines: list[str]) -> int:
    for number, line in enumerate(lines, start=1):
        try:
            await session.run_line(line)
        except ScriptError as error:
            session.note(f"{name}:{number}: {error}", style="bold red")
            return 2
    if session.failed_expectations:
        session.note(f"{len(session.failed_expectations)} expectation(s) failed", style="bold red")
        return 1
    return 0


INTRO = """Playcaller demo: a terminal chat on sample data, with an injected clock.
Commands: as PERSON · channel NAME · /triage [spoke] · say TEXT · click LABEL [#N]
          fill FIELD=VALUE ... · submit · advance 16m · ingest FILE · mention {json} · quit
People: maria (coach), sam and alex (responders), priya (crisis lead), lee (legal),
        jo (employee), ada (admin). Channels: #hub #care #comms #talent, @PERSON for DMs."""


async def _interactive(session: ConsoleSession) -> int:
    session.console.print(INTRO, markup=False, highlight=False)
    await session.ingest_file(bundled("samples") / "feed.jsonl")
    await session.settle()
    while True:
        prompt = f"{session.actor.person_id}@{session.channel}> "
        try:
            line = await asyncio.to_thread(input, prompt)
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip() in ("quit", "exit"):
            return 0
        try:
            await session.run_line(line)
        except ScriptError as error:
            session.note(str(error), style="bold red")


async def _ingest(loaded: Loaded, path: Path, store: str | None) -> int:
    runtime = await open_runtime(loaded, store=make_store(store_url(store)), clock=SystemClock())
    await runtime.start()
    stored = duplicates = refused = 0
    try:
        try:
            handle = path.open("rb")  # decoded line by line: bad bytes cost one line
        except OSError as error:
            print(f"playcaller: cannot read {path}: {error.strerror}", file=sys.stderr)
            return 2
        size = os.fstat(handle.fileno()).st_size
        bar = progress_console(size)
        with handle, tracked(handle, size, f"ingest {path.name}", bar) as lines:
            for item in parse_lines(lines):
                if isinstance(item, LineProblem):
                    refused += 1
                    print(f"{path}:{item}", file=sys.stderr)
                elif await runtime.ingest(item):
                    stored += 1
                else:
                    duplicates += 1
    finally:
        try:
            await runtime.store.add_counts(intake_counts(stored, duplicates, refused))
        finally:
            await runtime.store.close()
    summary = f"{duplicates} duplicates dropped; {refused} lines refused"
    print(f"ingested {stored} mentions from {path}; {summary}")
    return 1 if refused else 0


def _serve(loaded: Loaded, host: str, port: int, store: str | None) -> int:
    from aiohttp import web

    from bot.platforms.console.transcript import TranscriptDelivery, TranscriptPlatform
    from bot.platforms.slack.platform import SlackPlatform, SlackSettings
    from bot.platforms.teams.platform import TeamsPlatform, TeamsSettings
    from bot.web import ServedPlatform, create_app

    slack = SlackSettings.from_env(os.environ)
    teams = TeamsSettings.from_env(os.environ)

    async def build() -> web.Application:
        runtime = await open_runtime(
            loaded, store=make_store(store_url(store)), clock=SystemClock()
        )
        await runtime.start()
        platforms: list[ServedPlatform] = []
        if slack is not None:
            platforms.append(SlackPlatform(slack, runtime))
        if teams is not None:
            platforms.append(TeamsPlatform(teams, runtime))
        if "console" in runtime.platforms:
            platforms.append(TranscriptPlatform(TranscriptDelivery(loaded.settings, sys.stdout)))
        app = create_app(runtime, platforms)
        # Start-up objects (config, templates, the guideline index, SDK modules)
        # live for the whole process: keep them out of every garbage collection,
        # which otherwise pauses the event loop for tens of milliseconds.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        return app

    web.run_app(build(), host=host, port=port, print=lambda text: log.info("%s", text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
