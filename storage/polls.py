"""Availability polls for a working group and the meetings booked from them (issue 8 items 2–6).

A `Poll` has candidate `Slot`s; each member gives one `Answer` per slot (Ja / Om det behövs / Nej).
Answers are upserts keyed by (slot, member): twenty members answering in the same second are each
counted once, and a submit Teams re-sends with a new activity id 30 seconds later changes nothing.
Every accepted submit bumps `Poll.version` in the same transaction; the card renderer compares
versions so that the shared card always ends on the newest state, even when two updates race.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage.db import rowcount
from storage.models import Base
from storage.people import Person

# Poll statuses.
OPEN = "open"
CLOSED = "closed"  # the deadline passed (or everyone answered) and nothing is booked yet
BOOKED = "booked"
CANCELLED = "cancelled"

# Answers, as stored; the Swedish words live in dialogs/polls.py.
YES = "yes"
IF_NEEDED = "if_needed"
NO = "no"
CHOICES = (YES, IF_NEEDED, NO)

TEAMS_MEETING = "Teams-möte"


class PollError(Exception):
    """Expected trouble with a poll; the dialog turns it into a reply."""


class PollNotFound(PollError):
    pass


class PollClosed(PollError):
    """The poll is no longer open (booked, cancelled) or its deadline has passed."""

    def __init__(self, poll: PollView) -> None:
        super().__init__(poll.status)
        self.poll = poll


class AlreadyBooked(PollError):
    def __init__(self, poll: PollView, meeting: MeetingView) -> None:
        super().__init__(str(poll.id))
        self.poll = poll
        self.meeting = meeting


class Poll(Base):
    __tablename__ = "poll"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_group.id", ondelete="SET NULL"), index=True
    )
    group_name: Mapped[str] = mapped_column(String(200), default="")
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    length_minutes: Mapped[int] = mapped_column(Integer, default=120)
    place: Mapped[str] = mapped_column(String(300), default=TEAMS_MEETING)
    deadline: Mapped[datetime] = mapped_column(index=True)  # answers accepted before this, UTC
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    creator_id: Mapped[str] = mapped_column(String(400))
    creator_aad: Mapped[str | None] = mapped_column(String(64))
    creator_name: Mapped[str] = mapped_column(String(200), default="")
    # The shared card in the group's chat, updated in place.
    conversation_id: Mapped[str | None] = mapped_column(String(400))
    activity_id: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=0)
    result_sent_at: Mapped[datetime | None]  # the result was claimed for sending (a lease)
    result_delivered_at: Mapped[datetime | None]  # ... and reached the coordinator
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Slot(Base):
    __tablename__ = "poll_slot"
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime]
    end: Mapped[datetime]


class Answer(Base):
    __tablename__ = "poll_answer"
    __table_args__ = (UniqueConstraint("slot_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("poll_slot.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(400))  # Teams user id
    member_aad: Mapped[str | None] = mapped_column(String(64))
    member_name: Mapped[str] = mapped_column(String(200), default="")
    choice: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime]


class Meeting(Base):
    __tablename__ = "poll_meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), unique=True, index=True
    )
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("poll_slot.id", ondelete="SET NULL"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    # The .ics is served at an unguessable URL: the token is the only key to it.
    ics_token: Mapped[str] = mapped_column(String(64), unique=True)
    uid: Mapped[str] = mapped_column(String(100))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PersonalCard(Base):
    """The poll card a member got in their personal chat, kept to update when the poll closes,
    is booked or is cancelled (the latest card sent to them counts)."""

    __tablename__ = "poll_personal_card"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(400))
    conversation_id: Mapped[str] = mapped_column(String(400))
    activity_id: Mapped[str] = mapped_column(String(200))


class AttendeeEmail(Base):
    """A member's e-mail as Teams gave it when the meeting was booked or moved: the .ics lists
    attendees by address (a member without one is left out)."""

    __tablename__ = "poll_attendee_email"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(400))
    email: Mapped[str] = mapped_column(String(320))


@dataclass(frozen=True)
class PersonalCardView:
    user_id: str
    conversation_id: str
    activity_id: str


# --- values handed out of storage ---------------------------------------------------------
Voter = Person  # the one person type (storage/people.py); the old name is kept for the tests


@dataclass(frozen=True)
class NewPoll:
    group_id: int
    group_name: str
    tenant_id: str | None
    title: str
    length_minutes: int
    place: str
    deadline: datetime
    creator: Person
    slots: tuple[tuple[datetime, datetime], ...]


@dataclass(frozen=True)
class SlotView:
    id: int
    position: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class AnswerView:
    slot_id: int
    member: Person
    choice: str


@dataclass(frozen=True)
class MeetingView:
    id: int
    poll_id: int
    start: datetime
    end: datetime
    ics_token: str
    uid: str
    sequence: int
    cancelled: bool


@dataclass(frozen=True)
class Ranked:
    slot: SlotView
    yes: int
    if_needed: int
    no: int


@dataclass(frozen=True)
class PollView:
    id: int
    group_id: int | None
    group_name: str
    tenant_id: str | None
    title: str
    length_minutes: int
    place: str
    deadline: datetime
    status: str
    creator: Person
    conversation_id: str | None
    activity_id: str | None
    version: int
    result_sent: bool
    slots: tuple[SlotView, ...]
    answers: tuple[AnswerView, ...]
    meeting: MeetingView | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def answered(self) -> dict[str, Person]:
        """Who has answered, by user id, in the order they first did."""
        return {a.member.user_id: a.member for a in self.answers}

    def choice_of(self, user_id: str, slot_id: int) -> str | None:
        for answer in self.answers:
            if answer.slot_id == slot_id and answer.member.user_id == user_id:
                return answer.choice
        return None

    def names_by_choice(self, slot_id: int) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {choice: [] for choice in CHOICES}
        for answer in self.answers:
            if answer.slot_id == slot_id:
                found[answer.choice].append(answer.member.name or answer.member.user_id)
        return found

    def ranked(self) -> list[Ranked]:
        """Most Ja first, then most Ja + Om det behövs, then the earliest."""
        rows = []
        for slot in self.slots:
            names = self.names_by_choice(slot.id)
            rows.append(Ranked(slot, len(names[YES]), len(names[IF_NEEDED]), len(names[NO])))
        return sorted(rows, key=lambda r: (-r.yes, -(r.yes + r.if_needed), r.slot.start))

    def slot(self, slot_id: int) -> SlotView | None:
        return next((s for s in self.slots if s.id == slot_id), None)


@dataclass(frozen=True)
class Submitted:
    poll: PollView
    changed: bool  # False when the same answers came again (a re-sent submit)
    first_time: bool  # the member had not answered before


# --- the repository -----------------------------------------------------------------------


class PollRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(self, new: NewPoll, now: datetime) -> PollView:
        with self._sessions.begin() as session:
            row = Poll(
                group_id=new.group_id,
                group_name=new.group_name,
                tenant_id=new.tenant_id,
                title=new.title,
                length_minutes=new.length_minutes,
                place=new.place,
                deadline=new.deadline,
                status=OPEN,
                creator_id=new.creator.user_id,
                creator_aad=new.creator.aad_object_id,
                creator_name=new.creator.name,
                version=0,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            for position, (start, end) in enumerate(sorted(new.slots)):
                session.add(Slot(poll_id=row.id, position=position, start=start, end=end))
            session.flush()
            return _view(session, row)

    def get(self, poll_id: int) -> PollView | None:
        with self._sessions() as session:
            row = session.get(Poll, poll_id)
            return _view(session, row) if row else None

    def version(self, poll_id: int) -> int:
        with self._sessions() as session:
            return session.scalar(select(Poll.version).where(Poll.id == poll_id)) or 0

    def set_card(self, poll_id: int, conversation_id: str, activity_id: str | None) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Poll)
                .where(Poll.id == poll_id)
                .values(conversation_id=conversation_id, activity_id=activity_id)
            )

    def keep_personal_card(
        self, poll_id: int, user_id: str, conversation_id: str, activity_id: str
    ) -> None:
        with self._sessions.begin() as session:
            row = session.scalar(
                select(PersonalCard).where(
                    PersonalCard.poll_id == poll_id, PersonalCard.user_id == user_id
                )
            )
            if row is None:
                session.add(
                    PersonalCard(
                        poll_id=poll_id,
                        user_id=user_id,
                        conversation_id=conversation_id,
                        activity_id=activity_id,
                    )
                )
            else:
                row.conversation_id, row.activity_id = conversation_id, activity_id

    def keep_emails(self, poll_id: int, emails: Mapping[str, str]) -> None:
        """The attendees' addresses as Teams gave them now (replacing what was kept)."""
        with self._sessions.begin() as session:
            session.execute(delete(AttendeeEmail).where(AttendeeEmail.poll_id == poll_id))
            session.add_all(
                AttendeeEmail(poll_id=poll_id, user_id=user_id, email=email[:320])
                for user_id, email in emails.items()
            )

    def emails(self, poll_id: int) -> dict[str, str]:
        with self._sessions() as session:
            rows = session.execute(
                select(AttendeeEmail.user_id, AttendeeEmail.email).where(
                    AttendeeEmail.poll_id == poll_id
                )
            )
            return {user_id: email for user_id, email in rows}

    def personal_cards(self, poll_id: int) -> list[PersonalCardView]:
        with self._sessions() as session:
            rows = session.scalars(
                select(PersonalCard)
                .where(PersonalCard.poll_id == poll_id)
                .order_by(PersonalCard.id)
            )
            return [PersonalCardView(r.user_id, r.conversation_id, r.activity_id) for r in rows]

    def latest_open(
        self, tenant_id: str | None, *, conversation_id: str, user_id: str
    ) -> PollView | None:
        """The newest open poll shown in this chat, else the newest one this person started."""
        return self._latest(OPEN, Poll.created_at, tenant_id, conversation_id, user_id)

    def _latest(
        self,
        status: str,
        newest_first: Any,
        tenant_id: str | None,
        conversation_id: str,
        user_id: str,
    ) -> PollView | None:
        with self._sessions() as session:
            for where in (Poll.conversation_id == conversation_id, Poll.creator_id == user_id):
                row = session.scalars(
                    select(Poll)
                    .where(
                        where, Poll.status == status, Poll.tenant_id.is_not_distinct_from(tenant_id)
                    )
                    .order_by(newest_first.desc(), Poll.id.desc())
                    .limit(1)
                ).first()
                if row is not None:
                    return _view(session, row)
        return None

    def submit(
        self, poll_id: int, member: Person, choices: Mapping[int, str], now: datetime
    ) -> Submitted:
        """Stores one member's answers; an upsert per slot, so a repeat counts once.

        The first statement is the write that also checks the poll is open: on SQLite it takes
        the write lock at once, on PostgreSQL it locks the poll row, so submits to one poll queue
        up for a few milliseconds instead of failing.
        """
        with self._sessions.begin() as session:
            _lock_for_write(session)
            bumped = session.execute(
                update(Poll)
                .where(Poll.id == poll_id, Poll.status == OPEN, Poll.deadline > now)
                .values(version=Poll.version + 1, updated_at=now)
            )
            if rowcount(bumped) != 1:
                row = session.get(Poll, poll_id)
                if row is None:
                    raise PollNotFound(str(poll_id))
                raise PollClosed(_view(session, row))
            slot_ids = set(session.scalars(select(Slot.id).where(Slot.poll_id == poll_id)))
            existing = {
                a.slot_id: a
                for a in session.scalars(
                    select(Answer).where(
                        Answer.poll_id == poll_id, Answer.member_id == member.user_id
                    )
                )
            }
            changed = False
            rows = []
            for slot_id, choice in choices.items():
                if slot_id not in slot_ids or choice not in CHOICES:
                    continue
                before = existing.get(slot_id)
                if before is not None and before.choice == choice:
                    continue
                changed = True
                rows.append(
                    {
                        "poll_id": poll_id,
                        "slot_id": slot_id,
                        "member_id": member.user_id,
                        "member_aad": member.aad_object_id,
                        "member_name": member.name,
                        "choice": choice,
                        "answered_at": now,
                    }
                )
            if rows:
                _upsert_answers(session, rows)
            row = session.get_one(Poll, poll_id)
            session.refresh(row)
            return Submitted(_view(session, row), changed=changed, first_time=not existing)

    def claim_result(self, poll_id: int, now: datetime) -> PollView | None:
        """The one caller that gets to send the result early (everyone has answered)."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Poll)
                .where(Poll.id == poll_id, Poll.status == OPEN, Poll.result_sent_at.is_(None))
                .values(result_sent_at=now)
            )
            if rowcount(result) != 1:
                return None
            return _view(session, session.get_one(Poll, poll_id))

    def mark_result_delivered(self, poll_id: int, now: datetime) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Poll)
                .where(Poll.id == poll_id, Poll.result_delivered_at.is_(None))
                .values(result_delivered_at=now)
            )

    def results_to_resend(self, now: datetime, lease: timedelta) -> list[PollView]:
        """Results claimed but never delivered (a crash, Teams down) whose claim is older than
        ``lease``: each is claimed again here by exactly one caller, who sends it."""
        stale = now - lease
        with self._sessions() as session:
            due = list(
                session.scalars(
                    select(Poll.id).where(
                        Poll.status.in_((OPEN, CLOSED)),
                        Poll.result_sent_at <= stale,
                        Poll.result_delivered_at.is_(None),
                    )
                )
            )
        claimed: list[PollView] = []
        for poll_id in due:
            with self._sessions.begin() as session:
                result = session.execute(
                    update(Poll)
                    .where(
                        Poll.id == poll_id,
                        Poll.status.in_((OPEN, CLOSED)),
                        Poll.result_sent_at <= stale,
                        Poll.result_delivered_at.is_(None),
                    )
                    .values(result_sent_at=now)
                )
                if rowcount(result) == 1:
                    claimed.append(_view(session, session.get_one(Poll, poll_id)))
        return claimed

    def close_due(self, now: datetime) -> list[tuple[PollView, bool]]:
        """Closes every open poll whose deadline has passed: (poll, result still to be sent).

        Each poll is closed by exactly one caller, so the result goes out once.
        """
        with self._sessions() as session:
            due = list(
                session.scalars(
                    select(Poll.id)
                    .where(Poll.status == OPEN, Poll.deadline <= now)
                    .order_by(Poll.deadline)
                )
            )
        closed: list[tuple[PollView, bool]] = []
        for poll_id in due:
            with self._sessions.begin() as session:
                _lock_for_write(session)
                row = session.get(Poll, poll_id, with_for_update=True)
                if row is None or row.status != OPEN:
                    continue  # another process closed it
                needs_result = row.result_sent_at is None
                row.status = CLOSED
                row.version += 1
                row.updated_at = now
                row.result_sent_at = row.result_sent_at or now
                session.flush()
                closed.append((_view(session, row), needs_result))
        return closed

    def next_deadline(self) -> datetime | None:
        with self._sessions() as session:
            return session.scalar(
                select(Poll.deadline).where(Poll.status == OPEN).order_by(Poll.deadline).limit(1)
            )

    def latest_active(
        self, tenant_id: str | None, *, conversation_id: str, user_id: str
    ) -> PollView | None:
        """The newest poll not cancelled, shown in this chat, else started by this person."""
        with self._sessions() as session:
            for where in (Poll.conversation_id == conversation_id, Poll.creator_id == user_id):
                row = session.scalars(
                    select(Poll)
                    .where(
                        where,
                        Poll.status != CANCELLED,
                        Poll.tenant_id.is_not_distinct_from(tenant_id),
                    )
                    .order_by(Poll.created_at.desc(), Poll.id.desc())
                    .limit(1)
                ).first()
                if row is not None:
                    return _view(session, row)
        return None

    def book(self, poll_id: int, slot_id: int, now: datetime) -> tuple[PollView, bool]:
        """Books a slot; (poll, True) the first time, (poll, False) for a repeated press."""
        with self._sessions.begin() as session:
            _lock_for_write(session)
            row = session.get(Poll, poll_id, with_for_update=True)
            if row is None:
                raise PollNotFound(str(poll_id))
            meeting = session.scalars(select(Meeting).where(Meeting.poll_id == poll_id)).first()
            if meeting is not None and meeting.cancelled_at is None:
                if meeting.slot_id == slot_id:
                    return _view(session, row), False
                raise AlreadyBooked(_view(session, row), _meeting_view(meeting))
            if row.status == CANCELLED:
                raise PollClosed(_view(session, row))
            slot = session.get(Slot, slot_id)
            if slot is None or slot.poll_id != poll_id:
                raise PollNotFound(f"{poll_id}/{slot_id}")
            if meeting is None:
                meeting = Meeting(
                    poll_id=poll_id,
                    ics_token=secrets.token_urlsafe(32),
                    uid=f"{uuid.uuid4()}@natverksboten",
                    sequence=0,
                    created_at=now,
                    start=slot.start,
                    end=slot.end,
                    slot_id=slot.id,
                    updated_at=now,
                )
                session.add(meeting)
            else:  # booked, cancelled, and now booked again: same UID, a newer SEQUENCE
                meeting.sequence += 1
                meeting.cancelled_at = None
                meeting.start, meeting.end, meeting.slot_id = slot.start, slot.end, slot.id
                meeting.updated_at = now
            row.status = BOOKED
            row.version += 1
            row.updated_at = now
            if row.result_sent_at is None:
                row.result_sent_at = now
            session.flush()
            return _view(session, row), True

    def cancel(self, poll_id: int, now: datetime) -> PollView:
        """Cancels the poll and its meeting, if one was booked (the .ics then says CANCELLED)."""
        with self._sessions.begin() as session:
            _lock_for_write(session)
            row = session.get(Poll, poll_id, with_for_update=True)
            if row is None:
                raise PollNotFound(str(poll_id))
            if row.status == CANCELLED:
                raise PollClosed(_view(session, row))
            meeting = session.scalars(select(Meeting).where(Meeting.poll_id == poll_id)).first()
            if meeting is not None and meeting.cancelled_at is None:
                meeting.cancelled_at = now
                meeting.sequence += 1
                meeting.updated_at = now
            row.status = CANCELLED
            row.version += 1
            row.updated_at = now
            session.flush()
            return _view(session, row)

    def move(self, poll_id: int, start: datetime, end: datetime, now: datetime) -> PollView:
        """Moves the booked meeting; the .ics keeps its UID with a higher SEQUENCE."""
        with self._sessions.begin() as session:
            _lock_for_write(session)
            row = session.get(Poll, poll_id, with_for_update=True)
            if row is None:
                raise PollNotFound(str(poll_id))
            meeting = session.scalars(select(Meeting).where(Meeting.poll_id == poll_id)).first()
            if row.status != BOOKED or meeting is None or meeting.cancelled_at is not None:
                raise PollClosed(_view(session, row))
            meeting.start, meeting.end, meeting.slot_id = start, end, None
            for slot in session.scalars(select(Slot).where(Slot.poll_id == poll_id)):
                if slot.start == start and slot.end == end:
                    meeting.slot_id = slot.id
            meeting.sequence += 1
            meeting.updated_at = now
            row.version += 1
            row.updated_at = now
            session.flush()
            return _view(session, row)

    def by_token(self, token: str) -> PollView | None:
        with self._sessions() as session:
            meeting = session.scalars(select(Meeting).where(Meeting.ics_token == token)).first()
            if meeting is None:
                return None
            return _view(session, session.get_one(Poll, meeting.poll_id))

    def booked_meetings(
        self, group_id: int, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The group's booked meetings overlapping [start, end): proposals must avoid them."""
        with self._sessions() as session:
            rows = session.execute(
                select(Meeting.start, Meeting.end)
                .join(Poll, Poll.id == Meeting.poll_id)
                .where(
                    Poll.group_id == group_id,
                    Poll.status == BOOKED,
                    Meeting.cancelled_at.is_(None),
                    Meeting.start < end,
                    Meeting.end > start,
                )
            ).all()
            return [(r.start, r.end) for r in rows]

    def purge_older_than(self, cutoff: datetime) -> int:
        """Forgets polls finished before `cutoff` (answers, slots and meeting go with them):
        cancelled or closed ones last changed then, booked ones whose meeting ended then."""
        with self._sessions.begin() as session:
            ended = select(Meeting.poll_id).where(Meeting.end < cutoff)
            result = session.execute(
                delete(Poll)
                .where(
                    Poll.updated_at < cutoff,
                    (Poll.status.in_([CANCELLED, CLOSED]))
                    | ((Poll.status == BOOKED) & Poll.id.in_(ended)),
                )
                .execution_options(synchronize_session=False)
            )
            return rowcount(result)


def _upsert_answers(session: Session, rows: list[dict[str, object]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        on_pg = pg_insert(Answer).values(rows)
        session.execute(on_pg.on_conflict_do_update(**_answer_conflict(on_pg.excluded)))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        on_sqlite = sqlite_insert(Answer).values(rows)
        session.execute(on_sqlite.on_conflict_do_update(**_answer_conflict(on_sqlite.excluded)))


def _answer_conflict(excluded: Any) -> dict[str, Any]:
    """A member's second answer to a slot replaces the first (both dialects say it alike)."""
    return {
        "index_elements": [Answer.slot_id, Answer.member_id],
        "set_": {
            "choice": excluded.choice,
            "answered_at": excluded.answered_at,
            "member_name": excluded.member_name,
            "member_aad": excluded.member_aad,
        },
    }


def _lock_for_write(session: Session) -> None:
    """On SQLite, take the write lock up front: a read that later upgrades to a write fails with
    SQLITE_BUSY when another connection wrote in between (WAL snapshots)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _meeting_view(row: Meeting) -> MeetingView:
    return MeetingView(
        id=row.id,
        poll_id=row.poll_id,
        start=row.start,
        end=row.end,
        ics_token=row.ics_token,
        uid=row.uid,
        sequence=row.sequence,
        cancelled=row.cancelled_at is not None,
    )


def _view(session: Session, row: Poll) -> PollView:
    slots = tuple(
        SlotView(s.id, s.position, s.start, s.end)
        for s in session.scalars(
            select(Slot).where(Slot.poll_id == row.id).order_by(Slot.position, Slot.id)
        )
    )
    answers = tuple(
        AnswerView(a.slot_id, Person(a.member_id, a.member_name, a.member_aad), a.choice)
        for a in session.scalars(
            select(Answer).where(Answer.poll_id == row.id).order_by(Answer.answered_at, Answer.id)
        )
    )
    meeting = session.scalars(select(Meeting).where(Meeting.poll_id == row.id)).first()
    return PollView(
        id=row.id,
        group_id=row.group_id,
        group_name=row.group_name,
        tenant_id=row.tenant_id,
        title=row.title,
        length_minutes=row.length_minutes,
        place=row.place,
        deadline=row.deadline,
        status=row.status,
        creator=Person(row.creator_id, row.creator_name, row.creator_aad),
        conversation_id=row.conversation_id,
        activity_id=row.activity_id,
        version=row.version,
        result_sent=row.result_sent_at is not None,
        slots=slots,
        answers=answers,
        meeting=_meeting_view(meeting) if meeting else None,
    )
