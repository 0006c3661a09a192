"""A term of deadlines and recurring group reminders on the Swedish calendar (issue 17, items 3, 4
and 6), over HTTP with the fake Bot Connector, on SQLite and PostgreSQL.

The fake clock walks from November 2026 to July 2027: Christmas and New Year, the change to
summer time on 28 March 2027, Easter (påskdagen 28 March 2027, annandag påsk 29 March) and
midsummer (midsommarafton 25 June 2027).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import House, Settings, build_app, compose, prepare
from scheduler.swedish import is_working_day
from scheduler.timing import at_hour, local_day
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.test_reminders import COORDINATOR, GROUP_CHAT, deliver, say, shown

MARIA, CAROLINE = ("29:maria", "Maria Berg"), ("29:caroline", "Caroline Ek")


@pytest.fixture
async def term(
    db_url: str, clock: FakeClock, settings: Settings
) -> AsyncIterator[tuple[House, TestClient]]:
    house = compose(replace(settings, database_url=db_url), clock)
    prepare(house)
    async with TestClient(TestServer(build_app(house), host="127.0.0.1")) as client:
        yield house, client
    house.engine.dispose()


async def make_group(
    client: TestClient, connector: FakeConnector, name: str, people: list[tuple[str, str]]
) -> None:
    [reply] = await say(
        client,
        connector,
        f"ny arbetsgrupp {name} med",
        mention_bot=True,
        mentions=people,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "är skapad" in reply


async def walk(
    house: House, connector: FakeConnector, clock: FakeClock, until: date, hour: int = 8
) -> list[tuple[date, Sent]]:
    """Moves the clock a day at a time to `hour` Stockholm time, delivering what is due on time;
    returns each card with the Stockholm day it arrived."""
    arrived: list[tuple[date, Sent]] = []
    day = local_day(clock.now()) + timedelta(days=1)
    while day <= until:
        clock.current = at_hour(day, hour)
        arrived += [(day, sent) for sent in await deliver(house, connector)]
        day += timedelta(days=1)
    return arrived


# --- item 3: working days ----------------------------------------------------------------------


async def test_deadline_nudges_and_summaries_keep_to_working_days_over_a_term(
    term: tuple[House, TestClient], connector: FakeConnector, clock: FakeClock
) -> None:
    house, client = term
    await make_group(client, connector, "RSS Dalarna", [MARIA, CAROLINE])
    for deadline in (
        "deadline julrapport 28 december 2026 för gruppen RSS Dalarna",  # a Monday after Christmas
        "deadline påskrapport 30 mars 2027 för gruppen RSS Dalarna",  # the Tuesday after Easter
        "deadline sommarrapport 28 juni 2027 för gruppen RSS Dalarna",  # Monday after midsummer
    ):
        [reply] = await say(
            client, connector, deadline, mention_bot=True, **COORDINATOR, **GROUP_CHAT
        )
        assert "Deadline" in reply, reply

    arrived = await walk(house, connector, clock, date(2027, 7, 1))

    assert all(is_working_day(day) for day, _ in arrived), [
        day for day, _ in arrived if not is_working_day(day)
    ]

    def days_of(name: str, conversation: str) -> list[date]:
        return sorted(
            {day for day, sent in arrived if sent.conversation_id == conversation}
            & {day for day, sent in arrived if name in shown(sent)}
        )

    # 14, 3 and 1 days before and the day itself, each moved to the working day before
    assert days_of("julrapport", "personal-29:maria") == [
        date(2026, 12, 14),
        date(2026, 12, 23),  # 3 days before is juldagen, 1 day before a Sunday: one nudge
        date(2026, 12, 28),
    ]
    assert days_of("påskrapport", "personal-29:caroline") == [
        date(2027, 3, 16),
        date(2027, 3, 25),  # Saturday 27 and annandag påsk 29 March: skärtorsdagen
        date(2027, 3, 30),
    ]
    assert days_of("sommarrapport", "personal-29:maria") == [
        date(2027, 6, 14),
        date(2027, 6, 24),  # midsommarafton and Sunday: the Thursday
        date(2027, 6, 28),
    ]
    # The coordinator's summaries: the first working morning after each deadline.
    assert days_of("Sammanfattning", "personal-29:coord") == [
        date(2026, 12, 29),
        date(2027, 3, 31),
        date(2027, 6, 29),
    ]
    # Each on time at 08.00 Stockholm time, before and after the change to summer time: a card
    # due an hour off would have arrived a day late and said so.
    assert not [day for day, sent in arrived if "skulle ha kommit" in shown(sent)]
