"""Jinja2 templates for words. Structure stays in typed code.

Templates render plain text with StrictUndefined (a missing variable is an
error, not an empty string). Platform escaping happens later, in each
platform's renderer, so nothing here escapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
)

from bot.core.errors import Problem
from bot.core.text import format_count, format_duration

# Context values whose text is remembered: immutable, compared by value.
_PLAIN = frozenset({str, int, float, bool, type(None)})
# Rendered texts kept (a few MB at most); past that the memo starts afresh.
_REMEMBERED = 4096


class JinjaTemplates:
    """The :class:`bot.core.ports.Templates` port over a template folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._env = Environment(
            loader=FileSystemLoader(str(root)),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self._env.filters["duration"] = format_duration
        self._env.filters["count"] = format_count
        # Loaded templates by name, each with its globals as one dict. With
        # auto_reload off, Jinja never reloads a template it has cached either;
        # this skips its cache lookup per render, and merging the globals once
        # skips the ChainMap walk Template.render does on every call (a tenth of
        # a mention's intake CPU).
        self._loaded: dict[str, tuple[Template, dict[str, Any]]] = {}
        self._rendered: dict[tuple[Any, ...], str] = {}

    def render(self, name: str, /, **context: Any) -> str:
        """Render ``name`` and strip surrounding whitespace."""
        # A template is a pure function of its context (no clock, no random,
        # filters are pure), so the text for a context of plain values is
        # remembered: cards repeat the same lines (a playbook's checklist on
        # every incident card, one page title per page), and a Jinja render
        # costs a new Context each time.
        types = tuple(map(type, context.values()))
        if _PLAIN.issuperset(types):
            # (With the types: True == 1 but renders as "True".)
            key = (name, types, *context.items())
            text = self._rendered.get(key)
            if text is None:
                if len(self._rendered) >= _REMEMBERED:
                    self._rendered.clear()
                text = self._rendered[key] = self._render(name, context)
            return text
        return self._render(name, context)

    def _render(self, name: str, context: dict[str, Any]) -> str:
        loaded = self._loaded.get(name)
        if loaded is None:
            template = self._env.get_template(name)
            loaded = self._loaded[name] = (template, dict(template.globals))
        template, template_globals = loaded
        # What Template.render does, with the globals merged in advance:
        # ``shared=True`` takes the dict as the context's parent as it is.
        scope = template.new_context({**template_globals, **context}, shared=True)
        try:
            text = self._env.concat(template.root_render_func(scope))
        except Exception:
            self._env.handle_exception()
        return str(text).strip()

    def check(self) -> list[Problem]:
        """Every template that does not compile, with its line."""
        problems = []
        for path in sorted(self.root.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            name = path.relative_to(self.root).as_posix()
            try:
                self._env.get_template(name)
            except TemplateSyntaxError as error:
                problems.append(
                    Problem(str(path), error.lineno, f"template error: {error.message}")
                )
            except (TemplateNotFound, UnicodeDecodeError) as error:
                problems.append(Problem(str(path), None, f"cannot read template: {error}"))
        return problems

    def require(self, names: list[str]) -> list[Problem]:
        """Problems for templates the code needs but the folder lacks."""
        return [
            Problem(str(self.root / name), None, "required template is missing")
            for name in names
            if not (self.root / name).is_file()
        ]
