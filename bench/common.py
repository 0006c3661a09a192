"""Pieces the reminder benchmarks share."""

from __future__ import annotations

import json
from datetime import datetime

from storage.conversations import ConversationRepository, Reference


def store_group_chat(
    refs: ConversationRepository,
    conversation_id: str,
    tenant: str,
    connector_url: str,
    now: datetime,
) -> None:
    """A Teams group chat the bot may write to, as an incoming message would have stored it."""
    reference = {
        "bot": {"id": "28:natverksboten", "name": "Nätverksboten"},
        "channelId": "msteams",
        "conversation": {
            "id": conversation_id,
            "conversationType": "groupChat",
            "tenantId": tenant,
        },
        "serviceUrl": connector_url,
        "user": {"id": "29:anna", "name": "Anna"},
    }
    refs.upsert(
        Reference(
            conversation_id,
            "msteams",
            connector_url,
            tenant,
            "groupChat",
            "29:anna",
            "aad-anna",
            "Anna",
            json.dumps(reference),
        ),
        now,
    )
