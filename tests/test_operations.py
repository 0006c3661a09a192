"""What an operator relies on: metrics, logs without personal data, backups, retention."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

import bot as bot_module
from bot import House, JsonLines, is_loopback
from storage.models import ProcessedActivity
from tests.fakes import FakeClock, FakeConnector
from tests.helpers import message


async def post(client: TestClient, body: object) -> int:
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    return response.status


async def test_metrics_count_turns_on_loopback(
    client: TestClient, connector: FakeConnector
) -> None:
    await post(client, message("hjälp", service_url=connector.url))
    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    assert 'natverksboten_turns_total{capability="help"} 1.0' in text
    assert "natverksboten_turn_seconds_count 1.0" in text


def test_metrics_are_only_for_loopback_without_a_token() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("10.1.2.3") and not is_loopback("example.org")


async def test_one_log_line_per_turn_without_message_text(
    client: TestClient, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "min hemliga fråga om Lena Svensson"
    with caplog.at_level(logging.INFO):
        await post(client, message(secret, service_url=connector.url, activity_id="log-1"))
    formatter = JsonLines()
    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    turns = [line for line in lines if line["event"] == "turn"]
    assert len(turns) == 1
    assert turns[0]["activity_id"] == "log-1"
    assert turns[0]["conversation_id"] == "personal-anna"
    assert "duration_ms" in turns[0] and turns[0]["capability"]
    assert not any("Lena" in json.dumps(line, ensure_ascii=False) for line in lines)
    assert not any("hemlig" in record.getMessage() for record in caplog.records)


def test_backup_copies_the_live_sqlite_database(
    house: House, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    house.ledger.claim("c1", "a1", house.clock.now())
    monkeypatch.setenv("DATABASE_URL", house.settings.database_url)
    target = tmp_path / "backup.db"
    assert bot_module.main(["backup", str(target)]) == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("select activity_id from processed_activity").fetchall() == [("a1",)]
    assert bot_module.main(["backup", str(target)]) == 2  # never overwrites an old backup


def test_retention_forgets_old_handled_activities(house: House, clock: FakeClock) -> None:
    house.ledger.claim("c1", "old", clock.now() - timedelta(days=200))
    house.ledger.claim("c1", "new", clock.now() - timedelta(days=1))
    house.retention.run()
    with house.sessions() as session:
        kept = session.scalars(select(ProcessedActivity.activity_id)).all()
        assert kept == ["new"]
        assert session.scalar(select(func.count()).select_from(ProcessedActivity)) == 1
