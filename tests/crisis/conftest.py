"""The sample playbooks and config, loaded once per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Loaded
from bot.config import load_settings
from bot.core.playbook import Playbook
from bot.core.settings import Settings
from bot.playbooks import load_playbooks
from tests.conftest import ROOT
from tests.slack.slack_rig import SlackRig, slack_rig


@pytest.fixture
def settings() -> Settings:
    return load_settings(ROOT / "playcaller.yaml")


@pytest.fixture
def playbooks(settings: Settings) -> dict[str, Playbook]:
    store, problems = load_playbooks(ROOT / "playbooks", settings)
    assert problems == []
    return store.crisis


@pytest.fixture
async def slack_crisis(store_backend: tuple[str, str], loaded: Loaded) -> AsyncIterator[SlackRig]:
    """A Slack workspace (the fake Web API) with the crisis lead and the
    people the sample playbooks page besides the triage team."""
    async with slack_rig(loaded, *store_backend) as opened:
        opened.fake.add_user("U0PRIYA", "priya", "priya@example.com")
        opened.fake.add_user("U0LEE", "lee", "lee@example.com")
        yield opened


# Webhook publishing in the console (a signed local receiver and the publish lane).
from tests.publish_lane import lane, receiver  # noqa: E402, F401
