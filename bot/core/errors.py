"""One hierarchy for every failure a user may see.

Handlers raise these; the dispatcher is the single boundary that turns them
into a short message for the person (and logs an error id for anything
unexpected). Configuration and playbook problems use :class:`ConfigError`,
which carries every problem with its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


class PlaycallerError(Exception):
    """Base of every error the bot raises on purpose."""

    def user_message(self) -> str:
        """A short sentence the person can act on."""
        return str(self)


class NotPermitted(PlaycallerError):
    """The actor lacks a role the action needs."""

    def __init__(self, action: str, roles: tuple[str, ...]) -> None:
        self.action = action
        self.roles = roles
        needed = " or ".join(roles)
        article = "an" if needed[:1] in "aeiou" else "a"
        super().__init__(f"Only {article} {needed} can {action}.")


class NotFound(PlaycallerError):
    """The thing the person referred to does not exist (any more)."""


class StaleAction(PlaycallerError):
    """A click on a card whose state has moved on: nothing was changed."""


class InvalidInput(PlaycallerError):
    """Malformed input, naming the field at fault."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True)
class Problem:
    """One configuration or playbook problem, located in its file."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ConfigError(PlaycallerError):
    """Configuration, playbooks or templates are invalid; start-up stops."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RetryLater(Exception):
    """An outbound effect (a card, a publish) should be tried again after ``after``.

    ``paced`` marks a wait that is not a failure (our own pacing, or the
    platform's rate limit with Retry-After): it never counts towards giving up.
    """

    def __init__(self, after: timedelta, reason: str, *, paced: bool = False) -> None:
        self.after = after
        self.reason = reason
        self.paced = paced
        super().__init__(f"retry after {after.total_seconds():.1f}s: {reason}")


class Undeliverable(Exception):
    """The item can never be delivered (no such channel, person unknown, a
    publish the receiver refused)."""
