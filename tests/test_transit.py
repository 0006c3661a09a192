"""Bodies as the internet delivers them: in pieces, slowly, or cut off, over a real socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

import host.http
from bot import House, build_app
from storage.models import ProcessedActivity
from tests.fakes import FakeConnector
from tests.helpers import message


@pytest.fixture
async def server(house: House) -> AsyncIterator[TestServer]:
    async with TestServer(build_app(house)) as running:
        yield running


async def send_in_pieces(
    server: TestServer, body: bytes, pieces: int, pause: float, *, declared: int | None = None
) -> int | None:
    """POST `body` in `pieces` separate writes with `pause` seconds between; the status.

    None when the server closed the connection without an answer (no one is left to read one).
    """
    reader, writer = await asyncio.open_connection(server.host, server.port)
    head = (
        "POST /api/messages HTTP/1.1\r\n"
        f"Host: {server.host}:{server.port}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {declared if declared is not None else len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    writer.write(head)
    await writer.drain()
    step = -(-len(body) // pieces)
    for start in range(0, len(body), step):
        await asyncio.sleep(pause)
        writer.write(body[start : start + step])
        await writer.drain()
    if declared is not None and declared > len(body):
        writer.write_eof()  # the client gives up before the body is complete
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return int(status_line.split()[1]) if status_line else None


def padded(connector: FakeConnector, text: str, size: int) -> bytes:
    activity: dict[str, Any] = message(text, service_url=connector.url)
    activity["channelData"]["padding"] = "x" * max(0, size - len(json.dumps(activity)))
    return json.dumps(activity).encode()


def handled(house: House) -> int:
    with house.sessions() as session:
        return session.scalar(select(func.count()).select_from(ProcessedActivity)) or 0


async def test_a_body_in_two_writes_is_answered(
    server: TestServer, connector: FakeConnector
) -> None:
    body = padded(connector, "hjälp", 600)
    assert await send_in_pieces(server, body, pieces=2, pause=0.05) in (200, 201)
    [reply] = connector.messages()
    assert reply.cards[0]["body"][0]["text"] == "Det här kan jag hjälpa till med"


async def test_a_20_kb_body_in_five_slow_writes_is_answered(
    server: TestServer, connector: FakeConnector
) -> None:
    body = padded(connector, "hjälp", 20_000)
    assert await send_in_pieces(server, body, pieces=5, pause=0.05) in (200, 201)
    assert len(connector.messages()) == 1


async def test_a_body_cut_off_early_is_refused_and_nothing_is_handled(
    server: TestServer, house: House, connector: FakeConnector
) -> None:
    body = padded(connector, "hjälp", 2_000)
    status = await send_in_pieces(server, body[:900], pieces=2, pause=0.02, declared=len(body))
    assert status is None or 400 <= status < 500
    assert handled(house) == 0
    assert connector.messages() == []


async def test_a_body_that_stops_arriving_gets_408(
    server: TestServer, house: House, connector: FakeConnector, monkeypatch: Any
) -> None:
    monkeypatch.setattr(host.http, "BODY_READ_SECONDS", 0.3)
    body = padded(connector, "hjälp", 1_000)
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        (
            "POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body[:100]
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert int(status_line.split()[1]) == 408
    assert handled(house) == 0


@pytest.mark.parametrize("depth", [65, 20_000])
async def test_deeply_nested_json_gets_400(
    server: TestServer, house: House, connector: FakeConnector, depth: int
) -> None:
    activity = message("hjälp", service_url=connector.url)
    nested = "[" * depth + "]" * depth
    body = json.dumps(activity)[:-1] + f', "deep": {nested}}}'
    assert await send_in_pieces(server, body.encode(), pieces=1, pause=0) == 400
    assert handled(house) == 0


async def test_brackets_inside_strings_are_not_nesting(
    server: TestServer, connector: FakeConnector
) -> None:
    activity = message("hjälp", service_url=connector.url)
    activity["channelData"]["note"] = "[{" * 500
    assert await send_in_pieces(server, json.dumps(activity).encode(), 3, 0.01) in (200, 201)
    assert len(connector.messages()) == 1
