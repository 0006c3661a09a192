"""The endpoint over real HTTP with a fake Bot Connector: what Teams and attackers would see."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot import House, Settings, build_app, compose, prepare
from dialogs.reading import Intent, Reading
from dialogs.routes import Routes, route
from dialogs.turn import Turn
from storage.db import make_engine
from storage.models import ConversationRef, ProcessedActivity
from tests.fakes import FakeClock, FakeConnector
from tests.helpers import BOT_ID, members_added, message


async def post(client: TestClient, body: Any, *, raw: bytes | None = None, **headers: str) -> int:
    response = await client.post(
        "/api/messages",
        data=raw if raw is not None else json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )
    return response.status


def stored(house: House) -> tuple[int, int]:
    with house.sessions() as session:
        refs = session.scalar(select(func.count()).select_from(ConversationRef)) or 0
        handled = session.scalar(select(func.count()).select_from(ProcessedActivity)) or 0
    return refs, handled


async def test_help_is_answered_in_swedish(client: TestClient, connector: FakeConnector) -> None:
    assert await post(client, message("hjälp", service_url=connector.url)) in (200, 201)
    [reply] = connector.messages()
    assert reply.cards[0]["body"][0]["text"] == "Det här kan jag hjälpa till med"


async def test_health(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_the_database_is_gone(
    settings: Settings, clock: FakeClock, tmp_path: Any
) -> None:
    house = compose(settings, clock)
    prepare(house)
    # The database goes away under a running bot: its file's directory is gone.
    house.engine.dispose()
    house.engine = make_engine(f"sqlite:///{tmp_path}/missing-dir/db.sqlite")
    async with TestClient(TestServer(build_app(house))) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["database"] == "unavailable"


@pytest.mark.parametrize(
    ("headers", "raw", "status"),
    [
        ({"Content-Type": "text/plain"}, b'{"type": "message"}', 415),
        ({"Content-Type": ""}, b'{"type": "message"}', 415),
        ({}, b"{" + b" " * (300 * 1024) + b"}", 413),
        ({}, b"not json at all", 400),
        ({}, b"\xff\xfe\x00garbage", 400),
        ({}, b"[1, 2, 3]", 400),
        ({}, b'"just a string"', 400),
        ({}, b"{}", 400),
    ],
)
async def test_bad_requests_get_4xx_and_store_nothing(
    client: TestClient, house: House, headers: dict[str, str], raw: bytes, status: int
) -> None:
    response = await client.post(
        "/api/messages", data=raw, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status == status
    assert stored(house) == (0, 0)


@pytest.mark.parametrize(
    "broken",
    [
        lambda a: a.pop("type"),
        lambda a: a.pop("conversation"),
        lambda a: a.pop("serviceUrl"),
        lambda a: a.update(serviceUrl="ftp://nowhere"),
        lambda a: a.update(conversation={"id": 42}),
        lambda a: a.update(text=5),
        lambda a: a.update(type=["message"]),
        lambda a: a.update(entities="mention"),
        lambda a: a.update({"from": "someone"}),
    ],
)
async def test_activities_missing_what_a_reply_needs_are_400(
    client: TestClient, house: House, connector: FakeConnector, broken: Any
) -> None:
    activity = message("hjälp", service_url=connector.url)
    broken(activity)
    assert await post(client, activity) == 400
    assert connector.sent == []
    assert stored(house) == (0, 0)


async def test_unknown_path_and_wrong_method(client: TestClient) -> None:
    assert (await client.get("/nowhere")).status == 404
    assert (await client.get("/api/messages")).status == 405
    assert (await client.put("/api/messages", data=b"{}")).status == 405


@pytest.fixture
def secured_settings(settings: Settings) -> Settings:
    return replace(
        settings, app_id="00000000-0000-0000-0000-00000000b07a", app_password="not-a-secret"
    )


@pytest.mark.parametrize("authorization", [None, "Bearer abc", "Basic dXNlcjpwYXNz", "Bearer"])
async def test_with_an_app_id_requests_without_a_valid_token_are_401(
    secured_settings: Settings, clock: FakeClock, connector: FakeConnector, authorization: Any
) -> None:
    house = compose(secured_settings, clock)
    headers = {"Authorization": authorization} if authorization else {}
    async with TestClient(TestServer(build_app(house))) as client:
        status = await post(client, message("hjälp", service_url=connector.url), **headers)
    assert status == 401
    assert connector.sent == []
    assert stored(house) == (0, 0)


async def test_tenant_not_allowed_is_403_and_nothing_is_stored(
    settings: Settings, clock: FakeClock, connector: FakeConnector
) -> None:
    house = compose(replace(settings, allowed_tenants=frozenset({"tenant-gr"})), clock)
    async with TestClient(TestServer(build_app(house))) as client:
        assert await post(client, message("hjälp", service_url=connector.url, tenant="evil")) == 403
        assert await post(client, message("hjälp", service_url=connector.url, tenant=None)) == 403
        assert stored(house) == (0, 0)
        assert connector.sent == []
        assert await post(client, message("hjälp", service_url=connector.url)) == 201
    assert len(connector.messages()) == 1


async def test_a_retried_activity_is_acknowledged_not_handled_again_even_after_restart(
    settings: Settings, clock: FakeClock, connector: FakeConnector
) -> None:
    activity = message("hjälp", service_url=connector.url, activity_id="retry-1")
    house = compose(settings, clock)
    async with TestClient(TestServer(build_app(house))) as client:
        assert await post(client, activity) == 201
        assert await post(client, activity) == 200
    house.engine.dispose()
    restarted = compose(settings, clock)
    async with TestClient(TestServer(build_app(restarted))) as client:
        assert await post(client, activity) == 200
    assert len(connector.messages()) == 1


async def _boom(turn: Turn, reading: Reading) -> None:
    raise RuntimeError("a bug in a capability")


async def test_a_failing_turn_apologises_in_swedish_and_can_be_retried(
    house: House, client: TestClient, connector: FakeConnector
) -> None:
    routes = house.bot.routes
    others = [r for r in routes.routes if r.key != Intent.GREETING]
    house.bot.routes = Routes(route(Intent.GREETING, _boom), *others, fallback=routes.fallback)
    activity = message("hej", service_url=connector.url, activity_id="boom-1")
    assert await post(client, activity) == 201
    assert connector.texts() == ["Något gick fel hos mig. Försök igen om en stund."]
    # Not remembered as handled: Teams' retry runs it again rather than being swallowed.
    assert await post(client, activity) == 201
    assert len(connector.texts()) == 2


async def test_welcome_once_per_conversation_not_per_member(
    client: TestClient, connector: FakeConnector
) -> None:
    url = connector.url
    await post(client, members_added(service_url=url, conversation="gc-1"))
    await post(client, members_added(service_url=url, conversation="gc-1", members=["29:new"]))
    await post(client, members_added(service_url=url, conversation="gc-1"))
    welcomes = connector.texts("gc-1")
    assert len(welcomes) == 1
    assert welcomes[0].startswith("Hej! Jag är **Nätverksboten**")


async def test_personal_install_is_welcomed(client: TestClient, connector: FakeConnector) -> None:
    activity = members_added(
        service_url=connector.url, conversation="personal-bo", conversation_type="personal"
    )
    activity["membersAdded"] = [{"id": "29:bo"}, {"id": BOT_ID}]
    await post(client, activity)
    assert len(connector.texts("personal-bo")) == 1


async def test_in_a_group_the_bot_answers_only_when_mentioned(
    client: TestClient, connector: FakeConnector
) -> None:
    group = {"conversation": "gc-2", "conversation_type": "groupChat"}
    await post(client, message("hjälp", service_url=connector.url, **group))
    assert connector.sent == []
    await post(client, message("hjälp", service_url=connector.url, mention_bot=True, **group))
    [reply] = connector.messages("gc-2")
    assert reply.cards[0]["body"][0]["text"] == "Det här kan jag hjälpa till med"


async def test_unknown_message_gets_friendly_examples(
    client: TestClient, connector: FakeConnector
) -> None:
    await post(client, message("xyzzy qwfp", service_url=connector.url))
    [text] = connector.texts()
    assert text.startswith("Det där förstod jag tyvärr inte")
    assert "påminn mig imorgon kl 9" in text


async def test_help_is_text_where_cards_are_not_rendered(
    client: TestClient, connector: FakeConnector
) -> None:
    await post(client, message("help", service_url=connector.url, channel_id="slack"))
    [reply] = connector.messages()
    assert reply.cards == []
    assert "Det här kan jag hjälpa till med" in reply.text


async def test_conversation_reference_is_stored_for_later_proactive_messages(
    client: TestClient, house: House, connector: FakeConnector
) -> None:
    await post(client, message("hej", service_url=connector.url, conversation="personal-anna"))
    ref = house.conversations.personal_chat_of("aad-anna")
    assert ref is not None
    assert ref.service_url == connector.url
    assert ref.tenant_id == "tenant-gr"
    assert json.loads(ref.reference)["conversation"]["id"] == "personal-anna"
