"""Deadlines: a named day for a working group, its members and who has said "klar".

A `Deadline` owns one `Reminder` per nudge (kind DEADLINE_NUDGE, sent to the members not done)
and one for the owner's summary (DEADLINE_SUMMARY); the reminder pipeline (storage/reminders.py)
expands and sends those like any other reminder. This module keeps the deadline's own rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage.groups import name_key
from storage.models import Base
from storage.reminder_rows import (
    DEADLINE_NUDGE,
    DEADLINE_SUMMARY,
    GROUP,
    PERSON,
    Person,
    Reminder,
    ReminderRules,
)

__all__ = ["Deadline", "DeadlineMember", "DeadlineRepository", "DeadlineView"]


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
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


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


class DeadlineRepository:
    def __init__(self, sessions: sessionmaker[Session], rules: ReminderRules) -> None:
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
    ) -> DeadlineView:
        """Stores a deadline, its members and one reminder per nudge plus the summary after."""
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
            for at in self._rules.deadline_nudge_times(day, schedule, hour):
                if at <= now:
                    continue  # a nudge whose moment has passed is not sent late
                session.add(
                    Reminder(
                        kind=DEADLINE_NUDGE,
                        tenant_id=tenant_id,
                        owner_id=owner.user_id,
                        owner_aad=owner.aad_object_id,
                        owner_name=owner.name,
                        audience=GROUP,
                        group_id=group_id,
                        group_name=group_name,
                        deadline_id=row.id,
                        text=name,
                        due_at=at,
                        created_in=conversation_id,
                        created_at=now,
                    )
                )
            session.add(
                Reminder(
                    kind=DEADLINE_SUMMARY,
                    tenant_id=tenant_id,
                    owner_id=owner.user_id,
                    owner_aad=owner.aad_object_id,
                    owner_name=owner.name,
                    audience=PERSON,
                    person_id=owner.user_id,
                    person_aad=owner.aad_object_id,
                    person_name=owner.name,
                    deadline_id=row.id,
                    text=name,
                    due_at=self._rules.deadline_summary_time(day, hour),
                    created_in=conversation_id,
                    created_at=now,
                )
            )
            session.flush()
            return _view(session, row)

    def get(self, deadline_id: int) -> DeadlineView | None:
        with self._sessions() as session:
            row = session.get(Deadline, deadline_id)
            return _view(session, row) if row else None

    def find(self, name: str, tenant_id: str | None) -> DeadlineView | None:
        key = name_key(name)
        with self._sessions() as session:
            rows = session.execute(
                select(Deadline.id, Deadline.name_key)
                .where(Deadline.tenant_key == (tenant_id or ""))
                .order_by(Deadline.day.desc())
            ).all()
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

    def open_for(self, user_id: str, today: date) -> list[DeadlineView]:
        """Deadlines (not long past) where the person has not said "klar" yet."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Deadline)
                .join(DeadlineMember, DeadlineMember.deadline_id == Deadline.id)
                .where(
                    DeadlineMember.user_id == user_id,
                    DeadlineMember.done_at.is_(None),
                    Deadline.day >= today - timedelta(days=7),
                    Deadline.closed_at.is_(None),
                )
                .order_by(Deadline.day)
            )
            return [_view(session, row) for row in rows]

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
            return _count(result) == 1

    def is_done(self, deadline_id: int, user_id: str) -> bool:
        with self._sessions() as session:
            done_at = session.scalar(
                select(DeadlineMember.done_at).where(
                    DeadlineMember.deadline_id == deadline_id, DeadlineMember.user_id == user_id
                )
            )
            return done_at is not None


def _count(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (CursorResult.rowcount; typed as plain Result)."""
    return int(getattr(result, "rowcount", 0) or 0)


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
        schedule=tuple(int(d) for d in row.schedule.split(",") if d.strip()),
        hour=row.hour,
        done=tuple(Person(m.user_id, m.name, m.aad_object_id) for m in members if m.done_at),
        not_done=tuple(
            Person(m.user_id, m.name, m.aad_object_id) for m in members if not m.done_at
        ),
    )
