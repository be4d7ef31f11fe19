"""What an operator sees of ``serve``: ``GET /metrics``, request ids and ack timing.

The store-derived metrics (outbox depth and age, due and overdue timers,
intake counts) are read when Prometheus scrapes, so they describe the shared
store, whichever process queued the work.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.core.clock import Clock
from bot.core.storage import Store
from bot.logs import bind_request_id, new_request_id
from bot.metrics import Metrics, Reading

# A timer still waiting this long after it was due means the scheduler is not keeping up.
OVERDUE_AFTER_SECONDS = 60.0
# Store counters under this prefix are exposed as playcaller_intake_mentions_total.
INTAKE_PREFIX = "intake."

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def watch_store(metrics: Metrics, store: Store, clock: Clock, platforms: Iterable[str]) -> None:
    """Register the scrape-time metrics read from ``store``."""
    names = set(platforms)

    async def backlog() -> dict[str, tuple[float, float]]:
        now = clock.now()
        waiting = await store.outbox_backlog()
        return {
            platform: (
                float(waiting[platform].items),
                max(0.0, (now - waiting[platform].oldest).total_seconds()),
            )
            if platform in waiting
            else (0.0, 0.0)
            for platform in sorted({*names, *waiting})
        }

    async def depth() -> Reading:
        return {(p,): items for p, (items, _) in (await backlog()).items()}

    async def oldest_age() -> Reading:
        return {(p,): age for p, (_, age) in (await backlog()).items()}

    async def due() -> Reading:
        return {(): float(await store.timers_due(clock.now()))}

    async def overdue() -> Reading:
        at = clock.now() - timedelta(seconds=OVERDUE_AFTER_SECONDS)
        return {(): float(await store.timers_due(at))}

    async def intake() -> Reading:
        counts = await store.counts(INTAKE_PREFIX)
        return {
            (outcome,): float(counts.get(INTAKE_PREFIX + outcome, 0))
            for outcome in ("stored", "duplicate", "refused")
        }

    metrics.scraped("outbox_items", "Outbox items waiting, by platform.", depth, ["platform"])
    metrics.scraped(
        "outbox_oldest_age_seconds",
        "Age of the oldest waiting outbox item, by platform (0 when empty).",
        oldest_age,
        ["platform"],
    )
    metrics.scraped("timers_due", "Timers due now, not yet completed.", due)
    metrics.scraped(
        "timers_overdue",
        f"Timers still waiting {OVERDUE_AFTER_SECONDS:.0f} s or more after they were due.",
        overdue,
    )
    metrics.scraped(
        "intake_mentions",
        "Mentions offered to intake by any process, by outcome (stored, duplicate, refused).",
        intake,
        ["outcome"],
        kind="counter",
    )


def intake_counts(stored: int, duplicates: int, refused: int) -> Mapping[str, int]:
    """Store counter increments for one intake run (see :meth:`Store.add_counts`)."""
    return {
        INTAKE_PREFIX + "stored": stored,
        INTAKE_PREFIX + "duplicate": duplicates,
        INTAKE_PREFIX + "refused": refused,
    }


def metrics_route(metrics: Metrics) -> Handler:
    """The ``GET /metrics`` handler."""

    async def serve_metrics(request: web.Request) -> web.Response:
        body, content_type = await metrics.exposition(request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})

    return serve_metrics


def request_middleware(metrics: Metrics, platform_of: Mapping[str, str]) -> Middleware:
    """Bind a request id to every request; time the platforms' routes up to the
    answer (``platform_of`` maps a route's path to its platform)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        bind_request_id(new_request_id())
        resource = request.match_info.route.resource
        platform = platform_of.get(resource.canonical) if resource is not None else None
        if platform is None:
            return await handler(request)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            metrics.ack_seconds.labels(platform=platform).observe(time.perf_counter() - started)

    return middleware
