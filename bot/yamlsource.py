"""YAML with line numbers, so every config and playbook problem names its line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


# Lists whose items are named by a field: problems say "people[sam]", not "people.1".
NAMED_ITEMS = {
    "people": "id",
    "spokes": "id",
    "routing": "name",
    "holding_statements": "id",
    "variables": "name",
}

_TYPE_WORDS = {
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
    "missing": "required setting is missing",
}


def validation_problems(
    errors: Sequence[Mapping[str, Any]], located: LocatedYaml, *, unknown: str = "unknown setting"
) -> list[Problem]:
    """Pydantic's errors as problems in the file's words, each at its line.

    ``errors`` is ``ValidationError.errors()``. No pydantic phrasing reaches
    the person: "Value error," prefixes and regular expressions are replaced,
    and list items are named by their id where they have one.
    """
    problems = []
    for item in errors:
        path = tuple(p for p in item["loc"] if isinstance(p, str | int))
        # pydantic appends validator names to a location; keep the YAML path.
        line_path = path
        while line_path and line_path not in located.lines and len(line_path) > 1:
            line_path = line_path[:-1]
        # Name the full path (a missing field has no line of its own, its parent does).
        where = readable_path(path, located.data)
        problems.append(located.problem(line_path, f"{where}: {_words(item, unknown)}"))
    return problems


def readable_path(path: Path, data: Any) -> str:
    """``people.1.roles.1`` as ``people[sam].roles``."""
    words: list[str] = []
    node = data
    for position, part in enumerate(path):
        child = _child(node, part)
        if isinstance(part, int):
            parent = path[position - 1] if position else None
            name_field = NAMED_ITEMS.get(str(parent))
            name = child.get(name_field) if name_field and isinstance(child, dict) else None
            if name is not None and words:
                words[-1] += f"[{name}]"
            elif position < len(path) - 1:
                words.append(str(part))
            # A trailing index into a list of values is left out: the message quotes the value.
        else:
            words.append(part)
        node = child
    return ".".join(words) or "(top)"


def _child(node: Any, part: str | int) -> Any:
    if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
        return node[part]
    if isinstance(part, str) and isinstance(node, dict):
        return node.get(part)
    return None


def _words(item: Mapping[str, Any], unknown: str) -> str:
    kind = item["type"]
    value = item.get("input")
    context = item.get("ctx") or {}
    if kind == "extra_forbidden":
        return unknown
    if kind == "value_error":
        return str(context.get("error", item["msg"])).removeprefix("Value error, ")
    if kind == "literal_error":
        expected = str(context.get("expected", "")).replace("'", "")
        return f"{value!r} is not one of {expected}"
    if kind == "string_pattern_mismatch":
        field = next((p for p in reversed(item["loc"]) if isinstance(p, str)), "")
        if field == "id":
            return (
                f"{value!r} is not a valid id: start with a lower-case letter, then lower-case "
                "letters, digits, - or _"
            )
        if field == "email":
            return f"{value!r} is not an email address"
        return f"{value!r} has the wrong form"
    if kind.startswith("date"):
        return f"{value!r} is not a date: use YYYY-MM-DD"
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    return str(item["msg"]).removeprefix("Value error, ")
