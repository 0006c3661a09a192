"""Conversation references as stored (`conversation_ref.reference`): encoded and decoded here only.

The stored form is the Bot Connector's JSON of a `ConversationReference`, keys sorted, so the
same conversation always encodes to the same text (the upsert compares it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botbuilder.schema import ConversationReference


def _serialize(reference: ConversationReference) -> Any:
    return reference.serialize()


def encode_reference(
    reference: ConversationReference,
    *,
    as_json: Callable[[ConversationReference], Any] = _serialize,
) -> str:
    """`as_json` lets the turn's hot path hand in its faster walk over the same attribute maps
    (edge/wire.py: to_wire, held equal to msrest's serialize by tests/test_wire.py)."""
    return json.dumps(as_json(reference), ensure_ascii=False, sort_keys=True)


def decode_reference(stored: str) -> ConversationReference:
    """A reference to continue the conversation with: a new message, not a reply to the last
    thing the user wrote (so without the activity id)."""
    reference = ConversationReference().deserialize(json.loads(stored))
    reference.activity_id = None
    return reference


def bot_account_of(stored: str) -> dict[str, Any]:
    """The bot's account (id, name) as stored in a reference, for opening a new chat."""
    bot = json.loads(stored).get("bot") or {}
    return {"id": bot.get("id"), "name": bot.get("name")}
