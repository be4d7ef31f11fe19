"""YAML with line numbers, so every config and playbook problem names its line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bot.core.errors import Problem

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class LocatedYaml:
    """A parsed YAML document and the line of every value in it."""

    file: str
    data: Any
    lines: dict[Path, int]

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: Path, message: str) -> Problem:
        """A problem located at ``path``."""
        return Problem(self.file, self.line_of(path), message)


class YamlSyntaxError(Exception):
    """The file is not valid YAML."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def load_located(text: str, file: str) -> LocatedYaml:
    """Parse ``text``; raise :class:`YamlSyntaxError` with file and line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise YamlSyntaxError(Problem(file, line, f"invalid YAML: {error.problem}")) from error
    lines: dict[Path, int] = {}
    data = _convert(node, (), lines, file) if node is not None else None
    return LocatedYaml(file, data, lines)


def _convert(node: yaml.Node, path: Path, lines: dict[Path, int], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_scalar(key_node))
            if key in result:
                raise YamlSyntaxError(
                    Problem(file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
                )
            result[key] = _convert(value_node, (*path, key), lines, file)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        # A scalar that looks like a date but is none (2026-13-01): keep it as text, so
        # the field's own validation reports it with its line instead of a crash.
        return node.value
    finally:
        loader.dispose()
