"""Working groups through the HTTP endpoint, and the repository's name matching."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp.test_utils import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot import House
from storage.groups import GroupExists, GroupRepository, Member
from tests.fakes import FakeConnector
from tests.helpers import TENANT
from tests.test_reminders import CAROLINE, COORDINATOR, GROUP_CHAT, MARIA, say

MARIE = ("29:marie", "Marie Lund")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def group_say(client: TestClient, connector: FakeConnector, text: str, **kwargs: object):
    person = kwargs.pop("person", COORDINATOR)
    return await say(client, connector, text, mention_bot=True, **person, **GROUP_CHAT, **kwargs)


async def test_create_from_mentions_show_and_list(
    client: TestClient, connector: FakeConnector
) -> None:
    [reply] = await group_say(
        client, connector, "ny arbetsgrupp Civilsamhälle med", mentions=[MARIA, CAROLINE, MARIE]
    )
    assert reply == (
        "Arbetsgruppen **Civilsamhälle** är skapad med 3 medlemmar: "
        "Maria Berg, Caroline Ek och Marie Lund."
    )
    [again] = await group_say(
        client, connector, "ny arbetsgrupp civilsamhälle med", mentions=[MARIA]
    )
    assert "finns redan" in again

    [shown] = await group_say(client, connector, "visa Civilsamhale")  # a typo, no accent
    assert "Arbetsgruppen Civilsamhälle" in shown and "Medlemmar (3)" in shown
    await group_say(client, connector, "ny arbetsgrupp RSS Dalarna med", mentions=[MARIA])
    [listing] = await group_say(client, connector, "visa arbetsgrupper")
    assert "**Civilsamhälle** (3 medlemmar)" in listing and "**RSS Dalarna** (1 medlem)" in listing


async def test_add_and_remove_only_by_coordinator_or_creator(
    client: TestClient, connector: FakeConnector
) -> None:
    await group_say(client, connector, "ny arbetsgrupp Civilsamhälle med", mentions=[MARIA])
    [added] = await group_say(client, connector, "lägg till i Civilsamhälle", mentions=[CAROLINE])
    assert added == "Jag lade till Caroline Ek i **Civilsamhälle**. Gruppen har nu 2 medlemmar."
    [removed] = await group_say(client, connector, "ta bort från civilsamhälle", mentions=[MARIA])
    assert removed == "Jag tog bort Maria Berg från **Civilsamhälle**. Gruppen har nu 1 medlem."

    stranger = {"user": "29:olle", "name": "Olle", "aad": "aad-olle"}
    [refused] = await group_say(
        client, connector, "lägg till i Civilsamhälle", mentions=[MARIE], person=stranger
    )
    assert "Bara samordnare och den som skapade gruppen" in refused

    # A non-coordinator who creates a group may change it.
    await group_say(
        client, connector, "ny arbetsgrupp Lunchgänget med", mentions=[MARIA], person=stranger
    )
    [ok] = await group_say(
        client, connector, "lägg till i Lunchgänget", mentions=[MARIE], person=stranger
    )
    assert "lade till Marie Lund" in ok
    [missing] = await group_say(client, connector, "lägg till i Okänd grupp", mentions=[MARIE])
    assert "ingen arbetsgrupp som heter" in missing and "Civilsamhälle" in missing


async def test_everyone_in_the_chat_from_the_roster(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    connector.members[GROUP_CHAT["conversation"]] = [
        {"id": "29:maria", "name": "Maria Berg", "aadObjectId": "aad-maria"},
        # Some rosters name the Entra id "objectId" (the Agents Playground's does).
        {"id": "29:caroline", "name": "Caroline Ek", "objectId": "aad-caroline"},
        {"id": "28:natverksboten", "name": "Nätverksboten"},
    ]
    [reply] = await group_say(client, connector, "ny arbetsgrupp Styrgrupp med alla i chatten")
    assert reply.startswith("Arbetsgruppen **Styrgrupp** är skapad med 2 medlemmar")
    [group] = house.groups.all(TENANT)
    assert sorted(m.aad_object_id for m in group.members) == ["aad-caroline", "aad-maria"]


async def test_names_match_case_and_typo_tolerantly(sessions: sessionmaker[Session]) -> None:
    groups = GroupRepository(sessions)
    creator = Member("29:coord", "Cecilia")
    groups.create(
        "Civilsamhälle",
        tenant_id="t",
        created_by=creator,
        conversation_id=None,
        members=[Member("29:maria", "Maria")],
        now=NOW,
    )
    groups.create(
        "RSS Dalarna", tenant_id="t", created_by=creator, conversation_id=None, members=[], now=NOW
    )
    assert groups.find("CIVILSAMHÄLLE", "t").name == "Civilsamhälle"
    assert groups.find("civilsamhalle", "t").name == "Civilsamhälle"
    assert groups.find("Civilsamhäle", "t").name == "Civilsamhälle"
    assert groups.find("rss dalarna", "t").name == "RSS Dalarna"
    assert groups.find("Diabetes", "t") is None
    assert groups.find("Civilsamhälle", "another tenant") is None
    try:
        groups.create(
            "civilsamhälle",
            tenant_id="t",
            created_by=creator,
            conversation_id=None,
            members=[],
            now=NOW,
        )
        raise AssertionError("a second group of the same name was created")
    except GroupExists:
        pass
