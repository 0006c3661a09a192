"""The nudge service: turns due rows in the database into proactive messages.

The database is the truth. The app's one clock (scheduler/jobs.py, an in-memory job store per
process) only *wakes* the service: a date job per new reminder (`reminder:<id>`), one job at the
next moment anything is due (`nudges:next`) and a periodic sweep (`nudges:sweep`). Every job does
the same thing, "send what is due", so a job that runs twice, late or not at all costs nothing
but latency; on start a catch-up run sends whatever fell due while the bot was down, marked late,
and every run ends by asking to be woken at the next due row, so the wakes are rebuilt from the
database. Several processes each run their own clock over the same rows; leases make a delivery
happen once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from scheduler.clock import Clock
from scheduler.delivery import GONE, RETRY, SENT, Outgoing, Recipient, Sender, SendResult
from scheduler.jobs import Jobs
from scheduler.timing import has_started, meeting_reminder_times
from storage.deadlines import DeadlineRepository, DeadlineView
from storage.locks import new_lease_owner
from storage.reminders import (
    CONVERSATION,
    DEADLINE_NUDGE,
    MEETING,
    NOTICE,
    PERSON,
    DueDelivery,
    NewReminder,
    Person,
    ReminderRepository,
    ReminderView,
)

logger = logging.getLogger(__name__)

# A delivery that failed this many times is given up and its owner told.
MAX_ATTEMPTS = 8


class ReminderRenderer(Protocol):
    """What a due reminder says and which buttons it carries. The reminders capability owns its
    words (dialogs/reminder_cards.py: ReminderCards); the scheduler is handed one at composition."""

    def message(
        self, item: DueDelivery, deadline: DeadlineView | None, now: datetime | None = None
    ) -> tuple[str, dict[str, Any] | None]:
        """The text (also the notification preview) and the card, if any, as true at `now`
        (the moment it is sent: a nudge due yesterday for today's deadline says "idag")."""
        ...

    def failed(self, item: DueDelivery, *, gone: bool) -> str:
        """To the owner of a reminder whose delivery was given up."""
        ...

    def new_courses(self, topic: str, hits: Sequence[CourseHit]) -> str:
        """To someone watching a topic, about newly imported courses on it."""
        ...


class CourseMatcher(Protocol):
    """Which of these (newly imported) courses would the course search answer for `topic`?"""

    def matching(self, topic: str, course_ids: Sequence[int]) -> Sequence[CourseHit]: ...


@dataclass(frozen=True)
class CourseHit:
    id: int
    title: str
    url: str = ""


class SearchMatcher:
    """A CourseMatcher over the course search itself: a new course matches a watched topic when
    the search would answer it for that topic, so watches and questions never disagree."""

    def __init__(self, search: Callable[[str, int], Sequence[Any]], depth: int = 50) -> None:
        self._search = search
        self._depth = depth

    def matching(self, topic: str, course_ids: Sequence[int]) -> list[CourseHit]:
        wanted = set(course_ids)
        found: list[CourseHit] = []
        for hit in self._search(topic, self._depth):
            item = getattr(hit, "item", hit)
            if getattr(item, "id", None) in wanted:
                found.append(CourseHit(item.id, item.title, getattr(item, "link", "") or ""))
        return found


@dataclass
class DeliveryReport:
    sent: int = 0
    late: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    lateness: list[float] = field(default_factory=list)  # seconds after due, per send

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.late += other.late
        self.retried += other.retried
        self.failed += other.failed
        self.dropped += other.dropped
        self.lateness.extend(other.lateness)


class NudgeService:
    def __init__(
        self,
        reminders: ReminderRepository,
        jobs: Jobs | None,
        sender: Sender,
        clock: Clock,
        render: ReminderRenderer,
        *,
        courses: CourseMatcher | None = None,
        deadlines: DeadlineRepository | None = None,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 200,
        concurrency: int = 32,
        sweep_every: timedelta = timedelta(seconds=30),
    ) -> None:
        self.reminders = reminders
        # the deadlines a nudge is rendered from; a service built without them (a test of
        # plain reminders) renders a deadline nudge without its deadline
        self.deadlines = deadlines
        self._jobs = jobs
        self._sender = sender
        self._clock = clock
        self._render = render
        self._courses = courses
        self._lease = lease
        self._batch = batch
        self._concurrency = concurrency
        self._sweep_every = sweep_every
        self._owner = new_lease_owner()
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False
        self._stopping = False
        self._liveness = reminders.liveness(self._owner)
        self._marks = _GroupCommit(reminders)

    # --- lifetime -----------------------------------------------------------------------------
    def start(self) -> None:
        """Called from the app's startup: alive for peers, catch up, sweep on the app's clock."""
        self._liveness.hold()  # before the first claim: peers must see this process alive
        self._started = True
        self._stopping = False
        self._spawn(self.catch_up())
        if self._jobs is not None:
            self._jobs.every(self._sweep_every, self._sweep, job_id="nudges:sweep")

    async def catch_up(self) -> DeliveryReport:
        """Everything due while the bot was down goes out now, marked late."""
        await self._take_over_from_the_dead()
        return await self.deliver_due()

    async def _take_over_from_the_dead(self) -> None:
        released = await asyncio.to_thread(self.reminders.release_orphaned_leases, self._owner)
        if released:
            logger.info("took over %d deliveries from a process that died mid-send", released)

    async def _sweep(self) -> None:
        """The periodic safety net: leases of a dead peer, rows another process wrote, a wake
        lost with a restart. A database hiccup is logged and the next sweep tries again."""
        if not self._started or self.busy:
            return  # a run is going on; it loops until nothing is due
        try:
            await self._take_over_from_the_dead()
        except Exception:  # the database may be away for a moment: look again later
            logger.warning("reminder sweep failed; trying again", exc_info=True)
            return
        self._spawn(self.deliver_due())  # a run of its own: stop() lets it finish

    async def _wake(self) -> None:
        """Something may be due: send whatever the database says is due now."""
        if self._started and not self._stopping:
            self._spawn(self.deliver_due())

    async def stop(self, grace: float = 10.0) -> None:
        """A graceful stop (SIGTERM, a deploy) that doubles nothing: no new claims; the sends on
        the wire finish and are recorded; what this process claimed but did not send is handed
        back at once, so a peer or the next start sends it without waiting for the lease."""
        logger.info("stopping reminder delivery")
        self._started = False
        self._stopping = True
        if self._jobs is not None:
            self._jobs.remove("nudges:sweep")
        try:  # a run in progress (ours or a scheduler job's) stops after its sends on the wire
            await asyncio.wait_for(self._lock.acquire(), grace)
            self._lock.release()
        except TimeoutError:
            logger.warning("reminder sends still running at stop; they are cut off")
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        try:
            released = await asyncio.to_thread(self.reminders.release_leases, self._owner)
            if released:
                logger.info("handed back %d claimed deliveries at stop", released)
        except Exception as error:  # the database is gone: the leases run out on their own
            logger.warning("could not hand back claimed deliveries", exc_info=error)
        await asyncio.to_thread(self._liveness.release)

    # --- creating -----------------------------------------------------------------------------
    async def add(self, new: NewReminder) -> ReminderView:
        view = await asyncio.to_thread(self.reminders.add, new, self._clock.now())
        if view.due_at is not None:
            self.wake_at(view.due_at, job_id=f"reminder:{view.id}")
        return view

    async def add_meeting_reminders(
        self,
        *,
        key: str,
        title: str,
        start: datetime,
        owner: Person,
        group_id: int | None,
        group_name: str | None,
        tenant_id: str | None,
        conversation_id: str | None = None,
    ) -> list[ReminderView]:
        """The afternoon before (16.00) and one hour before, to every member of the group.
        `key` (e.g. "meeting:12") lets the polls capability cancel or move them later."""
        made: list[ReminderView] = []
        for at in meeting_reminder_times(start, self._clock.now()):
            made.append(
                await self.add(
                    NewReminder(
                        owner=owner,
                        audience="group" if group_id is not None else CONVERSATION,
                        kind=MEETING,
                        text=title,
                        due_at=at,
                        tenant_id=tenant_id,
                        group_id=group_id,
                        group_name=group_name,
                        conversation_id=conversation_id if group_id is None else None,
                        meeting_start=start,
                        key=key,
                    )
                )
            )
        return made

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    async def cancel_key(self, key: str) -> int:
        return await asyncio.to_thread(self.reminders.cancel_by_key, key, self._clock.now())

    async def notify(
        self, person: Person, text: str, *, tenant_id: str | None, key: str | None = None
    ) -> None:
        """A one-off message from the bot to one person, through the same never-lost pipeline."""
        await self.add(
            NewReminder(
                owner=person,
                audience=PERSON,
                person=person,
                kind=NOTICE,
                text=text,
                due_at=self._clock.now(),
                tenant_id=tenant_id,
                key=key,
            )
        )

    async def on_courses_imported(self, new_course_ids: Sequence[int]) -> int:
        """Called after a course import: tells each watcher about new courses on their topic.
        Returns how many people were told."""
        if self._courses is None or not new_course_ids:
            return 0
        watches = await asyncio.to_thread(self.reminders.all_watches)
        told = 0
        for watch in watches:
            hits = await asyncio.to_thread(self._courses.matching, watch.topic, new_course_ids)
            if not hits:
                continue
            text = self._render.new_courses(watch.topic, hits)
            await self.notify(
                Person(watch.user_id, watch.name, watch.aad_object_id),
                text,
                tenant_id=watch.tenant_id,
                key=f"watch:{watch.id}:{min(h.id for h in hits)}",
            )
            told += 1
        return told

    # --- waking -------------------------------------------------------------------------------
    def wake_at(self, when: datetime, *, job_id: str) -> None:
        """Asks to be woken at `when`; without the app's clock running (tests, the CLI) this
        does nothing: a due row is found by the next run anyway."""
        if not self._started or self._jobs is None:
            return
        self._jobs.at(when, self._wake, job_id=job_id)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("nudge run failed", exc_info=task.exception())

    # --- delivering ---------------------------------------------------------------------------
    async def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Sends every occurrence due at `now` (default: the clock) that is not yet delivered."""
        async with self._lock:
            report = DeliveryReport()
            while not self._stopping:
                moment = now or self._clock.now()
                expanded = await asyncio.to_thread(self.reminders.expand_due, moment)
                claimed = await asyncio.to_thread(
                    self.reminders.claim, moment, self._lease, self._owner, self._batch
                )
                if not claimed:
                    if len(expanded) >= 500:
                        continue
                    break
                report.add(await self._send_all(claimed, now))
            if self._started:
                following = await asyncio.to_thread(self.reminders.next_wake)
                if following is not None:
                    self.wake_at(following, job_id="nudges:next")
            return report

    async def _send_all(self, claimed: list[DueDelivery], now: datetime | None) -> DeliveryReport:
        report = DeliveryReport()
        slots = asyncio.Semaphore(self._concurrency)

        async def one(item: DueDelivery) -> None:
            async with slots:
                if not self._stopping:  # else handed back unsent at stop()
                    await self._send_and_record(item, now, report)

        await asyncio.gather(*(one(item) for item in claimed))
        return report

    async def _send_and_record(
        self, item: DueDelivery, now: datetime | None, report: DeliveryReport
    ) -> None:
        result, sent_at = await self._send_one(item, now)
        if result is None:
            report.dropped += 1
        elif result.outcome == SENT:
            # Recorded right away (group commit with the sends that finished meanwhile): a kill
            # re-sends only what was in flight.
            await self._marks.add(item.id, result.activity_id, sent_at)
            report.sent += 1
            report.late += int(item.late)
            report.lateness.append((sent_at - item.due_at).total_seconds())
        elif result.outcome == RETRY and item.attempts < MAX_ATTEMPTS:
            wait = timedelta(seconds=result.retry_after or 1.0)
            await asyncio.to_thread(
                self.reminders.retry_at, item.id, sent_at + wait, result.error or "retry"
            )
            report.retried += 1
        else:
            await self._give_up(item, result, sent_at)
            report.failed += 1

    async def _send_one(
        self, item: DueDelivery, now: datetime | None
    ) -> tuple[SendResult | None, datetime]:
        moment = now or self._clock.now()
        if has_started(item.meeting_start, moment):
            logger.info(
                "dropped meeting reminder: the meeting already started",
                extra={"reminder_id": item.reminder_id},
            )
            await asyncio.to_thread(self.reminders.mark_dropped, item.id, moment, "meeting started")
            return None, moment
        deadline: DeadlineView | None = None
        if item.deadline_id is not None and self.deadlines is not None:
            deadline = await asyncio.to_thread(self.deadlines.get, item.deadline_id)
            if (
                item.kind == DEADLINE_NUDGE
                and deadline is not None
                and any(p.user_id == item.recipient for p in deadline.done)
            ):
                await asyncio.to_thread(self.reminders.mark_dropped, item.id, moment, "done")
                return None, moment
        if moment >= item.leased_until - self._lease / 2:
            kept = await asyncio.to_thread(
                self.reminders.extend_lease, item.id, self._owner, moment, self._lease
            )
            if not kept:
                return None, moment  # another sender holds it now
        message = compose_message(item, *self._render.message(item, deadline, moment))
        try:
            result = await self._sender.send(message)
        except Exception as error:  # a bug or network trouble: retry later, never lose it
            logger.warning("send failed", exc_info=error, extra={"reminder_id": item.reminder_id})
            result = SendResult(RETRY, retry_after=30.0, error=type(error).__name__)
        return result, now or self._clock.now()

    async def _give_up(self, item: DueDelivery, result: SendResult, at: datetime) -> None:
        await asyncio.to_thread(
            self.reminders.mark_failed, item.id, at, f"{result.status}: {result.error}"
        )
        logger.warning(
            "delivery failed for good",
            extra={"reminder_id": item.reminder_id, "status": result.status},
        )
        if item.kind == NOTICE:
            return  # a notice about a notice would go round forever
        await self.notify(
            item.owner,
            self._render.failed(item, gone=result.outcome == GONE),
            tenant_id=item.tenant_id,
        )


class _GroupCommit:
    """Marks deliveries as delivered in as few transactions as the database's pace allows: while
    one commit runs, the sends that finish queue up for the next."""

    def __init__(self, reminders: ReminderRepository) -> None:
        self._reminders = reminders
        self._queue: list[tuple[int, str | None, datetime, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, delivery_id: int, activity_id: str | None, at: datetime) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((delivery_id, activity_id, at, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        await done

    async def _write(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await asyncio.to_thread(
                    self._reminders.mark_delivered_many, [(i, a, t) for i, a, t, _ in batch]
                )
            except Exception as error:
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            for *_, done in batch:
                if not done.done():
                    done.set_result(None)


# --- messages -----------------------------------------------------------------------


def compose_message(item: DueDelivery, text: str, card: dict[str, Any] | None) -> Outgoing:
    """The rendered reminder, addressed to the delivery's recipient."""
    to = Recipient(
        conversation_id=item.conversation_id,
        user_id=None if item.recipient.startswith("conv:") else item.recipient,
        aad_object_id=item.recipient_aad,
        name=item.recipient_name,
        tenant_id=item.tenant_id,
    )
    return Outgoing(to, text, card)
