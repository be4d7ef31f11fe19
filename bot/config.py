"""Reading ``playcaller.yaml`` into :class:`bot.core.settings.Settings`.

Every problem is reported with its file and line, all at once, so an admin
fixes the file in one pass.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator

from bot import config_accounts
from bot.config_accounts import RawAccount, RawApprovals
from bot.config_rooms import RawCrisisRooms
from bot.config_surge import RawSpikes, RawSurge
from bot.config_types import ID_PATTERN, STRICT, Duration
from bot.core.errors import ConfigError, Problem
from bot.core.model import Person, Priority, Role, Spoke
from bot.core.permissions import EVERYONE, Permission, with_overrides
from bot.core.settings import (
    Retention,
    RoutingRule,
    Settings,
    SlaPolicy,
    SurgePolicy,
    TriageTimings,
)
from bot.resources import bundled
from bot.yamlsource import LocatedYaml, YamlSyntaxError, load_located, validation_problems

_ID = ID_PATTERN


class _Model(BaseModel):
    model_config = STRICT


class RawSpoke(_Model):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    channels: dict[str, str] = {}
    surge: RawSurge | None = None


class RawPerson(_Model):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    roles: list[Literal["admin", "coach", "responder", "crisis_lead", "legal"]] = []
    spokes: list[str] = []
    platform_ids: dict[str, str] = {}


class RawWhen(_Model):
    keywords: list[str] = []
    networks: list[str] = []
    languages: list[str] = []
    sentiments: list[Literal["positive", "neutral", "negative"]] = []
    risks: list[str] = []


class RawRule(_Model):
    name: str = Field(min_length=1)
    when: RawWhen
    spoke: str
    priority: Priority | None = None


class RawDefaultRoute(_Model):
    spoke: str
    priority: Priority = Priority.NORMAL


class RawSla(_Model):
    warn: Duration
    breach: Duration


class RawTriage(_Model):
    nudge_owner_after: Duration = timedelta(minutes=20)
    release_idle_after: Duration = timedelta(minutes=45)


class RawRetention(_Model):
    questions: Duration = timedelta(days=90)

    @field_validator("questions")
    @classmethod
    def _at_least_a_day(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1):
            raise ValueError("keep questions for at least 1d")
        return value


class RawConfig(_Model):
    organisation: str = Field(min_length=1)
    hub: RawSpoke
    spokes: list[RawSpoke] = []
    people: list[RawPerson] = []
    brands: list[str] = []
    competitors: list[str] = []
    risk_words: dict[str, list[str]] = {}
    accounts: list[RawAccount] = []
    approvals: RawApprovals = RawApprovals()
    routing: list[RawRule] = []
    default_route: RawDefaultRoute
    sla: dict[Priority, RawSla]
    triage: RawTriage = RawTriage()
    timezone: str = "UTC"
    platforms: list[Literal["console", "slack", "teams"]] = []
    permissions: dict[str, list[str]] = {}
    retention: RawRetention = RawRetention()
    surge: RawSurge = RawSurge()
    spikes: RawSpikes = RawSpikes()
    crisis_rooms: RawCrisisRooms = RawCrisisRooms()


def config_path(explicit: str | None) -> Path:
    """``--config``, else ``PLAYCALLER_CONFIG``, else ``./playcaller.yaml``,
    else the bundled sample."""
    chosen = explicit or os.environ.get("PLAYCALLER_CONFIG")
    if chosen:
        return Path(chosen)
    local = Path("playcaller.yaml")
    return local if local.exists() else bundled("playcaller.yaml")


def load_settings(path: Path) -> Settings:
    """Read and validate the config; raise :class:`ConfigError` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([Problem(str(path), None, f"cannot read: {error.strerror}")]) from error
    return parse_settings(text, str(path))


def parse_settings(text: str, file: str) -> Settings:
    """Validate config text (``file`` names it in problems)."""
    try:
        located = load_located(text, file)
    except YamlSyntaxError as error:
        raise ConfigError([error.problem]) from error
    if not isinstance(located.data, dict):
        raise ConfigError([Problem(file, 1, "the config must be a mapping of settings")])
    try:
        raw = RawConfig.model_validate(located.data)
    except ValidationError as error:
        raise ConfigError(_pydantic_problems(error, located)) from error
    problems = _cross_check(raw, located)
    if problems:
        raise ConfigError(problems)
    return _build(raw)


def _pydantic_problems(error: ValidationError, located: LocatedYaml) -> list[Problem]:
    return validation_problems(error.errors(), located)


def _cross_check(raw: RawConfig, located: LocatedYaml) -> list[Problem]:
    problems: list[Problem] = []
    spoke_ids = {raw.hub.id}
    for index, spoke in enumerate(raw.spokes):
        if spoke.id in spoke_ids:
            problems.append(
                located.problem(("spokes", index, "id"), f"duplicate spoke id {spoke.id!r}")
            )
        spoke_ids.add(spoke.id)
    problems += config_accounts.check(
        raw.accounts,
        raw.approvals,
        spoke_ids=spoke_ids,
        person_ids={p.id for p in raw.people},
        located=located,
    )
    seen_people: set[str] = set()
    seen_emails: set[str] = set()
    for index, person in enumerate(raw.people):
        if person.id in seen_people:
            problems.append(
                located.problem(("people", index, "id"), f"duplicate person id {person.id!r}")
            )
        if person.email.lower() in seen_emails:
            problems.append(
                located.problem(("people", index, "email"), f"duplicate email {person.email!r}")
            )
        seen_people.add(person.id)
        seen_emails.add(person.email.lower())
        for position, spoke_id in enumerate(person.spokes):
            if spoke_id not in spoke_ids:
                problems.append(
                    located.problem(
                        ("people", index, "spokes", position), f"unknown spoke {spoke_id!r}"
                    )
                )
    for index, rule in enumerate(raw.routing):
        if rule.spoke not in spoke_ids:
            problems.append(
                located.problem(("routing", index, "spoke"), f"unknown spoke {rule.spoke!r}")
            )
        for position, risk in enumerate(rule.when.risks):
            if risk not in raw.risk_words:
                problems.append(
                    located.problem(
                        ("routing", index, "when", "risks", position),
                        f"unknown risk {risk!r} (define it under risk_words)",
                    )
                )
    try:
        ZoneInfo(raw.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            located.problem(
                ("timezone",),
                f"unknown time zone {raw.timezone!r} (an IANA name like Europe/Paris)",
            )
        )
    for name, words in raw.spikes.topics.items():
        if not re.fullmatch(_ID, name) or not [w for w in words if w.strip()]:
            problems.append(
                located.problem(
                    ("spikes", "topics", name),
                    f"topic {name!r} needs a lowercase id and at least one keyword",
                )
            )
    if raw.spikes.leads_factor < raw.spikes.factor:
        problems.append(
            located.problem(("spikes", "leads_factor"), "leads_factor must be at least factor")
        )
    if raw.default_route.spoke not in spoke_ids:
        problems.append(
            located.problem(
                ("default_route", "spoke"), f"unknown spoke {raw.default_route.spoke!r}"
            )
        )
    for priority in Priority:
        if priority not in raw.sla:
            problems.append(
                located.problem(("sla",), f"sla: missing thresholds for {priority.value!r}")
            )
    for priority, sla in raw.sla.items():
        if sla.warn >= sla.breach:
            problems.append(
                located.problem(
                    ("sla", priority.value), f"sla.{priority.value}: warn must come before breach"
                )
            )
    problems += _check_permissions(raw, located)
    for name, words in raw.risk_words.items():
        if not re.fullmatch(_ID, name):
            problems.append(
                located.problem(("risk_words", name), f"risk name {name!r} must be a lowercase id")
            )
        if not words:
            problems.append(located.problem(("risk_words", name), f"risk {name!r} lists no words"))
    return problems


def _check_permissions(raw: RawConfig, located: LocatedYaml) -> list[Problem]:
    problems: list[Problem] = []
    known = ", ".join(p.value for p in Permission)
    roles = ", ".join([r.value for r in Role] + [EVERYONE])
    for name, granted_to in raw.permissions.items():
        if name not in Permission.__members__.values():
            problems.append(
                located.problem(
                    ("permissions", name), f"permissions: unknown permission {name!r} ({known})"
                )
            )
        for position, role in enumerate(granted_to):
            if role != EVERYONE and role not in Role.__members__.values():
                problems.append(
                    located.problem(
                        ("permissions", name, position),
                        f"permissions.{name}: unknown role {role!r} ({roles})",
                    )
                )
    return problems


def _permissions(raw: RawConfig) -> dict[Permission, tuple[Role, ...]]:
    overrides = {
        Permission(name): [Role(r) for r in roles if r != EVERYONE]
        for name, roles in raw.permissions.items()
    }
    # "everyone" anywhere in a list means everyone: an empty role list.
    for name, roles in raw.permissions.items():
        if EVERYONE in roles:
            overrides[Permission(name)] = []
    return with_overrides(overrides)


def _build(raw: RawConfig) -> Settings:
    people = {
        p.id: Person(
            id=p.id,
            name=p.name,
            email=p.email,
            roles=frozenset(Role(r) for r in p.roles),
            spokes=tuple(p.spokes),
            platform_ids=dict(p.platform_ids),
        )
        for p in raw.people
    }

    def coaches(spoke_id: str) -> tuple[str, ...]:
        return tuple(
            p.id for p in people.values() if Role.COACH in p.roles and spoke_id in p.spokes
        )

    hub = Spoke(raw.hub.id, raw.hub.name, coaches(raw.hub.id))
    spokes = {s.id: Spoke(s.id, s.name, coaches(s.id)) for s in raw.spokes}
    channels = {s.id: dict(s.channels) for s in (raw.hub, *raw.spokes)}
    rules = tuple(
        RoutingRule(
            name=r.name,
            spoke=r.spoke,
            priority=r.priority,
            keywords=tuple(r.when.keywords),
            networks=tuple(n.lower() for n in r.when.networks),
            languages=tuple(lang.lower() for lang in r.when.languages),
            sentiments=tuple(r.when.sentiments),
            risks=tuple(r.when.risks),
        )
        for r in raw.routing
    )
    return Settings(
        hub=hub,
        spokes=spokes,
        people=people,
        rules=rules,
        sla={p: SlaPolicy(s.warn, s.breach) for p, s in raw.sla.items()},
        brands=tuple(raw.brands),
        competitors=tuple(raw.competitors),
        accounts=config_accounts.build_accounts(raw.accounts),
        approvals=config_accounts.build_approvals(
            raw.approvals, competitors=tuple(raw.competitors)
        ),
        risk_words={k: tuple(v) for k, v in raw.risk_words.items()},
        default_spoke=raw.default_route.spoke,
        default_priority=raw.default_route.priority,
        triage=TriageTimings(raw.triage.nudge_owner_after, raw.triage.release_idle_after),
        channels=channels,
        timezone=raw.timezone,
        platforms=tuple(dict.fromkeys(raw.platforms)),
        permissions=_permissions(raw),
        retention=Retention(raw.retention.questions),
        surge={
            s.id: s.surge.over(raw.surge.over(SurgePolicy()))
            for s in (raw.hub, *raw.spokes)
            if s.surge is not None
        },
        surge_default=raw.surge.over(SurgePolicy()),
        spikes=raw.spikes.build(),
        crisis_rooms=raw.crisis_rooms.build(),
    )
