"""The ``playcaller`` entry point: logging, the configuration, and the command to run.

Options and help text are in :mod:`bot.cli.options`; each command group has its module
(:mod:`~bot.cli.deploy`, :mod:`~bot.cli.ask`, :mod:`~bot.cli.demo`,
:mod:`~bot.cli.ingest`, :mod:`~bot.cli.serve`; ``audit`` and ``postmortem`` live in
:mod:`bot.audit` and :mod:`bot.postmortem`). Errors that any command may meet become
exit status 2 here, once. Logging is set up here, at the entry point, and nowhere else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from redis.exceptions import RedisError

from bot import logs
from bot.app import guidelines_dir, load, make_store, private_guidelines, store_url
from bot.cli import ask, demo, deploy, ingest, options, serve
from bot.core.errors import ConfigError
from bot.core.sentiment_model import ModelFileError
from bot.intake.enrich import shipped_model


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = options.parser()
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
        loaded = load(
            args.config, index_cache=options.index_cache(args.command), guidelines=guidelines
        )
    except ConfigError as error:
        print(f"playcaller: configuration has {len(error.problems)} problem(s):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    command = args.command
    if command in ("check", "demo", "ingest", "serve"):
        # Read the sentiment model before any store or thread is opened: a
        # broken file stops start-up here, by name, and leaves nothing behind.
        try:
            shipped_model()
        except ModelFileError as error:
            print(f"playcaller: {error}", file=sys.stderr)
            return 2
    if command == "check":
        return deploy.check(loaded)
    if command == "manifest":
        return deploy.manifest(args.url, args.socket_mode)
    if command == "package":
        return deploy.package(args)
    if command == "ask":
        return ask.run(loaded, args)
    try:
        if command == "demo":
            assert scratch is not None
            return demo.run(loaded, args, scratch)
        if command == "ingest":
            return ingest.run(loaded, args)
        if command == "audit":
            from bot import audit

            store = make_store(store_url(args.store), source=options.store_source(args.store))
            return asyncio.run(audit.main(store, args.subject, args.since, json_lines=args.json))
        if command == "postmortem":
            from bot import postmortem

            store = make_store(store_url(args.store), source=options.store_source(args.store))
            return asyncio.run(postmortem.main(loaded, store, args.incident, args.out))
        if command == "serve":
            return serve.run(loaded, args)
    except ConfigError as error:
        for problem in error.problems:
            print(f"playcaller: {problem}", file=sys.stderr)
        return 2
    except ModelFileError as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    except (OSError, ConnectionError, RedisError) as error:
        print(f"playcaller: cannot reach the store or a service: {error}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {command}")
    return 2
