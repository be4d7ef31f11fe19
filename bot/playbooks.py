"""Crisis playbooks (YAML) in the playbook store; guidelines are loaded by :mod:`bot.knowledge`.

Validated at start-up; every problem names its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.config import Duration
from bot.core.errors import Problem
from bot.core.settings import Settings
from bot.yamlsource import (
    LocatedYaml,
    YamlSyntaxError,
    load_located,
    readable_path,
    validation_problems,
)

_ID = r"^[a-z][a-z0-9_-]{0,63}$"
M = TypeVar("M", bound="BaseModel")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageTarget(_Model):
    """Page everyone with a role, or one person."""

    role: Literal["admin", "coach", "responder", "crisis_lead", "legal"] | None = None
    person: str | None = None


class EscalationStep(_Model):
    after: Duration
    page: list[PageTarget] = Field(min_length=1)


class HoldingStatement(_Model):
    id: str = Field(pattern=_ID)
    text: str = Field(min_length=1, max_length=2000)


class CrisisPlaybook(_Model):
    """A crisis playbook as written in ``playbooks/crisis/*.yaml``."""

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1, max_length=150)
    summary: str = Field(min_length=1)
    severity: Literal["sev1", "sev2", "sev3"]
    page: list[PageTarget] = Field(min_length=1)
    ack_within: Duration
    escalation: list[EscalationStep] = []
    max_repeats: int = Field(default=2, ge=0, le=5)
    checklist: list[str] = Field(min_length=1)
    holding_statements: list[HoldingStatement] = []


@dataclass(frozen=True)
class PlaybookStore:
    """Everything loaded from the playbook folder."""

    crisis: dict[str, CrisisPlaybook]


def load_playbooks(root: Path, settings: Settings) -> tuple[PlaybookStore, list[Problem]]:
    """Load and validate every playbook under ``root``; return them and the problems."""
    problems: list[Problem] = []
    crisis: dict[str, CrisisPlaybook] = {}
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


def _load_crisis(path: Path, settings: Settings, problems: list[Problem]) -> CrisisPlaybook | None:
    try:
        located = load_located(path.read_text(encoding="utf-8"), str(path))
    except YamlSyntaxError as error:
        problems.append(error.problem)
        return None
    playbook = _validate(CrisisPlaybook, located, problems)
    if playbook is None:
        return None
    for index, target in enumerate(playbook.page):
        _check_target(target, ("page", index), located, settings, problems)
    for step_index, step in enumerate(playbook.escalation):
        for index, target in enumerate(step.page):
            _check_target(
                target, ("escalation", step_index, "page", index), located, settings, problems
            )
    return playbook


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


def _validate(model: type[M], located: LocatedYaml, problems: list[Problem]) -> M | None:
    if not isinstance(located.data, dict):
        problems.append(Problem(located.file, 1, "expected a mapping"))
        return None
    try:
        return model.model_validate(located.data)
    except ValidationError as error:
        problems += validation_problems(error.errors(), located, unknown="unknown field")
        return None
