"""Crisis room settings of ``playcaller.yaml`` (``crisis_rooms:``; see :mod:`bot.config`)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.core.settings import CrisisRooms

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("incident", "playbook", "summary", "severity")


class RawCrisisRooms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A Slack channel per incident; false: every incident runs in a thread
    # under its card in the hub channel.
    slack_channels: bool = True
    # The channel's name: lowercase, digits, hyphens and underscores are kept,
    # everything else becomes a hyphen, cut to 80 characters.
    name: str = Field(default="crisis-{incident}-{playbook}", min_length=1, max_length=200)
    private: bool = False
    # Archive the room channel once the resolved incident's summary is in it.
    archive_on_resolve: bool = True

    @field_validator("name")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        for found in _PLACEHOLDER.findall(value):
            if found not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{found}}}: use {', '.join(PLACEHOLDERS)}")
        if "{incident}" not in value:
            raise ValueError("the name must hold {incident}, so each incident has its own")
        return value

    def build(self) -> CrisisRooms:
        return CrisisRooms(
            slack_channels=self.slack_channels,
            name=self.name,
            private=self.private,
            archive_on_resolve=self.archive_on_resolve,
        )
