"""Guideline documents: Markdown files with an optional YAML header, split into sections.

A guideline looks like this::

    ---
    title: When a journalist contacts you
    owner: priya
    last_reviewed: 2026-08-02
    audience: [everyone]
    tags: [press, media]
    ---
    Intro text (a section whose heading is the title).

    ## Direct messages
    Text of the section headed ("When a journalist contacts you", "Direct messages").

The header is optional. Without one the title is the first ``# `` heading (else the
file name) and owner and last review are unknown. The fields above are validated:
every problem names its file and line, and :func:`load_folder` returns the problems
so that start-up can stop (see :class:`bot.core.errors.ConfigError`). Any other field
(``url``, ``source``, ``licence``... as in handbooks exported from Hugo or Jekyll) is
kept in :attr:`Document.extra` and otherwise ignored; it is reported as a note
(:attr:`Document.notes`), not a problem, so another organisation's handbook loads
without edits. Headings may be at any level (``#`` to ``######``, or underlined), and
links, inline HTML and comments in the body are reduced to their text
(:mod:`bot.knowledge.markdown`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.core.errors import Problem
from bot.knowledge.markdown import blank_comments, plain_text
from bot.yamlsource import YamlSyntaxError, load_located, validation_problems

log = logging.getLogger(__name__)

#: Separator between the parts of a heading path when it is shown (a single right angle quote).
PATH_SEPARATOR = " \u203a "

_HEADING = re.compile(r"^[ ]{0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_UNDERLINE = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")
_LEVELS = 6
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Section:
    """A part of a document under one heading, with its own text only.

    ``path`` is the heading path from the document title down to this section's
    heading; ``line`` is the 1-based line of the heading in the file (for the intro,
    the line of its first text).
    """

    doc: str
    path: tuple[str, ...]
    text: str
    line: int

    @property
    def heading(self) -> str:
        """The heading path joined with :data:`PATH_SEPARATOR` for display."""
        return PATH_SEPARATOR.join(self.path)

    @property
    def title(self) -> str:
        """The title of the document the section belongs to."""
        return self.path[0]


@dataclass(frozen=True)
class Document:
    """A guideline document and its sections (only those with text)."""

    path: Path
    title: str
    owner: str | None
    last_reviewed: dt.date | None
    audience: tuple[str, ...]
    tags: tuple[str, ...]
    sections: tuple[Section, ...]
    #: Header fields the bot does not use, kept as they were (e.g. ``url``, ``licence``).
    extra: tuple[tuple[str, Any], ...] = ()
    #: Remarks that are not problems, e.g. an unknown header field (file and line).
    notes: tuple[Problem, ...] = ()

    @property
    def name(self) -> str:
        """The file name, e.g. ``press-enquiries.md``."""
        return self.path.name


class _Header(BaseModel):
    """The fields a guideline header may have; every one is optional."""

    model_config = ConfigDict(extra="allow", frozen=True)

    title: str | None = Field(default=None, min_length=1, max_length=150)
    owner: str | None = Field(default=None, min_length=1)
    last_reviewed: dt.date | None = None
    audience: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @field_validator("audience", "tags", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


def load_folder(folder: Path) -> tuple[list[Document], list[Problem]]:
    """Load every ``*.md`` file directly in ``folder``, sorted by name.

    Returns the documents that loaded and every problem found (file and line). The
    caller decides what to do with problems; :class:`~bot.knowledge.GuidelineStore`
    raises :class:`~bot.core.errors.ConfigError` at start-up.
    """
    if not folder.is_dir():
        return [], [Problem(str(folder), None, "guideline folder not found")]
    files = []
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.md")):
        try:
            files.append((path, path.read_bytes()))
        except OSError as error:
            problems.append(Problem(str(path), None, f"cannot read: {error}"))
    documents, more = load_files(files)
    return documents, problems + more


def load_files(files: list[tuple[Path, bytes]]) -> tuple[list[Document], list[Problem]]:
    """Parse already-read files (path and bytes); return documents and problems."""
    documents: list[Document] = []
    problems: list[Problem] = []
    for path, data in files:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            problems.append(Problem(str(path), None, f"not UTF-8 text: {error.reason}"))
            continue
        document = parse_document(path, text, problems)
        if document is not None:
            documents.append(document)
    return documents, problems


def parse_document(path: Path, text: str, problems: list[Problem]) -> Document | None:
    """Parse one guideline's text; append problems and return None if it is invalid."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    header = _Header()
    notes: list[Problem] = []
    body_start = 0  # index of the first body line
    if lines and lines[0].rstrip() == "---":
        end = next(
            (i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")),
            None,
        )
        if end is None:
            problems.append(Problem(str(path), 1, "the YAML header is not closed with ---"))
            return None
        parsed = _parse_header(path, lines[1:end], problems, notes)
        if parsed is None:
            return None
        header = parsed
        body_start = end + 1
    body = blank_comments("\n".join(lines[body_start:])).split("\n")
    lines = lines[:body_start] + body
    first_title = _first_title(lines, body_start)
    title = header.title or first_title or path.stem.replace("-", " ").replace("_", " ")
    sections = split_sections(path.name, title, lines, body_start)
    if not sections:
        problems.append(Problem(str(path), body_start + 1, "the guideline has no text"))
        return None
    return Document(
        path=path,
        title=title,
        owner=header.owner,
        last_reviewed=header.last_reviewed,
        audience=header.audience,
        tags=header.tags,
        sections=tuple(sections),
        extra=tuple((header.model_extra or {}).items()),
        notes=tuple(notes),
    )


def _parse_header(
    path: Path, header_lines: list[str], problems: list[Problem], notes: list[Problem]
) -> _Header | None:
    try:
        # The leading newline stands for the opening --- so YAML lines are file lines.
        located = load_located("\n" + "\n".join(header_lines), str(path))
    except YamlSyntaxError as error:
        problems.append(error.problem)
        return None
    data = located.data if located.data is not None else {}
    if not isinstance(data, dict):
        problems.append(Problem(str(path), 2, "the YAML header must be a mapping of fields"))
        return None
    try:
        header = _Header.model_validate(data)
    except ValidationError as error:
        problems += validation_problems(error.errors(), located, unknown="unknown field")
        return None
    for name in header.model_extra or {}:
        notes.append(located.problem((name,), f"{name}: field not used by the bot (kept, ignored)"))
    return header


def _first_title(lines: list[str], start: int) -> str | None:
    """The first ``# `` heading outside code fences, if any."""
    fence: str | None = None
    for line in lines[start:]:
        fence, is_code = _track_fence(line, fence)
        if is_code:
            continue
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1:
            return _clean_heading(match.group(2))
    return None


def _track_fence(line: str, fence: str | None) -> tuple[str | None, bool]:
    """Follow fenced code blocks; return the open fence and whether ``line`` is code."""
    match = _FENCE.match(line)
    if fence is None:
        if match:
            return match.group(1)[0] * 3, True
        return None, False
    if match and match.group(1).startswith(fence):
        return None, True
    return fence, True


def split_sections(doc: str, title: str, lines: list[str], start: int = 0) -> list[Section]:
    """Split Markdown ``lines[start:]`` into sections by headings of any level.

    Headings are ATX (``#`` to ``######``) or setext (a line underlined with ``=`` or
    ``-``). Each section keeps its heading path (beginning with ``title``), its own
    text (see :func:`bot.knowledge.markdown.plain_text`) and its line number. Text
    before the first heading is the intro, headed by the title. A ``#`` heading seen
    before any other heading or text, or repeating the title, is the title line itself.
    Sections without text are left out (their headings still head their children).
    """
    sections: list[Section] = []
    stack: list[str | None] = [None] * _LEVELS  # the open heading at each level
    current_path: tuple[str, ...] = (title,)
    current_line: int | None = None
    buffer: list[str] = []
    seen_anything = False
    fence: str | None = None

    def flush() -> None:
        text = plain_text("\n".join(buffer))
        if text:
            first = current_line
            if first is None:  # the intro: its line is its first line of text
                offset = next(i for i, line in enumerate(buffer) if line.strip())
                first = buffer_start + offset + 1
            sections.append(Section(doc, current_path, text, first))
        buffer.clear()

    buffer_start = start
    for index in range(start, len(lines)):
        line = lines[index]
        fence, is_code = _track_fence(line, fence)
        heading_at = index
        match = None if is_code else _HEADING.match(line)
        level = len(match.group(1)) if match else 0
        raw_heading = match.group(2) if match else ""
        if match is None and not is_code and _is_underline(line, buffer):
            # A one-line paragraph underlined: a setext heading (level 1 for =, 2 for -).
            raw_heading = buffer.pop()
            level = 1 if line.strip().startswith("=") else 2
            heading_at = index - 1
        if not level:
            if not buffer:
                buffer_start = index
            buffer.append(line)
            if line.strip():
                seen_anything = True
            continue
        flush()
        heading = _clean_heading(raw_heading)
        if level == 1 and (not seen_anything or heading.casefold() == title.casefold()):
            stack = [None] * _LEVELS  # the title line: what follows is the intro
            current_line = None
        else:
            stack[level - 1] = heading
            for deeper in range(level, _LEVELS):
                stack[deeper] = None
            current_line = heading_at + 1
        seen_anything = True
        current_path = (title, *(h for h in stack if h))
        buffer_start = index + 1
    flush()
    return sections


def _is_underline(line: str, buffer: list[str]) -> bool:
    """Whether ``line`` underlines the last buffered line, a paragraph of one line."""
    if not _UNDERLINE.match(line) or not buffer or not buffer[-1].strip():
        return False
    if len(buffer) > 1 and buffer[-2].strip():
        return False  # the paragraph has several lines: "---" is a rule, not a heading
    last = buffer[-1].strip()
    return not _LIST_OR_QUOTE.match(last)


_LIST_OR_QUOTE = re.compile(r"^(?:[-*+>|]|\d+[.)])(?:\s|$)")


def _clean_heading(heading: str) -> str:
    """A heading without Markdown emphasis, link syntax or HTML."""
    text = " ".join(plain_text(heading).split())
    return re.sub(r"[*_`]+", "", text).strip() or heading.strip()
