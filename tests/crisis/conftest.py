"""The sample playbooks and config, loaded once per test."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.core.playbook import Playbook
from bot.core.settings import Settings
from bot.playbooks import load_playbooks
from tests.conftest import ROOT


@pytest.fixture
def settings() -> Settings:
    return load_settings(ROOT / "playcaller.yaml")


@pytest.fixture
def playbooks(settings: Settings) -> dict[str, Playbook]:
    store, problems = load_playbooks(ROOT / "playbooks", settings)
    assert problems == []
    return store.crisis


# Webhook publishing in the console (a signed local receiver and the publish lane).
from tests.publish_lane import lane, receiver  # noqa: E402, F401
