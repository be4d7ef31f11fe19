"""Who may do what: one table, read by the router, the handlers, ``help`` and the README.

The code holds the default table; ``permissions:`` in the config may change the
roles of any entry. An empty role list means everyone, including people the
config does not know. Admin is a role like the others: an admin may do what the
table grants admins, nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from bot.core.model import Role


class Permission(StrEnum):
    """Something a person may be allowed to do."""

    TRIAGE = "triage"
    DRAFT = "draft"
    APPROVALS = "approvals"
    OVERRIDE = "override"
    ANSWER_QUESTIONS = "answer_questions"
    ASK_REPORT = "ask_report"
    LINK_CHANNELS = "link_channels"
    DECLARE_CRISIS = "declare_crisis"
    RUN_CRISIS = "run_crisis"
    CRISIS = "crisis"
    RAISE_CRISIS = "raise_crisis"
    ASK = "ask"
    HELP = "help"


Table = Mapping[Permission, tuple[Role, ...]]

#: The default table, in the order ``help`` and the README list it. () is everyone.
DEFAULT_PERMISSIONS: Table = {
    Permission.TRIAGE: (Role.RESPONDER, Role.COACH),
    # Drafting is narrowed further per account (``accounts[].drafters``).
    Permission.DRAFT: (Role.RESPONDER, Role.COACH, Role.CRISIS_LEAD, Role.LEGAL),
    # Who decides a step is named by the approval rules, whatever their role.
    Permission.APPROVALS: (),
    Permission.OVERRIDE: (Role.COACH,),
    Permission.ANSWER_QUESTIONS: (Role.COACH,),
    Permission.ASK_REPORT: (Role.COACH,),
    Permission.LINK_CHANNELS: (Role.ADMIN,),
    Permission.DECLARE_CRISIS: (Role.CRISIS_LEAD, Role.COACH),
    Permission.RUN_CRISIS: (Role.CRISIS_LEAD, Role.COACH),
    Permission.CRISIS: (Role.CRISIS_LEAD, Role.COACH, Role.LEGAL, Role.RESPONDER, Role.ADMIN),
    Permission.RAISE_CRISIS: (),
    Permission.ASK: (),
    Permission.HELP: (),
}

#: Written in the config for "everyone".
EVERYONE = "everyone"


def with_overrides(
    overrides: Mapping[Permission, Iterable[Role]],
) -> dict[Permission, tuple[Role, ...]]:
    """The default table with some entries' roles replaced."""
    table = dict(DEFAULT_PERMISSIONS)
    for permission, roles in overrides.items():
        table[permission] = tuple(dict.fromkeys(roles))
    return table


def granted(table: Table, roles: Iterable[Role]) -> frozenset[Permission]:
    """What someone holding ``roles`` may do."""
    held = set(roles)
    return frozenset(
        permission
        for permission, allowed in table.items()
        if not allowed or held.intersection(allowed)
    )


def role_names(table: Table, permission: Permission) -> tuple[str, ...]:
    """The roles that may, as words ("crisis lead"); () is everyone."""
    return tuple(role.value.replace("_", " ") for role in table.get(permission, ()))
