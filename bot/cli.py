"""The ``playcaller`` command line (options and help text in :mod:`bot.cli_args`).

Logging is set up here, at the entry point, and nowhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import socket
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from redis.exceptions import RedisError

from bot import cli_args, logs
from bot.app import (
    Loaded,
    guidelines_dir,
    load,
    make_store,
    open_runtime,
    private_guidelines,
    settle_heap,
    store_url,
)
from bot.core.clock import ManualClock, SystemClock
from bot.core.errors import ConfigError, InvalidInput
from bot.intake.batch import parse_lines
from bot.intake.endpoint import BATCH as INGEST_BATCH
from bot.intake.feed import IncomingMention, LineProblem
from bot.intake.progress import progress_console, tracked
from bot.intake.sources import normalizer
from bot.listen import ListenError, bind, bound_port, parse_port
from bot.operations import intake_counts
from bot.platforms.console.script import COMMANDS, ScriptError
from bot.platforms.console.session import ConsoleSession
from bot.resources import bundled

log = logging.getLogger("playcaller")

# The demo's injected clock starts here, just after the sample feed's posts.
DEMO_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = cli_args.parser()
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
    with contextlib.ExitStack() as cleanup:
        scratch = None
        if args.command == "demo":
            # The demo never changes the checkout: its store and the guidelines
            # it may save to live in a scratch folder removed at the end.
            scratch = Path(
                cleanup.enter_context(tempfile.TemporaryDirectory(prefix="playcaller-demo-"))
            )
        return _run(parser, args, scratch)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, scratch: Path | None) -> int:
    guidelines = None
    if scratch is not None and guidelines_dir().is_dir():
        guidelines = private_guidelines(scratch)
    try:
        loaded = load(args.config, index_cache=_index_cache(args.command), guidelines=guidelines)
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
            assert scratch is not None
            return asyncio.run(_demo(loaded, script, args.store, args.width, scratch))
        if command == "ingest":
            if args.source is not None:
                try:
                    normalizer(args.source)
                except InvalidInput as error:
                    print(f"playcaller: --source: {error.problem}", file=sys.stderr)
                    return 2
            return asyncio.run(_ingest(loaded, Path(args.file), args.store, args.source))
        if command == "audit":
            from bot import audit

            store = make_store(store_url(args.store), source=_store_source(args.store))
            return asyncio.run(audit.main(store, args.subject, args.since, json_lines=args.json))
        if command == "postmortem":
            from bot import postmortem

            store = make_store(store_url(args.store), source=_store_source(args.store))
            return asyncio.run(postmortem.main(loaded, store, args.incident, args.out))
        if command == "serve":
            try:
                port = parse_port(args.port, os.environ.get("PLAYCALLER_PORT"))
                listener = bind(args.host, port)
            except ListenError as error:
                print(f"playcaller: {error}", file=sys.stderr)
                return 2
            return _serve(loaded, listener, args.store)
    except ConfigError as error:
        for problem in error.problems:
            print(f"playcaller: {problem}", file=sys.stderr)
        return 2
    except (OSError, ConnectionError, RedisError) as error:
        print(f"playcaller: cannot reach the store or a service: {error}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {command}")
    return 2


def _store_source(flag: str | None) -> str:
    """Who chose the store URL, for an error message that blames the right place."""
    if flag:
        return "--store"
    return "PLAYCALLER_STORE_URL" if os.environ.get("PLAYCALLER_STORE_URL") else "the default"


def _check(loaded: Loaded) -> int:
    settings = loaded.settings
    print(
        f"ok: {loaded.config_file} ({len(settings.spokes)} spokes, {len(settings.people)} people, "
        f"{len(settings.rules)} routing rules); {len(loaded.playbooks.crisis)} crisis playbooks, "
        f"{len(loaded.knowledge.guidelines())} guidelines; templates in {loaded.templates.root}"
    )
    # Remarks that do not stop start-up: a spoke without a channel, a guideline
    # header field the bot does not use.
    for note in (*loaded.notes, *loaded.knowledge.notes):
        print(f"note: {note}")
    return 0


def _manifest(url: str | None, socket_mode: bool) -> int:
    import yaml
    from yarl import URL

    if url is not None:
        parsed = URL(url) if url.isprintable() and " " not in url else None
        if parsed is None or parsed.scheme != "https" or not parsed.host:
            print(
                f"playcaller: --url must be an https URL such as "
                f"https://bot.example.com/slack/events, not {url!r}",
                file=sys.stderr,
            )
            return 2

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
    joined = " ".join(args.question).strip()
    if not joined:
        print("playcaller: ask needs a question (or - to read them from stdin)", file=sys.stderr)
        return 2
    if joined == "-":
        questions = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    else:
        questions = [joined]
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
    summary = session.expectations.summary()
    if session.failed_expectations:
        session.note(summary, style="bold red")
        return 1
    session.note(summary, style="bold green")
    return 0


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


async def _interactive(session: ConsoleSession) -> int:
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


async def _ingest(loaded: Loaded, path: Path, store: str | None, source: str | None) -> int:
    runtime = await open_runtime(
        loaded, store=make_store(store_url(store), source=_store_source(store)), clock=SystemClock()
    )
    await runtime.start()
    settle_heap()
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
            pending: list[IncomingMention] = []

            async def admit_pending() -> None:
                nonlocal stored, duplicates
                written = await runtime.ingest_batch(pending)
                stored += sum(written)
                duplicates += len(written) - sum(written)
                pending.clear()

            for item in parse_lines(lines, source):
                if isinstance(item, LineProblem):
                    refused += 1
                    print(f"{path}:{item}", file=sys.stderr)
                    continue
                pending.append(item)
                if len(pending) >= INGEST_BATCH:
                    await admit_pending()
            if pending:
                await admit_pending()
    finally:
        try:
            await runtime.store.add_counts(intake_counts(stored, duplicates, refused))
        finally:
            await runtime.store.close()
    summary = f"{duplicates} duplicates dropped; {refused} lines refused"
    print(f"ingested {stored} mentions from {path}; {summary}")
    return 1 if refused else 0


def _serve(loaded: Loaded, listener: socket.socket, store: str | None) -> int:
    from aiohttp import web

    from bot.core.ports import ExternalLane
    from bot.deployment import mismatches, record_platforms
    from bot.intake.endpoint import IntakeSettings
    from bot.intake.stream import StreamSettings
    from bot.paging import PageLane, pagers_from_env
    from bot.platforms.console.transcript import TranscriptDelivery, TranscriptPlatform
    from bot.platforms.slack.platform import SlackPlatform, SlackSettings
    from bot.platforms.teams.platform import TeamsPlatform, TeamsSettings
    from bot.publishing import PublishLane, WebhookPublisher, WebhookSettings, warn_unpublished
    from bot.web import ServedPlatform, create_app

    slack = SlackSettings.from_env(os.environ)
    teams = TeamsSettings.from_env(os.environ)
    try:
        intake = IntakeSettings.from_env(os.environ)
        # Read with or without a secret: a process without /intake still
        # admits what the others accept into the stream.
        stream = StreamSettings.from_env(os.environ)
    except InvalidInput as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    if intake is None:
        log.info("POST /intake is off: PLAYCALLER_INTAKE_SECRET is not set")
    # A URL without a secret (or a bad URL) stops start-up here (ConfigError).
    publishing = WebhookSettings.from_env(os.environ)
    log.info("guidelines in %s (Save as guidance writes faq.md there)", loaded.knowledge.folder)
    for note in loaded.notes:
        log.warning("%s", note)

    async def build() -> web.Application:
        runtime = await open_runtime(
            loaded,
            store=make_store(store_url(store), source=_store_source(store)),
            clock=SystemClock(),
            use_record=False,
        )
        await runtime.start()
        platforms: list[ServedPlatform] = []
        if slack is not None:
            platforms.append(SlackPlatform(slack, runtime))
        if teams is not None:
            platforms.append(TeamsPlatform(teams, runtime))
        if "console" in runtime.platforms:
            platforms.append(TranscriptPlatform(TranscriptDelivery(loaded.settings, sys.stdout)))
        await record_platforms(runtime.store, runtime.platforms, runtime.owner, runtime.clock.now())
        served = [p.name for p in platforms]
        for sentence in await mismatches(runtime.store, runtime.platforms, served):
            log.warning("%s", sentence)
        lanes: list[ExternalLane] = []
        if publishing is not None:
            runtime.settings = dataclasses.replace(runtime.settings, publish_webhook=True)
            publisher = WebhookPublisher(publishing, runtime.clock)
            lanes.append(PublishLane(publisher, lease_for=publishing.lease))
            log.info("publishing approved posts to %s", publishing.url)
        else:
            await warn_unpublished(runtime.store)
        pagers = pagers_from_env(runtime.clock, os.environ)
        if pagers:
            paging = PageLane(pagers)
            lanes.append(paging)
            app_cleanup = paging.close
            log.info("paging over %s besides chat", ", ".join(sorted(pagers)))
        app = create_app(runtime, platforms, intake=intake, stream=stream, lanes=lanes)
        if publishing is not None:
            app.on_cleanup.append(lambda _: publisher.close())
        if pagers:
            app.on_cleanup.append(lambda _: app_cleanup())
        settle_heap()
        return app

    host = str(listener.getsockname()[0])
    shown = f"[{host}]" if ":" in host else host
    # Printed (not logged) so a script that asked for port 0 can read it.
    print(f"playcaller: serving on http://{shown}:{bound_port(listener)}", flush=True)
    web.run_app(build(), sock=listener, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
