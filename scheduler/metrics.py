"""Prometheus figures for operators: turns, errors, reminders and deliveries.

One registry per bot (built in bot.py), so tests and several bots in one process never share
counters. Gauges that are really database counts are read when scraped, not kept up to date.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Counts(Collector):
    def __init__(self) -> None:
        self.sources: list[Callable[[], Mapping[str, float]]] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        values: dict[str, float] = {}
        for source in self.sources:
            try:
                values.update(source())
            except Exception:  # a scrape must not fail because one count did
                logger.warning("a metrics source failed", exc_info=True)
        for name, value in sorted(values.items()):
            family = GaugeMetricFamily(f"natverksboten_{name}", name.replace("_", " "))
            family.add_metric([], value)
            yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "natverksboten_turns", "Handled activities", ["capability"], registry=self.registry
        )
        self.turn_seconds = Histogram(
            "natverksboten_turn_seconds",
            "Time to handle one activity",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.errors = Counter("natverksboten_turn_errors", "Failed turns", registry=self.registry)
        self.deliveries = Counter(
            "natverksboten_deliveries", "Proactive sends", ["outcome"], registry=self.registry
        )
        self.throttled = Counter(
            "natverksboten_throttled", "429 answers from the Bot Connector", registry=self.registry
        )
        self._counts = _Counts()
        self.registry.register(self._counts)

    def add_counts(self, source: Callable[[], Mapping[str, float]]) -> None:
        """A callable giving current values (e.g. reminders pending) read at each scrape."""
        self._counts.sources.append(source)

    def render(self) -> bytes:
        return generate_latest(self.registry)
