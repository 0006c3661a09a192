"""Daily purge of old records, each capability registering what it may forget."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from scheduler.clock import Clock

logger = logging.getLogger("natverksboten")


class Retention:
    """Daily purge of records older than RETENTION_DAYS (handled activities, delivered reminders,
    closed polls): each capability registers what it may forget."""

    def __init__(self, clock: Clock, keep: timedelta) -> None:
        self._clock = clock
        self.keep = keep
        self._purges: list[Callable[[datetime], int]] = []

    def add(self, purge: Callable[[datetime], int]) -> None:
        self._purges.append(purge)

    def run(self) -> int:
        cutoff = self._clock.now() - self.keep
        removed = 0
        for purge in self._purges:
            try:
                removed += purge(cutoff)
            except Exception:  # one table's trouble must not stop the others' purge
                logger.exception("retention purge failed")
        logger.info("retention purge done", extra={"status": removed})
        return removed

    async def run_now(self) -> None:
        """The daily job on the app's clock (bot.py adds it), off the event loop."""
        await asyncio.to_thread(self.run)
