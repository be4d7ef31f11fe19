"""A progress bar for ``ingest`` reading a large file, on a terminal only.

The bar is drawn on stderr, and only when stderr is a terminal and ``CI`` is
not set: in a pipe, a log file or a CI job nothing extra is printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

# Smaller files are read in well under a second: a bar would only flicker.
LARGE_FILE_BYTES = 1_000_000


def progress_console(size: int, stream: IO[str] | None = None) -> Console | None:
    """Where to draw the bar for a file of ``size`` bytes, or None for no bar."""
    stream = stream if stream is not None else sys.stderr
    if size < LARGE_FILE_BYTES or os.environ.get("CI"):
        return None
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return Console(file=stream) if interactive else None


Line = TypeVar("Line", str, bytes)


@contextmanager
def tracked(
    lines: Iterable[Line], size: int, label: str, console: Console | None
) -> Iterator[Iterable[Line]]:
    """``lines`` as read, advancing a bar of ``size`` bytes on ``console`` (if any)."""
    if console is None:
        yield lines
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )

    def advancing(task: TaskID) -> Iterator[Line]:
        for line in lines:
            raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
            progress.advance(task, len(raw))
            yield line
        progress.update(task, completed=size)

    with progress:
        yield advancing(progress.add_task(label, total=size))
