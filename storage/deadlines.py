"""Deadlines: a named day for a working group, its members and who has said "klar".

A `Deadline` owns one `Reminder` per nudge (kind DEADLINE_NUDGE, sent to the members not done)
and one for the owner's summary (DEADLINE_SUMMARY); the reminder pipeline (storage/reminders.py)
expands and sends those like any other reminder, and closes the deadline when its summary is
expanded. This module keeps the deadline's own rows: registering, moving (the nudges still to
come are replaced, "klar" answers kept), cancelling (members told once, in the same
transaction), members joining and leaving with their group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from rapidfuzz import fuzz, process
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage.db import rowcount
from storage.groups import name_key
from storage.models import Base
from storage.reminder_rows import (
    DEADLINE_NUDGE,
    DEADLINE_SUMMARY,
    GROUP,
    NOTICE,
    PERSON,
    Delivery,
    Person,
    Reminder,
)

__all__ = [
    "Deadline",
    "DeadlineClosed",
    "DeadlineMember",
    "DeadlineRepository",
    "DeadlineRules",
    "DeadlineView",
]


class DeadlineClosed(Exception):
    """The deadline was cancelled or has been summed up: it can no longer be moved."""


class DeadlineRules(Protocol):
    """When a deadline's nudges and summary go out; scheduler/timing.py decides (ReminderTiming)."""

    def deadline_nudges(
        self,
        day: date,
        schedule: Sequence[int],
        hour: int,
        now: datetime,
        due_at: datetime | None,
    ) -> list[datetime]: ...

    def deadline_summary_time(self, day: date, hour: int) -> datetime: ...


class Deadline(Base):
    __tablename__ = "deadline"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    tenant_key: Mapped[str] = mapped_column(String(64), default="")
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_group.id", ondelete="SET NULL")
    )
    group_name: Mapped[str] = mapped_column(String(200), default="")
    owner_id: Mapped[str] = mapped_column(String(400))
    owner_aad: Mapped[str | None] = mapped_column(String(64))
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    conversation_id: Mapped[str | None] = mapped_column(String(400))
    day: Mapped[date]
    schedule: Mapped[str] = mapped_column(String(100))  # days before, e.g. "14,3,1,0"
    hour: Mapped[int] = mapped_column(Integer, default=8)
    # the moment on the day when a time was given ("imorgon kl 12"), UTC; None: the whole day
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]  # summed up or cancelled: no longer open
    cancelled_at: Mapped[datetime | None]


class DeadlineMember(Base):
    __tablename__ = "deadline_member"
    __table_args__ = (UniqueConstraint("deadline_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(
        ForeignKey("deadline.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(400))
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    done_at: Mapped[datetime | None]


@dataclass(frozen=True)
class DeadlineView:
    id: int
    name: str
    day: date
    group_id: int | None
    group_name: str
    owner: Person
    conversation_id: str | None
    schedule: tuple[int, ...]
    hour: int
    done: tuple[Person, ...] = field(default=())
    not_done: tuple[Person, ...] = field(default=())
    due_at: datetime | None = None  # a time on the day, if one was given
    nudges: tuple[datetime, ...] = ()  # the nudges still to be sent, soonest first
    summary_at: datetime | None = None  # when the owner's summary goes out, if still ahead
    is_open: bool = True
    is_cancelled: bool = False

    def has_member(self, user_id: str, aad_object_id: str | None = None) -> bool:
        """Done or not, by Teams user id or AAD object id."""
        return any(
            p.user_id == user_id or (aad_object_id and p.aad_object_id == aad_object_id)
            for p in (*self.done, *self.not_done)
        )


class DeadlineRepository:
    def __init__(self, sessions: sessionmaker[Session], rules: DeadlineRules) -> None:
        self._sessions = sessions
        self._rules = rules

    def add(
        self,
        *,
        name: str,
        day: date,
        tenant_id: str | None,
        group_id: int | None,
        group_name: str,
        owner: Person,
        conversation_id: str | None,
        members: Sequence[Person],
        schedule: Sequence[int],
        hour: int,
        now: datetime,
        due_at: datetime | None = None,
    ) -> DeadlineView:
        """Stores a deadline, its members and one reminder per nudge still ahead plus the
        summary after."""
        with self._sessions.begin() as session:
            row = Deadline(
                name=name,
                name_key=name_key(name),
                tenant_key=tenant_id or "",
                group_id=group_id,
                group_name=group_name,
                owner_id=owner.user_id,
                owner_aad=owner.aad_object_id,
                owner_name=owner.name,
                conversation_id=conversation_id,
                day=day,
                schedule=",".join(str(d) for d in schedule),
                hour=hour,
                due_at=due_at,
                created_at=now,
            )
            session.add(row)
            session.flush()
            for member in {m.user_id: m for m in members}.values():
                session.add(
                    DeadlineMember(
                        deadline_id=row.id,
                        user_id=member.user_id,
                        aad_object_id=member.aad_object_id,
                        name=member.name,
                    )
                )
            self._schedule(session, row, now)
            session.flush()
            return _view(session, row)

    def _schedule(self, session: Session, row: Deadline, now: datetime) -> None:
        """One reminder per nudge still ahead, and the owner's summary the morning after."""
        schedule = _schedule_of(row)
        common = {
            "tenant_id": row.tenant_key or None,
            "owner_id": row.owner_id,
            "owner_aad": row.owner_aad,
            "owner_name": row.owner_name,
            "deadline_id": row.id,
            "text": row.name,
            "created_in": row.conversation_id,
            "created_at": now,
        }
        for at in self._rules.deadline_nudges(row.day, schedule, row.hour, now, row.due_at):
            session.add(
                Reminder(
                    kind=DEADLINE_NUDGE,
                    audience=GROUP,
                    group_id=row.group_id,
                    group_name=row.group_name,
                    due_at=at,
                    **common,
                )
            )
        session.add(
            Reminder(
                kind=DEADLINE_SUMMARY,
                audience=PERSON,
                person_id=row.owner_id,
                person_aad=row.owner_aad,
                person_name=row.owner_name,
                due_at=self._rules.deadline_summary_time(row.day, row.hour),
                **common,
            )
        )
        session.flush()

    def move(
        self, deadline_id: int, day: date, due_at: datetime | None, now: datetime
    ) -> DeadlineView:
        """A new day (and time): the nudges and summary still to come are replaced by the new
        day's; who has said "klar" stays."""
        with self._sessions.begin() as session:
            row = _locked(session, deadline_id)
            if row is None or row.closed_at is not None:
                raise DeadlineClosed(str(deadline_id))
            _stop_pending(session, row.id, now)
            row.day = day
            row.due_at = due_at
            self._schedule(session, row, now)
            return _view(session, row)

    def cancel(self, deadline_id: int, notice: str, now: datetime) -> DeadlineView | None:
        """Closes the deadline and stops its nudges; each member is told (`notice`) once,
        through the reminder pipeline. None if it was closed already (nobody is told twice)."""
        with self._sessions.begin() as session:
            row = _locked(session, deadline_id)
            if row is None or row.closed_at is not None:
                return None
            _stop_pending(session, row.id, now)
            row.closed_at = row.cancelled_at = now
            members = session.scalars(
                select(DeadlineMember).where(DeadlineMember.deadline_id == row.id)
            )
            for member in members:
                session.add(
                    Reminder(
                        kind=NOTICE,
                        tenant_id=row.tenant_key or None,
                        owner_id=row.owner_id,
                        owner_aad=row.owner_aad,
                        owner_name=row.owner_name,
                        audience=PERSON,
                        person_id=member.user_id,
                        person_aad=member.aad_object_id,
                        person_name=member.name,
                        text=notice,
                        due_at=now,
                        created_in=row.conversation_id,
                        created_at=now,
                    )
                )
            session.flush()
            return _view(session, row)

    def open_named(self, name: str, group_id: int) -> DeadlineView | None:
        """The group's open deadline of exactly this name (as names compare), if any."""
        with self._sessions() as session:
            row = session.scalar(
                select(Deadline)
                .where(
                    Deadline.group_id == group_id,
                    Deadline.name_key == name_key(name),
                    Deadline.closed_at.is_(None),
                )
                .order_by(Deadline.id.desc())
                .limit(1)
            )
            return _view(session, row) if row else None

    def listing(
        self,
        tenant_id: str | None,
        *,
        person: Person | None = None,
        group_id: int | None = None,
    ) -> list[DeadlineView]:
        """Open deadlines, soonest first: a person's (set by them or theirs to finish), a
        group's, or (neither given) every one in the tenant."""
        query = select(Deadline).where(
            Deadline.tenant_key == (tenant_id or ""), Deadline.closed_at.is_(None)
        )
        if group_id is not None:
            query = query.where(Deadline.group_id == group_id)
        if person is not None:
            same = DeadlineMember.user_id == person.user_id
            if person.aad_object_id:
                same = or_(same, DeadlineMember.aad_object_id == person.aad_object_id)
            member = select(DeadlineMember.id).where(
                DeadlineMember.deadline_id == Deadline.id, same
            )
            query = query.where(or_(Deadline.owner_id == person.user_id, member.exists()))
        with self._sessions() as session:
            rows = session.scalars(query.order_by(Deadline.day, Deadline.id))
            return [_view(session, row) for row in rows]

    def nudged(self, user_id: str, *, today: date) -> list[DeadlineView]:
        """The open deadlines the person has been nudged about and not yet finished: what a
        plain "klar" in the personal chat can mean."""
        sent = (
            select(Delivery.id)
            .join(Reminder, Reminder.id == Delivery.reminder_id)
            .where(
                Reminder.deadline_id == Deadline.id,
                Reminder.kind == DEADLINE_NUDGE,
                Delivery.recipient == user_id,
                Delivery.delivered_at.is_not(None),
            )
        )
        with self._sessions() as session:
            rows = session.scalars(
                select(Deadline)
                .join(DeadlineMember, DeadlineMember.deadline_id == Deadline.id)
                .where(
                    DeadlineMember.user_id == user_id,
                    DeadlineMember.done_at.is_(None),
                    Deadline.closed_at.is_(None),
                    Deadline.day >= today - timedelta(days=7),
                    sent.exists(),
                )
                .order_by(Deadline.day, Deadline.id)
            )
            return [_view(session, row) for row in rows]

    def nudged_by(self, activity_id: str, user_id: str) -> DeadlineView | None:
        """The deadline of the nudge this person received as activity `activity_id`."""
        with self._sessions() as session:
            deadline_id = session.scalar(
                select(Reminder.deadline_id)
                .join(Delivery, Delivery.reminder_id == Reminder.id)
                .where(
                    Delivery.activity_id == activity_id,
                    Delivery.recipient == user_id,
                    Reminder.kind == DEADLINE_NUDGE,
                )
                .limit(1)
            )
            row = session.get(Deadline, deadline_id) if deadline_id else None
            return _view(session, row) if row else None

    def join(self, group_id: int, people: Sequence[Person]) -> int:
        """People added to a group join its open deadlines; returns how many places were made."""
        with self._sessions.begin() as session:
            open_ids = list(
                session.scalars(
                    select(Deadline.id).where(
                        Deadline.group_id == group_id, Deadline.closed_at.is_(None)
                    )
                )
            )
            added = 0
            for deadline_id in open_ids:
                present = set(
                    session.scalars(
                        select(DeadlineMember.user_id).where(
                            DeadlineMember.deadline_id == deadline_id
                        )
                    )
                )
                for person in {p.user_id: p for p in people}.values():
                    if person.user_id in present:
                        continue
                    session.add(
                        DeadlineMember(
                            deadline_id=deadline_id,
                            user_id=person.user_id,
                            aad_object_id=person.aad_object_id,
                            name=person.name,
                        )
                    )
                    added += 1
            return added

    def leave(self, group_id: int, user_ids: Sequence[str]) -> int:
        """People removed from a group leave its open deadlines (and get no more nudges)."""
        with self._sessions.begin() as session:
            open_ids = select(Deadline.id).where(
                Deadline.group_id == group_id, Deadline.closed_at.is_(None)
            )
            result = session.execute(
                delete(DeadlineMember).where(
                    DeadlineMember.deadline_id.in_(open_ids),
                    DeadlineMember.user_id.in_(list(user_ids)),
                )
            )
            return rowcount(result)

    def get(self, deadline_id: int) -> DeadlineView | None:
        with self._sessions() as session:
            row = session.get(Deadline, deadline_id)
            return _view(session, row) if row else None

    def find(
        self,
        name: str,
        tenant_id: str | None,
        *,
        member: str | None = None,
        group_id: int | None = None,
    ) -> DeadlineView | None:
        """The deadline whose name is closest to `name` (the newest of equals); with `member`
        (a Teams user id) only among that person's deadlines, with `group_id` a group's."""
        key = name_key(name)
        query = select(Deadline.id, Deadline.name_key).where(
            Deadline.tenant_key == (tenant_id or "")
        )
        if group_id is not None:
            query = query.where(Deadline.group_id == group_id)
        if member is not None:
            query = query.where(
                select(DeadlineMember.id)
                .where(DeadlineMember.deadline_id == Deadline.id, DeadlineMember.user_id == member)
                .exists()
            )
        with self._sessions() as session:
            rows = session.execute(query.order_by(Deadline.day.desc())).all()
            choices = {r.id: r.name_key for r in rows}
            exact = [i for i, k in choices.items() if k == key]
            if exact:
                found = exact[0]
            else:
                best = process.extractOne(key, choices, scorer=fuzz.WRatio, score_cutoff=80)
                if best is None:
                    return None
                found = best[2]
            row = session.get(Deadline, found)
            return _view(session, row) if row else None

    def mark_done(self, deadline_id: int, user_id: str, now: datetime) -> bool:
        """True if the person is a member and was not done before."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(DeadlineMember)
                .where(
                    DeadlineMember.deadline_id == deadline_id,
                    DeadlineMember.user_id == user_id,
                    DeadlineMember.done_at.is_(None),
                )
                .values(done_at=now)
            )
            return rowcount(result) == 1

    def is_done(self, deadline_id: int, user_id: str) -> bool:
        with self._sessions() as session:
            done_at = session.scalar(
                select(DeadlineMember.done_at).where(
                    DeadlineMember.deadline_id == deadline_id, DeadlineMember.user_id == user_id
                )
            )
            return done_at is not None


def _schedule_of(row: Deadline) -> tuple[int, ...]:
    return tuple(int(d) for d in row.schedule.split(",") if d.strip())


def _locked(session: Session, deadline_id: int) -> Deadline | None:
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    return session.get(Deadline, deadline_id, with_for_update=True)


def _stop_pending(session: Session, deadline_id: int, now: datetime) -> None:
    """The deadline's nudges and summary not yet due are cancelled, and deliveries of them
    not yet sent are dropped."""
    pending = list(
        session.scalars(
            select(Reminder.id).where(
                Reminder.deadline_id == deadline_id,
                Reminder.kind.in_([DEADLINE_NUDGE, DEADLINE_SUMMARY]),
                Reminder.cancelled_at.is_(None),
            )
        )
    )
    if not pending:
        return
    session.execute(
        update(Reminder)
        .where(Reminder.id.in_(pending), Reminder.due_at.is_not(None))
        .values(cancelled_at=now, due_at=None)
    )
    session.execute(
        update(Delivery)
        .where(Delivery.reminder_id.in_(pending), Delivery.pending.is_(True))
        .values(pending=False, dropped_at=now, leased_until=None, error="deadline changed")
    )


def _view(session: Session, row: Deadline) -> DeadlineView:
    members = list(
        session.scalars(
            select(DeadlineMember)
            .where(DeadlineMember.deadline_id == row.id)
            .order_by(DeadlineMember.name, DeadlineMember.id)
        )
    )
    return DeadlineView(
        id=row.id,
        name=row.name,
        day=row.day,
        group_id=row.group_id,
        group_name=row.group_name,
        owner=Person(row.owner_id, row.owner_name, row.owner_aad),
        conversation_id=row.conversation_id,
        schedule=_schedule_of(row),
        hour=row.hour,
        done=tuple(Person(m.user_id, m.name, m.aad_object_id) for m in members if m.done_at),
        not_done=tuple(
            Person(m.user_id, m.name, m.aad_object_id) for m in members if not m.done_at
        ),
        due_at=row.due_at,
        nudges=tuple(
            session.scalars(
                select(Reminder.due_at)
                .where(
                    Reminder.deadline_id == row.id,
                    Reminder.kind == DEADLINE_NUDGE,
                    Reminder.due_at.is_not(None),
                )
                .order_by(Reminder.due_at)
            )
        ),
        summary_at=session.scalar(
            select(Reminder.due_at).where(
                Reminder.deadline_id == row.id,
                Reminder.kind == DEADLINE_SUMMARY,
                Reminder.due_at.is_not(None),
            )
        ),
        is_open=row.closed_at is None,
        is_cancelled=row.cancelled_at is not None,
    )
