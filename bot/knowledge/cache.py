"""The guideline files on disk and the index cache's bookkeeping.

The index is persisted in ``cache_dir/<key>/`` where the key hashes the file names,
sizes and content hashes (and the index format, options and embedding model), so a
second start with the same files loads instead of building. Modification times are
only used to notice cheaply that something may have changed (:func:`stat_signature`);
they are not part of the key, so a fresh checkout of the same files still hits the cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from bot.core.errors import Problem
from bot.knowledge.documents import Document, Section

log = logging.getLogger(__name__)


def stat_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the ``*.md`` files: a cheap change check."""
    signature = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return ()
    for entry in entries:
        if entry.name.endswith(".md") and entry.is_file():
            try:
                info = entry.stat()
            except OSError:
                continue
            signature.append((entry.name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(signature))


def read_folder(folder: Path) -> list[tuple[Path, bytes]]:
    """The ``*.md`` files directly in ``folder`` and their bytes, sorted by name."""
    files = []
    for path in sorted(folder.glob("*.md")):
        try:
            files.append((path, path.read_bytes()))
        except OSError as error:
            log.warning("cannot read %s: %s", path, error)
    return files


def content_key(files: list[tuple[Path, bytes]], settings: str) -> str:
    """A hash of the files' names, sizes and contents, and of ``settings`` (format,
    options and model: whatever changes the index)."""
    digest = hashlib.sha256(f"{settings}\n".encode())
    for path, data in files:
        content = hashlib.sha256(data).hexdigest()
        digest.update(f"{path.name}\0{len(data)}\0{content}\n".encode())
    return digest.hexdigest()[:32]


def prune(cache_dir: Path, keep: int) -> None:
    """Remove all but the ``keep`` most recently used cache entries."""
    entries = []
    for child in cache_dir.iterdir():
        if child.is_dir() and not child.name.startswith(".tmp-"):
            try:
                entries.append((child.stat().st_mtime_ns, child))
            except OSError:
                continue
    entries.sort(reverse=True)
    for _, child in entries[keep:]:
        shutil.rmtree(child, ignore_errors=True)


def document_to_json(document: Document) -> dict[str, Any]:
    return {
        "name": document.name,
        "title": document.title,
        "owner": document.owner,
        "last_reviewed": document.last_reviewed.isoformat() if document.last_reviewed else None,
        "audience": list(document.audience),
        "tags": list(document.tags),
        "sections": [[list(s.path), s.text, s.line] for s in document.sections],
        "extra": [[name, value] for name, value in document.extra],
        "notes": [[n.file, n.line, n.message] for n in document.notes],
    }


def document_from_json(data: dict[str, Any], folder: Path) -> Document:
    path = folder / data["name"]
    reviewed = data["last_reviewed"]
    return Document(
        path=path,
        title=data["title"],
        owner=data["owner"],
        last_reviewed=dt.date.fromisoformat(reviewed) if reviewed else None,
        audience=tuple(data["audience"]),
        tags=tuple(data["tags"]),
        sections=tuple(
            Section(path.name, tuple(p), text, line) for p, text, line in data["sections"]
        ),
        extra=tuple((name, value) for name, value in data["extra"]),
        notes=tuple(Problem(file, line, message) for file, line, message in data["notes"]),
    )
