"""The application's one clock: every background job of a process is a job of one APScheduler.

Reminder wakes and sweeps, the poll deadline watch and the daily retention purge are added here
by their owners; the app starts the scheduler with itself and stops it with itself, as
python-telegram-bot's Application does with its JobQueue.

The job store is in memory and belongs to this process alone: APScheduler 3 forbids sharing a
job store between schedulers. What makes a delivery happen once is the database (due rows,
unique occurrences, leases), not the job store, so every process runs its own scheduler over
the same rows, and on start and on every sweep rebuilds its wakes from what the database says
is due. Nothing due while a process was down is lost: the catch-up run at start sends it, late.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.clock import Clock, SystemClock

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class Jobs:
    def __init__(self, wall: Clock | None = None) -> None:
        # APScheduler runs on the wall clock whatever clock the app is handed; delays measured
        # from now (`after`) are measured on it too.
        self._wall = wall or SystemClock()
        self._scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            job_defaults={
                # A job that was due while the loop was busy must still run: the default grace
                # of one second would silently skip it. Late runs are merged into one.
                "misfire_grace_time": None,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=UTC,
        )

    # --- lifetime ---------------------------------------------------------------------------
    def start(self) -> None:
        """Starts the clock (from the app's startup, inside its event loop); jobs added before
        run from now on."""
        if not self._scheduler.running:
            self._scheduler.start()

    def stop(self) -> None:
        """No job starts after this; one running finishes or is cancelled with the loop."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    # --- adding -----------------------------------------------------------------------------
    def at(self, when: datetime, job: Job, *, job_id: str) -> None:
        """Runs `job` once at `when` (at once if that has passed); replaces a job of that id."""
        self._scheduler.add_job(job, "date", run_date=when, id=job_id, replace_existing=True)

    def after(self, delay: timedelta, job: Job, *, job_id: str) -> None:
        """Runs `job` once, `delay` from now."""
        self.at(self._wall.now() + delay, job, job_id=job_id)

    def soon(self, job: Job, *, job_id: str) -> None:
        """Runs `job` once, as soon as the clock runs."""
        self.after(timedelta(0), job, job_id=job_id)

    def every(self, interval: timedelta, job: Job, *, job_id: str, at_start: bool = False) -> None:
        """Runs `job` every `interval`; from the start too with `at_start`."""
        first = {"next_run_time": self._wall.now()} if at_start else {}
        self._scheduler.add_job(
            job,
            "interval",
            seconds=interval.total_seconds(),
            id=job_id,
            replace_existing=True,
            **first,
        )

    def remove(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id)

    def ids(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]
