"""``playcaller ingest``: a JSONL file of mentions admitted into the store in batches, as
``POST /intake`` admits them; ``serve`` then posts them."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot.app import Loaded, make_store, open_runtime, settle_heap, store_url
from bot.cli.options import store_source
from bot.core.clock import SystemClock
from bot.core.errors import InvalidInput
from bot.intake.batch import parse_lines
from bot.intake.endpoint import BATCH as INGEST_BATCH
from bot.intake.feed import IncomingMention, LineProblem
from bot.intake.progress import progress_console, tracked
from bot.intake.sources import normalizer
from bot.operations import intake_counts


def run(loaded: Loaded, args: argparse.Namespace) -> int:
    if args.source is not None:
        try:
            normalizer(args.source)
        except InvalidInput as error:
            print(f"playcaller: --source: {error.problem}", file=sys.stderr)
            return 2
    return asyncio.run(ingest(loaded, Path(args.file), args.store, args.source))


async def ingest(loaded: Loaded, path: Path, store: str | None, source: str | None) -> int:
    runtime = await open_runtime(
        loaded, store=make_store(store_url(store), source=store_source(store)), clock=SystemClock()
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
