"""A working group's reminders: set by one member, they reach all. Each member may mute one for
themselves; the group's creator and coordinators see and stop all of them; an organiser is asked
a week ahead about an occurrence that falls on a day off. A part of ReminderRepository."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.groups import GroupMember, name_key
from storage.reminder_rows import (
    DAY_OFF,
    EARLIER,
    GROUP,
    KEEP,
    LATER,
    PERSON,
    PLAIN,
    Chosen,
    NotYours,
    OccurrenceChoice,
    Person,
    Reminder,
    ReminderMute,
    ReminderRules,
    ReminderView,
    lock_for_write,
    view_of,
)


class GroupReminders:
    _sessions: sessionmaker[Session]
    _rules: ReminderRules

    # a group's reminders ------------------------------------------------------------------
    # A group reminder is set by one member but reaches all: each member may mute it for
    # themselves, and the group's coordinators and creator may see and stop all of them.
    def of_group(self, group_id: int) -> list[ReminderView]:
        """The group's reminders still to come, whoever set them, soonest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Reminder)
                .where(
                    Reminder.group_id == group_id,
                    Reminder.audience == GROUP,
                    Reminder.kind == PLAIN,
                    Reminder.due_at.is_not(None),
                    Reminder.cancelled_at.is_(None),
                )
                .order_by(Reminder.due_at, Reminder.id)
            )
            return [view_of(row) for row in rows]

    def same_for_group(
        self, group_id: int, text: str, due_at: datetime, rrule: str | None
    ) -> ReminderView | None:
        """A reminder of the group still to come with the same words, time and repetition."""
        key = name_key(text)
        return next(
            (
                view
                for view in self.of_group(group_id)
                if view.rrule == rrule
                and name_key(view.text) == key
                and (view.due_at == due_at or (rrule is not None and view.series_start == due_at))
            ),
            None,
        )

    def received_by(self, user_id: str, aad_object_id: str | None) -> list[ReminderView]:
        """Recurring reminders of the groups the person is in, set by someone else."""
        member = GroupMember.user_id == user_id
        if aad_object_id:
            member = or_(member, GroupMember.aad_object_id == aad_object_id)
        with self._sessions() as session:
            groups = select(GroupMember.group_id).where(member)
            rows = session.scalars(
                select(Reminder)
                .where(
                    Reminder.group_id.in_(groups),
                    Reminder.audience == GROUP,
                    Reminder.kind == PLAIN,
                    Reminder.rrule.is_not(None),
                    Reminder.due_at.is_not(None),
                    Reminder.cancelled_at.is_(None),
                    Reminder.owner_id != user_id,
                )
                .order_by(Reminder.due_at, Reminder.id)
            )
            return [view_of(row) for row in rows]

    def stop_for_group(self, reminder_id: int, group_id: int, now: datetime) -> ReminderView:
        """Stops one of the group's reminders, whoever set it (the caller checked the right)."""
        with self._sessions.begin() as session:
            row = session.get(Reminder, reminder_id)
            if (
                row is None
                or row.group_id != group_id
                or row.audience != GROUP
                or row.kind != PLAIN
                or row.cancelled_at is not None
            ):
                raise NotYours(str(reminder_id))
            row.cancelled_at = now
            row.due_at = None
            cancel_day_off_notices(session, row.id, now)
            return view_of(row)

    def mute(self, reminder_id: int, person: Person, now: datetime) -> bool:
        """The person gets no more of this group reminder; False if they had muted it already."""
        try:
            with self._sessions.begin() as session:
                session.add(
                    ReminderMute(
                        reminder_id=reminder_id,
                        user_id=person.user_id,
                        aad_object_id=person.aad_object_id,
                        created_at=now,
                    )
                )
            return True
        except IntegrityError:
            return False

    def is_muted(self, reminder_id: int, user_id: str) -> bool:
        with self._sessions() as session:
            found = session.scalar(
                select(ReminderMute.id).where(
                    ReminderMute.reminder_id == reminder_id, ReminderMute.user_id == user_id
                )
            )
            return found is not None

    # occurrences on days off ------------------------------------------------------------
    def _notice_day_off(self, session: Session, reminder: Reminder, now: datetime) -> None:
        """Asks the organiser a week ahead about a group's recurring reminder whose next
        occurrence falls on a day off (once per occurrence: the key is the occurrence)."""
        if (
            reminder.rrule is None
            or reminder.audience != GROUP
            or reminder.kind != PLAIN
            or reminder.due_at is None
            or reminder.series_start is None
            or reminder.cancelled_at is not None
        ):
            return
        occurrence = reminder.due_at
        at = self._rules.day_off_notice_at(occurrence, reminder.series_start, now)
        if at is None:
            return
        key = f"dayoff:{reminder.id}:{occurrence.isoformat()}"
        asked = session.scalar(select(Reminder.id).where(Reminder.key == key))
        chosen = session.scalar(
            select(OccurrenceChoice.id).where(
                OccurrenceChoice.reminder_id == reminder.id,
                OccurrenceChoice.occurrence == occurrence,
            )
        )
        if asked is not None or chosen is not None:
            return
        session.add(
            Reminder(
                kind=DAY_OFF,
                key=key,
                tenant_id=reminder.tenant_id,
                owner_id=reminder.owner_id,
                owner_aad=reminder.owner_aad,
                owner_name=reminder.owner_name,
                audience=PERSON,
                person_id=reminder.owner_id,
                person_aad=reminder.owner_aad,
                person_name=reminder.owner_name,
                group_id=reminder.group_id,
                group_name=reminder.group_name,
                text=reminder.text,
                due_at=at,
                meeting_start=None,
                created_in=reminder.created_in,
                created_at=now,
            )
        )

    def choose(
        self,
        reminder_id: int,
        occurrence: datetime,
        choice: str,
        moved_to: datetime | None,
        by: Person,
        now: datetime,
    ) -> Chosen | None:
        """Records the organiser's choice for one occurrence, once: a move adds a one-off copy
        of the reminder at `moved_to` (muted members stay muted). None if the reminder is gone."""
        with self._sessions.begin() as session:
            lock_for_write(session)
            reminder = session.get(Reminder, reminder_id, with_for_update=True)
            if reminder is None or reminder.cancelled_at is not None:
                return None
            earlier = session.scalar(
                select(OccurrenceChoice).where(
                    OccurrenceChoice.reminder_id == reminder_id,
                    OccurrenceChoice.occurrence == occurrence,
                )
            )
            if earlier is not None:
                return Chosen(earlier.choice, earlier.moved_to, first=False)
            session.add(
                OccurrenceChoice(
                    reminder_id=reminder_id,
                    occurrence=occurrence,
                    choice=choice,
                    moved_to=moved_to if choice in (EARLIER, LATER) else None,
                    decided_by=by.user_id,
                    decided_at=now,
                )
            )
            if choice in (EARLIER, LATER) and moved_to is not None:
                session.add(
                    Reminder(
                        kind=PLAIN,
                        key=f"moved:{reminder.id}:{occurrence.isoformat()}",
                        tenant_id=reminder.tenant_id,
                        owner_id=reminder.owner_id,
                        owner_aad=reminder.owner_aad,
                        owner_name=reminder.owner_name,
                        audience=reminder.audience,
                        conversation_id=reminder.conversation_id,
                        group_id=reminder.group_id,
                        group_name=reminder.group_name,
                        text=reminder.text,
                        due_at=moved_to,
                        created_in=reminder.created_in,
                        created_at=now,
                    )
                )
            return Chosen(choice, moved_to if choice in (EARLIER, LATER) else None, first=True)


def cancel_day_off_notices(session: Session, reminder_id: int, now: datetime) -> None:
    """A stopped series asks its organiser about no more days off."""
    session.execute(
        update(Reminder)
        .where(
            Reminder.kind == DAY_OFF,
            Reminder.key.like(f"dayoff:{reminder_id}:%"),
            Reminder.cancelled_at.is_(None),
        )
        .values(cancelled_at=now, due_at=None)
        .execution_options(synchronize_session=False)
    )


def root_id(reminder: Reminder) -> int:
    """The recurring reminder a moved occurrence's copy stands in for, else the reminder."""
    if reminder.key and reminder.key.startswith("moved:"):
        return int(reminder.key.split(":")[1])
    return reminder.id


def mutes_of(session: Session, reminder_ids: Sequence[int]) -> dict[int, set[str]]:
    """Who muted which of these reminders, by Teams user id and AAD object id."""
    muted: dict[int, set[str]] = {}
    if reminder_ids:
        for mute in session.scalars(
            select(ReminderMute).where(ReminderMute.reminder_id.in_(set(reminder_ids)))
        ):
            ids = muted.setdefault(mute.reminder_id, set())
            ids.add(mute.user_id)
            if mute.aad_object_id:
                ids.add(mute.aad_object_id)
    return muted


def occurrences_called_off(
    session: Session, recurring: Sequence[Reminder]
) -> set[tuple[int, datetime]]:
    """(reminder id, occurrence) of occurrences moved away or called off."""
    if not recurring:
        return set()
    rows = session.execute(
        select(OccurrenceChoice.reminder_id, OccurrenceChoice.occurrence).where(
            OccurrenceChoice.reminder_id.in_({r.id for r in recurring}),
            OccurrenceChoice.choice != KEEP,
        )
    )
    return {(reminder_id, occurrence) for reminder_id, occurrence in rows}
