"""The rows of the reminder pipeline and the values storage hands out of them.

Kinds and audiences, the tables (`Reminder`, `Delivery`, `TopicWatch`; a deadline's own rows are
in storage/deadlines.py), the frozen values callers get (`NewReminder`, `DueDelivery`, ...) and
the rules storage is handed (`ReminderRules`). The repository that works on them is
storage/reminders.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base
from storage.people import Person as Person  # re-exported: reminders take it from here

# Kinds of reminder.
PLAIN = "reminder"
DEADLINE_NUDGE = "deadline"
DEADLINE_SUMMARY = "deadline_summary"
MEETING = "meeting"
NOTICE = "notice"  # a message from the bot itself: a failed delivery, a watched course
# To the organiser: the next occurrence of a recurring group reminder falls on a day off.
DAY_OFF = "day_off"

# Choices for an occurrence on a day off.
EARLIER, LATER, SKIP, KEEP = "earlier", "later", "skip", "keep"

# Audiences.
PERSON = "person"  # one person, in their personal chat
CONVERSATION = "conversation"  # posted in one chat or channel
GROUP = "group"  # each member of a working group, personally


class Reminder(Base):
    __tablename__ = "reminder"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default=PLAIN)
    # An outside key (e.g. "meeting:12:before") so other capabilities can cancel or move theirs.
    key: Mapped[str | None] = mapped_column(String(200), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[str] = mapped_column(String(400), index=True)
    owner_aad: Mapped[str | None] = mapped_column(String(64))
    owner_name: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(400))
    person_id: Mapped[str | None] = mapped_column(String(400))
    person_aad: Mapped[str | None] = mapped_column(String(64))
    person_name: Mapped[str | None] = mapped_column(String(200))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_group.id", ondelete="SET NULL"), index=True
    )
    group_name: Mapped[str | None] = mapped_column(String(200))
    deadline_id: Mapped[int | None] = mapped_column(
        ForeignKey("deadline.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(index=True)  # next occurrence, UTC
    rrule: Mapped[str | None] = mapped_column(Text)
    rrule_description: Mapped[str | None] = mapped_column(String(200))
    series_start: Mapped[datetime | None]
    meeting_start: Mapped[datetime | None]
    created_in: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class Delivery(Base):
    """One occurrence of a reminder for one recipient, and how its sending went."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("reminder_id", "due_at", "recipient"),
        Index("ix_delivery_pending_next", "pending", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminder.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    recipient: Mapped[str] = mapped_column(String(400))  # user id, or "conv:<conversation id>"
    recipient_aad: Mapped[str | None] = mapped_column(String(64))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    conversation_id: Mapped[str | None] = mapped_column(String(400))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    pending: Mapped[bool] = mapped_column(Boolean, default=True)
    next_attempt_at: Mapped[datetime]
    leased_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    dropped_at: Mapped[datetime | None]
    # Not sent on purpose: a nudge whose moment passed while the bot was down and no longer
    # helps, or an occurrence its organiser called off (`error` says which).
    skipped_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(400))
    activity_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ReminderMute(Base):
    """A member who no longer wants a group's reminder; the rest of the group still gets it."""

    __tablename__ = "reminder_mute"
    __table_args__ = (UniqueConstraint("reminder_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        ForeignKey("reminder.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(400))
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class OccurrenceChoice(Base):
    """What the organiser chose for one occurrence of a recurring reminder that falls on a day
    off: moved to the working day before or after (a one-off copy is sent then), called off,
    or kept. One choice per occurrence: a second press finds the first."""

    __tablename__ = "occurrence_choice"
    __table_args__ = (UniqueConstraint("reminder_id", "occurrence"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        ForeignKey("reminder.id", ondelete="CASCADE"), index=True
    )
    occurrence: Mapped[datetime]
    choice: Mapped[str] = mapped_column(String(16))  # earlier | later | skip | keep
    moved_to: Mapped[datetime | None]
    decided_by: Mapped[str] = mapped_column(String(400))
    decided_at: Mapped[datetime]


class TopicWatch(Base):
    __tablename__ = "topic_watch"
    __table_args__ = (UniqueConstraint("user_id", "topic_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(400), index=True)
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(400))
    topic: Mapped[str] = mapped_column(String(200))
    topic_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


# --- values handed out of storage ---------------------------------------------------------


@dataclass(frozen=True)
class NewReminder:
    owner: Person
    audience: str
    text: str
    due_at: datetime
    kind: str = PLAIN
    tenant_id: str | None = None
    conversation_id: str | None = None
    person: Person | None = None
    group_id: int | None = None
    group_name: str | None = None
    deadline_id: int | None = None
    rrule: str | None = None
    rrule_description: str | None = None
    meeting_start: datetime | None = None
    created_in: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class ReminderView:
    id: int
    kind: str
    audience: str
    text: str
    due_at: datetime | None
    owner_id: str
    conversation_id: str | None
    group_name: str | None
    person_name: str | None
    rrule: str | None
    rrule_description: str | None
    meeting_start: datetime | None
    deadline_id: int | None
    group_id: int | None = None
    owner_name: str = ""
    series_start: datetime | None = None
    cancelled: bool = False

    @property
    def is_recurring(self) -> bool:
        return self.rrule is not None


@dataclass(frozen=True)
class DueDelivery:
    """Everything a sender needs for one claimed delivery."""

    id: int
    reminder_id: int
    kind: str
    text: str
    due_at: datetime
    late: bool
    attempts: int
    leased_until: datetime
    recipient: str
    recipient_aad: str | None
    recipient_name: str | None
    conversation_id: str | None
    tenant_id: str | None
    owner: Person
    is_recurring: bool
    rrule_description: str | None
    meeting_start: datetime | None
    deadline_id: int | None
    group_name: str | None
    group_id: int | None = None
    key: str | None = None  # a day-off notice's "dayoff:<reminder>:<occurrence>"


@dataclass(frozen=True)
class Watch:
    id: int
    user_id: str
    aad_object_id: str | None
    name: str
    tenant_id: str | None
    conversation_id: str | None
    topic: str


class NotYours(Exception):
    """The reminder does not exist or belongs to someone else."""


class ReminderRules(Protocol):
    """The wall-time rules storage applies; scheduler/timing.py decides them (ReminderTiming)."""

    def next_occurrence(
        self, rule: str, series_start: datetime, after: datetime
    ) -> datetime | None: ...

    def is_late(self, due_at: datetime, now: datetime) -> bool: ...

    def has_started(self, meeting_start: datetime | None, now: datetime) -> bool: ...

    def deadline_nudge_times(
        self, day: date, schedule: Sequence[int], hour: int
    ) -> list[datetime]: ...

    def deadline_summary_time(self, day: date, hour: int) -> datetime: ...

    def day_off_notice_at(
        self, occurrence: datetime, series_start: datetime, now: datetime
    ) -> datetime | None: ...

    def is_same_day(self, one: datetime, other: datetime) -> bool: ...

    def deadline_is_ahead(self, day: date, due_at: datetime | None, now: datetime) -> bool: ...


@dataclass(frozen=True)
class Chosen:
    """The organiser's choice for an occurrence on a day off; `first` is False when an earlier
    press had already decided it (then that choice stands)."""

    choice: str
    moved_to: datetime | None
    first: bool


@dataclass(frozen=True)
class Pressed:
    """What a delivered reminder's buttons came to: done, or snoozed until `due_at`.

    `first` is False when an earlier press had already decided it (a double press, or a snooze
    after "Klar"): the caller then changes nothing and shows the earlier outcome.
    """

    done: bool
    due_at: datetime | None
    first: bool
    reminder_id: int | None = None  # the snoozed copy a first snooze made


# --- shared by the reminder repository's parts ------------------------------------------


def view_of(row: Reminder) -> ReminderView:
    return ReminderView(
        id=row.id,
        kind=row.kind,
        audience=row.audience,
        text=row.text,
        due_at=row.due_at,
        owner_id=row.owner_id,
        conversation_id=row.conversation_id,
        group_name=row.group_name,
        person_name=row.person_name,
        rrule=row.rrule,
        rrule_description=row.rrule_description,
        meeting_start=row.meeting_start,
        deadline_id=row.deadline_id,
        group_id=row.group_id,
        owner_name=row.owner_name,
        series_start=row.series_start,
        cancelled=row.cancelled_at is not None,
    )


def due_of(delivery: Delivery, reminder: Reminder) -> DueDelivery:
    assert delivery.leased_until is not None
    return DueDelivery(
        id=delivery.id,
        reminder_id=reminder.id,
        kind=reminder.kind,
        text=reminder.text,
        due_at=delivery.due_at,
        late=delivery.late,
        attempts=delivery.attempts,
        leased_until=delivery.leased_until,
        recipient=delivery.recipient,
        recipient_aad=delivery.recipient_aad,
        recipient_name=delivery.recipient_name,
        conversation_id=delivery.conversation_id,
        tenant_id=reminder.tenant_id,
        owner=Person(reminder.owner_id, reminder.owner_name, reminder.owner_aad),
        is_recurring=reminder.rrule is not None,
        rrule_description=reminder.rrule_description,
        meeting_start=reminder.meeting_start,
        deadline_id=reminder.deadline_id,
        group_name=reminder.group_name,
        group_id=reminder.group_id,
        key=reminder.key,
    )


def is_postgres(session: Session) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


def lock_for_write(session: Session) -> None:
    """On SQLite, take the write lock up front: a read that later upgrades to a write fails with
    SQLITE_BUSY when another connection wrote in between (WAL snapshots)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
