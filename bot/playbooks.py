"""Crisis playbooks (YAML) in the playbook store; guidelines are loaded by :mod:`bot.knowledge`.

Validated at start-up; every problem names its file and line. The validated
files become :class:`bot.core.playbook.Playbook` values, the only shape the
handlers see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.config_types import Duration
from bot.core.errors import Problem
from bot.core.model import Role
from bot.core.playbook import (
    ChecklistEntry,
    EscalationStep,
    Playbook,
    Severity,
    Statement,
    Target,
    Variable,
)
from bot.core.settings import Settings
from bot.statements import SandboxedStatements
from bot.yamlsource import (
    LocatedYaml,
    YamlSyntaxError,
    load_located,
    readable_path,
    validation_problems,
)

_ID = r"^[a-z][a-z0-9_-]{0,63}$"
_VARIABLE = r"^[a-z][a-z0-9_]{0,39}$"
M = TypeVar("M", bound="BaseModel")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageTarget(_Model):
    """Page everyone with a role, or one person."""

    role: Literal["admin", "coach", "responder", "crisis_lead", "legal"] | None = None
    person: str | None = None


class RawEscalationStep(_Model):
    after: Duration
    page: list[PageTarget] = Field(min_length=1)


class HoldingStatement(_Model):
    id: str = Field(pattern=_ID)
    text: str = Field(min_length=1, max_length=2000)
    requires_legal: bool = False


def _item(value: Any) -> Any:
    # A checklist item may be plain text, or text with an owner.
    return {"text": value} if isinstance(value, str) else value


class RawChecklistItem(_Model):
    text: str = Field(min_length=1, max_length=500)
    owner: PageTarget | None = None


class RawVariable(_Model):
    name: str = Field(pattern=_VARIABLE)
    description: str = Field(min_length=1, max_length=300)
    example: str | None = None


class CrisisPlaybook(_Model):
    """A crisis playbook as written in ``playbooks/crisis/*.yaml``."""

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1, max_length=150)
    summary: str = Field(min_length=1)
    severity: Literal["sev1", "sev2", "sev3"]
    page: list[PageTarget] = Field(min_length=1)
    ack_within: Duration
    escalation: list[RawEscalationStep] = []
    max_repeats: int = Field(default=2, ge=0, le=5)
    checklist: list[Annotated[RawChecklistItem, BeforeValidator(_item)]] = Field(min_length=1)
    holding_statements: list[HoldingStatement] = []
    variables: list[RawVariable] = []
    pagerduty: bool = False
    update_every: Duration | None = None
    pause_publishing: bool = False
    accounts: list[str] = []


@dataclass(frozen=True)
class PlaybookStore:
    """Everything loaded from the playbook folder."""

    crisis: dict[str, Playbook]


def load_playbooks(root: Path, settings: Settings) -> tuple[PlaybookStore, list[Problem]]:
    """Load and validate every playbook under ``root``; return them and the problems."""
    problems: list[Problem] = []
    crisis: dict[str, Playbook] = {}
    if not root.is_dir():
        return PlaybookStore({}), [Problem(str(root), None, "playbook folder not found")]
    for path in sorted((root / "crisis").glob("*.y*ml")):
        playbook = _load_crisis(path, settings, problems)
        if playbook is None:
            continue
        if playbook.id in crisis:
            problems.append(Problem(str(path), 1, f"duplicate playbook id {playbook.id!r}"))
        crisis[playbook.id] = playbook
    return PlaybookStore(crisis), problems


def _load_crisis(path: Path, settings: Settings, problems: list[Problem]) -> Playbook | None:
    try:
        located = load_located(path.read_text(encoding="utf-8"), str(path))
    except YamlSyntaxError as error:
        problems.append(error.problem)
        return None
    raw = _validate(CrisisPlaybook, located, problems)
    if raw is None:
        return None
    before = len(problems)
    _cross_check(raw, located, settings, problems)
    return _to_core(raw) if len(problems) == before else None


def _cross_check(
    raw: CrisisPlaybook, located: LocatedYaml, settings: Settings, problems: list[Problem]
) -> None:
    for index, target in enumerate(raw.page):
        _check_target(target, ("page", index), located, settings, problems)
    previous = timedelta(0)
    for step_index, step in enumerate(raw.escalation):
        if step.after <= previous:
            problems.append(
                located.problem(
                    ("escalation", step_index, "after"),
                    f"escalation.{step_index}.after: each step must come later than the one "
                    "before (times count from the declaration)",
                )
            )
        previous = step.after
        for index, target in enumerate(step.page):
            _check_target(
                target, ("escalation", step_index, "page", index), located, settings, problems
            )
    for index, item in enumerate(raw.checklist):
        if item.owner is not None:
            _check_target(item.owner, ("checklist", index, "owner"), located, settings, problems)
    for index, account in enumerate(raw.accounts):
        if account not in settings.accounts:
            known = ", ".join(settings.accounts) or "none configured"
            problems.append(
                located.problem(
                    ("accounts", index), f"accounts: unknown account {account!r} (known: {known})"
                )
            )
    if raw.update_every is not None and raw.update_every < timedelta(minutes=1):
        problems.append(located.problem(("update_every",), "update_every: at least 1m"))
    if raw.ack_within < timedelta(seconds=30):
        problems.append(located.problem(("ack_within",), "ack_within: at least 30s"))
    _check_variables(raw, located, problems)


def _check_variables(raw: CrisisPlaybook, located: LocatedYaml, problems: list[Problem]) -> None:
    declared: set[str] = set()
    for index, variable in enumerate(raw.variables):
        if variable.name in declared:
            problems.append(
                located.problem(
                    ("variables", index, "name"), f"variables: {variable.name!r} is declared twice"
                )
            )
        declared.add(variable.name)
    sandbox = SandboxedStatements()
    for index, held in enumerate(raw.holding_statements):
        where = ("holding_statements", index, "text")
        label = readable_path(where, located.data)
        error = sandbox.syntax_error(held.text)
        if error is not None:
            problems.append(located.problem(where, f"{label}: template error: {error.message}"))
            continue
        used = sandbox.variables_of(Statement(held.id, held.text))
        for name in sorted(used - declared):
            problems.append(
                located.problem(
                    where, f"{label}: uses {name!r}, which is not declared under variables"
                )
            )


def _check_target(
    target: PageTarget,
    path: tuple[str | int, ...],
    located: LocatedYaml,
    settings: Settings,
    problems: list[Problem],
) -> None:
    if (target.role is None) == (target.person is None):
        problems.append(located.problem(path, "name exactly one of role or person"))
    elif target.person is not None and target.person not in settings.people:
        where = readable_path((*path, "person"), located.data)
        problems.append(
            located.problem((*path, "person"), f"{where}: unknown person {target.person!r}")
        )


def _target(raw: PageTarget) -> Target:
    return Target(role=Role(raw.role) if raw.role else None, person=raw.person)


def _to_core(raw: CrisisPlaybook) -> Playbook:
    return Playbook(
        id=raw.id,
        title=raw.title,
        summary=" ".join(raw.summary.split()),
        severity=Severity(raw.severity),
        page=tuple(_target(t) for t in raw.page),
        ack_within=raw.ack_within,
        checklist=tuple(
            ChecklistEntry(i.text.strip(), _target(i.owner) if i.owner else None)
            for i in raw.checklist
        ),
        escalation=tuple(
            EscalationStep(s.after, tuple(_target(t) for t in s.page)) for s in raw.escalation
        ),
        max_repeats=raw.max_repeats,
        statements=tuple(Statement(s.id, s.text, s.requires_legal) for s in raw.holding_statements),
        variables=tuple(Variable(v.name, v.description, v.example) for v in raw.variables),
        pagerduty=raw.pagerduty,
        update_every=raw.update_every,
        pause_publishing=raw.pause_publishing,
        accounts=tuple(raw.accounts),
    )


def _validate(model: type[M], located: LocatedYaml, problems: list[Problem]) -> M | None:
    if not isinstance(located.data, dict):
        problems.append(Problem(located.file, 1, "expected a mapping"))
        return None
    try:
        return model.model_validate(located.data)
    except ValidationError as error:
        problems += validation_problems(error.errors(), located, unknown="unknown field")
        return None
