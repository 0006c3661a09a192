"""The endpoint over real HTTP with a fake Bot Connector: what Teams and attackers would see."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot import House
from storage.models import ConversationRef, ProcessedActivity
from tests.fakes import FakeConnector
from tests.helpers import message


async def post(client: TestClient, body: object, **headers: str) -> int:
    response = await client.post(
        "/api/messages",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )
    return response.status


async def test_help_is_answered_in_swedish(client: TestClient, connector: FakeConnector) -> None:
    status = await post(client, message("hjälp", service_url=connector.url))
    assert status in (200, 201)
    [reply] = connector.messages()
    card = reply.cards[0]
    assert card["body"][0]["text"] == "Det här kan jag hjälpa till med"


async def test_health(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}
