"""Crisis playbooks as the core sees them: frozen data, durations as ``timedelta``.

``bot.playbooks`` validates the YAML files and builds these; handlers reach
them through the loaded playbook store and never see the file format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.core.errors import PlaycallerError
from bot.core.model import Person, Role


class Severity(StrEnum):
    """How bad a crisis is; ``sev1`` is the worst."""

    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"


@dataclass(frozen=True)
class Target:
    """Everyone holding ``role``, or one ``person`` (exactly one is set)."""

    role: Role | None = None
    person: str | None = None

    def __post_init__(self) -> None:
        if (self.role is None) == (self.person is None):
            raise ValueError("a target names exactly one of role or person")

    @property
    def label(self) -> str:
        return self.person if self.person is not None else str(self.role)

    def people(self, everyone: Mapping[str, Person]) -> tuple[str, ...]:
        """The person ids this target reaches, in config order."""
        if self.person is not None:
            return (self.person,) if self.person in everyone else ()
        return tuple(p.id for p in everyone.values() if self.role in p.roles)


@dataclass(frozen=True)
class EscalationStep:
    """Page ``page`` when ``after`` has passed since the declaration and a
    required target has still not acknowledged."""

    after: timedelta
    page: tuple[Target, ...]


@dataclass(frozen=True)
class ChecklistEntry:
    text: str
    owner: Target | None = None


@dataclass(frozen=True)
class Statement:
    """A holding statement: a sandboxed template over the incident's variables."""

    id: str
    template: str
    requires_legal: bool = False


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    example: str | None = None


@dataclass(frozen=True)
class Playbook:
    """One crisis playbook."""

    id: str
    title: str
    summary: str
    severity: Severity
    page: tuple[Target, ...]
    ack_within: timedelta
    checklist: tuple[ChecklistEntry, ...]
    escalation: tuple[EscalationStep, ...] = ()
    max_repeats: int = 2
    statements: tuple[Statement, ...] = ()
    variables: tuple[Variable, ...] = ()
    pagerduty: bool = False
    update_every: timedelta | None = None
    pause_publishing: bool = False
    accounts: tuple[str, ...] = ()

    def statement(self, statement_id: str) -> Statement | None:
        return next((s for s in self.statements if s.id == statement_id), None)


class StatementError(PlaycallerError):
    """A holding statement cannot be rendered; nothing is shown in public.

    ``missing`` names the variables the statement needs and did not get.
    """

    def __init__(self, statement_id: str, message: str, missing: tuple[str, ...] = ()) -> None:
        self.statement_id = statement_id
        self.missing = missing
        super().__init__(f"holding statement {statement_id!r}: {message}")
