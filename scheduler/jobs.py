"""Job targets for APScheduler: module-level functions taking plain ids.

APScheduler 3 stores a job as a "module:function" reference plus pickled arguments, so a job
cannot hold the service itself. `bot.py` (through NudgeService.start) registers the running
service here: the house's one sanctioned module-level mutable.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.nudges import NudgeService

logger = logging.getLogger(__name__)

_service: NudgeService | None = None


def register(service: NudgeService | None) -> None:
    global _service
    _service = service


def registered() -> NudgeService | None:
    return _service


async def wake() -> None:
    """Something may be due: send whatever the database says is due now."""
    service = _service
    if service is None:
        logger.warning("nudge job ran with no service registered", extra={"job": "wake"})
        return
    await service.deliver_due()


async def deliver_reminder(reminder_id: int) -> None:
    """The reminder's moment came. The database decides what is due, so this sends everything
    due, which covers this reminder and any other that fell due at the same moment."""
    service = _service
    if service is None:
        logger.warning(
            "nudge job ran with no service registered",
            extra={"job": "deliver_reminder", "reminder_id": reminder_id},
        )
        return
    await service.deliver_due()


async def sweep() -> None:
    """Periodic safety net: leases of a crashed peer that ran out, rows another process wrote."""
    service = _service
    if service is not None and service.busy:
        return  # a run is going on; it loops until nothing is due
    await wake()
