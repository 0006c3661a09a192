"""The one place that reads the wall clock; everything else is handed a Clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


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
