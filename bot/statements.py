"""Holding statements: customer-written Jinja2, rendered in a sandbox.

A statement may only use the incident's variables (plain strings). The
sandbox refuses attribute tricks, ``StrictUndefined`` turns a missing
variable into an error that names it, and nothing is escaped: the text is
for a social network, and chat rendering makes it inert later.
"""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.core.playbook import Statement, StatementError


class SandboxedStatements:
    """The :class:`bot.core.ports.StatementRenderer`."""

    def __init__(self) -> None:
        self._env = ImmutableSandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )

    def syntax_error(self, text: str) -> TemplateSyntaxError | None:
        """The template's syntax error, if any (``check`` reports its line)."""
        try:
            self._env.parse(text)
        except TemplateSyntaxError as error:
            return error
        return None

    def variables_of(self, statement: Statement) -> frozenset[str]:
        try:
            tree = self._env.parse(statement.template)
        except TemplateSyntaxError as error:
            raise StatementError(statement.id, f"template error: {error.message}") from error
        return frozenset(meta.find_undeclared_variables(tree))

    def render(self, statement: Statement, variables: Mapping[str, str]) -> str:
        missing = tuple(sorted(self.variables_of(statement) - variables.keys()))
        if missing:
            names = ", ".join(missing)
            raise StatementError(statement.id, f"missing variable {names}", missing)
        try:
            text = self._env.from_string(statement.template).render(dict(variables))
        except UndefinedError as error:
            raise StatementError(statement.id, error.message or "undefined value") from error
        except SecurityError as error:
            raise StatementError(statement.id, f"refused by the sandbox: {error}") from error
        return text.strip()
