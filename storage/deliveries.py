"""Deliveries of reminders: claimed with a lease, marked sent, retried, failed or dropped. A
sender that dies mid-send lets its lease run out and the delivery is sent again: at most the
sends in flight are doubled, nothing is lost. A part of ReminderRepository."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.db import rowcount
from storage.locks import Liveness
from storage.reminder_rows import (
    Delivery,
    DueDelivery,
    Reminder,
    ReminderRules,
    due_of,
    is_postgres,
    lock_for_write,
)


class DeliveryLeases:
    _sessions: sessionmaker[Session]
    _rules: ReminderRules

    def claim(
        self, now: datetime, hold: timedelta, owner: str, limit: int = 200
    ) -> list[DueDelivery]:
        """Leases up to `limit` deliveries that are due and not held by a live sender."""
        with self._sessions.begin() as session:
            lock_for_write(session)
            free = (Delivery.leased_until.is_(None)) | (Delivery.leased_until < now)
            # Round-robin by owner: everyone's first due delivery, then everyone's second, ...
            # so one member's 400 reminders due at once never keep another's waiting.
            turn = (
                func.row_number()
                .over(
                    partition_by=Reminder.owner_id,
                    order_by=(Delivery.next_attempt_at, Delivery.id),
                )
                .label("turn")
            )
            due = (
                select(Delivery.id, Delivery.next_attempt_at, turn)
                .join(Reminder, Reminder.id == Delivery.reminder_id)
                .where(Delivery.pending.is_(True), Delivery.next_attempt_at <= now, free)
                .subquery()
            )
            picked = (
                select(due.c.id).order_by(due.c.turn, due.c.next_attempt_at, due.c.id).limit(limit)
            )
            if is_postgres(session):
                # Window functions cannot lock rows: the chosen ones are locked by id.
                order = list(session.scalars(picked))
                locked = set(
                    session.scalars(
                        select(Delivery.id)
                        .where(Delivery.id.in_(order))
                        .with_for_update(skip_locked=True)
                    )
                )
                ids = [i for i in order if i in locked]
            else:
                ids = list(session.scalars(picked))
            if not ids:
                return []
            until = now + hold
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), free)
                .values(leased_until=until, lease_owner=owner, attempts=Delivery.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            leased = session.execute(
                select(Delivery, Reminder)
                .join(Reminder, Reminder.id == Delivery.reminder_id)
                .where(Delivery.id.in_(ids), Delivery.lease_owner == owner)
            ).all()
            place = {delivery_id: n for n, delivery_id in enumerate(ids)}
            pairs = sorted(leased, key=lambda pair: place[pair[0].id])
            return [due_of(delivery, reminder) for delivery, reminder in pairs]

    def release_orphaned_leases(self, owner: str) -> int:
        """Hands back the deliveries of processes that died holding leases, without waiting
        for the leases to run out. SQLite is one process by design: every lease not ours is a
        dead predecessor's. On PostgreSQL a process is alive while it holds its liveness lock
        (``Liveness``); a lease owner whose lock can be taken is gone."""
        with self._sessions.begin() as session:
            held = (
                Delivery.pending.is_(True),
                Delivery.leased_until.is_not(None),
                Delivery.lease_owner != owner,
            )
            if not is_postgres(session):
                return rowcount(
                    session.execute(
                        update(Delivery).where(*held).values(leased_until=None, lease_owner=None)
                    )
                )
            owners = list(session.scalars(select(Delivery.lease_owner).where(*held).distinct()))
            released = 0
            for other in owners:
                if other is None or not Liveness.is_gone(session, other):
                    continue
                released += rowcount(
                    session.execute(
                        update(Delivery)
                        .where(*held, Delivery.lease_owner == other)
                        .values(leased_until=None, lease_owner=None)
                    )
                )
            return released

    def release_leases(self, owner: str) -> int:
        """Hands back what ``owner`` claimed and did not send (a graceful stop)."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Delivery)
                .where(Delivery.pending.is_(True), Delivery.lease_owner == owner)
                .values(leased_until=None, lease_owner=None)
            )
            return rowcount(result)

    def extend_lease(self, delivery_id: int, owner: str, now: datetime, hold: timedelta) -> bool:
        """Keeps a lease while a send waits for the rate limiter; False if it was lost."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.lease_owner == owner,
                    Delivery.pending.is_(True),
                    Delivery.leased_until >= now,
                )
                .values(leased_until=now + hold)
            )
            return rowcount(result) == 1

    def mark_delivered(self, delivery_id: int, now: datetime, activity_id: str | None) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(
                    pending=False,
                    delivered_at=now,
                    leased_until=None,
                    activity_id=activity_id,
                    error=None,
                )
            )

    def mark_delivered_many(self, items: Sequence[tuple[int, str | None, datetime]]) -> None:
        """(delivery id, activity id, delivered at) for sends that finished together."""
        if not items:
            return
        with self._sessions.begin() as session:
            for delivery_id, activity_id, at in items:
                session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id)
                    .values(
                        pending=False,
                        delivered_at=at,
                        leased_until=None,
                        activity_id=activity_id,
                        error=None,
                    )
                )

    def retry_at(self, delivery_id: int, when: datetime, error: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.pending.is_(True))
                .values(next_attempt_at=when, leased_until=None, lease_owner=None, error=error)
            )

    def mark_failed(self, delivery_id: int, now: datetime, error: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(pending=False, failed_at=now, leased_until=None, error=error[:400])
            )

    def mark_dropped(self, delivery_id: int, now: datetime, reason: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(pending=False, dropped_at=now, leased_until=None, error=reason[:400])
            )

    def next_wake(self) -> datetime | None:
        """The earliest moment something may need sending: a due reminder, a retry, a lease
        that runs out."""
        with self._sessions() as session:
            times = [
                session.scalar(select(func.min(Reminder.due_at))),
                session.scalar(
                    select(func.min(Delivery.next_attempt_at)).where(
                        Delivery.pending.is_(True), Delivery.leased_until.is_(None)
                    )
                ),
                session.scalar(
                    select(func.min(Delivery.leased_until)).where(Delivery.pending.is_(True))
                ),
            ]
        present = [t for t in times if t is not None]
        return min(present) if present else None

    def delivery(self, delivery_id: int) -> tuple[int, str, str | None] | None:
        """(reminder id, recipient, recipient aad) of one delivery: for the card's buttons."""
        with self._sessions() as session:
            row = session.get(Delivery, delivery_id)
            return (row.reminder_id, row.recipient, row.recipient_aad) if row else None

    def delivered_counts(self) -> dict[int, int]:
        with self._sessions() as session:
            rows = session.execute(
                select(Delivery.reminder_id, func.count())
                .where(Delivery.delivered_at.is_not(None))
                .group_by(Delivery.reminder_id)
            )
            return {reminder_id: count for reminder_id, count in rows}
