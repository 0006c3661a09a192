"""Several processes, one truth: a course import made anywhere is answered everywhere (14.8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import House, Settings, build_app, compose, prepare
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
        report = other.courses.import_file(sheet, replace=True, now=clock.now())
        assert report.ok and report.removed
    finally:
        other.engine.dispose()
    assert "Akvarellmålning som aktivering" not in await ask(client, connector, question)
    assert "Demens ABC" in await ask(client, connector, "kurs om demens?")
