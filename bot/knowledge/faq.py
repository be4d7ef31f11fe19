"""The FAQ file that coaches' answers are saved to (``faq.md`` in the guideline folder).

Apart from :mod:`bot.knowledge.answer` because it is the store's only write: how an
entry is laid out as Markdown, and how the file is replaced so that a reader (the
index, another process) never sees half of it. Rebuilding the index afterwards is the
store's part.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

import yaml

from bot.core.knowledge import FaqEntry

# The store's logger name: these messages said "bot.knowledge.answer" before the FAQ
# writing moved here, and log filters may name it.
log = logging.getLogger("bot.knowledge.answer")

#: The FAQ document that :func:`append_entry` appends to.
FAQ_FILE = "faq.md"
FAQ_TITLE = "Questions answered by coaches"


def append_entry(path: Path, entry: FaqEntry) -> bool:
    """Append ``entry`` to the FAQ at ``path`` (created if absent) atomically.

    False, and nothing written, when its question and answer are already there. The
    entry is a ``## <question>`` section with the answer and a line "Answered by
    <owner> on <date>". A new file gets a header with the entry's owner and date.
    """
    question = " ".join(entry.question.split())
    answer = entry.answer.strip()
    if not question or not answer:
        raise ValueError("a FAQ entry needs a question and an answer")
    if path.exists():
        existing = path.read_text(encoding="utf-8")
        if existing and not existing.endswith("\n"):
            existing += "\n"
    else:
        header = yaml.safe_dump(
            {
                "title": FAQ_TITLE,
                "owner": entry.owner,
                "last_reviewed": entry.saved_on,
            },
            sort_keys=False,
            allow_unicode=True,
        )
        existing = f"---\n{header}---\n"
    # A line starting with # in the answer would become a heading: escape it.
    body = re.sub(r"(?m)^(\s{0,3})#", r"\1\\#", answer)
    heading = question.lstrip("#").strip() or question
    entry_text = f"\n## {heading}\n\n{body}\n\n"
    if entry_text in existing:
        # Saved already (a retried click, a second process): one copy is enough.
        log.info("FAQ entry %r is already in %s", heading, path)
        return False
    addition = f"{entry_text}Answered by {entry.owner} on {entry.saved_on.isoformat()}\n"
    write_atomically(path, existing + addition)
    log.info("saved a FAQ entry to %s", path)
    return True


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and :func:`os.replace`."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
