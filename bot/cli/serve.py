"""``playcaller serve``: the bot's web app with every platform, intake and lane that the
environment turns on (see "Running in production" in the README)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import socket
import sys

from bot.app import Loaded, make_store, open_runtime, settle_heap, store_url
from bot.cli.options import store_source
from bot.core.clock import SystemClock
from bot.core.errors import InvalidInput
from bot.listen import ListenError, bind, bound_port, parse_port

log = logging.getLogger("playcaller")


def run(loaded: Loaded, args: argparse.Namespace) -> int:
    try:
        port = parse_port(args.port, os.environ.get("PLAYCALLER_PORT"))
        listener = bind(args.host, port)
    except ListenError as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    return serve(loaded, listener, args.store)


def serve(loaded: Loaded, listener: socket.socket, store: str | None) -> int:
    from aiohttp import web

    from bot.core.ports import ExternalLane
    from bot.deployment import mismatches, record_platforms
    from bot.intake.endpoint import IntakeSettings
    from bot.intake.stream import StreamSettings
    from bot.paging import PageLane, pagers_from_env
    from bot.platforms.console.transcript import TranscriptDelivery, TranscriptPlatform
    from bot.platforms.slack.platform import SlackPlatform, SlackSettings
    from bot.platforms.teams.platform import TeamsPlatform, TeamsSettings
    from bot.publishing import PublishLane, WebhookPublisher, WebhookSettings, warn_unpublished
    from bot.web import ServedPlatform, create_app

    slack = SlackSettings.from_env(os.environ)
    teams = TeamsSettings.from_env(os.environ)
    try:
        intake = IntakeSettings.from_env(os.environ)
        # Read with or without a secret: a process without /intake still
        # admits what the others accept into the stream.
        stream = StreamSettings.from_env(os.environ)
    except InvalidInput as error:
        print(f"playcaller: {error}", file=sys.stderr)
        return 2
    if intake is None:
        log.info("POST /intake is off: PLAYCALLER_INTAKE_SECRET is not set")
    # A URL without a secret (or a bad URL) stops start-up here (ConfigError).
    publishing = WebhookSettings.from_env(os.environ)
    log.info("guidelines in %s (Save as guidance writes faq.md there)", loaded.knowledge.folder)
    for note in loaded.notes:
        log.warning("%s", note)

    async def build() -> web.Application:
        runtime = await open_runtime(
            loaded,
            store=make_store(store_url(store), source=store_source(store)),
            clock=SystemClock(),
            use_record=False,
        )
        await runtime.start()
        platforms: list[ServedPlatform] = []
        if slack is not None:
            platforms.append(SlackPlatform(slack, runtime))
        if teams is not None:
            platforms.append(TeamsPlatform(teams, runtime))
        if "console" in runtime.platforms:
            platforms.append(TranscriptPlatform(TranscriptDelivery(loaded.settings, sys.stdout)))
        await record_platforms(runtime.store, runtime.platforms, runtime.owner, runtime.clock.now())
        served = [p.name for p in platforms]
        for sentence in await mismatches(runtime.store, runtime.platforms, served):
            log.warning("%s", sentence)
        lanes: list[ExternalLane] = []
        if publishing is not None:
            runtime.settings = dataclasses.replace(runtime.settings, publish_webhook=True)
            publisher = WebhookPublisher(publishing, runtime.clock)
            lanes.append(PublishLane(publisher, lease_for=publishing.lease))
            log.info("publishing approved posts to %s", publishing.url)
        else:
            await warn_unpublished(runtime.store)
        pagers = pagers_from_env(runtime.clock, os.environ)
        if pagers:
            paging = PageLane(pagers)
            lanes.append(paging)
            app_cleanup = paging.close
            log.info("paging over %s besides chat", ", ".join(sorted(pagers)))
        app = create_app(runtime, platforms, intake=intake, stream=stream, lanes=lanes)
        if publishing is not None:
            app.on_cleanup.append(lambda _: publisher.close())
        if pagers:
            app.on_cleanup.append(lambda _: app_cleanup())
        settle_heap()
        return app

    host = str(listener.getsockname()[0])
    shown = f"[{host}]" if ":" in host else host
    # Printed (not logged) so a script that asked for port 0 can read it.
    print(f"playcaller: serving on http://{shown}:{bound_port(listener)}", flush=True)
    web.run_app(build(), sock=listener, print=None)
    return 0
