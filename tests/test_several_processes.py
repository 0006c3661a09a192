"""Several processes, one truth: a course import made anywhere is answered everywhere (14.8); a
member's messages and a conversation's creations are counted by every process alike (14.7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import House, Settings, build_app, compose, prepare
from dialogs.limits import CONVERSATION_WINDOW, MESSAGES_PER_MINUTE, REMINDERS_PER_CONVERSATION
from storage.db import make_engine, make_sessions
from storage.tally import Tally
from tests.fakes import FakeClock, FakeConnector
from tests.helpers import message

ROOT = Path(__file__).resolve().parent.parent
HEADER = "titel;anordnare;länk;målgrupp;ämnen;format;längd;beskrivning\n"
WATERCOLOUR = (
    "Akvarellmålning som aktivering;Region Mittland;https://example.org/akvarell;alla;"
    "akvarellmålning, aktivering;webbutbildning;1 timme;Måla akvarell med de äldre.\n"
)
DEMENTIA = (
    "Demens ABC – grundkurs om demenssjukdomar;Demenscentrum Sverige;"
    "https://example.org/demenscentrum/demens-abc;alla;demens;webbutbildning;2 timmar;Grund.\n"
)


@pytest.fixture
async def answering(
    db_url: str, settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[House, TestClient]]:
    house = compose(replace(settings, database_url=db_url), clock)
    prepare(house)
    async with TestClient(TestServer(build_app(house), host="127.0.0.1")) as client:
        yield house, client
    house.engine.dispose()


async def ask(client: TestClient, connector: FakeConnector, text: str) -> str:
    connector.clear()
    body = message(text, service_url=connector.url)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201)
    said = [m.text for m in connector.messages()]
    said += [json.dumps(card, ensure_ascii=False) for m in connector.messages() for card in m.cards]
    return "\n".join(said)


async def test_an_import_by_another_process_is_answered_at_once(
    answering: tuple[House, TestClient],
    connector: FakeConnector,
    db_url: str,
    settings: Settings,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    _, client = answering
    question = "finns det någon kurs om akvarellmålning?"
    assert "Akvarellmålning som aktivering" not in await ask(client, connector, question)

    # `python bot.py import courses FILE` in a process of its own
    sheet = tmp_path / "kurser.csv"
    sheet.write_text(HEADER + WATERCOLOUR, encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": db_url, "LOAD_DEMO_DATA": "no"}
    done = subprocess.run(
        [sys.executable, "bot.py", "import", "courses", str(sheet)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Akvarellmålning som aktivering" in await ask(client, connector, question)

    # a second house on the same database replaces the catalogue by chat's import path
    other = compose(replace(settings, database_url=db_url), clock)
    prepare(other)
    try:
        sheet.write_text(HEADER + DEMENTIA, encoding="utf-8")
        data = sheet.read_bytes()
        report = other.courses.import_bytes(data, sheet.name, replace=True, now=clock.now())
        assert report.ok and report.removed
    finally:
        other.engine.dispose()
    assert "Akvarellmålning som aktivering" not in await ask(client, connector, question)
    assert "Demens ABC" in await ask(client, connector, "kurs om demens?")


@pytest.fixture
async def two_processes(
    db_url: str, settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[TestClient, TestClient]]:
    """Two bots on one database, as two processes behind a load balancer would be."""
    houses = [compose(replace(settings, database_url=db_url), clock) for _ in range(2)]
    for house in houses:
        prepare(house)
    try:
        async with (
            TestClient(TestServer(build_app(houses[0]), host="127.0.0.1")) as first,
            TestClient(TestServer(build_app(houses[1]), host="127.0.0.1")) as second,
        ):
            yield first, second
    finally:
        for house in houses:
            house.engine.dispose()


async def say(client: TestClient, connector: FakeConnector, text: str, **who: Any) -> list[str]:
    connector.clear()
    body = message(text, service_url=connector.url, **who)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201)
    return [m.text for m in connector.messages()]


async def test_a_members_messages_are_counted_by_every_process(
    two_processes: tuple[TestClient, TestClient], connector: FakeConnector, clock: FakeClock
) -> None:
    first, second = two_processes
    for n in range(MESSAGES_PER_MINUTE):  # half to each process
        assert await say(first if n % 2 else second, connector, "hej")
    [told] = await say(first, connector, "hej")
    assert told.startswith("Oj, nu kom det många meddelanden")
    assert await say(second, connector, "hej") == []
    [other] = await say(second, connector, "hej", user="29:bo", aad="aad-bo", name="Bo Berg")
    assert other.startswith("Hej Bo")
    clock.advance(minutes=1)
    [again] = await say(second, connector, "hej")
    assert again.startswith("Hej Anna")


async def test_a_group_chats_daily_reminders_are_counted_by_every_process(
    two_processes: tuple[TestClient, TestClient],
    connector: FakeConnector,
    clock: FakeClock,
    db_url: str,
) -> None:
    first, second = two_processes
    chat = {"conversation": "19:shared@thread.v2", "conversation_type": "groupChat"}
    engine = make_engine(db_url)
    try:
        tally = Tally(make_sessions(engine))
        for _ in range(REMINDERS_PER_CONVERSATION - 1):
            tally.take(
                "reminder",
                chat["conversation"],
                REMINDERS_PER_CONVERSATION,
                CONVERSATION_WINDOW,
                clock.now(),
            )
    finally:
        engine.dispose()
    [made] = await say(
        first, connector, "påminn oss imorgon kl 9 om mötet", mention_bot=True, **chat
    )
    assert "Jag påminner" in made
    [refused] = await say(
        second, connector, "påminn oss imorgon kl 10 om fikat", mention_bot=True, **chat
    )
    assert refused.startswith("I den här chatten har det redan gjorts")
