"""The house: everything with state or I/O, built by bot.compose() without touching anything,
made ready by prepare() and run for as long as the app lives by lifetime()."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

from botbuilder.integration.aiohttp import CloudAdapter
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dialogs.bot import NatverksBot
from dialogs.polls import Polls
from dialogs.turn import Capability
from edge.wire import HttpSessions
from host.settings import Settings
from scheduler.clock import Clock
from scheduler.jobs import Jobs
from scheduler.metrics import Metrics
from scheduler.nudges import NudgeService
from scheduler.retention import Retention
from storage.contact_search import ContactDirectory
from storage.contact_sheets import load_demo_contacts_if_empty
from storage.conversations import ActivityLedger, ConversationRepository
from storage.courses import CourseCatalogue, load_demo_courses_if_empty
from storage.db import migrate
from storage.deadlines import DeadlineRepository
from storage.embeddings import Embedder
from storage.groups import GroupRepository

logger = logging.getLogger("natverksboten")


@dataclass
class House:
    """Everything with state or I/O, built once by compose() and handed to whoever needs it."""

    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    http: HttpSessions
    adapter: CloudAdapter
    bot: NatverksBot
    conversations: ConversationRepository
    ledger: ActivityLedger
    capabilities: list[Capability]
    metrics: Metrics
    retention: Retention
    jobs: Jobs
    nudges: NudgeService
    groups: GroupRepository
    polls: Polls
    courses: CourseCatalogue
    contacts: ContactDirectory
    embedder: Embedder
    deadlines: DeadlineRepository
    prepared: bool = False


def prepare(house: House) -> None:
    """The start step: the schema brought up to date, demo data on a first start, the search
    indexes and language resources built now rather than on a user's first question. Done once;
    serve() calls it before the app is built, the app's lifetime calls it for everybody else."""
    if house.prepared:
        return
    migrate(house.engine)
    # The model loads (and runs once) while the rest starts, so no question waits for it.
    warm_up = getattr(house.embedder, "warm_up", None)
    if warm_up is not None:
        threading.Thread(target=warm_up, name="embedder-warm-up", daemon=True).start()
    now = house.clock.now()
    if house.settings.load_demo:
        load_demo_courses_if_empty(house.sessions, now=now)
    house.courses.refresh()
    if house.settings.load_demo:
        load_demo_contacts_if_empty(house.sessions, now=now)
    house.contacts.warm_up()
    house.bot.warm_up()  # the reader's model and example vectors, in the background
    house.prepared = True


async def close(house: House) -> None:
    """Lets go of what the house holds beside the engine (connections, the ledger's writer,
    the app's clock)."""
    house.jobs.stop()
    await house.http.close()
    house.ledger.close()


async def lifetime(house: House) -> AsyncIterator[None]:
    """Runs the house's background work for as long as the app is served."""
    prepare(house)
    house.nudges.start()  # alive for peers, the catch-up run, its sweep job
    house.jobs.start()  # the one clock: reminder wakes and sweeps, poll deadlines, retention
    yield
    house.jobs.stop()
    await house.nudges.stop()
    await close(house)
    house.engine.dispose()
