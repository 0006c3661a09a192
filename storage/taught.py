"""Unanswered questions: masked when kept, grouped by meaning, and taught by the coordinators.

A question nothing answered is kept without who asked it, and without personal identity numbers,
phone numbers or e-mail addresses (replaced by a placeholder before anything is stored). The
coordinators see the last 30 days' questions grouped by meaning (the `Embedder`'s vectors of what
each question is about, plus near-identical wording), and link a group to the course or person
that answers it, or mark it as truly not covered. Linked questions become examples: a new question
whose meaning is near enough to one of them gets that course or person first. A link can be listed
and undone; undone, its questions are unanswered again. A link goes with its course or person
(deleted course, erased person) through the foreign keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from rapidfuzz import fuzz
from sqlalchemy import ForeignKey, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage import language
from storage.contacts import Contact, ContactInfo, _info
from storage.courses import Course, CourseView, UnansweredQuestion
from storage.embeddings import Embedder, Vectors
from storage.masking import mask_personal_data
from storage.models import Base

logger = logging.getLogger(__name__)

COURSE, CONTACT, NOT_COVERED = "course", "contact", "none"

# Cosine similarity of the vectors of what two questions are about (see `essence`), measured with
# multilingual-e5-small: paraphrases ("truckkörning" / "köra truck" / "truckkort") 0.92-0.96;
# the same situation in other words ("en boende hostar när hon dricker" / "sätter i halsen när hon
# dricker" / "hostar när hon dricker vatten") 0.93-0.97; a neighbouring situation ("hostar på
# natten", "vill inte dricka") 0.91-0.94; unrelated topics up to 0.89. Grouping may be generous
# (a coordinator reads the group); answering must not be, so it misses some paraphrases.
SAME_GROUP = 0.90
ANSWERS = 0.94
RELOAD_SECONDS = 60.0  # examples linked in another process are seen within this time


# Words of asking, not of what is asked about ("vad gör vi?", "tips?"): they would make any two
# questions of the same wrapping look alike.
_ASKING = frozenset(
    [
        "gör",
        "göra",
        "gjort",
        "tips",
        "råd",
        "hjälp",
        "hjälpa",
        "behöver",
        "undrar",
        "alltid",
        "ofta",
        "någon",
        "något",
        "nåt",
    ]
)


def essence(text: str) -> str:
    """What a question is about, without the asking ("finns det en kurs om X?" -> "X").

    Embedding only this keeps two questions about different things in the same wrapping apart
    ("kurs i excel" and "kurs i spanska" are 0.91 as whole questions, 0.83 as essences).
    """
    terms = language.analyze(text).terms
    surfaces = [term.surface for term in terms if term.surface.casefold() not in _ASKING]
    return " ".join(surfaces) or language.normalise(text) or text.strip()


# --- tables -----------------------------------------------------------------------------------
class TaughtLink(Base):
    """A coordinator's decision about a group of questions: this course, this person, or none."""

    __tablename__ = "taught_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    linked_by: Mapped[str] = mapped_column(String(400))  # the coordinator's Teams id
    linked_at: Mapped[datetime]


class TaughtQuestion(Base):
    """An unanswered question that a link answers: from then on an example."""

    __tablename__ = "taught_question"
    question_id: Mapped[int] = mapped_column(
        ForeignKey("unanswered_question.id", ondelete="CASCADE"), primary_key=True
    )
    link_id: Mapped[int] = mapped_column(
        ForeignKey("taught_link.id", ondelete="CASCADE"), index=True
    )


class QuestionVector(Base):
    """The meaning of an unanswered question, computed once when it is kept."""

    __tablename__ = "unanswered_vector"
    question_id: Mapped[int] = mapped_column(
        ForeignKey("unanswered_question.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(100))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


# --- what the dialogs see ---------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionGroup:
    ids: tuple[int, ...]
    text: str  # the most recent wording
    wordings: tuple[str, ...]  # other wordings, most recent first, at most three
    count: int
    last_asked: datetime


@dataclass(frozen=True)
class Target:
    """What a link points to: a course, a person (only while they consent), or nothing."""

    kind: str  # COURSE, CONTACT or NOT_COVERED
    course: CourseView | None = None
    contact: ContactInfo | None = None

    @property
    def label(self) -> str:
        if self.course is not None:
            return self.course.title
        if self.contact is not None:
            return self.contact.name
        return ""


@dataclass(frozen=True)
class LinkView:
    id: int
    target: Target
    questions: tuple[str, ...]  # most recent first
    linked_at: datetime
    target_gone: bool = False  # linked to a person who has since withdrawn consent


@dataclass(frozen=True)
class _Example:
    link_id: int
    course_id: int | None
    contact_id: int | None


class UnansweredQuestions:
    """Keeping, grouping and teaching. Blocking (database, model): call through to_thread."""

    def __init__(self, sessions: sessionmaker[Session], embedder: Embedder) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._lock = threading.Lock()
        self._examples: list[_Example] = []
        self._vectors: Vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        self._loaded_at: float | None = None

    # --- keeping ------------------------------------------------------------------------
    def record(self, text: str, now: datetime) -> None:
        """Keeps a question nothing answered, masked. Its vector is computed when the list is
        next shown, not in the asker's turn; only once something has been marked as not covered
        is it embedded here, so that a question like those joins that mark instead of coming
        back to the coordinators' list."""
        masked = mask_personal_data(" ".join(text.split()))[:500]
        if not masked:
            return
        vector: Vectors | None = None
        not_covered: _Example | None = None
        if self._has_not_covered():
            vector = self._embed([masked])[0]
            # As generous as grouping: it only keeps the question off the list.
            example, _ = self._nearest_example(vector, SAME_GROUP)
            if example is not None and example.course_id is None and example.contact_id is None:
                not_covered = example
        with self._sessions.begin() as session:
            question = UnansweredQuestion(text=masked, asked_at=now)
            session.add(question)
            session.flush()
            if vector is not None:
                session.add(
                    QuestionVector(
                        question_id=question.id,
                        model=self._embedder.name,
                        vector=vector.astype(np.float32).tobytes(),
                    )
                )
            if not_covered is not None:
                session.add(TaughtQuestion(question_id=question.id, link_id=not_covered.link_id))

    def _has_not_covered(self) -> bool:
        self._load_if_stale()
        with self._lock:
            return any(e.course_id is None and e.contact_id is None for e in self._examples)

    # --- grouping -----------------------------------------------------------------------
    def groups(self, now: datetime, days: int = 30, limit: int = 10) -> list[QuestionGroup]:
        """The last ``days``' questions no link answers, grouped by meaning, most asked first."""
        with self._sessions() as session:
            linked = select(TaughtQuestion.question_id)
            rows = session.execute(
                select(UnansweredQuestion.id, UnansweredQuestion.text, UnansweredQuestion.asked_at)
                .where(UnansweredQuestion.asked_at >= now - timedelta(days=days))
                .where(UnansweredQuestion.id.not_in(linked))
                .order_by(UnansweredQuestion.asked_at.desc(), UnansweredQuestion.id.desc())
                .limit(2000)
            ).all()
        if not rows:
            return []
        vectors = self._vectors_of([(row.id, row.text) for row in rows])
        essences = [essence(row.text) for row in rows]
        # Greedy, most recent first: a question joins the first group whose first question it
        # means the same as (or words almost the same as).
        heads: list[int] = []
        members: list[list[int]] = []
        for i in range(len(rows)):
            for g, head in enumerate(heads):
                if float(vectors[i] @ vectors[head]) >= SAME_GROUP or (
                    fuzz.token_set_ratio(essences[i], essences[head]) >= 88
                ):
                    members[g].append(i)
                    break
            else:
                heads.append(i)
                members.append([i])
        groups = []
        for indices in members:
            texts: list[str] = []
            for i in indices:
                if rows[i].text.casefold() not in (t.casefold() for t in texts):
                    texts.append(rows[i].text)
            groups.append(
                QuestionGroup(
                    ids=tuple(rows[i].id for i in indices),
                    text=texts[0],
                    wordings=tuple(texts[1:4]),
                    count=len(indices),
                    last_asked=rows[indices[0]].asked_at,
                )
            )
        groups.sort(key=lambda g: (-g.count, -g.last_asked.timestamp()))
        return groups[:limit]

    # --- teaching -----------------------------------------------------------------------
    def link(
        self,
        question_ids: Sequence[int],
        *,
        by: str,
        now: datetime,
        course_id: int | None = None,
        contact_id: int | None = None,
    ) -> LinkView | None:
        """Links the questions (those not linked yet) to a course, a person or, with neither,
        to "not covered". None when there is nothing left to link or the target is gone."""
        with self._sessions.begin() as session:
            if course_id is not None and session.get(Course, course_id) is None:
                return None
            if contact_id is not None:
                contact = session.get(Contact, contact_id)
                if contact is None or not contact.consent:
                    return None
            free = session.scalars(
                select(UnansweredQuestion.id)
                .where(UnansweredQuestion.id.in_(list(question_ids)[:500]))
                .where(UnansweredQuestion.id.not_in(select(TaughtQuestion.question_id)))
            ).all()
            if not free:
                return None
            link = TaughtLink(
                course_id=course_id, contact_id=contact_id, linked_by=by, linked_at=now
            )
            session.add(link)
            session.flush()
            session.add_all(TaughtQuestion(question_id=q, link_id=link.id) for q in free)
            link_id = link.id
        self._forget()
        return self.link_view(link_id)

    def undo(self, link_id: int) -> LinkView | None:
        """Removes a link; its questions are unanswered again. None when it no longer exists."""
        view = self.link_view(link_id)
        if view is None:
            return None
        with self._sessions.begin() as session:
            session.execute(delete(TaughtQuestion).where(TaughtQuestion.link_id == link_id))
            session.execute(delete(TaughtLink).where(TaughtLink.id == link_id))
        self._forget()
        return view

    def link_view(self, link_id: int) -> LinkView | None:
        with self._sessions() as session:
            link = session.get(TaughtLink, link_id)
            if link is None:
                return None
            return self._view(session, link)

    def links(self, limit: int = 20) -> list[LinkView]:
        """The links, newest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(TaughtLink).order_by(TaughtLink.linked_at.desc(), TaughtLink.id.desc())
            ).all()
            return [self._view(session, link) for link in rows[:limit]]

    def _view(self, session: Session, link: TaughtLink) -> LinkView:
        texts = session.scalars(
            select(UnansweredQuestion.text)
            .join(TaughtQuestion, TaughtQuestion.question_id == UnansweredQuestion.id)
            .where(TaughtQuestion.link_id == link.id)
            .order_by(UnansweredQuestion.asked_at.desc())
        ).all()
        target = _target(session, link.course_id, link.contact_id)
        gone = target.kind == NOT_COVERED and (link.course_id or link.contact_id) is not None
        return LinkView(link.id, target, tuple(texts), link.linked_at, gone)

    # --- answering ----------------------------------------------------------------------
    def answer_for(self, question: str) -> Target | None:
        """The course or person a taught example near enough in meaning points to, else None.

        A "not covered" example answers as Target(NOT_COVERED). Costs one embedding, and only
        once anything has been taught."""
        self._load_if_stale()
        if not self._examples:
            return None
        example, _ = self._nearest_example(self._embed([mask_personal_data(question)])[0])
        if example is None:
            return None
        if example.course_id is None and example.contact_id is None:
            return Target(NOT_COVERED)
        with self._sessions() as session:
            target = _target(session, example.course_id, example.contact_id)
        return target if target.kind != NOT_COVERED else None

    def _nearest_example(
        self, vector: Vectors, threshold: float = ANSWERS
    ) -> tuple[_Example | None, float]:
        self._load_if_stale()
        with self._lock:
            examples, vectors = self._examples, self._vectors
        if not examples:
            return None, 0.0
        scores = vectors @ vector
        best = int(np.argmax(scores))
        score = float(scores[best])
        return (examples[best] if score >= threshold else None), score

    def _forget(self) -> None:
        with self._lock:
            self._loaded_at = None

    def _load_if_stale(self) -> None:
        with self._lock:
            fresh = self._loaded_at is not None and (
                time.monotonic() - self._loaded_at < RELOAD_SECONDS
            )
        if fresh:
            return
        with self._sessions() as session:
            rows = session.execute(
                select(
                    TaughtLink.id,
                    TaughtLink.course_id,
                    TaughtLink.contact_id,
                    UnansweredQuestion.id,
                    UnansweredQuestion.text,
                )
                .join(TaughtQuestion, TaughtQuestion.link_id == TaughtLink.id)
                .join(UnansweredQuestion, UnansweredQuestion.id == TaughtQuestion.question_id)
            ).all()
        examples = [_Example(link, course, contact) for link, course, contact, _, _ in rows]
        vectors = (
            self._vectors_of([(qid, text) for *_, qid, text in rows])
            if rows
            else np.zeros((0, self._embedder.dim), dtype=np.float32)
        )
        with self._lock:
            self._examples, self._vectors = examples, vectors
            self._loaded_at = time.monotonic()

    # --- vectors ------------------------------------------------------------------------
    def _embed(self, texts: Sequence[str]) -> Vectors:
        return self._embedder.queries([essence(text) for text in texts])

    def _vectors_of(self, questions: Sequence[tuple[int, str]]) -> Vectors:
        """Stored vectors; those missing or from another model are computed and stored."""
        ids = [qid for qid, _ in questions]
        with self._sessions() as session:
            stored = {
                row.question_id: row.vector
                for row in session.scalars(
                    select(QuestionVector)
                    .where(QuestionVector.question_id.in_(ids))
                    .where(QuestionVector.model == self._embedder.name)
                )
            }
        missing = [(qid, text) for qid, text in questions if qid not in stored]
        if missing:
            fresh = self._embed([text for _, text in missing])
            with self._sessions.begin() as session:
                session.execute(
                    delete(QuestionVector).where(
                        QuestionVector.question_id.in_([qid for qid, _ in missing])
                    )
                )
                for (qid, _), vector in zip(missing, fresh, strict=True):
                    blob = vector.astype(np.float32).tobytes()
                    stored[qid] = blob
                    session.add(
                        QuestionVector(question_id=qid, model=self._embedder.name, vector=blob)
                    )
        return np.stack([np.frombuffer(stored[qid], dtype=np.float32) for qid in ids])


def _target(session: Session, course_id: int | None, contact_id: int | None) -> Target:
    if course_id is not None:
        course = session.get(Course, course_id)
        if course is not None:
            return Target(COURSE, course=CourseView.of(course))
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is not None and contact.consent:
            return Target(CONTACT, contact=_info(contact))
    return Target(NOT_COVERED)
