"""Poll deadlines: due polls are closed and their results sent, undelivered results resent."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from dialogs.polls.outbox import Outbox
from dialogs.polls.texts import Texts
from scheduler.clock import Clock
from scheduler.jobs import Jobs
from scheduler.swedish import format_when
from storage.polls import (
    OPEN,
    PollRepository,
)

logger = logging.getLogger(__name__)

WATCH_MIN_SECONDS, WATCH_MAX_SECONDS = 30.0, 300.0
# A result claimed this long ago and not delivered is sent again (the sender died, or Teams
# refused for a while); longer than a send can take, retries and rate limits included.
RESULT_LEASE = timedelta(minutes=5)


class PollDeadlines:
    """Watches deadlines on the app's clock: closes due polls and sends their results."""

    JOB = "polls:deadlines"

    def __init__(
        self, polls: PollRepository, outbox: Outbox, clock: Clock, jobs: Jobs | None
    ) -> None:
        self._polls = polls
        self._out = outbox
        self._clock = clock
        self._jobs = jobs
        if jobs is not None:
            jobs.soon(self.watch, job_id=self.JOB)  # the first look when the clock starts

    async def watch(self) -> None:
        """One look, then the next: at the coming deadline, but within WATCH_MIN..MAX."""
        try:
            await self.close_due()
            following = await asyncio.to_thread(self._polls.next_deadline)
        except Exception:  # the database may be down for a moment; look again later
            logger.exception("poll deadline watch failed")
            following = None
        wait = WATCH_MAX_SECONDS
        if following is not None:
            seconds = (following - self._clock.now()).total_seconds()
            wait = min(max(seconds, WATCH_MIN_SECONDS), WATCH_MAX_SECONDS)
        if self._jobs is not None:
            self._jobs.after(timedelta(seconds=wait), self.watch, job_id=self.JOB)

    async def close_due(self) -> int:
        """Closes every poll whose deadline has passed; the coordinator gets the result."""
        closed = await asyncio.to_thread(self._polls.close_due, self._clock.now())
        for poll, needs_result in closed:
            members = await self._out.members(poll)
            await self._out.cancel_nudges(poll, members)
            await self._out.refresh_shared(poll.id)
            await self._out.refresh_personal(poll.id)
            if needs_result:
                answered = len([m for m in members if m.user_id in poll.answered()])
                headline = Texts.RESULT_DEADLINE.format(
                    deadline=format_when(poll.deadline), answered=answered, count=len(members)
                )
                await self._out.send_result(poll, members, headline)
        await self.resend_results()
        return len(closed)

    async def resend_results(self) -> int:
        """Results claimed but not delivered (the bot died mid-send, Teams refused for a while)
        go out again once their claim is RESULT_LEASE old; the watch loop calls this."""
        now = self._clock.now()
        pending = await asyncio.to_thread(self._polls.results_to_resend, now, RESULT_LEASE)
        for poll in pending:
            members = await self._out.members(poll)
            if poll.status == OPEN:
                headline = Texts.RESULT_ALL.format(count=len(members))
            else:
                answered = len([m for m in members if m.user_id in poll.answered()])
                headline = Texts.RESULT_DEADLINE.format(
                    deadline=format_when(poll.deadline), answered=answered, count=len(members)
                )
            await self._out.send_result(poll, members, headline)
        return len(pending)
