"""Activities as Teams sends them, for HTTP and TestAdapter tests."""

from __future__ import annotations

import itertools
from typing import Any

BOT_ID = "28:natverksboten"
TENANT = "tenant-gr"
_ids = itertools.count(1)


def message(
    text: str,
    *,
    service_url: str,
    conversation: str = "personal-anna",
    conversation_type: str = "personal",
    user: str = "29:anna",
    name: str = "Anna Andersson",
    aad: str = "aad-anna",
    tenant: str | None = TENANT,
    activity_id: str | None = None,
    mention_bot: bool = False,
    value: dict[str, Any] | None = None,
    channel_id: str = "msteams",
    mentions: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    entities: list[dict[str, Any]] = []
    if mention_bot:
        tag = "<at>Nätverksboten</at>"
        text = f"{tag} {text}"
        entities.append(
            {"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": "Nätverksboten"}}
        )
    for mentioned_id, mentioned_name in mentions or []:
        tag = f"<at>{mentioned_name}</at>"
        text = f"{text} {tag}"
        entities.append(
            {
                "type": "mention",
                "text": tag,
                "mentioned": {
                    "id": mentioned_id,
                    "name": mentioned_name,
                    "aadObjectId": f"aad-{mentioned_id.split(':')[-1]}",
                },
            }
        )
    activity: dict[str, Any] = {
        "type": "message",
        "id": activity_id or f"act-{next(_ids)}",
        "timestamp": "2026-11-23T09:00:00Z",
        "serviceUrl": service_url,
        "channelId": channel_id,
        "from": {"id": user, "name": name, "aadObjectId": aad},
        "conversation": {
            "id": conversation,
            "conversationType": conversation_type,
            "tenantId": tenant,
        },
        "recipient": {"id": BOT_ID, "name": "Nätverksboten"},
        "text": text,
        "locale": "sv-SE",
        "entities": entities,
        "channelData": {"tenant": {"id": tenant}} if tenant else {},
    }
    if value is not None:
        activity["value"] = value
    return activity


def members_added(
    *,
    service_url: str,
    conversation: str,
    conversation_type: str = "groupChat",
    members: list[str] | None = None,
    tenant: str = TENANT,
) -> dict[str, Any]:
    return {
        "type": "conversationUpdate",
        "id": f"act-{next(_ids)}",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": "29:anna", "name": "Anna Andersson", "aadObjectId": "aad-anna"},
        "conversation": {
            "id": conversation,
            "conversationType": conversation_type,
            "tenantId": tenant,
        },
        "recipient": {"id": BOT_ID, "name": "Nätverksboten"},
        "membersAdded": [{"id": m} for m in (members or [BOT_ID])],
        "channelData": {"tenant": {"id": tenant}},
    }
