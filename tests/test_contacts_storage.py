"""The competence bank's rules in storage (storage/contacts.py), on SQLite and PostgreSQL: who is
whose entry, what consent does to an entry and to the answers, what an import changes and says,
what an erasure leaves behind. Written against the survivors bench/mutation.py listed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

import storage.contact_sheets
from scheduler.timing import ReminderTiming
from storage.contact_search import ContactDirectory
from storage.contact_sheets import (
    HEADER,
    ContactSheetError,
    drafts_from_rows,
    export_contacts,
    import_contacts,
    load_demo_contacts_if_empty,
)
from storage.contacts import (
    ContactDraft,
    ContactRepository,
    ErasedBy,
    footprint_counts,
    is_email,
    split_competences,
)
from storage.conversations import ConversationRepository, Reference
from storage.municipalities import Municipality, find_municipality
from storage.reminders import PERSON, NewReminder, Person, ReminderRepository
from storage.sheets import Row, SheetError

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def _place(name: str) -> Municipality:
    found = find_municipality(name)
    assert found is not None
    return found


def _draft(**changes: object) -> ContactDraft:
    fields: dict[str, object] = {
        "name": "Tova Testsson",
        "municipality": _place("Kungälv"),
        "role": "Sjuksköterska",
        "competences": ("diabetes", "sårvård"),
        "email": "tova@kungalv.example.se",
        "phone": "0303-11 22 33",
        "consent": True,
        "teams_aad_object_id": None,
    }
    fields.update(changes)
    return ContactDraft(**fields)  # type: ignore[arg-type]


@pytest.fixture
def repository(any_sessions: sessionmaker[Session]) -> ContactRepository:
    return ContactRepository(any_sessions)


# --- whose entry --------------------------------------------------------------------------
def test_a_teams_users_entry_is_found_by_their_verified_link_then_their_teams_address(
    repository: ContactRepository,
) -> None:
    # A link made before identities were looked up (no teams_email) may rest on a typed
    # address: the entry with the address Teams vouches for comes first (issue 14.3) ...
    linked = repository.save(_draft(teams_aad_object_id="aad-tova"), "29:tova", NOW)
    other = repository.save(_draft(email="TOVA@lerum.example.se", name="Tova L"), "import", NOW)
    assert repository.of_user("aad-tova", "tova@lerum.example.se") == other
    assert repository.of_user("aad-tova", None) == linked
    assert repository.of_user("aad-nobody", " Tova@Lerum.example.se ") == other
    assert repository.of_user(None, None) is None
    assert repository.of_user("", "") is None
    assert repository.of_user("aad-nobody", "nobody@example.se") is None
    assert repository.by_email("TOVA@KUNGALV.example.se ") == linked
    assert repository.by_email("nobody@example.se") is None
    # ... and a link made with the address Teams gave comes before any other entry.
    verified = repository.save(
        _draft(teams_aad_object_id="aad-tova", teams_email="tova@lerum.example.se"),
        "29:tova",
        LATER,
    )
    assert verified.id == linked.id
    assert repository.of_user("aad-tova", "tova@lerum.example.se").id == linked.id


def test_saving_cleans_the_values_and_keeps_who_added_it(repository: ContactRepository) -> None:
    saved = repository.save(
        _draft(name="  Tova  ", role=" Ssk ", phone=" 0303-11 ", email=" Tova@X.example.se "),
        "29:tova",
        NOW,
    )
    assert (saved.name, saved.role, saved.phone, saved.email) == (
        "Tova",
        "Ssk",
        "0303-11",
        "tova@x.example.se",
    )
    assert (saved.added_by, saved.added_at, saved.updated_at) == ("29:tova", NOW, NOW)
    assert saved.competences == ("diabetes", "sårvård") and saved.municipality.name == "Kungälv"
    again = repository.save(_draft(email="tova@x.example.se", role="Dsk"), "import", LATER)
    assert (again.id, again.added_by, again.added_at, again.updated_at) == (
        saved.id,
        "29:tova",
        NOW,
        LATER,
    )


def test_a_new_email_from_teams_changes_the_entry_not_a_second_one(
    repository: ContactRepository,
) -> None:
    first = repository.save(_draft(teams_aad_object_id="aad-tova"), "29:tova", NOW)
    moved = repository.save(
        _draft(teams_aad_object_id="aad-tova", email="tova@lerum.example.se"), "29:tova", LATER
    )
    assert moved.id == first.id and moved.email == "tova@lerum.example.se"
    assert repository.count() == 1
    chosen = repository.save(
        _draft(email="ny@lerum.example.se"), "29:x", LATER, contact_id=first.id
    )
    assert chosen.id == first.id and chosen.email == "ny@lerum.example.se"
    assert chosen.teams_aad_object_id == "aad-tova"  # a draft without it does not unlink


def test_consent_is_dated_when_given_and_forgotten_when_withdrawn(
    repository: ContactRepository,
) -> None:
    without = repository.save(_draft(consent=False), "import", NOW)
    assert (without.consent, without.consent_at) == (False, None)
    given = repository.save(_draft(consent=True), "import", LATER)
    assert (given.consent, given.consent_at) == (True, LATER)
    kept = repository.save(_draft(consent=True, role="Dsk"), "import", LATER + timedelta(days=1))
    assert kept.consent_at == LATER
    withdrawn = repository.save(_draft(consent=False), "import", LATER)
    assert (withdrawn.consent, withdrawn.consent_at) == (False, None)
    assert repository.consenting() == []


def test_only_consenting_entries_are_handed_out_for_the_index(
    repository: ContactRepository,
) -> None:
    yes = repository.save(_draft(), "import", NOW)
    repository.save(_draft(email="nej@example.se", consent=False), "import", NOW)
    assert repository.consenting() == [yes]
    assert repository.count() == 2


def test_everyone_comes_by_municipality_code_then_in_order_added(
    repository: ContactRepository,
) -> None:
    kungalv = repository.save(_draft(), "import", NOW)  # 1482
    lerum = repository.save(_draft(email="a@l.se", municipality=_place("Lerum")), "import", NOW)
    kungalv2 = repository.save(_draft(email="b@k.se"), "import", NOW)
    ale = repository.save(_draft(email="c@a.se", municipality=_place("Ale")), "import", NOW)
    codes = [c.municipality.code for c in (ale, lerum, kungalv)]
    assert codes == sorted(codes)  # Ale 1440, Lerum 1441, Kungälv 1482
    assert [c.id for c in repository.everyone()] == [ale.id, lerum.id, kungalv.id, kungalv2.id]


def test_an_entry_whose_municipality_code_is_unknown_is_shown_by_its_code(
    repository: ContactRepository,
) -> None:
    saved = repository.save(_draft(municipality=Municipality("X", "Y", "9999")), "import", NOW)
    assert saved.municipality == Municipality("9999", "", "9999")


def test_an_erasure_leaves_only_when_and_on_whose_initiative(
    repository: ContactRepository,
) -> None:
    tova = repository.save(_draft(), "import", NOW)
    before = repository.fingerprint()
    assert repository.erase(tova.id, ErasedBy.SELF, "egen begäran", LATER)
    assert not repository.erase(tova.id, ErasedBy.SELF, "egen begäran", LATER)
    assert repository.erasures() == [(LATER, "self", "egen begäran")]
    assert repository.count() == 0 and repository.by_email(tova.email) is None
    assert repository.fingerprint() != before


def test_the_fingerprint_changes_on_every_add_and_change(repository: ContactRepository) -> None:
    empty = repository.fingerprint()
    assert empty == (0, 0, None)
    tova = repository.save(_draft(), "import", NOW)
    added = repository.fingerprint()
    assert added == (1, tova.id, NOW)
    repository.save(_draft(role="Dsk"), "import", LATER)
    assert repository.fingerprint() == (1, tova.id, LATER)


# --- what else the bot keeps about a person ("visa mina uppgifter") -----------------------
def test_the_footprint_counts_rows_by_teams_id_or_aad(
    any_sessions: sessionmaker[Session], repository: ContactRepository
) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    for owner in (
        Person("29:tova", "Tova"),  # written before Teams gave an AAD id
        Person("29:other", "Tova", "aad-tova"),  # the same person, another Teams id
        Person("29:third", "Tredje"),  # someone else, no AAD id either
    ):
        reminders.add(
            NewReminder(owner=owner, audience=PERSON, person=owner, text="x", due_at=LATER), NOW
        )
    assert repository.footprint("29:tova", None) == {"reminder": 1}
    assert repository.footprint("29:tova", "aad-tova") == {"reminder": 2}
    assert footprint_counts(any_sessions, "29:nobody", "aad-nobody") == {}


def test_the_conversations_the_bot_can_write_to_a_person(
    any_sessions: sessionmaker[Session], repository: ContactRepository
) -> None:
    refs = ConversationRepository(any_sessions)
    for conversation, kind, user, aad in (
        ("a:1", None, "29:tova", None),
        ("19:g", "groupChat", "29:else", "aad-tova"),
        ("a:2", "personal", "29:else", "aad-else"),
    ):
        refs.upsert(
            Reference(conversation, "msteams", "https://x", "t", kind, user, aad, None, "{}"), NOW
        )
    found = repository.conversations_of("29:tova", "aad-tova")
    assert sorted((c["conversation_type"], c["user_name"]) for c in found) == [
        ("groupChat", ""),
        ("personal", ""),
    ]
    assert {c["updated_at"] for c in found} == {NOW}
    assert len(repository.conversations_of("29:tova", None)) == 1


# --- import and export --------------------------------------------------------------------
def _sheet(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "kontakter.csv"
    path.write_text("\n".join([";".join(HEADER), *rows]) + "\n", encoding="utf-8")
    return path


TOVA = "Tova Testsson;Kungälv;Ssk;diabetes, sårvård;tova@kungalv.example.se;0303-11;ja"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("Tova T;Kungälv;Ssk;diabetes, sårvård;tova@kungalv.example.se;0303-11;ja", "name"),
        ("Tova Testsson;Lerum;Ssk;diabetes, sårvård;tova@kungalv.example.se;0303-11;ja", "place"),
        ("Tova Testsson;Kungälv;Dsk;diabetes, sårvård;tova@kungalv.example.se;0303-11;ja", "role"),
        ("Tova Testsson;Kungälv;Ssk;diabetes;tova@kungalv.example.se;0303-11;ja", "competences"),
        ("Tova Testsson;Kungälv;Ssk;diabetes, sårvård;tova@kungalv.example.se;0303-12;ja", "phone"),
        (
            "Tova Testsson;Kungälv;Ssk;diabetes, sårvård;tova@kungalv.example.se;0303-11;nej",
            "consent",
        ),
    ],
)
def test_a_reimport_counts_a_change_in_any_field_as_updated(
    sessions: sessionmaker[Session], tmp_path: Path, row: str, field: str
) -> None:
    first = import_contacts(sessions, _sheet(tmp_path, TOVA), now=NOW)
    assert (first.added, first.updated, first.unchanged, first.ok) == (1, 0, 0, True)
    same = import_contacts(sessions, _sheet(tmp_path, TOVA), now=LATER)
    assert (same.added, same.updated, same.unchanged) == (0, 0, 1)
    assert ContactRepository(sessions).everyone()[0].updated_at == NOW  # untouched
    changed = import_contacts(sessions, _sheet(tmp_path, row), now=LATER)
    assert (changed.added, changed.updated, changed.unchanged, field) == (0, 1, 0, field)
    assert ContactRepository(sessions).everyone()[0].updated_at == LATER


def test_an_import_keeps_the_teams_link_of_an_entry(
    repository: ContactRepository, any_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # A link made with the address Teams gave for that account survives an import ...
    repository.save(
        _draft(
            teams_aad_object_id="aad-tova",
            teams_email="tova@kungalv.example.se",
            competences=("diabetes",),
        ),
        "29:tova",
        NOW,
    )
    report = import_contacts(any_sessions, _sheet(tmp_path, TOVA), now=LATER)
    assert report.updated == 1 and report.unlinked == 0
    assert repository.of_user("aad-tova", None) is not None


def test_an_import_drops_a_teams_link_that_does_not_rest_on_the_address(
    repository: ContactRepository, any_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # ... one made with a typed address (before lookups) does not: the sheet's person gets
    # the entry (issue 14.3).
    repository.save(_draft(teams_aad_object_id="aad-eve", competences=("diabetes",)), "29:eve", NOW)
    report = import_contacts(any_sessions, _sheet(tmp_path, TOVA), now=LATER)
    assert report.updated == 1 and report.unlinked == 1
    assert repository.of_user("aad-eve", None) is None


def test_a_replacing_import_erases_the_others_and_says_why(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    repository = ContactRepository(sessions)
    repository.save(_draft(email="borta@example.se"), "import", NOW)
    report = import_contacts(sessions, _sheet(tmp_path, TOVA), now=LATER, replace=True)
    assert (report.added, report.erased) == (1, 1)
    assert repository.erasures() == [(LATER, "coordinator", "ej med vid ersättande import")]
    assert [c.email for c in repository.everyone()] == ["tova@kungalv.example.se"]
    kept = import_contacts(sessions, _sheet(tmp_path, TOVA), now=LATER)
    assert kept.erased == 0


def test_the_problems_an_import_reports(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    bad = _sheet(
        tmp_path,
        "A;Atlantis;;;a@example.se;;ja",
        "B;Lerum;;;b@example;;ja",
        "C;Lerum;;;c@example.se;12;ja",
        "D;Lerum;;;d@example.se;;kanske",
    )
    assert import_contacts(sessions, bad, now=NOW).errors == [
        "Rad 2, kolumn ”kommun”: okänd kommun ”Atlantis”",
        "Rad 3, kolumn ”epost”: ogiltig e-postadress ”b@example”",
        "Rad 4, kolumn ”telefon”: ogiltigt telefonnummer ”12”",
        "Rad 5, kolumn ”samtycke”: ska vara ja, nej eller ”ja ÅÅÅÅ-MM-DD” (dagen samtycket "
        "gavs), inte ”kanske”",
    ]
    assert ContactRepository(sessions).count() == 0


@pytest.mark.parametrize("word", ["Ja", "j", "YES", "y", "x", "1", "sant", "true", " ja "])
def test_consent_words_that_mean_yes(word: str) -> None:
    rows = [Row(2, {"namn": "A", "kommun": "Lerum", "epost": "a@b.se", "samtycke": word})]
    assert drafts_from_rows(rows)[0].consent is True


@pytest.mark.parametrize("word", ["Nej", "n", "NO", "0", "falskt", "false"])
def test_consent_words_that_mean_no(word: str) -> None:
    rows = [Row(2, {"namn": "A", "kommun": "Lerum", "epost": "a@b.se", "samtycke": word})]
    assert drafts_from_rows(rows)[0].consent is False


def test_rows_become_drafts_and_a_repeated_email_is_named_with_its_first_row() -> None:
    row = {"namn": "A", "kommun": "gbg", "epost": " A@B.se", "samtycke": "ja"}
    [draft] = drafts_from_rows(
        [Row(2, {**row, "kompetenser": ["kol", "sår", "kol"], "roll": "Ssk", "telefon": "031-1"})]
    )
    assert draft == ContactDraft(
        "A", _place("Göteborg"), "Ssk", ("kol", "sår"), "a@b.se", "031-1", True
    )
    with pytest.raises(SheetError) as twice:
        drafts_from_rows([Row(2, row), Row(3, row), Row(4, {**row, "epost": "a@b.SE"})])
    assert [str(p) for p in twice.value.problems] == [
        "Rad 3, kolumn ”epost”: a@b.se finns redan på rad 2",
        "Rad 4, kolumn ”epost”: a@b.se finns redan på rad 2",
    ]


def test_competences_are_split_and_cleaned_as_people_write_them() -> None:
    assert split_competences("• Sårvård.\n- diabetes* / BPSD samt KOL; sårvård") == (
        "Sårvård",
        "diabetes",
        "BPSD",
        "KOL",
    )
    assert split_competences("Xerostomi, MDX och kost") == ("Xerostomi", "MDX", "kost")


def test_what_counts_as_an_email_address() -> None:
    assert is_email(" tova@kungalv.example.se ")
    for text in ("tova@kungalv", "tova@@x.se", "to va@x.se", "tova@x.s", "@x.se", "tova@x.se;"):
        assert not is_email(text), text


def test_the_export_says_ja_or_nej_and_the_municipality_by_name(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    repository = ContactRepository(sessions)
    repository.save(_draft(), "import", NOW)
    repository.save(_draft(email="nej@example.se", consent=False, phone=""), "import", NOW)
    path = tmp_path / "ut.csv"
    assert export_contacts(sessions, path) == 2
    assert path.read_text(encoding="utf-8-sig").splitlines() == [
        ";".join(HEADER),
        "Tova Testsson;Kungälv;Sjuksköterska;diabetes, sårvård;tova@kungalv.example.se;"
        "0303-11 22 33;ja",
        "Tova Testsson;Kungälv;Sjuksköterska;diabetes, sårvård;nej@example.se;;nej",
    ]


# --- answers ------------------------------------------------------------------------------
@pytest.fixture
def directory(sessions: sessionmaker[Session]) -> ContactDirectory:
    repository = ContactRepository(sessions)
    people = [
        ("Lina", "Kungälv", ("diabetes",), "lina@k.se", True),
        ("Ali", "Lerum", ("diabetes", "sårvård"), "ali@l.se", True),
        ("Bo", "Stockholm", ("diabetes",), "bo@s.se", True),
        ("Eva", "Skövde", ("sårvård",), "eva@s.se", False),
    ]
    for name, place, competences, email, consent in people:
        repository.save(
            _draft(
                name=name,
                municipality=_place(place),
                competences=competences,
                email=email,
                consent=consent,
            ),
            "import",
            NOW,
        )
    return ContactDirectory(repository)


def test_people_in_the_asked_municipality_else_the_nearest_elsewhere(
    directory: ContactDirectory,
) -> None:
    local = directory.find("vem kan diabetes i Kungälv?")
    assert [h.contact.name for h in local.people] == ["Lina"] and not local.elsewhere
    assert local.topic == "diabetes" and local.has_topic and local.found
    nearest = directory.find("vem kan diabetes i Mölndal?")
    assert not nearest.local
    assert [h.contact.name for h in nearest.elsewhere][-1] == "Bo"  # another county: last
    assert {h.contact.name for h in nearest.elsewhere} == {"Lina", "Ali", "Bo"}
    anywhere = directory.find("vem kan diabetes?", limit=2)
    assert len(anywhere.local) == 2 and anywhere.municipality is None
    assert len(directory.find("vem kan diabetes i Mölndal?", limit=1).elsewhere) == 1


def test_a_question_without_a_topic_finds_nobody(directory: ContactDirectory) -> None:
    answer = directory.find("vem kan?")
    assert (answer.topic, answer.has_topic, answer.found, answer.people) == ("", False, False, ())


def test_consent_given_or_withdrawn_shows_in_the_answers_at_once(
    directory: ContactDirectory,
) -> None:
    assert directory.count() == 3
    assert not directory.find("vem kan sårvård i Skövde?").local
    eva = directory.by_email("eva@s.se")
    assert eva is not None
    directory.save(
        _draft(
            name="Eva", municipality=_place("Skövde"), competences=("sårvård",), email=eva.email
        ),
        "29:eva",
        LATER,
    )
    assert [h.contact.name for h in directory.find("vem kan sårvård i Skövde?").local] == ["Eva"]
    assert directory.count() == 4
    directory.save(
        _draft(
            name="Eva",
            municipality=_place("Skövde"),
            competences=("sårvård",),
            email=eva.email,
            consent=False,
        ),
        "29:eva",
        LATER,
    )
    assert not directory.find("vem kan sårvård i Skövde?").local
    assert directory.count() == 3


def test_the_directory_tells_a_person_what_is_kept_about_them(
    sessions: sessionmaker[Session],
) -> None:
    directory = ContactDirectory(ContactRepository(sessions))
    tova = directory.save(_draft(teams_aad_object_id="aad-tova"), "29:tova", NOW)
    assert directory.of_user("aad-tova", None) == tova
    assert directory.of_user(None, tova.email) == tova
    reminders = ReminderRepository(sessions, ReminderTiming())
    for owner in (Person("29:tova", "Tova", "aad-tova"), Person("29:other", "Tova", "aad-tova")):
        reminders.add(
            NewReminder(owner=owner, audience=PERSON, person=owner, text="x", due_at=LATER), NOW
        )
    assert directory.footprint("29:tova", None) == {"reminder": 1}
    assert directory.footprint("29:other", "aad-tova") == {"reminder": 2}
    refs = ConversationRepository(sessions)
    refs.upsert(
        Reference("a:1", "msteams", "https://x", "t", "personal", "29:x", "aad-tova", None, "{}"),
        NOW,
    )
    assert len(directory.conversations_of("29:tova", "aad-tova")) == 1
    assert directory.conversations_of("29:tova", None) == []


def test_a_broken_demo_sheet_stops_the_start_with_its_problems(
    sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        storage.contact_sheets,
        "DEMO",
        _sheet(tmp_path, "A;Atlantis;;;a@b.se;;ja", "B;Lerum;;;b@b;;ja"),
    )
    with pytest.raises(ContactSheetError) as broken:
        load_demo_contacts_if_empty(sessions, now=NOW)
    assert broken.value.errors == [
        "Rad 2, kolumn ”kommun”: okänd kommun ”Atlantis”",
        "Rad 3, kolumn ”epost”: ogiltig e-postadress ”b@b”",
    ]
    assert str(broken.value) == "\n".join(broken.value.errors)
