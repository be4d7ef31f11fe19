"""Operational metrics, served as ``GET /metrics`` in the Prometheus text format.

Each :class:`Metrics` (one per runtime) has its own registry, never the
process-wide default, so two apps in one process, and every test, count apart.

Adding a metric is one line. Something counted where it happens::

    self.pages = metrics.counter("pages_sent", "Pages sent, by channel.", ["channel"])
    self.pages.labels(channel="sms").inc()

A value read at scrape time (from the store, say)::

    metrics.scraped("drafts_waiting", "Drafts waiting for approval.", read_drafts)

where ``read_drafts`` is ``async () -> {(label values...): value}``; every
scrape awaits it first, so the number is never stale. Names get the
``playcaller_`` prefix (counters also get ``_total``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

PREFIX = "playcaller_"
# Slack wants an answer within 3 s and Teams within 15 s: buckets around both.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0)

Reading = Mapping[tuple[str, ...], float]
Reader = Callable[[], Awaitable[Reading]]


class _Scraped(Collector):
    """One metric whose values an async reader supplies just before each scrape."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str],
        read: Reader,
        kind: Literal["gauge", "counter"],
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = list(labels)
        self.read = read
        self.kind = kind
        self.latest: Reading = {}

    def _family(self) -> GaugeMetricFamily | CounterMetricFamily:
        if self.kind == "counter":
            return CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        return GaugeMetricFamily(self.name, self.documentation, labels=self.labels)

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        for values, value in sorted(self.latest.items()):
            family.add_metric(list(values), value)
        return [family]


class Metrics:
    """One runtime's metrics: the built-in ones and any a feature adds."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._scraped: dict[str, _Scraped] = {}
        self._scrape_lock = asyncio.Lock()
        self.platform_calls = self.counter(
            "platform_calls",
            "Calls to Slack's Web API and Teams' Bot Connector, by method and outcome "
            "(status: ok, the HTTP status of a failure such as 429, Slack's error code, "
            "or unreachable).",
            ["platform", "method", "status"],
        )
        self.ack_seconds = self.histogram(
            "ack_seconds",
            "Time from receiving a Slack or Teams HTTP request to answering it.",
            ["platform"],
            buckets=ACK_BUCKETS,
        )
        self.read_failures = self.counter(
            "metric_read_failures",
            "Scrape-time reads that failed (the metric is left out of that scrape).",
            ["metric"],
        )

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        """A counter in this registry, ``playcaller_<name>_total``."""
        return Counter(PREFIX + name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        """A gauge set where the value changes, ``playcaller_<name>``."""
        return Gauge(PREFIX + name, documentation, labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        *,
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
    ) -> Histogram:
        """A histogram of observations, ``playcaller_<name>_bucket`` and friends."""
        return Histogram(
            PREFIX + name, documentation, labels, registry=self.registry, buckets=buckets
        )

    def scraped(
        self,
        name: str,
        documentation: str,
        read: Reader,
        labels: Sequence[str] = (),
        *,
        kind: Literal["gauge", "counter"] = "gauge",
    ) -> None:
        """A metric computed by ``read`` at every scrape (replacing one of the same name)."""
        full = PREFIX + name
        earlier = self._scraped.pop(full, None)
        if earlier is not None:
            self.registry.unregister(earlier)
        collector = _Scraped(full, documentation, labels, read, kind)
        self.registry.register(collector)
        self._scraped[full] = collector

    async def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """Every metric, scrape-time ones read now, and the content type: the
        Prometheus text format, or what the scraper's ``Accept`` header asks for."""
        encode, content_type = choose_encoder(accept)
        async with self._scrape_lock:
            for collector in self._scraped.values():
                try:
                    collector.latest = await collector.read()
                except Exception:
                    log.exception("reading %s for /metrics failed", collector.name)
                    collector.latest = {}
                    self.read_failures.labels(metric=collector.name).inc()
            return encode(self.registry), content_type
