"""The building blocks every config section shares: one duration grammar and
one strict model base, so ``playcaller check`` words problems the same way
in every file (config, accounts, surge, playbooks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict

from bot.core.clock import parse_duration

# Spoke, person and account ids: short, lowercase, safe in channel names and keys.
ID_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"


def duration(value: Any) -> timedelta:
    """One duration grammar for config and playbooks: ``90s``, ``15m``, ``1h30m``, seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 15m or 2h")
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(duration)]


# Unknown keys are refused (a typo is named, not ignored); parsed values are
# frozen. Each config module declares its own base with it (``class
# _Model(BaseModel): model_config = STRICT``) so linters still see pydantic models.
STRICT = ConfigDict(extra="forbid", frozen=True)
