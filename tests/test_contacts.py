"""The competence bank: model, import/export, consent, erasure, and the conversations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import ConversationState, UserState
from botbuilder.core.adapters import TestAdapter, TestFlow
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, Entity
from sqlalchemy.orm import Session, sessionmaker

from dialogs.bot import NatverksBot
from dialogs.contacts import CompetenceBank, Texts, contact_card, teams_chat_url, tel_url
from dialogs.reading import shared_reader
from dialogs.routes import build_routes
from dialogs.small_talk import SmallTalk
from edge.identity import Identities
from edge.state import SqlStorage
from storage.contact_search import ContactDirectory
from storage.contact_sheets import (
    HEADER,
    export_contacts,
    import_contacts,
    load_demo_contacts_if_empty,
)
from storage.contacts import ContactDraft, ContactRepository, ErasedBy, split_competences
from storage.conversations import ConversationRepository, StateRepository
from storage.groups import GroupRepository, Member
from storage.municipalities import find_municipality
from tests.cardcheck import assert_valid_card
from tests.fakes import FakeClock

COORDINATOR_AAD = "aad-coordinator"
TENANT = "tenant-gr"


def _kungalv() -> Any:
    return find_municipality("Kungälv")


@pytest.fixture
def repository(sessions: sessionmaker[Session]) -> ContactRepository:
    return ContactRepository(sessions)


@pytest.fixture
def directory(sessions: sessionmaker[Session], clock: FakeClock) -> ContactDirectory:
    load_demo_contacts_if_empty(sessions, now=clock.now())
    return ContactDirectory(ContactRepository(sessions))


def _sheet(tmp_path: Path, rows: list[str], header: str = ";".join(HEADER)) -> Path:
    path = tmp_path / "kontakter.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# --- model and repository -------------------------------------------------------------------
def test_save_and_read_back(repository: ContactRepository, clock: FakeClock) -> None:
    draft = ContactDraft(
        name="Tova Testsson",
        municipality=_kungalv(),
        role="Sjuksköterska",
        competences=("diabetes", "sårvård"),
        email="Tova.Testsson@Kungalv.example.se",
        phone="0303-11 22 33",
        consent=True,
        teams_aad_object_id="aad-tova",
    )
    saved = repository.save(draft, "29:tova", clock.now())
    assert saved.email == "tova.testsson@kungalv.example.se"  # e-mail is the key, lower case
    assert saved.consent_at == clock.now() and saved.added_at == clock.now()
    assert repository.of_user("aad-tova", None) == saved
    assert repository.of_user(None, "TOVA.testsson@kungalv.example.se") == saved
    # Same e-mail again: the entry is updated, not duplicated.
    clock.advance(days=1)
    again = repository.save(
        ContactDraft(**{**draft.__dict__, "role": "Distriktssköterska"}), "29:tova", clock.now()
    )
    assert again.id == saved.id and again.role == "Distriktssköterska"
    assert again.consent_at == saved.consent_at  # consent given once, kept
    assert again.updated_at == clock.now()
    assert repository.count() == 1


def test_split_competences() -> None:
    assert split_competences("diabetes, sårvård och BPSD; Diabetes") == (
        "diabetes",
        "sårvård",
        "BPSD",
    )


def test_demo_people_are_loaded_once(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    added = load_demo_contacts_if_empty(sessions, now=clock.now())
    assert added >= 25
    assert load_demo_contacts_if_empty(sessions, now=clock.now()) == 0
    everyone = ContactRepository(sessions).everyone()
    assert len({c.municipality.name for c in everyone}) >= 5
    assert any(not c.consent for c in everyone)


# --- import and export ------------------------------------------------------------------------
def test_import_export_round_trip(
    sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    path = _sheet(
        tmp_path,
        [
            "Tova Testsson;Kungälvs kommun;Sjuksköterska;diabetes, sårvård;tova@kungalv.example.se;"
            "0303-11 22 33;ja",
            "Ruben Provare;gbg;Fysioterapeut;fallprevention;ruben@goteborg.example.se;;nej",
        ],
    )
    report = import_contacts(sessions, path, now=clock.now())
    assert report.errors == [] and (report.added, report.updated) == (2, 0)
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"export{suffix}"
        assert export_contacts(sessions, out) == 2
        again = import_contacts(sessions, out, now=clock.now())
        assert again.errors == [] and (again.added, again.updated, again.unchanged) == (0, 0, 2)
    text = (tmp_path / "export.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == ";".join(HEADER)
    assert "Tova Testsson;Kungälv;Sjuksköterska;diabetes, sårvård;tova@kungalv.example.se" in text
    assert (
        "Ruben Provare;Göteborg;Fysioterapeut;fallprevention;ruben@goteborg.example.se;;nej" in text
    )


def test_reimport_updates_by_email(
    sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    row = "Tova Testsson;Kungälv;Sjuksköterska;diabetes;tova@kungalv.example.se;;{consent}"
    import_contacts(sessions, _sheet(tmp_path, [row.format(consent="nej")]), now=clock.now())
    report = import_contacts(
        sessions, _sheet(tmp_path, [row.format(consent="ja").upper()]), now=clock.now()
    )
    assert (report.added, report.updated) == (0, 1)
    (tova,) = ContactRepository(sessions).everyone()
    assert tova.consent and tova.consent_at == clock.now() and tova.name == "TOVA TESTSSON"


def test_bad_sheet_is_refused_whole_with_row_numbers(
    sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    path = _sheet(
        tmp_path,
        [
            "Tova Testsson;Kungälv;Sjuksköterska;diabetes;tova@kungalv.example.se;;ja",
            "Ruben Provare;Atlantis;Fysioterapeut;fall;ruben@goteborg.example.se;;ja",
            "Saga Exempel;Lerum;Arbetsterapeut;hjälpmedel;saga.at.lerum;;ja",
            "Ulla Utan;Lerum;Dietist;nutrition;ulla@lerum.example.se;;kanske",
            "Tova Igen;Lerum;Dietist;nutrition;TOVA@kungalv.example.se;;ja",
        ],
    )
    report = import_contacts(sessions, path, now=clock.now())
    text = "\n".join(report.errors)
    assert "Rad 3" in text and "Atlantis" in text
    assert "Rad 4" in text and "saga.at.lerum" in text
    assert "Rad 5" in text and "kanske" in text
    assert len(report.errors) == 3
    assert ContactRepository(sessions).count() == 0  # nothing, not the good rows
    # The duplicate e-mail is found once the rows themselves are fine.
    path = _sheet(
        tmp_path,
        [
            "Tova Testsson;Kungälv;Sjuksköterska;diabetes;tova@kungalv.example.se;;ja",
            "Tova Igen;Lerum;Dietist;nutrition;TOVA@kungalv.example.se;;ja",
        ],
    )
    report = import_contacts(sessions, path, now=clock.now())
    assert len(report.errors) == 1 and "Rad 3" in report.errors[0]
    assert ContactRepository(sessions).count() == 0


def test_missing_consent_column_is_refused(
    sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    path = _sheet(
        tmp_path,
        ["Tova Testsson;Kungälv;Sjuksköterska;diabetes;tova@kungalv.example.se;"],
        header="namn;kommun;roll;kompetenser;epost;telefon",
    )
    report = import_contacts(sessions, path, now=clock.now())
    assert len(report.errors) == 1 and "samtycke" in report.errors[0]
    assert "Rad 1" in report.errors[0]
    assert ContactRepository(sessions).count() == 0


def test_replacing_import_erases_the_rest_and_logs_no_names(
    sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    load_demo_contacts_if_empty(sessions, now=clock.now())
    path = _sheet(tmp_path, ["Tova Testsson;Kungälv;Ssk;diabetes;tova@kungalv.example.se;;ja"])
    report = import_contacts(sessions, path, now=clock.now(), replace=True)
    repository = ContactRepository(sessions)
    assert repository.count() == 1 and report.erased >= 25
    assert all(by == ErasedBy.COORDINATOR for _, by, _ in repository.erasures())


# --- consent and erasure in search --------------------------------------------------------------
def test_only_consenting_people_are_found_or_counted(directory: ContactDirectory) -> None:
    repository = directory.repository
    without = [c for c in repository.everyone() if not c.consent]
    assert without
    assert directory.count() == repository.count() - len(without)
    for person in without:
        for competence in person.competences:
            answer = directory.find(f"vem kan {competence}?", 10)
            assert person.email not in {hit.contact.email for hit in answer.people}
    # Lymfödem: only someone without consent has it, so nobody is found.
    assert not directory.find("vem kan lymfödem?").found


def test_erase_removes_from_index_at_once(directory: ContactDirectory, clock: FakeClock) -> None:
    answer = directory.find("vem kan BPSD?")
    ingrid = answer.people[0].contact
    assert directory.erase(ingrid, ErasedBy.SELF, "egen begäran", clock.now())
    assert ingrid.email not in {h.contact.email for h in directory.find("vem kan BPSD?").people}
    assert directory.by_email(ingrid.email) is None
    ((_, by, reason),) = directory.repository.erasures()
    assert (by, reason) == ("self", "egen begäran")
    assert ingrid.name not in repr(directory.repository.erasures())


def test_withdrawn_consent_leaves_the_index_at_once(
    directory: ContactDirectory, clock: FakeClock
) -> None:
    lina = directory.find("vem kan diabetes i Kungälv?").people[0].contact
    draft = ContactDraft(
        lina.name, lina.municipality, lina.role, lina.competences, lina.email, lina.phone, False
    )
    directory.save(draft, "import", clock.now())
    assert not directory.find("vem kan diabetes i Kungälv?").local


def test_changes_by_another_process_are_noticed(
    sessions: sessionmaker[Session], directory: ContactDirectory, clock: FakeClock, tmp_path: Path
) -> None:
    assert not directory.find("vem kan akupunktur?").found
    path = _sheet(tmp_path, ["Tova Testsson;Kungälv;Ssk;akupunktur;tova@kungalv.example.se;;ja"])
    import_contacts(sessions, path, now=clock.now())  # as `python bot.py import contacts` would
    assert directory.find("vem kan akupunktur?").people[0].contact.name == "Tova Testsson"


def test_none_in_the_municipality_offers_others_marked(directory: ContactDirectory) -> None:
    answer = directory.find("vem kan sårvård i Skövde?")
    assert answer.municipality is not None and answer.municipality.name == "Skövde"
    assert not answer.local and answer.elsewhere
    assert all(h.contact.municipality.name != "Skövde" for h in answer.elsewhere)
    card = contact_card(answer)
    assert_valid_card(card)
    texts = _card_texts(card)
    assert any("ingen i Skövde" in t for t in texts)
    assert any(t.startswith("Annan kommun:") for t in texts)


def test_links() -> None:
    assert tel_url("031-123 45 67") == "tel:+46311234567"
    assert tel_url("+46 70 123 45 67") == "tel:+46701234567"
    assert teams_chat_url("a.b@x.se") == "https://teams.microsoft.com/l/chat/0/0?users=a.b@x.se"


# --- conversations ------------------------------------------------------------------------------
def _card_texts(card: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(str(node.get("text")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def _card_urls(card: dict[str, Any]) -> list[str]:
    urls: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.OpenUrl":
                urls.append(node["url"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return urls


# What Teams' member lookup answers for these people (TestAdapter has no Bot Connector; the
# HTTP tests in test_identity.py ask the fake connector the same question over the wire).
TEAMS_ADDRESSES = {
    "29:tova": ("Tova.Testsson@lerum.example.se", "aad-tova"),
    "29:samordnare": ("samordnare@example.org", COORDINATOR_AAD),
}


async def _teams_member_lookup(_: Any, user_id: str) -> tuple[str | None, str | None] | None:
    return TEAMS_ADDRESSES.get(user_id)


@pytest.fixture
def make_adapter(
    sessions: sessionmaker[Session], clock: FakeClock, directory: ContactDirectory
) -> Callable[..., TestAdapter]:
    storage = SqlStorage(StateRepository(sessions), clock)
    identities = Identities(clock, lookup=_teams_member_lookup)
    bank = CompetenceBank(directory, clock, identities=identities)
    small_talk = SmallTalk()
    bot = NatverksBot(
        [bank, small_talk],
        ConversationRepository(sessions),
        ConversationState(storage),
        UserState(storage),
        clock,
        frozenset({COORDINATOR_AAD}),
        routes=build_routes(small_talk=small_talk, bank=bank),
        reader=shared_reader(),
        small_talk=small_talk,
        # These flows read each reply in order; a typing indicator from a turn slowed by a
        # loaded machine would stand in the reply's place.
        typing_after=3600,
    )

    def make(
        *,
        user: str = "29:tova",
        name: str = "Tova Testsson",
        aad: str | None = "aad-tova",
        conversation_type: str = "personal",
        tenant: str | None = TENANT,
        channel_id: str = "msteams",
    ) -> TestAdapter:
        template = Activity(
            channel_id=channel_id,
            service_url="https://smba.example.test/",
            from_property=ChannelAccount(id=user, name=name, aad_object_id=aad),
            recipient=ChannelAccount(id="28:natverksboten", name="Nätverksboten"),
            conversation=ConversationAccount(
                id=f"{conversation_type}-{user}",
                conversation_type=conversation_type,
                tenant_id=tenant,
            ),
        )
        return TestAdapter(bot.on_turn, template)

    return make


def _card(activity: Activity) -> dict[str, Any]:
    assert activity.attachments, f"expected a card, got text: {activity.text!r}"
    card = activity.attachments[0].content
    assert_valid_card(card)
    return card


async def test_question_answered_with_contact_card(
    make_adapter: Callable[..., TestAdapter],
) -> None:
    flow = await make_adapter().send("vem kan diabetes i Kungälv?")

    def check(activity: Activity, _: Any = None) -> None:
        card = _card(activity)
        texts = _card_texts(card)
        assert "Lina Bergkvist" in texts
        assert any("Kungälv" in t for t in texts)
        urls = _card_urls(card)
        assert "mailto:lina.bergkvist@kungalv.example.se" in urls
        assert "tel:+46303238110" in urls
        assert teams_chat_url("lina.bergkvist@kungalv.example.se") in urls

    await flow.assert_reply(check)


async def test_text_where_cards_are_not_rendered(make_adapter: Callable[..., TestAdapter]) -> None:
    flow = await make_adapter(channel_id="slack", tenant=None).send(
        "finns det någon i Lerum som kan sårvård?"
    )
    await flow.assert_reply(
        lambda a, _=None: _assert_in(a.text, ["Petra Lindahl", "petra.lindahl@lerum.example.se"])
    )


def _assert_in(text: str | None, parts: list[str]) -> None:
    assert text is not None and all(part in text for part in parts), text


async def test_no_match_and_no_consent_say_so(make_adapter: Callable[..., TestAdapter]) -> None:
    adapter = make_adapter()
    flow = await adapter.send("vem kan lymfödem?")
    await flow.assert_reply("Jag hittade ingen i kompetensbanken", is_substring=True)
    flow = await adapter.send("vem kan astrofysik i Kungälv?")
    await flow.assert_reply("Jag hittade ingen i Kungälv", is_substring=True)


async def test_no_contacts_without_a_tenant_in_teams(
    make_adapter: Callable[..., TestAdapter],
) -> None:
    flow = await make_adapter(tenant=None).send("vem kan diabetes i Kungälv?")
    await flow.assert_reply(Texts.NOT_FOR_YOU)


async def test_self_service_add_show_change_erase(
    make_adapter: Callable[..., TestAdapter], directory: ContactDirectory
) -> None:
    adapter = make_adapter()
    flow: TestFlow = await adapter.send("lägg till mig i kompetensbanken")
    flow = await flow.assert_reply(Texts.ASK_MUNICIPALITY)
    flow = await flow.send("Atlantis")
    flow = await flow.assert_reply(Texts.BAD_MUNICIPALITY)
    flow = await flow.send("Lerums kommun")
    flow = await flow.assert_reply(Texts.ASK_ROLE)
    flow = await flow.send("Distriktssköterska")
    flow = await flow.assert_reply(Texts.ASK_COMPETENCES)
    flow = await flow.send("akupunktur, sårvård och nutrition")
    flow = await flow.assert_reply(Texts.ASK_PHONE)  # the e-mail is Teams', never asked
    flow = await flow.send("hoppa över")
    flow = await flow.assert_reply("**Samtycke.**", is_substring=True)
    flow = await flow.send("kanske")
    flow = await flow.assert_reply(Texts.YES_OR_NO)
    flow = await flow.send("Ja")
    flow = await flow.assert_reply("Tack! Nu finns du i kompetensbanken", is_substring=True)

    # Found at once by others.
    answer = directory.find("vem kan akupunktur i Lerum?")
    assert [h.contact.name for h in answer.local] == ["Tova Testsson"]
    tova = answer.local[0].contact
    assert tova.teams_aad_object_id == "aad-tova" and tova.consent and tova.phone == ""

    flow = await flow.send("visa mina uppgifter")
    flow = await flow.assert_reply(
        lambda a, _=None: _assert_in(
            a.text,
            [
                "Tova Testsson",
                "Lerum",
                "akupunktur",
                "tova.testsson@lerum.example.se",
                "ja, sedan",
                "personlig chatt",
            ],
        )
    )

    flow = await flow.send("ändra mina uppgifter")
    flow = await flow.assert_reply("nu: Lerum", is_substring=True)
    flow = await flow.send("behåll")
    flow = await flow.assert_reply("nu: Distriktssköterska", is_substring=True)
    flow = await flow.send("behåll")
    flow = await flow.assert_reply("nu: akupunktur", is_substring=True)
    flow = await flow.send("akupunktur, diabetes")
    flow = await flow.assert_reply("Telefonnummer?", is_substring=True)
    flow = await flow.send("0302-11 22 33")
    flow = await flow.assert_reply("**Samtycke.**", is_substring=True)
    flow = await flow.send("ja")
    flow = await flow.assert_reply("Klart, dina uppgifter är ändrade", is_substring=True)
    changed = directory.by_email("tova.testsson@lerum.example.se")
    assert changed is not None and changed.id == tova.id
    assert changed.competences == ("akupunktur", "diabetes") and changed.phone == "0302-11 22 33"

    flow = await flow.send("ta bort mig")
    flow = await flow.assert_reply(Texts.CONFIRM_ERASE)
    flow = await flow.send("nej")
    flow = await flow.assert_reply(Texts.NOT_ERASED)
    assert directory.find("vem kan akupunktur?").found
    flow = await flow.send("ta bort mig")
    flow = await flow.assert_reply(Texts.CONFIRM_ERASE)
    flow = await flow.send("ja")
    flow = await flow.assert_reply(Texts.ERASED)
    assert not directory.find("vem kan akupunktur?").found
    assert directory.by_email("tova.testsson@lerum.example.se") is None
    assert [by for _, by, _ in directory.repository.erasures()] == ["self"]

    flow = await flow.send("ta bort mig")
    await flow.assert_reply(Texts.NOT_IN_BANK)


async def test_saying_no_to_consent_saves_nothing(
    make_adapter: Callable[..., TestAdapter], directory: ContactDirectory
) -> None:
    before = directory.repository.count()
    flow = await make_adapter().send("lägg till mig i kompetensbanken")
    steps = [
        (Texts.ASK_MUNICIPALITY, "Kungälv"),
        (Texts.ASK_ROLE, "Sjuksköterska"),
        (Texts.ASK_COMPETENCES, "diabetes"),
        (Texts.ASK_PHONE, "inget"),
    ]
    for question, answer in steps:
        flow = await (await flow.assert_reply(question)).send(answer)
    flow = await flow.assert_reply("**Samtycke.**", is_substring=True)
    flow = await flow.send("Nej")
    await flow.assert_reply(Texts.NOT_SAVED)
    assert directory.repository.count() == before


async def test_avbryt_cancels_the_dialog(
    make_adapter: Callable[..., TestAdapter], directory: ContactDirectory
) -> None:
    before = directory.repository.count()
    flow = await make_adapter().send("lägg till mig i kompetensbanken")
    flow = await flow.assert_reply(Texts.ASK_MUNICIPALITY)
    flow = await flow.send("Kungälv")
    flow = await flow.assert_reply(Texts.ASK_ROLE)
    flow = await flow.send("avbryt")
    flow = await flow.assert_reply("avbröt", is_substring=True)
    flow = await flow.send("vem kan BPSD?")
    await flow.assert_reply(lambda a, _=None: _card(a))
    assert directory.repository.count() == before


async def test_self_service_only_in_a_personal_chat(
    make_adapter: Callable[..., TestAdapter],
) -> None:
    adapter = make_adapter(conversation_type="groupChat")
    for text in ("lägg till mig i kompetensbanken", "visa mina uppgifter", "ta bort mig"):
        # In a group the bot answers when @mentioned; the mention is the only difference.
        activity = Activity(
            type="message",
            text=f"<at>Nätverksboten</at> {text}",
            entities=[
                Entity.deserialize(
                    {
                        "type": "mention",
                        "text": "<at>Nätverksboten</at>",
                        "mentioned": {"id": "28:natverksboten", "name": "Nätverksboten"},
                    }
                )
            ],
        )
        flow = await adapter.send(activity)
        await flow.assert_reply(Texts.PERSONAL_ONLY)


async def test_coordinator_erases_on_request(
    make_adapter: Callable[..., TestAdapter], directory: ContactDirectory
) -> None:
    email = "omar.haddad@kungalv.example.se"
    flow = await make_adapter().send(f"ta bort kontakt {email}")
    await flow.assert_reply(Texts.COORDINATOR_ONLY)
    assert directory.by_email(email) is not None

    flow = await make_adapter(user="29:samordnare", aad=COORDINATOR_AAD).send(
        f"ta bort kontakt {email}"
    )
    flow = await flow.assert_reply(Texts.COORDINATOR_ERASED.format(email=email))
    assert directory.by_email(email) is None
    assert email not in {h.contact.email for h in directory.find("vem kan sårvård?", 10).people}
    assert [by for _, by, _ in directory.repository.erasures()] == ["coordinator"]
    flow = await flow.send(f"ta bort kontakt {email}")
    await flow.assert_reply(Texts.COORDINATOR_NOT_FOUND.format(email=email))


async def test_show_mine_tells_what_other_capabilities_keep(
    sessions: sessionmaker[Session],
    clock: FakeClock,
    make_adapter: Callable[..., TestAdapter],
) -> None:
    tova = Member("29:tova", "Tova Testsson", "aad-tova")
    GroupRepository(sessions).create(
        "Spånargruppen",
        tenant_id=TENANT,
        created_by=tova,
        conversation_id=None,
        members=[tova],
        now=clock.now(),
    )
    flow = await make_adapter().send("visa mina uppgifter")
    await flow.assert_reply(
        lambda a, _=None: _assert_in(
            a.text, [Texts.MINE_NO_CONTACT, "arbetsgrupper du är med i: 1", "personlig chatt"]
        )
    )


def test_import_report_for_the_cli(
    sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    from dialogs.contacts import describe_contact_import

    good = _sheet(tmp_path, ["Tova Testsson;Kungälv;Ssk;diabetes;tova@kungalv.example.se;;ja"])
    text = describe_contact_import(import_contacts(sessions, good, now=clock.now()))
    assert text == "Kompetensbanken är inläst: 1 nya, 0 ändrade, 0 oförändrade."
    bad = _sheet(tmp_path, ["Tova Testsson;Kungälv;Ssk;diabetes;tova(at)kungalv;;ja"])
    text = describe_contact_import(import_contacts(sessions, bad, now=clock.now()))
    assert text.startswith("Inget ändrades.") and "Rad 2" in text and "tova(at)kungalv" in text


async def test_wired_into_the_house(client: Any, connector: Any) -> None:
    """The whole bot from compose(), over HTTP: fails, never skips, without the competence bank."""
    from tests.helpers import message

    response = await client.post(
        "/api/messages",
        json=message("vem kan diabetes i Kungälv?", service_url=connector.url),
    )
    assert response.status in (200, 201)
    [reply] = connector.messages()
    assert "Lina Bergkvist" in str(reply.cards or reply.text)


async def test_name_is_asked_when_teams_gives_none(
    make_adapter: Callable[..., TestAdapter], directory: ContactDirectory
) -> None:
    flow = await make_adapter(name="").send("lägg till mig i kompetensbanken")
    flow = await flow.assert_reply(Texts.ASK_NAME)
    flow = await flow.send("Saga  Exempel")
    flow = await flow.assert_reply(Texts.ASK_MUNICIPALITY)
    steps = [
        ("Ale", Texts.ASK_ROLE),
        ("Undersköterska", Texts.ASK_COMPETENCES),
        ("munvård", Texts.ASK_PHONE),
    ]
    for answer, question in steps:
        flow = await (await flow.send(answer)).assert_reply(question)
    flow = await (await flow.send("inget")).assert_reply("**Samtycke.**", is_substring=True)
    flow = await flow.send("ja")
    await flow.assert_reply("Tack!", is_substring=True)
    saga = directory.by_email("tova.testsson@lerum.example.se")
    assert saga is not None and saga.name == "Saga Exempel"


def test_storage_on_sqlite_and_postgresql(
    any_sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    """Import, search, erase and export on both databases (PostgreSQL skipped if missing)."""
    assert load_demo_contacts_if_empty(any_sessions, now=clock.now()) >= 25
    directory = ContactDirectory(ContactRepository(any_sessions))
    lina = directory.find("vem kan diabetes i Kungälv?").people[0].contact
    assert lina.competences[0] == "diabetes" and lina.consent_at == clock.now()
    assert directory.erase(lina, ErasedBy.COORDINATOR, "begäran via samordnare", clock.now())
    assert not directory.find("vem kan diabetes i Kungälv?").local
    out = tmp_path / "kontakter.xlsx"
    assert export_contacts(any_sessions, out) == directory.repository.count()
    report = import_contacts(any_sessions, out, now=clock.now())
    assert report.ok and report.unchanged == directory.repository.count()


async def test_help_in_the_middle_of_a_dialog_keeps_the_dialog(
    make_adapter: Callable[..., TestAdapter],
) -> None:
    """ "hjälp" answers the same in any dialog and leaves it where it was: the next answer
    goes on with the question the dialog had asked."""
    adapter = make_adapter()
    flow: TestFlow = await adapter.send("lägg till mig i kompetensbanken")
    flow = await flow.assert_reply(Texts.ASK_MUNICIPALITY)
    flow = await flow.send("hjälp")

    def is_help(activity: Activity, description: str | None = None) -> None:
        card = activity.attachments[0].content
        assert card["body"][0]["text"] == "Det här kan jag hjälpa till med"

    flow = await flow.assert_reply(is_help)
    flow = await flow.send("Lerums kommun")
    await flow.assert_reply(Texts.ASK_ROLE)


async def test_the_consent_question_says_how_to_leave_and_avbryt_saves_nothing(
    client: Any, connector: Any
) -> None:
    """Over HTTP: the consent question names "avbryt"; answering it leaves, storing nothing."""
    from tests.helpers import message

    connector.people["29:anna"] = {"aadObjectId": "aad-anna", "email": "anna@kungalv.example.se"}

    async def say(text: str) -> list[str]:
        before = len(connector.messages())
        body = message(text, service_url=connector.url)
        response = await client.post("/api/messages", json=body)
        assert response.status in (200, 201)
        return [m.text for m in connector.messages()[before:]]

    await say("registrera mig i kompetensbanken")
    for answer in ("Kungälv", "Distriktssköterska", "sårvård", "hoppa över"):
        asked = await say(answer)
    assert any("**Samtycke.**" in t and "”avbryt”" in t for t in asked), asked
    assert any("”avbryt”" in t for t in await say("kanske"))
    [left] = await say("avbryt")
    assert left.startswith("Okej, jag avbröt")
    [shown] = await say("visa mina uppgifter")
    assert "• Du finns inte i kompetensbanken." in shown
