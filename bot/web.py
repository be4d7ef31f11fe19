"""The ``serve`` web application: health, metrics, scheduler, outbox and lane senders.

Start-up opens the store and starts background work; clean-up stops it and
closes the store. Platforms (Slack, Teams) mount their routes on this app.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from aiohttp import web

from bot.core.ports import ExternalLane
from bot.core.storage import Store
from bot.intake import endpoint
from bot.intake.stream import STREAM_ENV, StreamConsumer, StreamSettings, stream_of, watch_stream
from bot.operations import metrics_route, request_middleware, watch_store
from bot.outbox import Delivery
from bot.runtime import Runtime

log = logging.getLogger(__name__)

RUNTIME = web.AppKey("runtime", Runtime)


class ServedPlatform(Protocol):
    """A chat platform as the web app runs it."""

    name: str

    @property
    def delivery(self) -> Delivery:
        """Where its outbox items go."""

    def mount(self, app: web.Application) -> None:
        """Add its HTTP routes."""

    async def start(self) -> None:
        """Open connections (e.g. Socket Mode)."""

    async def stop(self) -> None:
        """Close connections and finish in-flight work."""


def create_app(
    runtime: Runtime,
    platforms: Sequence[ServedPlatform],
    *,
    poll_seconds: float = 1.0,
    intake: endpoint.IntakeSettings | None = None,
    stream: StreamSettings | None = None,
    lanes: Sequence[ExternalLane] = (),
) -> web.Application:
    """The aiohttp app for ``runtime`` (its store must be open; it is closed on clean-up);
    ``POST /intake`` is served when ``intake`` is given. With the Redis store
    and ``stream`` (default: ``intake.stream``), ``/intake`` accepts into the
    intake stream and, unless ``stream`` only accepts, this app consumes the
    stream, with or without ``/intake`` of its own. Each of ``lanes``
    (publishing, paging) gets a sender."""
    platform_of: dict[str, str] = {}
    app = web.Application(middlewares=[request_middleware(runtime.metrics, platform_of)])
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_route(runtime.metrics))
    consumer = _consumer(runtime, stream or (intake.stream if intake else None), intake)
    if intake is not None:
        if stream_of(runtime) is None or (stream or intake.stream) is None:
            intake = dataclasses.replace(intake, stream=None)
        elif intake.stream is None:
            intake = dataclasses.replace(intake, stream=stream)
        endpoint.mount(app, runtime, intake)
    for platform in platforms:
        before = {r.canonical for r in app.router.resources()}
        platform.mount(app)
        platform_of.update(
            (r.canonical, platform.name)
            for r in app.router.resources()
            if r.canonical not in before
        )
    watch_store(
        runtime.metrics,
        runtime.store,
        runtime.clock,
        {*runtime.platforms, *(p.name for p in platforms), *(lane.lane for lane in lanes)},
    )

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        for platform in platforms:
            await platform.start()
        tasks = [asyncio.create_task(runtime.scheduler().run(stop, poll_seconds), name="scheduler")]
        tasks += [
            asyncio.create_task(
                runtime.sender(p.delivery).run(stop, poll_seconds), name=f"outbox-{p.name}"
            )
            for p in platforms
        ]
        tasks += [
            asyncio.create_task(
                runtime.external_sender(lane).run(stop, poll_seconds), name=f"lane-{lane.lane}"
            )
            for lane in lanes
        ]
        if consumer is not None:
            tasks.append(asyncio.create_task(consumer.run(stop), name="intake-stream"))
        log.info("playcaller serving; platforms: %s", ", ".join(p.name for p in platforms))
        yield
        stop.set()
        for platform in platforms:
            await platform.stop()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        await runtime.store.close()

    app.cleanup_ctx.append(lifecycle)
    return app


def _consumer(
    runtime: Runtime, stream: StreamSettings | None, intake: endpoint.IntakeSettings | None
) -> StreamConsumer | None:
    """This process's intake stream consumer, if the store has a stream and
    ``stream`` consumes (see ``PLAYCALLER_INTAKE_STREAM`` in the README)."""
    store_stream = stream_of(runtime)
    if stream is None or store_stream is None:
        return None
    watch_stream(runtime.metrics, store_stream)
    if not stream.consume:
        if intake is None:
            log.warning(
                "%s=accept without %s: this process neither accepts nor admits intake",
                STREAM_ENV,
                endpoint.SECRET_ENV,
            )
        else:
            log.info("intake through the Redis stream; other processes admit")
        return None
    consumer = StreamConsumer(runtime, store_stream, stream)
    if intake is None:
        log.info("intake stream consumer %s: admits what other processes accept", consumer.name)
    else:
        log.info("intake through the Redis stream, consumer %s", consumer.name)
    return consumer


async def healthz(request: web.Request) -> web.Response:
    """200 when the store answers, 503 otherwise."""
    store: Store = request.app[RUNTIME].store
    try:
        healthy = await store.ping()
    except Exception:
        log.exception("store ping failed")
        healthy = False
    return web.json_response(
        {"status": "ok" if healthy else "unavailable", "store": "ok" if healthy else "unreachable"},
        status=200 if healthy else 503,
    )
