"""Holding statements render in a sandbox: a missing variable is an error
naming it, template tricks are refused, and values are never evaluated."""

from __future__ import annotations

import pytest

from bot.core.playbook import Statement, StatementError
from bot.statements import SandboxedStatements


def test_variables_fill_the_statement() -> None:
    statement = Statement("first", "We know {{ service }} is down.\n")
    assert SandboxedStatements().render(statement, {"service": "AcmePay"}) == (
        "We know AcmePay is down."
    )
    assert SandboxedStatements().variables_of(statement) == {"service"}


def test_every_missing_variable_is_named() -> None:
    statement = Statement("first", "{{ service }} at {{ place }}: {{ service }}")
    with pytest.raises(StatementError) as caught:
        SandboxedStatements().render(statement, {})
    assert caught.value.missing == ("place", "service")
    assert str(caught.value) == "holding statement 'first': missing variable place, service"


def test_a_missing_attribute_is_an_error_not_a_blank() -> None:
    statement = Statement("first", "Hello {{ service.name }}")
    with pytest.raises(StatementError, match="has no attribute 'name'"):
        SandboxedStatements().render(statement, {"service": "AcmePay"})


def test_the_sandbox_refuses_reaching_into_python() -> None:
    statement = Statement("evil", "{{ service.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(StatementError) as caught:
        SandboxedStatements().render(statement, {"service": "x"})
    assert "holding statement 'evil'" in str(caught.value)


def test_values_are_text_never_templates() -> None:
    statement = Statement("first", "About {{ topic }}.")
    hostile = "{{ 7 * 7 }} <!channel> [click](https://evil.example)"
    rendered = SandboxedStatements().render(statement, {"topic": hostile})
    assert rendered == f"About {hostile}."
