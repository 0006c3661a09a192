"""The fast activity serializer writes exactly what msrest would."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import botbuilder.schema as schema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    Activity,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    Entity,
    Mention,
    SuggestedActions,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException
from msrest.serialization import Serializer

from edge.wire import HttpSessions, from_wire, speed_up, to_wire
from scheduler.delivery import _refusal

MSREST = Serializer({k: v for k, v in vars(schema).items() if isinstance(v, type)})


def test_fast_serializer_matches_msrest() -> None:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "Hej å ä ö"}],
    }
    samples = [
        MessageFactory.text("Hej! Det här är ett svar."),
        MessageFactory.attachment(CardFactory.adaptive_card(card)),
        Activity(
            type="message",
            text="med allt",
            from_property=ChannelAccount(id="28:bot", name="Nätverksboten"),
            recipient=ChannelAccount(id="29:u", name="Anna", aad_object_id="aad"),
            conversation=ConversationAccount(id="c1", conversation_type="personal", tenant_id="t"),
            reply_to_id="a1",
            channel_data={"tenant": {"id": "t"}, "notification": {"alert": True}},
            entities=[
                Mention(
                    type="mention", text="<at>A</at>", mentioned=ChannelAccount(id="29:u", name="A")
                )
            ],
            timestamp=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            suggested_actions=SuggestedActions(
                actions=[CardAction(type="imBack", title="Klar", value="klar")]
            ),
            summary="sammanfattning",
        ),
    ]
    for activity in samples:
        assert to_wire(activity) == MSREST.body(activity, "Activity")


def test_mentions_keep_their_fields_where_msrest_drops_them() -> None:
    entity = Entity().deserialize(
        {"type": "mention", "text": "<at>A</at>", "mentioned": {"id": "1"}}
    )
    assert to_wire(entity) == {"type": "mention", "text": "<at>A</at>", "mentioned": {"id": "1"}}


def test_fast_reader_builds_what_msrest_builds() -> None:
    from tests.helpers import message

    body = message(
        "hej",
        service_url="http://127.0.0.1:1",
        mention_bot=True,
        value={"action": "courses.more", "page": 2},
    )
    body["attachments"] = [{"contentType": "text/html", "content": "<p>x</p>"}]
    body["localTimestamp"] = "2026-11-23T10:00:00.123+01:00"
    fast = from_wire(Activity, body)
    slow = Activity().deserialize(body)
    assert to_wire(fast) == to_wire(slow)
    assert fast.entities[0].additional_properties == slow.entities[0].additional_properties
    assert fast.from_property.aad_object_id == "aad-anna"
    assert fast.timestamp == slow.timestamp


# --- the direct reply and send calls --------------------------------------------------------


class RecordingConnector:
    """A Bot Connector answering with a chosen status; records every request as it came."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.status = 200
        self.body: bytes = b'{"id": "m-1"}'
        self.headers: dict[str, str] = {}

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.method, request.raw_path, dict(request.headers), body))
        return web.Response(
            status=self.status,
            body=self.body,
            headers={"Content-Type": "application/json", **self.headers},
        )


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[RecordingConnector, str]]:
    connector = RecordingConnector()
    app = web.Application()
    app.router.add_post("/{tail:.*}", connector.handle)
    server = TestServer(app)
    await server.start_server()
    yield connector, str(server.make_url("")).rstrip("/")
    await server.close()


def _clients(base_url: str, app_id: str = "") -> tuple[Any, Any, HttpSessions]:
    """The generated msrest client and the sped-up one, alike but for the speed-up."""
    credentials = MicrosoftAppCredentials(app_id, "secret" if app_id else "")
    if app_id:  # a token as if MSAL had handed one out (no network in tests)
        credentials.get_access_token = lambda force_refresh=False: "token-123"  # type: ignore[method-assign]
    sessions = HttpSessions({})
    plain = ConnectorClient(credentials, base_url=base_url)
    fast = speed_up(ConnectorClient(credentials, base_url=base_url), sessions)
    return plain, fast, sessions


def _reply() -> Activity:
    return MessageFactory.text("Hej på dig – åäö")


@pytest.mark.parametrize("app_id", ["", "app-1"])
async def test_direct_reply_and_send_go_out_as_the_generated_code_sends_them(
    recorder: tuple[RecordingConnector, str], app_id: str
) -> None:
    connector, url = recorder
    plain, fast, sessions = _clients(url, app_id)
    conversation = "19:abc/def?x=1@thread.v2"  # every character that needs quoting
    for client in (plain, fast):
        sent = await client.conversations.reply_to_activity(conversation, "1:act/2", _reply())
        assert sent.id == "m-1"
        sent = await client.conversations.send_to_conversation(conversation, _reply())
        assert sent.id == "m-1"
    plain_reply, plain_send, fast_reply, fast_send = connector.requests
    for generated, direct in ((plain_reply, fast_reply), (plain_send, fast_send)):
        assert direct[:2] == generated[:2]  # method and the quoted path
        assert json.loads(direct[3]) == json.loads(generated[3])
        for name in ("Accept", "Content-Type", "x-ms-conversation-id", "User-Agent"):
            assert direct[2].get(name) == generated[2].get(name)
        assert direct[2].get("Authorization") == generated[2].get("Authorization")
    assert fast_reply[2]["x-ms-conversation-id"] == conversation
    assert fast_reply[2].get("Authorization") == ("Bearer token-123" if app_id else None)
    await sessions.close()


async def test_direct_calls_fail_as_the_generated_code_fails(
    recorder: tuple[RecordingConnector, str],
) -> None:
    """A throttled or refused send raises the same error, with status and Retry-After, which
    is what reminder delivery reads to wait or to give up."""
    connector, url = recorder
    _, fast, sessions = _clients(url)
    connector.status, connector.headers = 429, {"Retry-After": "7"}
    connector.body = b'{"error": {"code": "Throttled", "message": "slow down"}}'
    with pytest.raises(ErrorResponseException) as raised:
        await fast.conversations.send_to_conversation("c1", _reply())
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    refused = _refusal(raised.value)
    assert (refused.status, refused.retry_after) == (429, 7.0)
    connector.status, connector.headers, connector.body = 202, {}, b""
    assert await fast.conversations.send_to_conversation("c1", _reply()) is None  # Teams' 202
    await sessions.close()


async def test_the_token_is_fetched_off_the_event_loop_and_reused(
    recorder: tuple[RecordingConnector, str],
) -> None:
    """MSAL discovers its authority on first use and calls Entra ID to refresh, both blocking
    HTTP: that must not stall every conversation the bot is serving."""
    connector, url = recorder
    _, fast, sessions = _clients(url, "app-1")
    fetched_on: list[int] = []

    def get_access_token(force_refresh: bool = False) -> str:
        fetched_on.append(threading.get_ident())
        return "token-456"

    fast.conversations._inner.config.credentials.get_access_token = get_access_token
    for _ in range(3):
        await fast.conversations.send_to_conversation("c1", _reply())
    assert len(fetched_on) == 1 and fetched_on[0] != threading.get_ident()
    assert {r[2]["Authorization"] for r in connector.requests} == {"Bearer token-456"}
    await sessions.close()
