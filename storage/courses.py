"""The catalogue of free courses: tables, repository, search, import and export."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from sqlalchemy import JSON, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage import language
from storage.db import rowcount
from storage.embeddings import Embedder
from storage.masking import mask_personal_data
from storage.meaning import Meanings, Progress, VectorStore, forget_entry, fuse
from storage.models import Base
from storage.search import Hit, SearchIndex
from storage.sheets import (
    Column,
    Problem,
    Row,
    SheetError,
    read_sheet,
    read_sheet_bytes,
    write_sheet,
)

logger = logging.getLogger(__name__)

DEMO_CATALOGUE = Path(__file__).with_name("demo_courses.csv")
EVERYONE = "alla"
KIND = "course"  # of its vectors (storage/meaning.py)


class Course(Base):
    __tablename__ = "course"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    provider: Mapped[str] = mapped_column(String(200))
    link: Mapped[str] = mapped_column(String(1000), index=True)
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    format: Mapped[str] = mapped_column(String(100), default="")
    length: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CatalogueVersion(Base):
    """Bumped in the transaction of every change to the catalogue, whichever process makes it:
    a running bot compares it (one row by key) before a search and rebuilds its index."""

    __tablename__ = "catalogue_version"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


COURSES = "courses"  # the catalogue_version row of the course catalogue


class UnansweredQuestion(Base):
    """A question that found no course: its words and when, never who asked."""

    __tablename__ = "unanswered_question"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(500))
    asked_at: Mapped[datetime] = mapped_column(index=True)


@dataclass(frozen=True)
class CourseView:
    """A course as the rest of the bot sees it: plain data, safe to pass between threads."""

    id: int
    title: str
    provider: str
    link: str
    audiences: tuple[str, ...]
    topics: tuple[str, ...]
    format: str
    length: str
    description: str

    @classmethod
    def of(cls, row: Course) -> CourseView:
        return cls(
            row.id,
            row.title,
            row.provider,
            row.link,
            tuple(row.audiences or ()),
            tuple(row.topics or ()),
            row.format or "",
            row.length or "",
            row.description or "",
        )


# --- sheets ----------------------------------------------------------------------------


def _check_link(cell: str) -> str | None:
    if not cell.lower().startswith(("https://", "http://")) or " " in cell:
        return "ska vara en webbadress som börjar med https://"
    return None


COLUMNS: tuple[Column, ...] = (
    Column("titel", ("namn", "kurs", "kursnamn", "rubrik"), required=True, max_length=300),
    Column("anordnare", ("arrangör", "utgivare", "leverantör"), required=True, max_length=200),
    Column(
        "länk", ("url", "webbadress", "adress", "link"), True, max_length=1000, check=_check_link
    ),
    Column("målgrupp", ("målgrupper", "för"), is_list=True, max_length=500),
    Column("ämnen", ("ämne", "ämnesord", "nyckelord", "taggar"), is_list=True, max_length=500),
    Column("format", ("typ", "form"), max_length=100),
    Column("längd", ("tid", "omfattning", "tidsåtgång"), max_length=100),
    Column("beskrivning", ("om kursen", "innehåll"), max_length=4000),
)


@dataclass(frozen=True)
class CourseRow:
    title: str
    provider: str
    link: str
    audiences: list[str]
    topics: list[str]
    format: str
    length: str
    description: str

    @classmethod
    def of(cls, row: Row) -> CourseRow:
        return cls(
            row.text("titel"),
            row.text("anordnare"),
            row.text("länk"),
            row.items("målgrupp"),
            row.items("ämnen"),
            row.text("format"),
            row.text("längd"),
            row.text("beskrivning"),
        )

    def differs(self, course: Course) -> bool:
        return (
            course.title != self.title
            or course.provider != self.provider
            or course.link != self.link
            or list(course.audiences or []) != self.audiences
            or list(course.topics or []) != self.topics
            or (course.format or "") != self.format
            or (course.length or "") != self.length
            or (course.description or "") != self.description
        )

    def apply(self, course: Course) -> None:
        course.title, course.provider, course.link = self.title, self.provider, self.link
        course.audiences, course.topics = list(self.audiences), list(self.topics)
        course.format, course.length = self.format, self.length
        course.description = self.description


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    problems: list[Problem] = field(default_factory=list)
    added_ids: list[int] = field(default_factory=list)  # for topic watches ("bevaka ...")

    @property
    def ok(self) -> bool:
        return not self.problems


def _link_key(link: str) -> str:
    return link.strip().rstrip("/").lower()


def _name_key(title: str, provider: str) -> tuple[str, str]:
    return (" ".join(title.casefold().split()), " ".join(provider.casefold().split()))


def _duplicates(rows: Sequence[Row]) -> list[Problem]:
    problems: list[Problem] = []
    seen_links: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    for row in rows:
        link = _link_key(row.text("länk"))
        name = _name_key(row.text("titel"), row.text("anordnare"))
        if link in seen_links:
            problems.append(Problem(row.number, "länk", f"samma länk som rad {seen_links[link]}"))
        elif name in seen_names:
            problems.append(
                Problem(
                    row.number, "titel", f"samma titel och anordnare som rad {seen_names[name]}"
                )
            )
        seen_links.setdefault(link, row.number)
        seen_names.setdefault(name, row.number)
    return problems


# --- the repository --------------------------------------------------------------------


@dataclass(frozen=True)
class UnansweredGroup:
    text: str  # the most recent wording
    count: int
    last_asked: datetime


class CourseRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def all(self) -> list[CourseView]:
        with self._sessions() as session:
            rows = session.scalars(select(Course).order_by(Course.id)).all()
            return [CourseView.of(row) for row in rows]

    def count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(Course)) or 0

    def version(self) -> int:
        """Changes with every import that changed something, in any process."""
        with self._sessions() as session:
            found = session.get(CatalogueVersion, COURSES)
            return found.version if found else 0

    def import_rows(self, rows: Sequence[Row], *, replace: bool, now: datetime) -> ImportReport:
        """Add or update every row (same link, or same title and provider); one transaction."""
        problems = _duplicates(rows)
        if problems:
            return ImportReport(problems=problems)
        report = ImportReport()
        with self._sessions.begin() as session:
            existing = session.scalars(select(Course)).all()
            by_link = {_link_key(c.link): c for c in existing}
            by_name = {_name_key(c.title, c.provider): c for c in existing}
            kept: set[int] = set()
            for row in rows:
                data = CourseRow.of(row)
                course = by_link.get(_link_key(data.link)) or by_name.get(
                    _name_key(data.title, data.provider)
                )
                if course is None:
                    course = Course(added_at=now, updated_at=now)
                    data.apply(course)
                    session.add(course)
                    session.flush()
                    report.added += 1
                    report.added_ids.append(course.id)
                elif data.differs(course):
                    data.apply(course)
                    course.updated_at = now
                    report.updated += 1
                else:
                    report.unchanged += 1
                kept.add(course.id)
            if replace:
                for course in existing:
                    if course.id not in kept:
                        forget_entry(session, KIND, course.id)
                        session.delete(course)
                        report.removed += 1
            if report.added or report.updated or report.removed:
                _bump(session, COURSES)
        return report

    def record_unanswered(self, text: str, now: datetime) -> None:
        with self._sessions.begin() as session:
            masked = mask_personal_data(" ".join(text.split()))  # before anything is kept
            session.add(UnansweredQuestion(text=masked[:500], asked_at=now))

    def unanswered(self, now: datetime, days: int = 30, limit: int = 10) -> list[UnansweredGroup]:
        """The most frequent unanswered questions of the last ``days``, near-identical grouped."""
        with self._sessions() as session:
            rows = session.execute(
                select(UnansweredQuestion.text, UnansweredQuestion.asked_at)
                .where(UnansweredQuestion.asked_at >= now - timedelta(days=days))
                .order_by(UnansweredQuestion.asked_at.desc())
                .limit(5000)
            ).all()
        groups: list[tuple[str, list[tuple[str, datetime]]]] = []
        for text, asked_at in rows:
            essence = _essence(text)
            for group_essence, members in groups:
                if fuzz.token_set_ratio(essence, group_essence) >= 88:
                    members.append((text, asked_at))
                    break
            else:
                groups.append((essence, [(text, asked_at)]))
        result = [
            UnansweredGroup(members[0][0], len(members), members[0][1]) for _, members in groups
        ]
        result.sort(key=lambda g: (-g.count, -g.last_asked.timestamp()))
        return result[:limit]


def _bump(session: Session, name: str) -> None:
    bumped = session.execute(
        update(CatalogueVersion)
        .where(CatalogueVersion.name == name)
        .values(version=CatalogueVersion.version + 1)
    )
    if not rowcount(bumped):  # the migration adds the row; belt and braces
        session.add(CatalogueVersion(name=name, version=1))


def _essence(text: str) -> str:
    """What a question is about, without filler, for grouping ("kurs om X?" ≈ "finns X")."""
    query = language.analyze(text)
    words = [t.key for t in query.terms] + sorted(query.audiences)
    return " ".join(words) or language.normalise(text)


# --- searching -------------------------------------------------------------------------

FIELD_WEIGHTS = {"title": 3.0, "topics": 2.5, "audiences": 0.5, "format": 0.8, "description": 1.0}


def _document(
    course: CourseView,
) -> tuple[dict[str, str | Sequence[str]], dict[str, frozenset[str]]]:
    audiences = language.audience_keys(course.audiences) or frozenset({language.key(EVERYONE)})
    fields: dict[str, str | Sequence[str]] = {
        "title": course.title,
        "topics": course.topics,
        "audiences": course.audiences,
        "format": course.format,
        "description": course.description,
    }
    return fields, {"audience": audiences}


def course_index(courses: Sequence[CourseView]) -> SearchIndex[CourseView]:
    index: SearchIndex[CourseView] = SearchIndex(FIELD_WEIGHTS, audience_facet="audience")
    # A bulk build allocates millions of small objects and no cycles: the cyclic collector
    # would only rescan them over and over (a third of the build time on 100k courses).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for course in courses:
            fields, facets = _document(course)
            index.add(course.id, course, fields, facets)
    finally:
        if collecting:
            gc.enable()
    return index


def passage(course: CourseView) -> str:
    """What a course's vector is computed from: everything a question may be about."""
    parts = [course.title]
    if course.topics:
        parts.append("; ".join(course.topics))
    if course.description:
        parts.append(course.description)
    if course.audiences:
        parts.append("För: " + ", ".join(course.audiences))
    if course.format:
        parts.append(course.format.capitalize())
    return ". ".join(part.rstrip(". ") for part in parts) + "."


# Measured on the tune half (bench/understanding.py), the question read without its wrapping
# (`language.meaning_text`): below this z-score, a question no word of which matches a course is
# more often one the catalogue has nothing for than a paraphrase (no_course tune max 3.56).
ANSWER_Z = 3.6


def course_vectors(sessions: sessionmaker[Session], embedder: Embedder) -> Meanings:
    return Meanings(embedder, VectorStore(sessions, KIND), answer_z=ANSWER_Z)


class CourseCatalogue:
    """The searchable catalogue: built from the database at start, and again whenever the
    catalogue's version row says another import happened (here, in the import command or in
    another process of the bot) - checked before every search, one row read by key.

    With ``meanings`` (the courses' vectors), a question is answered by words and meaning
    together (see storage/meaning.py); without, by words alone.
    """

    def __init__(self, repository: CourseRepository, meanings: Meanings | None = None) -> None:
        self.repository = repository
        self.meanings = meanings
        self._index: SearchIndex[CourseView] = course_index([])
        self._version: int | None = None
        self._rebuilding = threading.Lock()

    def refresh(self) -> float:
        """Rebuild the index from the database (seconds taken); questions go on meanwhile.

        Courses without a current vector get one: at once when few, else in the background.
        """
        with self._rebuilding:
            return self._rebuild(self.repository.version())

    def _rebuild(self, version: int) -> float:
        # The version is read before the rows: an import in between only means one more build.
        started = time.perf_counter()
        courses = self.repository.all()
        self._index = course_index(courses)
        self._version = version
        took = time.perf_counter() - started
        logger.info("course index: %d courses in %.2f s", len(self._index), took)
        if self.meanings is not None:
            self.meanings.want({course.id: passage(course) for course in courses})
        return took

    def current(self) -> SearchIndex[CourseView]:
        """The index as of the newest import. The search that notices an import rebuilds; the
        ones meanwhile answer from the previous index rather than wait."""
        version = self.repository.version()
        if version != self._version and self._rebuilding.acquire(blocking=self._version is None):
            try:
                if version != self._version:
                    self._rebuild(version)
            finally:
                self._rebuilding.release()
        return self._index

    def vectors(self) -> Progress | None:
        """How many courses have their vector (None: search by words only)."""
        return self.meanings.progress() if self.meanings is not None else None

    def search(
        self,
        question: str,
        limit: int = 3,
        offset: int = 0,
        vector: npt.NDArray[np.float32] | None = None,
    ) -> list[Hit[CourseView]]:
        """Best first; [] when nothing fits. ``vector``: the question's, if already computed."""
        return search_both(self.current(), self.meanings, question, limit, offset, vector)

    def courses(self) -> list[CourseView]:
        return sorted(self.current().items(), key=lambda c: c.title.casefold())

    def __len__(self) -> int:
        return len(self._index)

    def import_bytes(
        self, data: bytes, filename: str, *, replace: bool, now: datetime
    ) -> ImportReport:
        try:
            rows = read_sheet_bytes(data, filename, COLUMNS)
        except SheetError as error:
            return ImportReport(problems=error.problems)
        return self._import(rows, replace=replace, now=now)

    def _import(self, rows: Sequence[Row], *, replace: bool, now: datetime) -> ImportReport:
        report = self.repository.import_rows(rows, replace=replace, now=now)
        if report.ok and (report.added or report.updated or report.removed):
            self.refresh()
        return report


def search_both(
    index: SearchIndex[CourseView],
    meanings: Meanings | None,
    question: str,
    limit: int = 3,
    offset: int = 0,
    vector: npt.NDArray[np.float32] | None = None,
) -> list[Hit[CourseView]]:
    """Courses for a question by words and, with ``meanings``, by meaning; best first."""
    if meanings is None:
        return index.search(question, limit, offset)
    lexical = index.search(question, 0)
    wanted = language.analyze(question).audiences
    if vector is None and _words_are_certain(lexical):
        # The words alone answer (measured: the same first course as with meaning on every tune
        # question where this holds): the model's ~15 ms are saved.
        ranked = sorted(lexical, key=lambda hit: _audience_rank(hit.item, wanted))
        return ranked[offset : offset + limit] if limit else ranked[offset:]
    # The model reads what the question is about, not its wrapping (``vector``: of that text).
    query_vector = meanings.question_vector(language.meaning_text(question), vector)
    if query_vector is None:  # no course has its vector yet
        return lexical[offset : offset + limit] if limit else lexical[offset:]
    by_key = {hit.key: hit for hit in lexical}
    among = [key for key in by_key if isinstance(key, int)]
    near, known = meanings.nearest(query_vector, 30, among)
    # the words answer as much of the question as their best hit covers
    strength = max((hit.coverage for hit in lexical), default=1.0) ** 2
    fused = fuse(
        [(hit.key, hit.score) for hit in lexical],
        near,
        known,
        answer_z=meanings.answer_z,
        lexical_strength=strength,
    )
    hits: list[tuple[int, Hit[CourseView]]] = []
    for found in fused:
        lexical_hit = by_key.get(found.key)
        course = lexical_hit.item if lexical_hit else index.get(found.key)
        if course is None:  # removed since
            continue
        coverage = lexical_hit.coverage if lexical_hit else 0.0
        hits.append((_audience_rank(course, wanted), Hit(course, found.score, coverage, found.key)))
    # A course for other professions never comes before one for those asked about or for
    # everyone; a course for everyone is never hidden.
    hits.sort(key=lambda pair: pair[0])
    ranked = [hit for _, hit in hits]
    return ranked[offset : offset + limit] if limit else ranked[offset:]


CERTAIN_MARGIN = 1.5  # the best word hit's score over the second's, for the words to be certain


def _words_are_certain(lexical: Sequence[Hit[CourseView]]) -> bool:
    """The best word hit answers every word of the question and clearly beats the next."""
    if not lexical or lexical[0].coverage < 1.0:
        return False
    return len(lexical) == 1 or lexical[0].score >= CERTAIN_MARGIN * lexical[1].score


def _audience_rank(course: CourseView, wanted: frozenset[str]) -> int:
    """0: for those asked about, for everyone, or nobody was asked about; 1: for others only."""
    if not wanted:
        return 0
    audiences = language.audience_keys(course.audiences)
    if not audiences or language.key(EVERYONE) in audiences or audiences & wanted:
        return 0
    return 1


# --- the CLI's entry points ------------------------------------------------------------


def import_courses(
    sessions: sessionmaker[Session],
    path: Path | str,
    replace: bool = False,
    *,
    now: datetime,
) -> ImportReport:
    """``python bot.py import courses FILE [--replace]``: all or nothing."""
    try:
        rows = read_sheet(path, COLUMNS)
    except SheetError as error:
        return ImportReport(problems=error.problems)
    return CourseRepository(sessions).import_rows(rows, replace=replace, now=now)


def compute_course_vectors(
    sessions: sessionmaker[Session], embedder: Embedder, report: Callable[[Progress], None]
) -> Progress:
    """``import courses`` from the command line: the courses' missing vectors, computed now
    (interrupted, the bot computes the rest at its next start)."""
    texts = {course.id: passage(course) for course in CourseRepository(sessions).all()}
    return course_vectors(sessions, embedder).want(texts, background=False, report=report)


def export_courses(sessions: sessionmaker[Session], path: Path | str) -> int:
    """``python bot.py export courses FILE``: CSV or .xlsx by extension; returns the count."""
    courses = CourseRepository(sessions).all()
    write_sheet(
        path,
        COLUMNS,
        (
            {
                "titel": c.title,
                "anordnare": c.provider,
                "länk": c.link,
                "målgrupp": list(c.audiences),
                "ämnen": list(c.topics),
                "format": c.format,
                "längd": c.length,
                "beskrivning": c.description,
            }
            for c in courses
        ),
    )
    return len(courses)


def load_demo_courses_if_empty(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """Fill an empty catalogue with the demo courses, so a fresh bot answers; returns the count."""
    repository = CourseRepository(sessions)
    if repository.count():
        return 0
    report = import_courses(sessions, DEMO_CATALOGUE, now=now)
    if not report.ok:  # a broken demo file is our bug, not the user's
        raise SheetError(report.problems)
    logger.info("loaded %d demo courses", report.added)
    return report.added
