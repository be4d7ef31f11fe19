"""``playcaller check``, ``manifest`` and ``package``: what an operator runs while setting
up a deployment. None of them opens the store or starts the bot."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.app import Loaded


def check(loaded: Loaded) -> int:
    settings = loaded.settings
    print(
        f"ok: {loaded.config_file} ({len(settings.spokes)} spokes, {len(settings.people)} people, "
        f"{len(settings.rules)} routing rules); {len(loaded.playbooks.crisis)} crisis playbooks, "
        f"{len(loaded.knowledge.guidelines())} guidelines; templates in {loaded.templates.root}"
    )
    # Remarks that do not stop start-up: a spoke without a channel, a guideline
    # header field the bot does not use.
    for note in (*loaded.notes, *loaded.knowledge.notes):
        print(f"note: {note}")
    return 0


def manifest(url: str | None, socket_mode: bool) -> int:
    import yaml
    from yarl import URL

    if url is not None:
        parsed = URL(url) if url.isprintable() and " " not in url else None
        if parsed is None or parsed.scheme != "https" or not parsed.host:
            print(
                f"playcaller: --url must be an https URL such as "
                f"https://bot.example.com/slack/events, not {url!r}",
                file=sys.stderr,
            )
            return 2

    from bot.platforms.slack.manifest import slack_manifest
    from bot.runtime import build_dispatcher

    try:
        manifest = slack_manifest(
            build_dispatcher().commands(), request_url=url, socket_mode=socket_mode
        )
    except ValueError as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), end="")
    return 0


def package(args: argparse.Namespace) -> int:
    from bot.platforms.teams.package import build_package

    bot_id = args.app_id or os.environ.get("MICROSOFT_APP_ID", "")
    app_id = args.teams_app_id or os.environ.get("TEAMS_APP_ID", "") or bot_id
    if not bot_id:
        print("playcaller: give --app-id or set MICROSOFT_APP_ID", file=sys.stderr)
        return 2
    try:
        path = build_package(
            Path(args.out), app_id=app_id, bot_id=bot_id, version=args.version, host=args.host
        )
    except ValueError as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
