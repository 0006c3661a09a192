"""The fast activity serializer writes exactly what msrest would."""

from __future__ import annotations

from datetime import UTC, datetime

import botbuilder.schema as schema
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
from msrest.serialization import Serializer

from dialogs.wire import from_wire, to_wire

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
