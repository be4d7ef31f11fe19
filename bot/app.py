"""Start-up: load and validate everything, open the store, build the runtime.

``check``, ``serve``, ``demo`` and ``ingest`` share this path, so they refuse
to start on exactly the same problems.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import config_path, load_settings
from bot.core.clock import Clock
from bot.core.errors import ConfigError, Problem
from bot.core.settings import Settings
from bot.core.storage import Store
from bot.intake.enrich import SentimentModel, VaderSentiment
from bot.knowledge.answer import GuidelineStore
from bot.playbooks import PlaybookStore, load_playbooks
from bot.resources import bundled
from bot.runtime import Runtime, active_platforms, required_templates
from bot.store import open_store
from bot.store.pacing import pacing_for
from bot.templates import JinjaTemplates

DEFAULT_STORE_URL = "sqlite:///.playcaller/playcaller.db"


@dataclass(frozen=True)
class Loaded:
    """Validated configuration, playbooks, guidelines and templates."""

    config_file: Path
    settings: Settings
    playbooks: PlaybookStore
    templates: JinjaTemplates
    knowledge: GuidelineStore


def playbooks_dir() -> Path:
    """``PLAYCALLER_PLAYBOOKS``, else the bundled sample playbooks."""
    chosen = os.environ.get("PLAYCALLER_PLAYBOOKS")
    return Path(chosen) if chosen else bundled("playbooks")


def templates_dir() -> Path:
    """``PLAYCALLER_TEMPLATES``, else the bundled templates."""
    chosen = os.environ.get("PLAYCALLER_TEMPLATES")
    return Path(chosen) if chosen else bundled("templates")


def load(config: str | None = None, *, index_cache: Path | None = None) -> Loaded:
    """Load config, playbooks, guidelines and templates; raise :class:`ConfigError`
    with every problem. ``index_cache`` is where the guideline index is persisted
    (None: kept in memory only)."""
    path = config_path(config)
    settings = load_settings(path)
    templates = JinjaTemplates(templates_dir())
    problems: list[Problem] = []
    problems += templates.require(required_templates())
    problems += templates.check()
    playbooks, playbook_problems = load_playbooks(playbooks_dir(), settings)
    problems += playbook_problems
    knowledge: GuidelineStore | None = None
    try:
        knowledge = GuidelineStore(playbooks_dir() / "guidelines", cache_dir=index_cache)
    except ConfigError as error:
        problems += error.problems
    if problems or knowledge is None:
        raise ConfigError(problems)
    return Loaded(path, settings, playbooks, templates, knowledge)


def store_url(explicit: str | None = None) -> str:
    """``--store``, else ``PLAYCALLER_STORE_URL``, else SQLite under ``./.playcaller/``."""
    return explicit or os.environ.get("PLAYCALLER_STORE_URL") or DEFAULT_STORE_URL


async def open_runtime(
    loaded: Loaded,
    *,
    store: Store,
    clock: Clock,
    platforms: Sequence[str] | None = None,
    sentiment: SentimentModel | None = None,
) -> Runtime:
    """Open ``store`` and build the runtime around it."""
    await store.open()
    return Runtime(
        settings=loaded.settings,
        store=store,
        clock=clock,
        templates=loaded.templates,
        platforms=active_platforms(platforms),
        sentiment=sentiment or VaderSentiment(),
        knowledge=loaded.knowledge,
        pacing=pacing_for(store),
    )


def make_store(url: str) -> Store:
    """An unopened store for ``url`` (see :func:`bot.store.open_store`)."""
    try:
        return open_store(url, namespace=os.environ.get("PLAYCALLER_STORE_NAMESPACE", "playcaller"))
    except ValueError as error:
        raise ConfigError([Problem("PLAYCALLER_STORE_URL", None, str(error))]) from error
