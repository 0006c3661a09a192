"""Identity from Teams, consent and erasure that stick (issue 14 items 3 and 4), over HTTP.

Who someone is comes from the Bot Connector's member lookup, which the fake connector answers
(GET /v3/conversations/{id}/members/{userId}); nothing typed is taken as an identity.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from bot import House
from dialogs.contacts import Texts
from storage.contact_sheets import DEMO, HEADER, import_contacts
from storage.contacts import ContactDraft, ErasureMarker
from storage.municipalities import find_municipality
from tests.fakes import FakeClock, FakeConnector
from tests.helpers import message

LINA_EMAIL = "lina.bergkvist@kungalv.example.se"  # a demo person, added by import
LINA = {"user": "29:lina", "name": "Lina Bergkvist", "aad": "aad-lina"}
EVE = {"user": "29:eve", "name": "Eve Elak", "aad": "aad-eve"}
CECILIA = {"user": "29:cecilia", "name": "Cecilia Samordnare", "aad": "aad-cecilia"}


def in_teams(connector: FakeConnector, person: dict[str, str], email: str) -> None:
    """Teams knows this person by this address (its member lookup will say so)."""
    connector.people[person["user"]] = {
        "name": person["name"],
        "aadObjectId": person["aad"],
        "email": email,
        "userPrincipalName": email,
    }


async def say(
    client: TestClient, connector: FakeConnector, person: dict[str, str], text: str
) -> list[str]:
    body = message(
        text,
        service_url=connector.url,
        conversation=f"personal-{person['user']}",
        **person,
    )
    before = len(connector.sent)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201), await response.text()
    return [s.text or json.dumps(s.cards, ensure_ascii=False) for s in connector.sent[before:]]


async def dialog(
    client: TestClient, connector: FakeConnector, person: dict[str, str], *texts: str
) -> list[str]:
    replies: list[str] = []
    for line in texts:
        replies += await say(client, connector, person, line)
    return replies


def found(house: House, question: str) -> list[str]:
    return [hit.contact.email for hit in house.contacts.find(question, 10).people]


def sheet(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "kontakter.csv"
    path.write_text("\n".join([";".join(HEADER), *rows]) + "\n", encoding="utf-8")
    return path


LINA_ROW = (
    "Lina Bergkvist;Kungälv;Distriktssköterska;diabetes, fotvård vid diabetes, insulinbehandling;"
    f"{LINA_EMAIL};0303-23 81 10;{{consent}}"
)

# --- item 3: identity from Teams ------------------------------------------------------------


async def test_self_service_takes_the_address_from_teams_and_never_asks_for_one(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    in_teams(connector, EVE, "Eve.Elak@Lerum.example.se")
    replies = await dialog(
        client,
        connector,
        EVE,
        "registrera mig i kompetensbanken",
        "Lerum",
        "Undersköterska",
        "munvård",
        "anna.andersson@kommun.se",  # typed where the phone is asked: not an address to take
        "inget",
        "ja",
    )
    assert not any("e-postadress har du" in r for r in replies)
    assert "Tack! Nu finns du i kompetensbanken" in replies[-1]
    assert "eve.elak@lerum.example.se" in replies[-1]
    entry = house.contacts.by_email("eve.elak@lerum.example.se")
    assert entry is not None
    assert (entry.teams_aad_object_id, entry.teams_email) == (
        "aad-eve",
        "eve.elak@lerum.example.se",
    )
    assert house.contacts.by_email("anna.andersson@kommun.se") is None
    assert connector.member_lookups == ["29:eve"]  # looked up once, then cached


async def test_without_an_address_from_teams_self_service_refuses(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    before = house.contacts.repository.count()
    [reply] = await say(client, connector, EVE, "registrera mig i kompetensbanken")
    assert reply == Texts.NO_IDENTITY
    [reply] = await say(client, connector, EVE, "Lerum")  # no dialog was begun
    assert Texts.ASK_ROLE not in reply
    assert house.contacts.repository.count() == before


async def test_an_imported_person_sees_changes_and_erases_her_entry_from_teams(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    in_teams(connector, LINA, LINA_EMAIL)
    [mine] = await say(client, connector, LINA, "visa mina uppgifter")
    assert "Lina Bergkvist" in mine and "0303-23 81 10" in mine
    assert "av samordnare, via import" in mine

    replies = await dialog(
        client,
        connector,
        LINA,
        "ändra mina uppgifter",
        "behåll",
        "behåll",
        "behåll",
        "0303-99 99 99",
        "ja",
    )
    assert "Klart, dina uppgifter är ändrade" in replies[-1]
    entry = house.contacts.by_email(LINA_EMAIL)
    assert entry is not None and entry.phone == "0303-99 99 99"
    assert entry.teams_aad_object_id == "aad-lina"  # linked to her Teams account now

    replies = await dialog(client, connector, LINA, "ta bort mig", "ja")
    assert replies[-1] == Texts.ERASED
    assert house.contacts.by_email(LINA_EMAIL) is None


async def test_a_member_can_neither_see_change_nor_erase_someone_elses_entry(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    in_teams(connector, EVE, "eve.elak@lerum.example.se")
    lina = house.contacts.by_email(LINA_EMAIL)
    [mine] = await say(client, connector, EVE, "visa mina uppgifter")
    assert Texts.MINE_NO_CONTACT in mine and "Lina" not in mine
    [reply] = await say(client, connector, EVE, "ta bort mig")
    assert reply == Texts.NOT_IN_BANK
    replies = await dialog(
        client,
        connector,
        EVE,
        "ändra mina uppgifter",
        "Kungälv",
        "Sjuksköterska",
        "diabetes",
        "070-666 66 66",
        "ja",
    )
    assert "eve.elak@lerum.example.se" in replies[-1]  # her own new entry, nobody else's
    assert house.contacts.by_email(LINA_EMAIL) == lina


async def test_an_import_never_merges_into_an_entry_linked_to_someone_else(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock, tmp_path: Path
) -> None:
    # Before identities were looked up, Eve registered with Lina's address (typed).
    lina = house.contacts.by_email(LINA_EMAIL)
    assert lina is not None
    house.contacts.save(
        ContactDraft(
            name="Eve Elak",
            municipality=find_municipality("Kungälv"),
            role="Sjuksköterska",
            competences=("diabetes",),
            email=LINA_EMAIL,
            phone="070-666 66 66",
            consent=True,
            teams_aad_object_id="aad-eve",
        ),
        "29:eve",
        clock.now(),
        contact_id=lina.id,
    )
    in_teams(connector, EVE, "eve.elak@lerum.example.se")
    [mine] = await say(client, connector, EVE, "visa mina uppgifter")
    assert "070-666 66 66" in mine  # the old, typed link

    report = import_contacts(
        house.sessions, sheet(tmp_path, [LINA_ROW.format(consent="ja")]), now=clock.now()
    )
    assert report.ok and report.unlinked == 1
    entry = house.contacts.by_email(LINA_EMAIL)
    assert entry is not None and entry.name == "Lina Bergkvist" and entry.phone == "0303-23 81 10"
    assert entry.teams_aad_object_id is None
    [mine] = await say(client, connector, EVE, "visa mina uppgifter")
    assert Texts.MINE_NO_CONTACT in mine and "0303-23 81 10" not in mine
    # And Lina, by the address Teams gives her, now manages it.
    in_teams(connector, LINA, LINA_EMAIL)
    [mine] = await say(client, connector, LINA, "visa mina uppgifter")
    assert "0303-23 81 10" in mine


async def test_coordinators_named_by_email_match_through_the_lookup(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    # The settings fixture names "samordnare@example.org" among the coordinators.
    in_teams(connector, EVE, "eve.elak@lerum.example.se")
    [refused] = await say(client, connector, EVE, "obesvarade frågor")
    assert refused == "Det kan bara nätverkets samordnare göra."

    in_teams(connector, CECILIA, "Samordnare@Example.org")
    [answer] = await say(client, connector, CECILIA, "obesvarade frågor")
    assert answer != "Det kan bara nätverkets samordnare göra."
    await say(client, connector, CECILIA, "obesvarade frågor")
    assert connector.member_lookups.count("29:cecilia") == 1  # cached, not asked every turn

    # A lookup that fails makes nobody a coordinator.
    stranger = {"user": "29:ghost", "name": "Ghost", "aad": "aad-ghost"}
    [refused] = await say(client, connector, stranger, "obesvarade frågor")
    assert refused == "Det kan bara nätverkets samordnare göra."


# --- item 4: consent and erasure stick -------------------------------------------------------


async def test_no_to_consent_when_changing_unpublishes_and_says_so(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock, tmp_path: Path
) -> None:
    in_teams(connector, LINA, LINA_EMAIL)
    assert LINA_EMAIL in found(house, "vem kan insulinbehandling?")
    replies = await dialog(
        client,
        connector,
        LINA,
        "ändra mina uppgifter",
        "behåll",
        "behåll",
        "behåll",
        "behåll",
        "nej",
    )
    assert replies[-1] == Texts.UNPUBLISHED
    assert LINA_EMAIL not in found(house, "vem kan insulinbehandling?")
    entry = house.contacts.by_email(LINA_EMAIL)
    assert entry is not None and not entry.consent
    [mine] = await say(client, connector, LINA, "visa mina uppgifter")
    assert "nej (posten visas inte för någon)" in mine

    # The same sheet again (consent "ja", no date) does not publish her again ...
    clock.advance(days=1)
    import_contacts(house.sessions, DEMO, now=clock.now())
    assert LINA_EMAIL not in found(house, "vem kan insulinbehandling?")
    # ... a sheet that says she consented after she said no does.
    later = (clock.now() + timedelta(days=2)).date().isoformat()
    import_contacts(
        house.sessions, sheet(tmp_path, [LINA_ROW.format(consent=f"ja {later}")]), now=clock.now()
    )
    assert LINA_EMAIL in found(house, "vem kan insulinbehandling?")


async def test_an_erased_person_is_skipped_by_the_next_import_until_she_consents_again(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock, tmp_path: Path
) -> None:
    in_teams(connector, LINA, LINA_EMAIL)
    replies = await dialog(client, connector, LINA, "ta bort mig", "ja")
    assert replies[-1] == Texts.ERASED

    clock.advance(days=1)
    report = import_contacts(house.sessions, DEMO, now=clock.now())
    assert report.ok and report.skipped_erased == 1 and report.added == 0
    assert house.contacts.by_email(LINA_EMAIL) is None
    assert LINA_EMAIL not in found(house, "vem kan insulinbehandling?")
    # The marker is a keyed hash: her address is nowhere in the database.
    with house.sessions() as session:
        markers = list(session.scalars(select(ErasureMarker.email_hash)))
        assert len(markers) == 1 and "lina" not in markers[0]
        dump = "\n".join(session.connection().connection.driver_connection.iterdump())
    assert LINA_EMAIL not in dump

    # A date on the erasure day is not "after" it; a later one is.
    same_day = clock.now().date().isoformat()
    erased_day = (clock.now() - timedelta(days=1)).date().isoformat()
    for day in ("2026-11-01", erased_day):
        report = import_contacts(
            house.sessions, sheet(tmp_path, [LINA_ROW.format(consent=f"ja {day}")]), now=clock.now()
        )
        assert report.skipped_erased == 1
    report = import_contacts(
        house.sessions,
        sheet(tmp_path, [LINA_ROW.format(consent=f"ja {same_day}")]),
        now=clock.now(),
    )
    assert report.added == 1 and report.skipped_erased == 0
    assert LINA_EMAIL in found(house, "vem kan insulinbehandling?")


async def test_a_coordinator_erasure_on_request_sticks_too_a_replacing_import_does_not(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock, tmp_path: Path
) -> None:
    in_teams(connector, CECILIA, "samordnare@example.org")
    [reply] = await say(client, connector, CECILIA, f"ta bort kontakt {LINA_EMAIL}")
    assert reply == Texts.COORDINATOR_ERASED.format(email=LINA_EMAIL)
    assert import_contacts(house.sessions, DEMO, now=clock.now()).skipped_erased == 1

    omar = "omar.haddad@kungalv.example.se"
    import_contacts(house.sessions, sheet(tmp_path, []), now=clock.now(), replace=True)
    assert house.contacts.by_email(omar) is None
    report = import_contacts(house.sessions, DEMO, now=clock.now())
    assert report.skipped_erased == 1  # Lina only: Omar was dropped by a sheet, not by wish
    assert house.contacts.by_email(omar) is not None


async def test_an_abandoned_self_service_dialog_is_purged_by_the_retention_job(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    in_teams(connector, EVE, "eve.elak@lerum.example.se")
    await dialog(
        client,
        connector,
        EVE,
        "registrera mig i kompetensbanken",
        "Lerum",
        "Undersköterska",
        "munvård",
        "0701-23 45 67",
    )

    def stored_state() -> str:
        with house.engine.connect() as connection:
            return "\n".join(
                row[0] for row in connection.execute(text("SELECT data FROM bot_state"))
            )

    assert "0701-23 45 67" in stored_state()
    house.retention.run()
    assert "0701-23 45 67" in stored_state()  # a dialog in progress is kept
    clock.advance(days=2)
    house.retention.run()
    assert "0701-23 45 67" not in stored_state()
    assert "eve.elak@lerum.example.se" not in stored_state()
    before = house.contacts.repository.count()
    await say(client, connector, EVE, "ja")
    assert house.contacts.repository.count() == before


def test_erasure_markers_on_sqlite_and_postgresql(
    any_sessions: Any, clock: FakeClock, tmp_path: Path
) -> None:
    from storage.contacts import ContactRepository, ErasedBy

    path = sheet(tmp_path, [LINA_ROW.format(consent="ja")])
    assert import_contacts(any_sessions, path, now=clock.now()).added == 1
    repository = ContactRepository(any_sessions)
    lina = repository.by_email(LINA_EMAIL)
    assert lina is not None
    assert repository.erase(lina.id, ErasedBy.SELF, "egen begäran", clock.now())
    clock.advance(days=3)
    assert import_contacts(any_sessions, path, now=clock.now()).skipped_erased == 1
    assert repository.by_email(LINA_EMAIL) is None
    later = sheet(tmp_path, [LINA_ROW.format(consent=clock.now().date().isoformat())])
    assert import_contacts(any_sessions, later, now=clock.now()).added == 1
    assert import_contacts(any_sessions, path, now=clock.now()).skipped_erased == 0
