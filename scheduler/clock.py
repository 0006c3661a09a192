"""The one place that reads the wall clock; everything else is handed a Clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# The zone whose wall time a turn reads and writes: the user's (Teams sends each message's
# `localTimezone`), else Stockholm. Set for one turn (a context variable, so concurrent turns and
# their worker threads each see their own); background jobs run in Stockholm time.
_WALL_ZONE: ContextVar[ZoneInfo] = ContextVar("wall_zone", default=STOCKHOLM)


def wall_zone() -> ZoneInfo:
    return _WALL_ZONE.get()


@contextmanager
def wall_time_in(zone: ZoneInfo) -> Iterator[None]:
    token = _WALL_ZONE.set(zone)
    try:
        yield
    finally:
        _WALL_ZONE.reset(token)


def zone_named(name: object) -> ZoneInfo:
    """An IANA zone name as Teams sends it ("Europe/London"); anything else is Stockholm."""
    if not isinstance(name, str) or not 0 < len(name) <= 64 or ".." in name:
        return STOCKHOLM
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return STOCKHOLM


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Waits until this clock has moved on by `seconds` (the send limiter's waits)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
