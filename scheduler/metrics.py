"""Prometheus figures for operators: turns by capability, their latency, failed turns.

One registry per bot (built in bot.py), so tests and several bots in one process never share
counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
