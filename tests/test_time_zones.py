"""The user's time zone (issue 15.5): Teams sends each message's `localTimezone`; times are read
and written in it, the zone named, and Stockholm stays the default."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import House
from scheduler.clock import STOCKHOLM, wall_zone
from tests.fakes import FakeClock, FakeConnector
from tests.helpers import message
from tests.test_reminders import deliver, shown


async def say_from(client: TestClient, connector: FakeConnector, text: str, zone: Any) -> list[str]:
    body = message(text, service_url=connector.url)
    if zone is not None:
        body["localTimezone"] = zone
        body["localTimestamp"] = "2026-11-23T09:00:00.000Z"
    before = len(connector.sent)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201), await response.text()
    return [shown(s) for s in connector.sent[before:] if s.body.get("type") == "message"]


TUESDAY_9 = "tisdag 24 november 2026 kl. 09.00"
IN_STOCKHOLM = (TUESDAY_9, datetime(2026, 11, 24, 8, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/London", (f"{TUESDAY_9} (Europe/London)", datetime(2026, 11, 24, 9, tzinfo=UTC))),
        (
            "America/New_York",
            (f"{TUESDAY_9} (America/New_York)", datetime(2026, 11, 24, 14, tzinfo=UTC)),
        ),
        ("Europe/Stockholm", IN_STOCKHOLM),
        (None, IN_STOCKHOLM),
        ("Mars/Olympus_Mons", IN_STOCKHOLM),
        ("../../etc/passwd", IN_STOCKHOLM),
        (42, IN_STOCKHOLM),
    ],
)
async def test_a_reminder_is_read_and_confirmed_in_the_users_zone(
    client: TestClient,
    connector: FakeConnector,
    house: House,
    clock: FakeClock,
    zone: Any,
    expected: tuple[str, datetime],
) -> None:
    when, due = expected
    [reply] = await say_from(
        client, connector, "påminn mig imorgon kl 9 om att skicka enkäten", zone
    )
    assert reply == f"Okej! Jag påminner dig {when}: ”skicka enkäten”."
    [reminder] = house.nudges.reminders.upcoming_for("29:anna")
    assert reminder.due_at == due
    clock.current = due
    [sent] = await deliver(house, connector)
    assert "skicka enkäten" in shown(sent)
    assert wall_zone() == STOCKHOLM  # the turn's zone does not leak out of it
