"""Surge mode and spike alert settings of ``playcaller.yaml`` (see :mod:`bot.config`)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from pydantic import BaseModel, Field, field_validator

from bot.config_types import STRICT, Duration
from bot.core.model import Priority
from bot.core.settings import SpikePolicy, SurgePolicy


class _Model(BaseModel):
    model_config = STRICT


class RawSurge(_Model):
    """Surge thresholds; under a spoke, only the ones given override the defaults."""

    threshold: int | None = Field(default=None, ge=1, le=100_000)
    window: Duration | None = None
    calm_after: Duration | None = None
    reach: int | None = Field(default=None, ge=0)
    update_every: Duration | None = None
    single_priorities: list[Priority] | None = None

    @field_validator("window")
    @classmethod
    def _window_range(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and not timedelta(minutes=1) <= value <= timedelta(hours=1):
            raise ValueError("window must be between 1m and 1h")
        return value

    @field_validator("calm_after")
    @classmethod
    def _calm_range(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and not timedelta(minutes=1) <= value <= timedelta(hours=6):
            raise ValueError("calm_after must be between 1m and 6h")
        return value

    @field_validator("update_every")
    @classmethod
    def _update_range(cls, value: timedelta | None) -> timedelta | None:
        # Slack allows about one update a second per workspace lane, Teams
        # a few per second per conversation; one every 10 s leaves room for
        # every other card.
        if value is not None and not timedelta(seconds=10) <= value <= timedelta(minutes=5):
            raise ValueError("update_every must be between 10s and 5m")
        return value

    def over(self, base: SurgePolicy) -> SurgePolicy:
        given = {k: v for k, v in self.model_dump().items() if v is not None}
        if self.single_priorities is not None:
            given["single_priorities"] = tuple(self.single_priorities)
        return dataclasses.replace(base, **given)


class RawSpikes(_Model):
    factor: float = Field(default=3.0, gt=1.0, le=100.0)
    leads_factor: float = Field(default=6.0, gt=1.0, le=1000.0)
    min_count: int = Field(default=30, ge=1)
    window: Duration = timedelta(minutes=15)
    smoothing: float = Field(default=0.3, gt=0.0, le=1.0)
    topics: dict[str, list[str]] = {}

    @field_validator("window")
    @classmethod
    def _spike_window(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=5) <= value <= timedelta(hours=1):
            raise ValueError("window must be between 5m and 1h")
        return value

    def build(self) -> SpikePolicy:
        return SpikePolicy(
            factor=self.factor,
            leads_factor=self.leads_factor,
            min_count=self.min_count,
            window=self.window,
            smoothing=self.smoothing,
            topics={name: tuple(words) for name, words in self.topics.items()},
        )
