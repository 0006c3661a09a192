"""Free courses: the catalogue on SQLite, sheets in and out, the question set, conversations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, Attachment, ChannelAccount, ConversationAccount
from openpyxl import Workbook
from sqlalchemy.orm import Session, sessionmaker

from bot import House
from dialogs.courses import FILE_DOWNLOAD, Texts, describe_import
from dialogs.teaching import Texts as TeachingTexts
from storage.courses import (
    CourseRepository,
    CourseView,
    course_index,
    export_courses,
    import_courses,
    load_demo_courses_if_empty,
)
from storage.search import SearchIndex
from tests.cardcheck import assert_valid_card
from tests.course_questions import demo_courses, read_questions

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HEADER = "titel;anordnare;länk;målgrupp;ämnen;format;längd;beskrivning"


def write(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


# --- storage, import and export ----------------------------------------------------------
def test_demo_catalogue_loads_once(sessions: sessionmaker[Session]) -> None:
    assert load_demo_courses_if_empty(sessions, now=NOW) >= 30
    assert load_demo_courses_if_empty(sessions, now=NOW) == 0
    courses = CourseRepository(sessions).all()
    assert all(c.link.startswith("https://example.org/") for c in courses)


def test_reimport_updates_by_link_or_by_title_and_provider(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    first = write(
        tmp_path / "a.csv",
        HEADER,
        "Demens ABC;Demenscentrum;https://example.org/a;alla;demens;webbutbildning;2 h;Om demens",
        "Sårvård;Sårakademin;https://example.org/b;sjuksköterskor;sår;film;20 min;Om sår",
    )
    assert import_courses(sessions, first, now=NOW).added == 2
    second = write(
        tmp_path / "b.csv",
        HEADER,
        "Demens ABC 2.0;Demenscentrum;https://example.org/a;alla;demens;webbutbildning;2 h;Demens",
        "Sårvård;Sårakademin;https://example.org/ny;sjuksköterskor;sår;film;20 min;Om sår",
        "KOL;Lungnätverket;https://example.org/c;alla;kol;film;10 min;",
    )
    report = import_courses(sessions, second, now=NOW + timedelta(days=1))
    assert (report.added, report.updated, report.removed) == (1, 2, 0)
    titles = sorted(c.title for c in CourseRepository(sessions).all())
    assert titles == ["Demens ABC 2.0", "KOL", "Sårvård"]

    only_kol = write(
        tmp_path / "c.csv", HEADER, "KOL;Lungnätverket;https://example.org/c;alla;kol;film;10 min;"
    )
    report = import_courses(sessions, only_kol, replace=True, now=NOW)
    assert (report.unchanged, report.removed) == (1, 2)
    assert [c.title for c in CourseRepository(sessions).all()] == ["KOL"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_and_import_round_trip_without_loss(
    sessions: sessionmaker[Session], tmp_path: Path, suffix: str
) -> None:
    load_demo_courses_if_empty(sessions, now=NOW)
    before = CourseRepository(sessions).all()
    path = tmp_path / f"kurser{suffix}"
    assert export_courses(sessions, path) == len(before)

    report = import_courses(sessions, path, now=NOW)
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(before))
    assert CourseRepository(sessions).all() == before


def test_bad_sheet_reports_every_problem_and_changes_nothing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load_demo_courses_if_empty(sessions, now=NOW)
    before = CourseRepository(sessions).all()
    bad = write(
        tmp_path / "bad.csv",
        "Länk;TITEL;Anordnare;extra kolumn",
        f"{before[0].link};Ändrad titel;{before[0].provider};x",
        "ftp://example.org/x;Kurs;Region",
        "https://example.org/y;;Region",
        "https://example.org/z;Kurs Z;",
        f"{before[0].link};Dubblett;Region",
    )
    report = import_courses(sessions, bad, now=NOW)
    found = {(p.row, p.column) for p in report.problems}
    assert {(3, "länk"), (4, "titel"), (5, "anordnare")} <= found
    assert CourseRepository(sessions).all() == before
    text = describe_import(report)
    assert "Inget ändrades" in text and "Rad 3, kolumn ”länk”" in text


def test_duplicate_rows_and_missing_columns_are_reported(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    twice = write(
        tmp_path / "twice.csv",
        "titel;anordnare;länk",
        "A;P;https://example.org/a",
        "B;P;https://example.org/a",
    )
    assert [(p.row, p.column) for p in import_courses(sessions, twice, now=NOW).problems] == [
        (3, "länk")
    ]
    no_link = write(tmp_path / "no-link.csv", "titel;anordnare", "A;P")
    assert [(p.row, p.column) for p in import_courses(sessions, no_link, now=NOW).problems] == [
        (1, "länk")
    ]
    assert CourseRepository(sessions).count() == 0


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252"])
def test_csv_as_excel_writes_it(
    sessions: sessionmaker[Session], tmp_path: Path, encoding: str
) -> None:
    path = write(
        tmp_path / "kurser.csv",
        "Målgrupp;Ämnen;Titel;Anordnare;Länk",
        "undersköterskor, sjuksköterskor;sårvård, bensår;Sår och läkning;Region Väst;https://example.org/s",
        encoding=encoding,
    )
    assert import_courses(sessions, path, now=NOW).added == 1
    course = CourseRepository(sessions).all()[0]
    assert course.title == "Sår och läkning"
    assert course.audiences == ("undersköterskor", "sjuksköterskor")
    assert course.topics == ("sårvård", "bensår")


def test_xlsx_with_columns_in_any_order(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["LÄNK", "Anteckning", "titel", "anordnare", "längd"])
    sheet.append(["https://example.org/x", "ignoreras", "KOL i vardagen", "Lungnätverket", 45])
    book.save(tmp_path / "kurser.xlsx")
    assert import_courses(sessions, tmp_path / "kurser.xlsx", now=NOW).ok
    assert CourseRepository(sessions).all()[0].length == "45"


def test_unanswered_questions_are_grouped_and_kept_30_days(
    sessions: sessionmaker[Session],
) -> None:
    repository = CourseRepository(sessions)
    for text in ("kurs om truckkörning?", "Finns det någon kurs i truckkörning", "truckkörning"):
        repository.record_unanswered(text, NOW - timedelta(days=1))
    repository.record_unanswered("excel för nybörjare", NOW - timedelta(days=2))
    repository.record_unanswered("gammal fråga om spanska", NOW - timedelta(days=40))
    groups = repository.unanswered(NOW)
    assert [(g.count, g.text) for g in groups] == [(3, groups[0].text), (1, "excel för nybörjare")]
    assert "truck" in groups[0].text


# --- the old question set: a regression check of word search, not a measure ----------------
@pytest.fixture(scope="module")
def demo_index() -> SearchIndex[CourseView]:
    return course_index(demo_courses())


def test_word_search_regression_on_the_old_question_set(
    demo_index: SearchIndex[CourseView],
) -> None:
    """tests/data/course_questions.tsv was written together with the demo catalogue and repeats
    its words, so it says little about understanding (the frozen sets in tests/understanding/
    are the measure: tests/test_search_quality.py, bench/search_quality.py). It stays as a
    regression check of the word index alone: tokens, stems, compounds, synonyms and the
    no-course answer must keep answering these as they did."""
    questions = list(read_questions())
    answerable = [q for q in questions if q.expected]
    unanswerable = [q for q in questions if not q.expected]
    assert len(questions) >= 60 and len(unanswerable) >= 5
    titles = {course.title for course in demo_index.items()}
    assert all(q.expected <= titles for q in answerable), "a title in the set is not in the demo"

    first, top3, misses, padded = 0, 0, [], []
    for q in answerable:
        hits = [hit.item.title for hit in demo_index.search(q.text, 3)]
        first += bool(hits) and hits[0] in q.expected
        top3 += bool(q.expected & set(hits))
        if not (hits and hits[0] in q.expected):
            misses.append(f"line {q.line}: {q.text!r} -> {hits}")
    for q in unanswerable:
        if hits := [hit.item.title for hit in demo_index.search(q.text, 3)]:
            padded.append(f"line {q.line}: {q.text!r} -> {hits}")

    assert first / len(answerable) >= 0.95, "\n".join(misses)
    assert top3 == len(answerable), "\n".join(misses)
    assert not padded, "\n".join(padded)


def test_audience_ranks_first_but_never_hides_courses_for_everyone(
    demo_index: SearchIndex[CourseView],
) -> None:
    hits = [hit.item for hit in demo_index.search("demens för undersköterskor", 10)]
    assert "undersköterskor" in hits[0].audiences
    assert any(course.audiences == ("alla",) for course in hits)
    for_everyone = [i for i, c in enumerate(hits) if c.audiences == ("alla",)]
    for_others = [
        i for i, c in enumerate(hits) if not {"undersköterskor", "alla"} & set(c.audiences)
    ]
    assert max(for_everyone) < min(for_others, default=len(hits))


# --- conversations ------------------------------------------------------------------------
def chat(house: House, *, aad: str = "aad-tova", channel_id: str = "msteams") -> TestAdapter:
    template = Activity(
        channel_id=channel_id,
        service_url="https://smba.example.test/",
        from_property=ChannelAccount(id="29:tova", name="Tova Testsson", aad_object_id=aad),
        recipient=ChannelAccount(id="28:natverksboten", name="Nätverksboten"),
        conversation=ConversationAccount(
            id=f"personal-{aad}", conversation_type="personal", tenant_id="tenant-gr"
        ),
    )
    return TestAdapter(house.bot.on_turn, template)


def card_of(activity: Activity) -> dict[str, Any]:
    assert activity.attachments, f"expected a card, got {activity.text!r}"
    card: dict[str, Any] = activity.attachments[0].content
    assert_valid_card(card)
    return card


def check(condition: bool, message: str = "") -> None:
    assert condition, message


async def test_a_question_gets_the_best_three_as_a_card_then_more(house: House) -> None:
    adapter = chat(house)
    await adapter.receive_activity(
        Activity(type="message", text="finns det nån gratis kurs om demens för undersköterskor?")
    )
    card = card_of(adapter.activity_buffer.pop(0))
    first = card["body"][1]["items"]
    assert first[0]["text"] == "1. Demensutbildning för undersköterskor i hemtjänsten"
    assert first[3]["actions"][0]["type"] == "Action.OpenUrl"
    assert len(card["body"]) == 4  # the title and three courses
    more = card["actions"][0]
    assert more["title"] == Texts.MORE and more["data"]["action"] == "courses.more"

    await adapter.receive_activity(Activity(type="message", value=more["data"]))
    assert card_of(adapter.activity_buffer.pop(0))["body"][1]["items"][0]["text"].startswith("4. ")


async def test_without_cards_the_same_content_comes_as_text(house: House) -> None:
    flow = await chat(house, channel_id="slack").send("webbkurs diabetes")
    await flow.assert_reply(
        lambda a, _=None: check(
            not a.attachments
            and "1. Diabetes i kommunal vård och omsorg" in a.text
            and "https://example.org/" in a.text,
            a.text,
        )
    )


async def test_no_course_says_so_and_is_kept_for_the_coordinators(house: House) -> None:
    flow = await chat(house).send("finns det någon gratis kurs i truckkörning?")
    await flow.assert_reply(
        "Jag hittade ingen kurs om ”finns det någon gratis kurs i truckkörning”.", is_substring=True
    )

    flow = await chat(house).send("obesvarade frågor")
    await flow.assert_reply(TeachingTexts.COORDINATORS_ONLY)
    # what the coordinators see of it: tests/test_teaching.py


async def test_browse_by_topic_and_list_everything(house: House) -> None:
    flow = await chat(house).send("kurser om KOL")
    await flow.assert_reply(
        lambda a, _=None: check("KOL" in card_of(a)["body"][1]["items"][0]["text"])
    )
    flow = await chat(house).send("lista kurser")
    await flow.assert_reply(
        lambda a, _=None: check(card_of(a)["body"][0]["text"].startswith("Alla kurser"))
    )


async def test_a_coordinator_sends_a_sheet_and_gets_the_report(house: House) -> None:
    sheet = "\r\n".join(
        [HEADER, "Ny kurs om KOL;Lungnätverket;https://example.org/ny-kol;alla;kol;film;10 min;"]
    ).encode("utf-8")

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=sheet)

    app = web.Application()
    app.router.add_get("/kurser.csv", serve)
    async with TestServer(app) as server:
        upload = Activity(
            type="message",
            text="",
            attachments=[
                Attachment(
                    content_type=FILE_DOWNLOAD,
                    name="kurser.csv",
                    content={"downloadUrl": str(server.make_url("/kurser.csv")), "fileType": "csv"},
                )
            ],
        )
        flow = await chat(house).send(upload)
        await flow.assert_reply(Texts.IMPORT_COORDINATORS_ONLY)
        flow = await chat(house, aad="aad-coordinator").send(upload)
        await flow.assert_reply("Kurslistan är inläst: 1 nya", is_substring=True)

    flow = await chat(house).send("ny kurs om kol")
    await flow.assert_reply(lambda a, _=None: check("Ny kurs om KOL" in str(card_of(a))))
