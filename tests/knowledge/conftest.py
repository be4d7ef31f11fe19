"""Fixtures for the guideline engine: the shipped guidelines and the handbook set, each
indexed once per session (the MiniLM model is loaded once per process, see
:func:`bot.knowledge.embedder.shared_embedder`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.knowledge import GuidelineStore

ROOT = Path(__file__).resolve().parents[2]
HANDBOOKS = ROOT / "eval" / "ask" / "handbooks"


@pytest.fixture(scope="session")
def acme(tmp_path_factory: pytest.TempPathFactory) -> GuidelineStore:
    """The guidelines the bot ships with."""
    cache = tmp_path_factory.mktemp("acme-index")
    return GuidelineStore(ROOT / "playbooks" / "guidelines", cache_dir=cache, check_interval=None)


#: Four of the handbook documents, exactly as published: Hugo/Jekyll headers with fields
#: the bot does not use, headings down to level 4, bold pseudo-headings, inline HTML
#: links with mailto addresses, a fenced template with heading-like lines.
FOREIGN = (
    "gitlab-social-media.md",
    "posthog-press.md",
    "kubernetes-social-media.md",
    "18f-security-incidents.md",
)


@pytest.fixture(scope="session")
def handbooks(tmp_path_factory: pytest.TempPathFactory) -> GuidelineStore:
    """A guideline store over :data:`FOREIGN`, copied without any edit."""
    folder = tmp_path_factory.mktemp("handbooks")
    for name in FOREIGN:
        shutil.copy(HANDBOOKS / name, folder / name)
    return GuidelineStore(folder, cache_dir=None, check_interval=None)
