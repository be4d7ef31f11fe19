"""The ``accounts`` and ``approvals`` sections of ``playcaller.yaml``.

Kept beside :mod:`bot.config` (which calls :func:`check` and :func:`build`)
so the approvals feature's settings grow without crowding the core config.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

import phonenumbers
from pydantic import BaseModel, BeforeValidator, Field

from bot.config_types import ID_PATTERN, STRICT, duration
from bot.core.accounts import (
    EVERY_SPOKE,
    Account,
    ApprovalSettings,
    ApprovalStep,
    LintPolicy,
    Network,
    NoApprovalRule,
    StepMode,
)
from bot.core.errors import Problem
from bot.core.model import Role
from bot.yamlsource import LocatedYaml

_ID = ID_PATTERN
# A bare host name: labels of letters, digits and hyphens, at least one dot.
_DOMAIN = re.compile(r"(?i)^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")

RoleName = Literal["admin", "coach", "responder", "crisis_lead", "legal"]


class _Model(BaseModel):
    model_config = STRICT


class RawDrafters(_Model):
    roles: list[RoleName] = ["responder", "coach"]
    people: list[str] = []


class RawAccount(_Model):
    id: str = Field(pattern=_ID)
    network: Network
    handle: str = Field(min_length=2, pattern=r"^\S+$")
    spoke: str
    drafters: RawDrafters = RawDrafters()


class RawLint(_Model):
    legal_phrases: dict[str, list[str]] = {}
    banned_terms: list[str] = []
    link_allow_list: list[str] = []
    reference_patterns: dict[str, str] = {}
    shouting_min_letters: int = Field(default=12, ge=2)
    phone_regions: list[str] = ["US", "GB"]


class RawStep(_Model):
    name: str = Field(min_length=1, max_length=40)
    any_of: list[str] | None = None
    all_of: list[str] | None = None


class RawNoApproval(_Model):
    name: str = Field(pattern=_ID)
    people: list[str] = Field(min_length=1)
    spokes: list[str] = []
    max_priority: Literal["urgent", "high", "normal", "low"] = "normal"


class RawApprovals(_Model):
    step_deadline: Annotated[timedelta, BeforeValidator(duration)] = timedelta(minutes=15)
    steps: list[RawStep] = [RawStep(name="Coach", any_of=["coach"])]
    legal_step: RawStep = RawStep(name="Legal", any_of=["legal"])
    trainees: list[str] = []
    no_approval: list[RawNoApproval] = []
    backups: list[str] = []
    lint: RawLint = RawLint()


def check(
    accounts: list[RawAccount],
    approvals: RawApprovals,
    *,
    spoke_ids: set[str],
    person_ids: set[str],
    located: LocatedYaml,
) -> list[Problem]:
    """Every cross-reference problem in the two sections, with its line."""
    problems: list[Problem] = []
    seen_ids: set[str] = set()
    seen_handles: set[tuple[str, str]] = set()
    for index, account in enumerate(accounts):
        where = ("accounts", index)
        if account.id in seen_ids:
            problems.append(located.problem((*where, "id"), f"duplicate account id {account.id!r}"))
        seen_ids.add(account.id)
        handle = (account.network.value, account.handle.lower())
        if handle in seen_handles:
            problems.append(
                located.problem(
                    (*where, "handle"),
                    f"account {account.handle!r} on {account.network.value} is listed twice",
                )
            )
        seen_handles.add(handle)
        if account.spoke not in spoke_ids:
            problems.append(located.problem((*where, "spoke"), f"unknown spoke {account.spoke!r}"))
        for position, person in enumerate(account.drafters.people):
            if person not in person_ids:
                problems.append(
                    located.problem(
                        (*where, "drafters", "people", position), f"unknown person {person!r}"
                    )
                )
        if not account.drafters.roles and not account.drafters.people:
            problems.append(
                located.problem(
                    (*where, "drafters"), f"account {account.id!r}: nobody may draft for it"
                )
            )
    problems += _check_rules(approvals, spoke_ids=spoke_ids, person_ids=person_ids, located=located)
    lint = approvals.lint
    base = ("approvals", "lint")
    for spoke in lint.legal_phrases:
        if spoke != EVERY_SPOKE and spoke not in spoke_ids:
            problems.append(
                located.problem(
                    (*base, "legal_phrases", spoke),
                    f"legal_phrases: unknown spoke {spoke!r} (use a spoke id or {EVERY_SPOKE!r})",
                )
            )
    for position, domain in enumerate(lint.link_allow_list):
        if not _DOMAIN.match(domain):
            problems.append(
                located.problem(
                    (*base, "link_allow_list", position),
                    f"link_allow_list: {domain!r} is not a domain such as example.com",
                )
            )
    for position, region in enumerate(lint.phone_regions):
        if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            problems.append(
                located.problem(
                    (*base, "phone_regions", position),
                    f"phone_regions: unknown region {region!r} (a country code such as GB or US)",
                )
            )
    for name, pattern in lint.reference_patterns.items():
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            problems.append(
                located.problem(
                    (*base, "reference_patterns", name),
                    f"reference_patterns.{name}: invalid pattern: {error}",
                )
            )
            continue
        if compiled.match(""):
            problems.append(
                located.problem(
                    (*base, "reference_patterns", name),
                    f"reference_patterns.{name}: the pattern matches empty text",
                )
            )
    return problems


_ROLES = {"admin", "coach", "responder", "crisis_lead", "legal"}


def _check_rules(
    approvals: RawApprovals, *, spoke_ids: set[str], person_ids: set[str], located: LocatedYaml
) -> list[Problem]:
    problems: list[Problem] = []
    steps: list[tuple[tuple[str | int, ...], RawStep]] = [
        (("approvals", "steps", i), step) for i, step in enumerate(approvals.steps)
    ]
    steps.append((("approvals", "legal_step"), approvals.legal_step))
    for where, step in steps:
        if (step.any_of is None) == (step.all_of is None):
            problems.append(
                located.problem(where, f"step {step.name!r}: give either any_of or all_of")
            )
            continue
        mode = "any_of" if step.any_of is not None else "all_of"
        members = step.any_of if step.any_of is not None else step.all_of
        if not members:
            problems.append(located.problem((*where, mode), f"step {step.name!r}: nobody listed"))
        for position, member in enumerate(members or []):
            if member not in _ROLES and member not in person_ids:
                problems.append(
                    located.problem(
                        (*where, mode, position),
                        f"step {step.name!r}: {member!r} is neither a role nor a person",
                    )
                )
    named = [("trainees", approvals.trainees), ("backups", approvals.backups)]
    for section, people in named:
        for position, person in enumerate(people):
            if person not in person_ids:
                problems.append(
                    located.problem(
                        ("approvals", section, position), f"{section}: unknown person {person!r}"
                    )
                )
    for index, rule in enumerate(approvals.no_approval):
        where = ("approvals", "no_approval", index)
        for position, person in enumerate(rule.people):
            if person not in person_ids:
                problems.append(
                    located.problem((*where, "people", position), f"unknown person {person!r}")
                )
        for position, spoke in enumerate(rule.spokes):
            if spoke not in spoke_ids:
                problems.append(
                    located.problem((*where, "spokes", position), f"unknown spoke {spoke!r}")
                )
    return problems


def _step(raw: RawStep) -> ApprovalStep:
    if raw.all_of is not None:
        return ApprovalStep(raw.name, StepMode.ALL, tuple(raw.all_of))
    return ApprovalStep(raw.name, StepMode.ANY, tuple(raw.any_of or ()))


def build_accounts(accounts: list[RawAccount]) -> dict[str, Account]:
    """Accounts by id, in config order."""
    return {
        a.id: Account(
            id=a.id,
            network=a.network,
            handle=a.handle,
            spoke=a.spoke,
            drafter_roles=frozenset(Role(r) for r in a.drafters.roles),
            drafter_people=frozenset(a.drafters.people),
        )
        for a in accounts
    }


def build_approvals(approvals: RawApprovals, *, competitors: tuple[str, ...]) -> ApprovalSettings:
    """The approval settings (competitor names come from the top-level list)."""
    lint = approvals.lint
    return ApprovalSettings(
        lint=LintPolicy(
            legal_phrases={k: tuple(v) for k, v in lint.legal_phrases.items()},
            banned_terms=tuple(lint.banned_terms),
            competitors=competitors,
            link_allow_list=tuple(d.lower() for d in lint.link_allow_list),
            reference_patterns={k: re.compile(v) for k, v in lint.reference_patterns.items()},
            shouting_min_letters=lint.shouting_min_letters,
            phone_regions=tuple(r.upper() for r in lint.phone_regions),
        ),
        step_deadline=approvals.step_deadline,
        steps=tuple(_step(s) for s in approvals.steps),
        legal_step=_step(approvals.legal_step),
        trainees=tuple(approvals.trainees),
        no_approval=tuple(
            NoApprovalRule(r.name, tuple(r.people), tuple(r.spokes), r.max_priority)
            for r in approvals.no_approval
        ),
        backups=tuple(approvals.backups),
    )
