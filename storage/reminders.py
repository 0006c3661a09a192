"""Reminders, their deliveries and topic watches: the truth the nudge service works from.

A `Reminder` says what to send, to whom and when its next occurrence is due (`due_at`, NULL once
nothing more is due). When an occurrence falls due it is *expanded*: one `Delivery` row per
recipient, unique on (reminder, occurrence, recipient), so an occurrence can never be queued twice.
A sender *claims* deliveries with a lease; a sender that dies mid-send lets its lease run out and
the delivery is sent again: at most the sends in flight are doubled, nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from rapidfuzz import fuzz, process
from sqlalchemy import (
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import rowcount
from storage.deadlines import Deadline, DeadlineMember
from storage.deliveries import DeliveryLeases
from storage.group_reminders import (
    GroupReminders,
    cancel_day_off_notices,
    mutes_of,
    occurrences_called_off,
    root_id,
)
from storage.groups import GroupMember, name_key
from storage.locks import Liveness
from storage.reminder_rows import (
    CONVERSATION,
    DAY_OFF,
    DEADLINE_NUDGE,
    DEADLINE_SUMMARY,
    EARLIER,
    GROUP,
    KEEP,
    LATER,
    MEETING,
    NOTICE,
    PERSON,
    PLAIN,
    SKIP,
    Chosen,
    Delivery,
    DueDelivery,
    NewReminder,
    NotYours,
    Person,
    Pressed,
    Reminder,
    ReminderRules,
    ReminderView,
    TopicWatch,
    Watch,
    is_postgres,
    lock_for_write,
    view_of,
)

logger = logging.getLogger(__name__)


__all__ = [
    "CONVERSATION",
    "DAY_OFF",
    "EARLIER",
    "KEEP",
    "LATER",
    "SKIP",
    "Chosen",
    "DEADLINE_NUDGE",
    "DEADLINE_SUMMARY",
    "Delivery",
    "DueDelivery",
    "GROUP",
    "MEETING",
    "NOTICE",
    "NewReminder",
    "NotYours",
    "PERSON",
    "Pressed",
    "PLAIN",
    "Person",
    "Reminder",
    "ReminderRules",
    "ReminderView",
    "TopicWatch",
    "Watch",
    "ReminderRepository",
]

# --- the repository -----------------------------------------------------------------------


class ReminderRepository(GroupReminders, DeliveryLeases):
    """Reminders and their deliveries; a group's reminders (storage/group_reminders.py) and
    the delivery leases (storage/deliveries.py) are its parts, each in a file of its own."""

    def __init__(self, sessions: sessionmaker[Session], rules: ReminderRules) -> None:
        self._sessions = sessions
        self._rules = rules

    def liveness(self, owner: str) -> Liveness:
        return Liveness(self._sessions, owner)

    def _after(self, reminder: Reminder, moment: datetime) -> datetime | None:
        if reminder.rrule is None or reminder.series_start is None:
            return None
        return self._rules.next_occurrence(reminder.rrule, reminder.series_start, moment)

    def purge_older_than(self, cutoff: datetime) -> int:
        """Retention: forgets finished deliveries, and reminders with nothing left to send."""
        finished = func.coalesce(
            Delivery.delivered_at, Delivery.failed_at, Delivery.dropped_at, Delivery.skipped_at
        )
        with self._sessions.begin() as session:
            deliveries = rowcount(
                session.execute(
                    delete(Delivery).where(Delivery.pending.is_(False), finished < cutoff)
                )
            )
            still_pending = select(Delivery.id).where(
                Delivery.reminder_id == Reminder.id, Delivery.pending.is_(True)
            )
            reminders = rowcount(
                session.execute(
                    delete(Reminder).where(
                        Reminder.created_at < cutoff,
                        or_(Reminder.cancelled_at < cutoff, Reminder.due_at.is_(None)),
                        ~still_pending.exists(),
                    )
                )
            )
            return (deliveries or 0) + (reminders or 0)

    # reminders ---------------------------------------------------------------------
    def add(self, new: NewReminder, now: datetime) -> ReminderView:
        with self._sessions.begin() as session:
            row = _reminder_row(new, now)
            session.add(row)
            session.flush()
            self._notice_day_off(session, row, now)
            return view_of(row)

    def add_many(self, items: Sequence[NewReminder], now: datetime) -> list[int]:
        with self._sessions.begin() as session:
            rows = [_reminder_row(new, now) for new in items]
            session.add_all(rows)
            session.flush()
            return [row.id for row in rows]

    def get(self, reminder_id: int) -> ReminderView | None:
        with self._sessions() as session:
            row = session.get(Reminder, reminder_id)
            return view_of(row) if row else None

    def upcoming_for(self, owner_id: str) -> list[ReminderView]:
        """The person's own reminders still to come, soonest first: "mina påminnelser"."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Reminder)
                .where(
                    Reminder.owner_id == owner_id,
                    Reminder.due_at.is_not(None),
                    Reminder.cancelled_at.is_(None),
                    Reminder.kind.in_([PLAIN, MEETING]),
                )
                .order_by(Reminder.due_at, Reminder.id)
            )
            return [view_of(row) for row in rows]

    def count_upcoming(self, owner_id: str) -> int:
        """How many of `upcoming_for` there are, for the per-member limit."""
        with self._sessions() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(Reminder)
                    .where(
                        Reminder.owner_id == owner_id,
                        Reminder.due_at.is_not(None),
                        Reminder.cancelled_at.is_(None),
                        Reminder.kind.in_([PLAIN, MEETING]),
                    )
                )
                or 0
            )

    def cancel(self, reminder_id: int, owner_id: str, now: datetime) -> ReminderView:
        """Stops a reminder (and every future occurrence of a recurring one)."""
        with self._sessions.begin() as session:
            row = session.get(Reminder, reminder_id)
            if not _is_own(row, owner_id):
                raise NotYours(str(reminder_id))
            assert row is not None
            row.cancelled_at = now
            row.due_at = None
            cancel_day_off_notices(session, row.id, now)
            return view_of(row)

    def cancel_by_key(self, key: str, now: datetime) -> int:
        with self._sessions.begin() as session:
            result = session.execute(
                update(Reminder)
                .where(Reminder.key == key, Reminder.cancelled_at.is_(None))
                .values(cancelled_at=now, due_at=None)
            )
            return rowcount(result)

    def move(self, reminder_id: int, owner_id: str, due_at: datetime) -> ReminderView:
        with self._sessions.begin() as session:
            row = session.get(Reminder, reminder_id)
            if not _is_own(row, owner_id):
                raise NotYours(str(reminder_id))
            assert row is not None
            row.due_at = due_at
            if row.rrule is not None:
                row.series_start = due_at
            return view_of(row)

    # expansion and delivery ---------------------------------------------------------------------
    def expand_due(self, now: datetime, limit: int = 500) -> list[tuple[int, datetime | None]]:
        """Turns due occurrences into delivery rows and moves each reminder to its next occurrence.

        Returns (reminder id, next due) for every reminder expanded. Safe to run in several
        processes at once: rows are taken with SKIP LOCKED (PostgreSQL) or under SQLite's
        single writer lock, and the unique key on deliveries keeps an occurrence from doubling.
        """
        expanded: list[tuple[int, datetime | None]] = []
        with self._sessions.begin() as session:
            lock_for_write(session)
            query = (
                select(Reminder)
                .where(Reminder.due_at.is_not(None), Reminder.due_at <= now)
                .order_by(Reminder.due_at)
                .limit(limit)
            )
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            reminders = list(session.scalars(query))
            if not reminders:
                return expanded
            deadline_ids = {r.deadline_id for r in reminders if r.deadline_id}
            group_ids = {r.group_id for r in reminders if r.group_id and not r.deadline_id}
            done: dict[int, list[DeadlineMember]] = {}
            if deadline_ids:
                for person in session.scalars(
                    select(DeadlineMember).where(DeadlineMember.deadline_id.in_(deadline_ids))
                ):
                    done.setdefault(person.deadline_id, []).append(person)
            members: dict[int, list[GroupMember]] = {}
            if group_ids:
                for member in session.scalars(
                    select(GroupMember).where(GroupMember.group_id.in_(group_ids))
                ):
                    members.setdefault(member.group_id, []).append(member)
            muted = mutes_of(session, [root_id(r) for r in reminders if r.audience == GROUP])
            called_off = occurrences_called_off(
                session, [r for r in reminders if r.rrule is not None]
            )
            # After downtime a deadline's missed nudges are not all sent: only the latest, and
            # only while the deadline is still ahead. The rest are recorded as skipped.
            deadline_days: dict[int, tuple[date, datetime | None]] = {}
            if deadline_ids:
                deadline_days = {
                    row.id: (row.day, row.due_at)
                    for row in session.execute(
                        select(Deadline.id, Deadline.day, Deadline.due_at).where(
                            Deadline.id.in_(deadline_ids)
                        )
                    )
                }
            latest: dict[int, datetime] = {}  # the latest nudge of each deadline due now
            for reminder in reminders:
                if (
                    reminder.kind == DEADLINE_NUDGE
                    and reminder.deadline_id is not None
                    and reminder.due_at is not None
                ):
                    known = latest.get(reminder.deadline_id, reminder.due_at)
                    latest[reminder.deadline_id] = max(known, reminder.due_at)
            # ... and not when another nudge of the same deadline comes later today anyway.
            coming: dict[int, datetime] = {}
            if latest:
                coming = {
                    row.deadline_id: row.due
                    for row in session.execute(
                        select(Reminder.deadline_id, func.min(Reminder.due_at).label("due"))
                        .where(
                            Reminder.kind == DEADLINE_NUDGE,
                            Reminder.deadline_id.in_(latest),
                            Reminder.due_at > now,
                            Reminder.cancelled_at.is_(None),
                        )
                        .group_by(Reminder.deadline_id)
                    )
                }
            superseded: list[tuple[int, datetime]] = []
            rows: list[dict[str, object]] = []
            for reminder in reminders:
                assert reminder.due_at is not None
                occurrence = reminder.due_at
                late = self._rules.is_late(occurrence, now)
                skipped: str | None = None
                if reminder.kind == DEADLINE_NUDGE and reminder.deadline_id is not None and late:
                    found = deadline_days.get(reminder.deadline_id)
                    if found is None or not self._rules.deadline_is_ahead(*found, now):
                        skipped = "missed: the deadline has passed"
                    elif occurrence < latest[reminder.deadline_id]:
                        skipped = "missed: a later nudge is sent instead"
                    elif reminder.deadline_id in coming and self._rules.is_same_day(
                        coming[reminder.deadline_id], now
                    ):
                        skipped = "missed: a nudge comes later today"
                    else:
                        superseded.append((reminder.deadline_id, occurrence))
                if self._rules.has_started(reminder.meeting_start, now):
                    logger.info(
                        "dropped meeting reminder %s: the meeting started at %s",
                        reminder.id,
                        reminder.meeting_start.isoformat() if reminder.meeting_start else None,
                    )
                elif (reminder.id, occurrence) in called_off:
                    logger.info("reminder %s: this occurrence was moved or called off", reminder.id)
                else:
                    silent = muted.get(root_id(reminder), set())
                    for recipient in _recipients(reminder, members, done):
                        if recipient["recipient"] in silent or recipient["recipient_aad"] in silent:
                            continue
                        rows.append(
                            {
                                "reminder_id": reminder.id,
                                "due_at": occurrence,
                                "late": late,
                                "pending": skipped is None,
                                "skipped_at": now if skipped else None,
                                "error": skipped,
                                "next_attempt_at": now,
                                "created_at": now,
                                **recipient,
                            }
                        )
                reminder.due_at = self._after(reminder, max(occurrence, now))
                expanded.append((reminder.id, reminder.due_at))
                self._notice_day_off(session, reminder, now)
            summed_up = [
                r.deadline_id for r in reminders if r.kind == DEADLINE_SUMMARY and r.deadline_id
            ]
            if summed_up:  # a deadline is closed once its owner's summary is on its way
                session.execute(
                    update(Deadline)
                    .where(Deadline.id.in_(summed_up), Deadline.closed_at.is_(None))
                    .values(closed_at=now)
                )
            session.flush()
            if rows:
                _insert_ignoring_duplicates(session, rows)
            for deadline_id, occurrence in superseded:
                # A late nudge goes out: an older one of the same deadline still waiting is not.
                nudges = select(Reminder.id).where(
                    Reminder.deadline_id == deadline_id, Reminder.kind == DEADLINE_NUDGE
                )
                session.execute(
                    update(Delivery)
                    .where(
                        Delivery.reminder_id.in_(nudges),
                        Delivery.pending.is_(True),
                        Delivery.due_at < occurrence,
                        or_(Delivery.leased_until.is_(None), Delivery.leased_until < now),
                    )
                    .values(
                        pending=False, skipped_at=now, error="missed: a later nudge is sent instead"
                    )
                    .execution_options(synchronize_session=False)
                )
        return expanded

    def received(
        self,
        delivery_id: int,
        user_id: str,
        aad_object_id: str | None,
        conversation_id: str,
    ) -> ReminderView | None:
        """The reminder of a delivery this person received; None if it was someone else's.

        A personal delivery was received by its recipient (the same person from another client
        has the same AAD object id); a delivery posted in a chat by everyone in that chat.
        """
        with self._sessions() as session:
            row = session.get(Delivery, delivery_id)
            if row is None:
                return None
            mine = row.recipient == user_id or (
                bool(aad_object_id) and row.recipient_aad == aad_object_id
            )
            here = row.recipient == f"conv:{conversation_id}"
            if not (mine or here):
                return None
            reminder = session.get(Reminder, row.reminder_id)
            return view_of(reminder) if reminder else None

    # a delivered reminder's buttons ---------------------------------------------------------
    # A snooze made from a delivery carries the key "snooze:<first reminder>:<delivery>": the key
    # is the delivery's outcome, so a second press finds the first's result, and "Klar" finds
    # every snoozed copy of the same reminder. A "Klar" before any snooze leaves a cancelled row
    # under that key, so a later snooze press on the same card finds "done".
    def snooze_once(self, delivery_id: int, new: NewReminder, now: datetime) -> Pressed | None:
        """Adds `new` as the snooze of this delivery, unless a press already decided it."""
        with self._sessions.begin() as session:
            found = _pressed_delivery(session, delivery_id)
            if found is None:
                return None
            key, _ = found
            earlier = _outcome(session, key)
            if earlier is not None:
                return earlier
            row = _reminder_row(new, now)
            row.key = key
            session.add(row)
            session.flush()
            return Pressed(done=False, due_at=row.due_at, first=True, reminder_id=row.id)

    def finish(self, delivery_id: int, now: datetime) -> Pressed | None:
        """ "Klar": the delivery's reminder is done, every snoozed copy of it included (a pending
        copy is cancelled and never arrives). A recurring series itself goes on."""
        with self._sessions.begin() as session:
            found = _pressed_delivery(session, delivery_id)
            if found is None:
                return None
            key, reminder = found
            earlier = _outcome(session, key)
            root = key.split(":")[1]
            copies = list(
                session.scalars(
                    select(Reminder.id).where(
                        Reminder.key.like(f"snooze:{root}:%"), Reminder.cancelled_at.is_(None)
                    )
                )
            )
            if copies:
                session.execute(
                    update(Reminder)
                    .where(Reminder.id.in_(copies))
                    .values(cancelled_at=now, due_at=None)
                )
                session.execute(
                    update(Delivery)
                    .where(
                        Delivery.reminder_id.in_(copies),
                        Delivery.pending.is_(True),
                        Delivery.delivered_at.is_(None),
                    )
                    .values(pending=False, dropped_at=now, error="klar")
                )
            if earlier is None:
                marker = Reminder(
                    kind=reminder.kind,
                    key=key,
                    tenant_id=reminder.tenant_id,
                    owner_id=reminder.owner_id,
                    owner_aad=reminder.owner_aad,
                    owner_name=reminder.owner_name,
                    audience=reminder.audience,
                    conversation_id=reminder.conversation_id,
                    text=reminder.text,
                    due_at=None,
                    created_at=now,
                    cancelled_at=now,
                )
                session.add(marker)
            first = earlier is None or not earlier.done
            return Pressed(done=True, due_at=None, first=first)

    # topic watches ---------------------------------------------------------------------
    def add_watch(
        self,
        person: Person,
        topic: str,
        *,
        tenant_id: str | None,
        conversation_id: str | None,
        now: datetime,
    ) -> bool:
        """False when the person already watches the topic."""
        try:
            with self._sessions.begin() as session:
                session.add(
                    TopicWatch(
                        user_id=person.user_id,
                        aad_object_id=person.aad_object_id,
                        name=person.name,
                        tenant_id=tenant_id,
                        conversation_id=conversation_id,
                        topic=topic,
                        topic_key=name_key(topic),
                        created_at=now,
                    )
                )
            return True
        except IntegrityError:
            return False

    def watches_of(self, user_id: str) -> list[Watch]:
        with self._sessions() as session:
            rows = session.scalars(
                select(TopicWatch).where(TopicWatch.user_id == user_id).order_by(TopicWatch.id)
            )
            return [_watch(row) for row in rows]

    def all_watches(self) -> list[Watch]:
        with self._sessions() as session:
            return [_watch(row) for row in session.scalars(select(TopicWatch))]

    def remove_watch(self, user_id: str, topic: str) -> str | None:
        """Removes the person's watch closest to `topic`; returns its topic, or None."""
        with self._sessions.begin() as session:
            rows = list(session.scalars(select(TopicWatch).where(TopicWatch.user_id == user_id)))
            choices = {row.id: row.topic_key for row in rows}
            best = process.extractOne(name_key(topic), choices, scorer=fuzz.WRatio, score_cutoff=75)
            if best is None:
                return None
            row = next(r for r in rows if r.id == best[2])
            session.execute(delete(TopicWatch).where(TopicWatch.id == row.id))
            return row.topic


def _is_own(row: Reminder | None, owner_id: str) -> bool:
    """A reminder someone may stop or move: their own, of a kind they set themselves.

    Deadline nudges and poll notices carry their creator as owner too, but are stopped through
    the deadline or poll, never one by one.
    """
    return (
        row is not None
        and row.owner_id == owner_id
        and row.cancelled_at is None
        and row.kind in (PLAIN, MEETING)
    )


# --- helpers -----------------------------------------------------------------------


def _pressed_delivery(session: Session, delivery_id: int) -> tuple[str, Reminder] | None:
    """The snooze key of a delivery and its reminder, the delivery row locked against a press
    running at the same time (SQLite: the write lock; PostgreSQL: the row)."""
    lock_for_write(session)
    delivery = session.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())
    reminder = session.get(Reminder, delivery.reminder_id) if delivery else None
    if reminder is None:
        return None
    root = reminder.id
    if reminder.key and reminder.key.startswith("snooze:"):
        root = int(reminder.key.split(":")[1])
    return f"snooze:{root}:{delivery_id}", reminder


def _outcome(session: Session, key: str) -> Pressed | None:
    row = session.scalar(select(Reminder).where(Reminder.key == key).order_by(Reminder.id))
    if row is None:
        return None
    if row.cancelled_at is not None:
        return Pressed(done=True, due_at=None, first=False)
    due = row.due_at or session.scalar(
        select(func.min(Delivery.due_at)).where(Delivery.reminder_id == row.id)
    )
    return Pressed(done=False, due_at=due, first=False)


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, object]]) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(Delivery).values(rows).on_conflict_do_nothing())
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        for start in range(0, len(rows), 500):
            session.execute(
                sqlite_insert(Delivery).values(rows[start : start + 500]).on_conflict_do_nothing()
            )
    else:  # pragma: no cover - only the two databases above are supported
        session.execute(insert(Delivery), rows)


def _recipients(
    reminder: Reminder,
    members: dict[int, list[GroupMember]],
    deadline_members: dict[int, list[DeadlineMember]],
) -> list[dict[str, object]]:
    if reminder.audience == CONVERSATION:
        return [
            {
                "recipient": f"conv:{reminder.conversation_id}",
                "conversation_id": reminder.conversation_id,
                "recipient_aad": None,
                "recipient_name": None,
            }
        ]
    if reminder.audience == PERSON:
        return [
            {
                "recipient": reminder.person_id or reminder.owner_id,
                "recipient_aad": reminder.person_aad,
                "recipient_name": reminder.person_name,
                "conversation_id": reminder.conversation_id,
            }
        ]
    if reminder.deadline_id is not None and reminder.kind == DEADLINE_NUDGE:
        people = [
            (m.user_id, m.aad_object_id, m.name)
            for m in deadline_members.get(reminder.deadline_id, [])
            if m.done_at is None
        ]
    else:
        people = [
            (m.user_id, m.aad_object_id, m.name) for m in members.get(reminder.group_id or -1, [])
        ]
    return [
        {"recipient": uid, "recipient_aad": aad, "recipient_name": name, "conversation_id": None}
        for uid, aad, name in people
    ]


def _reminder_row(new: NewReminder, now: datetime) -> Reminder:
    person = new.person
    return Reminder(
        kind=new.kind,
        key=new.key,
        tenant_id=new.tenant_id,
        owner_id=new.owner.user_id,
        owner_aad=new.owner.aad_object_id,
        owner_name=new.owner.name,
        audience=new.audience,
        conversation_id=new.conversation_id,
        person_id=person.user_id if person else None,
        person_aad=person.aad_object_id if person else None,
        person_name=person.name if person else None,
        group_id=new.group_id,
        group_name=new.group_name,
        deadline_id=new.deadline_id,
        text=new.text,
        due_at=new.due_at,
        rrule=new.rrule,
        rrule_description=new.rrule_description,
        series_start=new.due_at if new.rrule else None,
        meeting_start=new.meeting_start,
        created_in=new.created_in,
        created_at=now,
    )


def _watch(row: TopicWatch) -> Watch:
    return Watch(
        id=row.id,
        user_id=row.user_id,
        aad_object_id=row.aad_object_id,
        name=row.name,
        tenant_id=row.tenant_id,
        conversation_id=row.conversation_id,
        topic=row.topic,
    )
