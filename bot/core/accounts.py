"""The company's social accounts and the approval policy around them.

``bot.config`` builds these from ``playcaller.yaml``; the approvals feature
reads them. Everything here is immutable data and pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from bot.core.model import Actor, Role

# Spoke key in ``legal_phrases`` whose phrases apply to every spoke.
EVERY_SPOKE = "default"


class Network(StrEnum):
    """Networks a company account can publish on (each counts length its own way)."""

    X = "x"
    BLUESKY = "bluesky"
    MASTODON = "mastodon"
    THREADS = "threads"
    INSTAGRAM = "instagram"
    LINKEDIN = "linkedin"
    FACEBOOK = "facebook"
    REDDIT = "reddit"
    TIKTOK = "tiktok"


@dataclass(frozen=True)
class Account:
    """A company account: where approved replies and posts are published.

    Drafting is open to anyone named in ``drafter_people``, and to holders of
    a ``drafter_roles`` role who belong to the account's spoke.
    """

    id: str
    network: Network
    handle: str
    spoke: str
    drafter_roles: frozenset[Role] = frozenset({Role.RESPONDER, Role.COACH})
    drafter_people: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LintPolicy:
    """What the policy lint looks for beyond length and personal data.

    ``legal_phrases`` maps a spoke id (or ``EVERY_SPOKE``) to phrases that add
    a legal approval step; ``reference_patterns`` maps a name ("order number")
    to a compiled pattern for the company's own identifiers; phone numbers
    written without a country code are recognised for ``phone_regions``.
    """

    legal_phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    banned_terms: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    link_allow_list: tuple[str, ...] = ()
    reference_patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    shouting_min_letters: int = 12
    phone_regions: tuple[str, ...] = ("US", "GB")

    def phrases_for(self, spoke_id: str) -> tuple[str, ...]:
        """The spoke's own legal phrases after the ones for every spoke."""
        shared = self.legal_phrases.get(EVERY_SPOKE, ())
        own = self.legal_phrases.get(spoke_id, ()) if spoke_id != EVERY_SPOKE else ()
        return tuple(dict.fromkeys((*shared, *own)))


class StepMode(StrEnum):
    """How many of a step's approvers must approve."""

    ANY = "any"  # any one of them
    ALL = "all"  # every one of them


@dataclass(frozen=True)
class ApprovalStep:
    """One approval step: ``members`` are role names (``coach`` means the
    coaches of the account's spoke) or person ids."""

    name: str
    mode: StepMode = StepMode.ANY
    members: tuple[str, ...] = ("coach",)


@dataclass(frozen=True)
class NoApprovalRule:
    """Trusted people may send low-risk replies without approval: a reply to a
    mention of ``max_priority`` or lower, with no risk flag and a clean lint."""

    name: str
    people: tuple[str, ...]
    spokes: tuple[str, ...] = ()  # empty: every spoke
    max_priority: str = "normal"


@dataclass(frozen=True)
class ApprovalSettings:
    """Approval steps, timing and the lint policy.

    ``steps`` run in order for every draft; ``legal_step`` is added after
    them when the mention carries a legal risk or the lint finds a
    commitment. ``trainees`` always need approval; ``no_approval`` lists who
    may skip it for low-risk replies. ``backups`` take over a step whose
    deadline passed (empty: the hub's coaches).
    """

    lint: LintPolicy = LintPolicy()
    step_deadline: timedelta = timedelta(minutes=15)
    steps: tuple[ApprovalStep, ...] = (ApprovalStep("Coach"),)
    legal_step: ApprovalStep = ApprovalStep("Legal", members=("legal",))
    trainees: tuple[str, ...] = ()
    no_approval: tuple[NoApprovalRule, ...] = ()
    backups: tuple[str, ...] = ()


def may_draft(actor: Actor, account: Account, *, hub_id: str) -> bool:
    """May ``actor`` draft a reply or post for ``account``?

    Named people always may. Otherwise the actor needs one of the account's
    drafter roles (admins hold every role) and must belong to the account's
    spoke, so a responder drafts only for their spoke and a coach for the
    spokes they coach; the hub's coaches oversee every spoke.
    """
    if actor.person_id in account.drafter_people:
        return True
    if not actor.known or not actor.has(*account.drafter_roles):
        return False
    if account.spoke in actor.spokes:
        return True
    return hub_id in actor.spokes and actor.has(Role.COACH) and Role.COACH in account.drafter_roles


def draftable_accounts(actor: Actor, accounts: dict[str, Account], *, hub_id: str) -> list[Account]:
    """The accounts ``actor`` may draft for, in config order."""
    return [a for a in accounts.values() if may_draft(actor, a, hub_id=hub_id)]
