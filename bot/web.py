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
from bot.intake.stream import StreamConsumer, stream_of, watch_stream
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
    lanes: Sequence[ExternalLane] = (),
) -> web.Application:
    """The aiohttp app for ``runtime`` (its store must be open; it is closed on clean-up);
    ``POST /intake`` is served when ``intake`` is given (through the intake
    stream, with a consumer in this app, when it asks for one and the store is
    Redis); each of ``lanes``
    (publishing, paging) gets a sender."""
    platform_of: dict[str, str] = {}
    app = web.Application(middlewares=[request_middleware(runtime.metrics, platform_of)])
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_route(runtime.metrics))
    consumer: StreamConsumer | None = None
    if intake is not None:
        stream = stream_of(runtime) if intake.stream is not None else None
        if intake.stream is not None and stream is not None:
            watch_stream(runtime.metrics, stream)
            if intake.stream.consume:
                consumer = StreamConsumer(runtime, stream, intake.stream)
                log.info("intake through the Redis stream, consumer %s", consumer.name)
            else:
                log.info("intake through the Redis stream; other processes admit")
        else:
            intake = dataclasses.replace(intake, stream=None)
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
