"""Start-up: load and validate everything, open the store, build the runtime.

``check``, ``serve``, ``demo`` and ``ingest`` share this path, so they refuse
to start on exactly the same problems.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import config_path, load_settings
from bot.core.clock import Clock
from bot.core.errors import ConfigError, Problem
from bot.core.settings import Settings
from bot.core.storage import Store
from bot.deployment import resolve_platforms
from bot.intake.enrich import SentimentModel, VaderSentiment
from bot.knowledge.answer import GuidelineStore
from bot.paging import configured_channels
from bot.playbooks import PlaybookStore, load_playbooks
from bot.resources import bundled
from bot.runtime import Runtime, required_templates
from bot.store import open_store
from bot.store.pacing import pacing_for
from bot.templates import JinjaTemplates

log = logging.getLogger(__name__)

DEFAULT_STORE_URL = "sqlite:///.playcaller/playcaller.db"

# A server allocates fast and keeps many short-lived objects in flight: collect
# the youngest generation less often, and the full collection far less often.
GC_THRESHOLDS = (50_000, 20, 100)


@dataclass(frozen=True)
class Loaded:
    """Validated configuration, playbooks, guidelines and templates."""

    config_file: Path
    settings: Settings
    playbooks: PlaybookStore
    templates: JinjaTemplates
    knowledge: GuidelineStore
    notes: tuple[Problem, ...] = ()  # worth knowing, not worth refusing to start


def playbooks_dir() -> Path:
    """``PLAYCALLER_PLAYBOOKS``, else the bundled sample playbooks."""
    chosen = os.environ.get("PLAYCALLER_PLAYBOOKS")
    return Path(chosen) if chosen else bundled("playbooks")


def templates_dir() -> Path:
    """``PLAYCALLER_TEMPLATES``, else the bundled templates."""
    chosen = os.environ.get("PLAYCALLER_TEMPLATES")
    return Path(chosen) if chosen else bundled("templates")


def guidelines_dir() -> Path:
    """``PLAYCALLER_GUIDELINES``, else ``guidelines/`` in the playbook folder.

    "Save as guidance" writes ``faq.md`` here, so ``serve`` needs it writable."""
    chosen = os.environ.get("PLAYCALLER_GUIDELINES")
    return Path(chosen) if chosen else playbooks_dir() / "guidelines"


def private_guidelines(scratch: Path) -> Path:
    """A copy of the guideline folder under ``scratch`` for a run that must not
    change the original (the demo); returns the copy's path."""
    copy = scratch / "guidelines"
    shutil.copytree(guidelines_dir(), copy, ignore=shutil.ignore_patterns(".*"))
    return copy


def load(
    config: str | None = None,
    *,
    index_cache: Path | None = None,
    guidelines: Path | None = None,
) -> Loaded:
    """Load config, playbooks, guidelines and templates; raise :class:`ConfigError`
    with every problem. ``index_cache`` is where the guideline index is persisted
    (None: kept in memory only); ``guidelines`` overrides :func:`guidelines_dir`."""
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
        knowledge = GuidelineStore(guidelines or guidelines_dir(), cache_dir=index_cache)
    except ConfigError as error:
        problems += error.problems
    if knowledge is not None:
        problems += owner_problems(knowledge, settings)
    if problems or knowledge is None:
        raise ConfigError(problems)
    notes = tuple(channel_notes(settings, str(path)))
    return Loaded(path, settings, playbooks, templates, knowledge, notes)


def owner_problems(knowledge: GuidelineStore, settings: Settings) -> list[Problem]:
    """A guideline whose ``owner`` is no person in the config: nobody would get
    its review reminders."""
    problems = []
    known = ", ".join(list(settings.people)[:12])
    for info in knowledge.guidelines():
        if info.owner is not None and info.owner not in settings.people:
            path = knowledge.folder / info.doc
            problems.append(
                Problem(
                    str(path),
                    _header_line(path, "owner"),
                    f"owner: {info.owner!r} is not a person in the config (use an id: {known})",
                )
            )
    return problems


def _header_line(path: Path, field: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((n for n, line in enumerate(lines, 1) if line.startswith(f"{field}:")), None)


def channel_notes(settings: Settings, file: str) -> list[Problem]:
    """Spokes with no channel on a platform cards go to (they can be linked in chat)."""
    platforms = settings.platforms or tuple(
        dict.fromkeys(p for channels in settings.channels.values() for p in channels)
    )
    notes = []
    for spoke in settings.all_spokes():
        for platform in platforms or ("any platform",):
            if not settings.channels.get(spoke.id, {}).get(platform):
                notes.append(
                    Problem(
                        file,
                        None,
                        f"spoke {spoke.id!r} has no {platform} channel: its cards wait until an "
                        f"admin types /playcaller link {spoke.id} in one, or "
                        f"spokes[{spoke.id}].channels.{platform} is set",
                    )
                )
    return notes


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
    use_record: bool = True,
) -> Runtime:
    """Open ``store`` and build the runtime around it. Cards are queued for
    ``platforms``, else as :func:`bot.deployment.resolve_platforms` decides
    (``use_record``: trust what a ``serve`` recorded in the store)."""
    await store.open()
    choice = await resolve_platforms(
        platforms, loaded.settings, os.environ, store, use_record=use_record
    )
    if choice.guessed and use_record:
        log.warning(
            "cards are queued for %s (guessed from %s); set platforms: in the config "
            "so every process agrees",
            ", ".join(choice.platforms),
            "this environment's credentials" if choice.source == "credentials" else "no setting",
        )
    else:
        log.info("cards are queued for %s (%s)", ", ".join(choice.platforms), choice.source)
    return Runtime(
        settings=loaded.settings,
        store=store,
        clock=clock,
        templates=loaded.templates,
        platforms=choice.platforms,
        sentiment=sentiment or VaderSentiment(),
        knowledge=loaded.knowledge,
        pacing=pacing_for(store),
        playbooks=dict(loaded.playbooks.crisis),
        pagers=configured_channels(os.environ),
    )


def settle_heap() -> None:
    """Keep the start-up objects (config, templates, the guideline index, SDK
    modules) out of every later garbage collection, and collect less often.

    They live for the whole process; without this each full collection walks
    them all again (tens of milliseconds that pause the event loop, and about
    a tenth of the CPU of a busy ``/intake``, whose batches of 500 keep enough
    objects alive to trigger full collections). ``serve`` and ``ingest`` call
    it once everything is loaded."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def make_store(url: str, *, source: str = "PLAYCALLER_STORE_URL") -> Store:
    """An unopened store for ``url`` (see :func:`bot.store.open_store`); a bad
    URL is a problem blamed on ``source`` (the flag or variable it came from)."""
    try:
        return open_store(url, namespace=os.environ.get("PLAYCALLER_STORE_NAMESPACE", "playcaller"))
    except ValueError as error:
        raise ConfigError([Problem(source, None, f"{url!r}: {error}")]) from error
