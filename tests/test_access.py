"""Finding a working group by the name a person writes (dialogs/access.py group_named)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dialogs.access import group_named, stripped_group_name
from dialogs.limits import NAMES_OFFERED
from storage.groups import GroupRepository
from storage.people import Person
from tests.fakes import FakeConnector
from tests.test_calendar import make_group
from tests.test_reminders import COORDINATOR, GROUP_CHAT, MARIA, say

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def repository(sessions: sessionmaker[Session], *names: str, tenant: str = "t") -> GroupRepository:
    groups = GroupRepository(sessions)
    for name in names:
        groups.create(
            name,
            tenant_id=tenant,
            created_by=Person("29:coord", "Cecilia"),
            conversation_id=None,
            members=[Person("29:maria", "Maria")],
            now=NOW,
        )
    return groups


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("gruppen RSS Dalarna", "RSS Dalarna"),
        ("arbetsgruppen RSS Dalarna", "RSS Dalarna"),
        ("Gruppen RSS Dalarna", "RSS Dalarna"),
        ("ARBETSGRUPPEN Styrgrupp  ", "Styrgrupp"),
        ("gruppen   Kost ", "Kost"),
        ("styrgruppen", "styrgruppen"),  # the word itself, not a prefix
        ("gruppen", "gruppen"),  # nothing after it: kept
        ("RSS gruppen Dalarna", "RSS gruppen Dalarna"),  # only at the start
        ("gruppenRSS", "gruppenRSS"),
    ],
)
def test_stripped_group_name(written: str, name: str) -> None:
    assert stripped_group_name(written) == name


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("Styrgrupp", "Styrgrupp"),
        ("styrgruppen", "Styrgrupp"),
        ("STYRGRUPPEN", "Styrgrupp"),
        ("gruppen rss dalarna", "RSS Dalarna"),
        ("Arbetsgruppen RSS Dalarna", "RSS Dalarna"),
        # short names: the definite form is too far off for the typo tolerance alone
        ("råden", "Råd"),
        ("lagen", "Lag"),
        ("LAGEN", "Lag"),
        ("iten", "IT"),
        ("kosten", "Kost"),
    ],
)
async def test_group_found_by_the_name_written(
    sessions: sessionmaker[Session], written: str, found: str
) -> None:
    groups = repository(sessions, "Styrgrupp", "RSS Dalarna", "Råd", "IT", "Lag", "Kost")
    group, offered = await group_named(groups, written, "t")
    assert group is not None and group.name == found
    assert offered == []


async def test_definite_form_drops_just_its_ending(sessions: sessionmaker[Session]) -> None:
    # "itsen" is ITS, not IT: only the -en goes, the rest of the name counts
    groups = repository(sessions, "IT", "ITS")
    group, _ = await group_named(groups, "itsen", "t")
    assert group is not None and group.name == "ITS"


async def test_a_neuter_name_in_its_definite_form_is_found(
    sessions: sessionmaker[Session],
) -> None:
    # "laget" is the group Lag and "rådet" the group Råd, as "styrgruppen" is Styrgrupp.
    groups = repository(sessions, "Lag", "Råd", "Styrgrupp")
    for written, name in (("laget", "Lag"), ("Rådet", "Råd"), ("gruppen laget", "Lag")):
        group, offered = await group_named(groups, written, "t")
        assert group is not None and group.name == name and offered == []
    # A group whose own name ends so is found by its name first.
    groups = repository(sessions, "Rådet")
    group, _ = await group_named(groups, "rådet", "t")
    assert group is not None and group.name == "Rådet"


async def test_no_match_offers_the_closest_names_first_and_at_most_a_few(
    sessions: sessionmaker[Session],
) -> None:
    names = ["Styrgrupp", "RSS Dalarna", "RSS Gävleborg", "Kost", "Lag", "Råd", "Civilsamhälle"]
    groups = repository(sessions, *names)
    group, offered = await group_named(groups, "gruppen RSS", "t")
    assert group is None
    assert len(offered) == NAMES_OFFERED and set(offered) <= set(names)
    assert set(offered[:2]) == {"RSS Dalarna", "RSS Gävleborg"}


async def test_other_tenants_groups_are_neither_found_nor_offered(
    sessions: sessionmaker[Session],
) -> None:
    groups = repository(sessions, "Styrgrupp", tenant="other")
    assert await group_named(groups, "styrgruppen", "t") == (None, [])
    group, offered = await group_named(groups, "styrgruppen", "other")
    assert group is not None and group.name == "Styrgrupp" and offered == []


async def test_reminder_to_styrgruppen_reaches_the_group_styrgrupp(
    client: TestClient, connector: FakeConnector
) -> None:
    await make_group(client, connector, "Styrgrupp", [MARIA])
    [reply] = await say(
        client,
        connector,
        "påminn styrgruppen på fredag kl 10 om mötet",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "Styrgrupp" in reply and "fredag 27 november 2026 kl. 10.00" in reply


async def test_unknown_group_is_answered_with_the_closest_names(
    client: TestClient, connector: FakeConnector
) -> None:
    await make_group(client, connector, "Styrgrupp", [MARIA])
    [reply] = await say(
        client,
        connector,
        "påminn gruppen Budgetrådet på fredag kl 10 om mötet",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert reply.startswith("Jag hittar ingen arbetsgrupp som heter ”Budgetrådet”.")
    assert "Menade du: Styrgrupp?" in reply
