"""One clock per process, no job store shared between processes (issue 14 item 11, issue 16).

APScheduler 3 forbids sharing a job store between schedulers. Each process runs its own clock
(an in-memory job store) over the database's rows and leases; a reminder that fell due while
every process was down is sent once, marked late, whichever processes start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import inspect

from bot import House, Settings, build_app, compose, prepare
from tests.fakes import FakeClock, FakeConnector
from tests.test_reminders import say, shown


@asynccontextmanager
async def running(settings: Settings, clock: FakeClock) -> AsyncIterator[tuple[House, TestClient]]:
    """A bot process on the shared database: its own house, its own clock, served."""
    house = compose(settings, clock)
    prepare(house)
    async with TestClient(TestServer(build_app(house), host="127.0.0.1")) as client:
        yield house, client
    house.engine.dispose()


async def test_the_app_keeps_its_jobs_to_itself(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await say(client, connector, "påminn mig om 2 timmar om att ringa Lisa")
    # Reminders, poll deadlines and the daily purge run on the app's one clock.
    assert {"nudges:sweep", "polls:deadlines", "retention"} <= set(house.jobs.ids())
    # Nothing of the schedule lives in the database that every process shares.
    assert not inspect(house.engine).has_table("apscheduler_jobs")


async def test_missed_while_every_process_was_down_is_sent_once_whoever_starts(
    connector: FakeConnector, clock: FakeClock, settings: Settings, pg_url: str
) -> None:
    """Several processes share PostgreSQL (SQLite is one process by design)."""
    shared = replace(settings, database_url=pg_url)
    async with running(shared, clock) as (_, client):
        await say(client, connector, "påminn mig imorgon kl 9 om att skicka enkäten")
    clock.current = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # no process ran all morning
    before = len(connector.sent)
    async with AsyncExitStack() as stack:  # two processes start at once on the same rows
        first, _ = await stack.enter_async_context(running(shared, clock))
        second, _ = await stack.enter_async_context(running(shared, clock))
        for process in (first, second):
            await process.nudges.deliver_due()  # waits for its catch-up run to end
    sent = [s for s in connector.sent[before:] if s.method == "POST"]
    assert [shown(s).count("skicka enkäten") for s in sent] == [1]
    assert "skulle ha kommit tisdag 24 november 2026 kl. 09.00" in shown(sent[0])
    async with running(shared, clock) as (third, _):  # a later restart sends nothing again
        await third.nudges.deliver_due()
    assert [s for s in connector.sent[before:] if s.method == "POST"] == sent
