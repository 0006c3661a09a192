"""Reminder storage rules on SQLite and PostgreSQL that a person would notice: only the owner
stops or moves a reminder, "mina påminnelser" lists the right ones, a delivery's lease, retry,
failure and drop, when the service wakes, deadlines and "klar", topic watches, retention.
Written against the survivors bench/mutation.py listed for storage/reminders.py.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.timing import ReminderTiming
from storage.deadlines import DeadlineRepository
from storage.locks import new_lease_owner
from storage.reminders import (
    CONVERSATION,
    DEADLINE_NUDGE,
    MEETING,
    NOTICE,
    PERSON,
    NewReminder,
    NotYours,
    Person,
    ReminderRepository,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOLD = timedelta(seconds=60)
SECOND = timedelta(seconds=1)
ANNA = Person("29:anna", "Anna", "aad-anna")
BERIT = Person("29:berit", "Berit", "aad-berit")


def one_off(due: datetime, owner: Person = ANNA, **fields: object) -> NewReminder:
    return NewReminder(
        owner=owner, audience=PERSON, person=owner, text="ring Berit", due_at=due, **fields
    )  # type: ignore[arg-type]


@pytest.fixture
def reminders(any_sessions: sessionmaker[Session]) -> ReminderRepository:
    return ReminderRepository(any_sessions, ReminderTiming())


@pytest.fixture
def deadlines(any_sessions: sessionmaker[Session]) -> DeadlineRepository:
    return DeadlineRepository(any_sessions, ReminderTiming())


def _claimed(reminders: ReminderRepository, due: datetime = NOW, owner: str = "a") -> int:
    reminders.add(one_off(due), NOW)
    reminders.expand_due(due)
    [claimed] = reminders.claim(due, HOLD, owner)
    return claimed.id


# --- the owner's reminders ----------------------------------------------------------------
def test_only_the_owner_stops_or_moves_a_reminder(reminders: ReminderRepository) -> None:
    mine = reminders.add(one_off(NOW + timedelta(days=1)), NOW)
    with pytest.raises(NotYours):
        reminders.cancel(mine.id, BERIT.user_id, NOW)
    with pytest.raises(NotYours):
        reminders.move(mine.id, BERIT.user_id, NOW + timedelta(days=2))
    with pytest.raises(NotYours):
        reminders.cancel(mine.id + 1000, ANNA.user_id, NOW)
    with pytest.raises(NotYours):
        reminders.move(mine.id + 1000, ANNA.user_id, NOW)
    assert reminders.get(mine.id) == mine
    moved = reminders.move(mine.id, ANNA.user_id, NOW + timedelta(days=2))
    assert moved.due_at == NOW + timedelta(days=2) and reminders.get(mine.id) == moved
    stopped = reminders.cancel(mine.id, ANNA.user_id, NOW)
    assert stopped.due_at is None and reminders.get(mine.id) == stopped
    with pytest.raises(NotYours):
        reminders.cancel(mine.id, ANNA.user_id, NOW)  # already stopped
    with pytest.raises(NotYours):
        reminders.move(mine.id, ANNA.user_id, NOW + timedelta(days=3))
    assert reminders.get(mine.id) == stopped


def test_a_moved_recurring_reminder_recurs_from_its_new_time(
    reminders: ReminderRepository,
) -> None:
    weekly = reminders.add(
        one_off(NOW + timedelta(days=1), rrule="FREQ=WEEKLY", rrule_description="varje vecka"),
        NOW,
    )
    assert weekly.is_recurring
    later = NOW + timedelta(days=2, hours=1)
    reminders.move(weekly.id, ANNA.user_id, later)
    assert reminders.expand_due(later) == [(weekly.id, later + timedelta(days=7))]


def test_my_reminders_are_my_own_still_to_come_soonest_first(
    reminders: ReminderRepository,
) -> None:
    later = reminders.add(one_off(NOW + timedelta(days=2)), NOW)
    sooner = reminders.add(one_off(NOW + timedelta(days=1), kind=MEETING), NOW)
    reminders.add(one_off(NOW + timedelta(hours=1), owner=BERIT), NOW)
    reminders.add(one_off(NOW + timedelta(hours=2), kind=NOTICE), NOW)
    stopped = reminders.add(one_off(NOW + timedelta(hours=3)), NOW)
    reminders.cancel(stopped.id, ANNA.user_id, NOW)
    sent = reminders.add(one_off(NOW), NOW)
    reminders.expand_due(NOW)
    assert [r.id for r in reminders.upcoming_for(ANNA.user_id)] == [sooner.id, later.id]
    assert reminders.get(sent.id) is not None and reminders.get(sent.id + 1000) is None


def test_reminders_made_for_something_are_stopped_by_its_key(
    reminders: ReminderRepository,
) -> None:
    first = reminders.add(one_off(NOW + timedelta(days=1), key="poll:7"), NOW)
    reminders.add(one_off(NOW + timedelta(days=2), key="poll:7"), NOW)
    other = reminders.add(one_off(NOW + timedelta(days=1), key="poll:8"), NOW)
    assert reminders.cancel_by_key("poll:7", NOW) == 2
    assert reminders.cancel_by_key("poll:7", NOW) == 0
    assert reminders.get(first.id).due_at is None  # type: ignore[union-attr]
    assert reminders.get(other.id) == other


# --- deliveries ---------------------------------------------------------------------------
def test_a_claim_carries_what_the_message_needs(reminders: ReminderRepository) -> None:
    reminders.add(
        NewReminder(
            owner=ANNA,
            audience=CONVERSATION,
            conversation_id="19:chat",
            tenant_id="t",
            text="möte",
            due_at=NOW,
            group_name="Civilsamhälle",
        ),
        NOW,
    )
    reminders.expand_due(NOW + timedelta(minutes=2))  # exactly two minutes: not late yet
    [due] = reminders.claim(NOW + timedelta(minutes=2), HOLD, "a")
    assert (due.text, due.recipient, due.conversation_id, due.tenant_id) == (
        "möte",
        "conv:19:chat",
        "19:chat",
        "t",
    )
    assert (due.owner, due.late, due.attempts, due.due_at) == (ANNA, False, 1, NOW)
    assert due.leased_until == NOW + timedelta(minutes=2) + HOLD
    assert (due.is_recurring, due.group_name) == (False, "Civilsamhälle")
    assert reminders.delivery(due.id) == (due.reminder_id, "conv:19:chat", None)
    assert reminders.delivery(due.id + 1000) is None


def test_a_delivery_expanded_late_says_so(reminders: ReminderRepository) -> None:
    reminders.add(one_off(NOW), NOW)
    late = NOW + timedelta(minutes=2) + SECOND
    reminders.expand_due(late)
    [due] = reminders.claim(late, HOLD, "a")
    assert due.late and due.recipient == ANNA.user_id and due.recipient_aad == ANNA.aad_object_id


def test_claims_come_soonest_first_up_to_the_limit(reminders: ReminderRepository) -> None:
    for minutes in (3, 1, 2):
        reminders.add(one_off(NOW + timedelta(minutes=minutes)), NOW)
        reminders.expand_due(NOW + timedelta(minutes=minutes))
    first_two = reminders.claim(NOW + timedelta(minutes=5), HOLD, "a", limit=2)
    assert [d.due_at for d in first_two] == [NOW + timedelta(minutes=m) for m in (1, 2)]
    [last] = reminders.claim(NOW + timedelta(minutes=5), HOLD, "a", limit=2)
    assert last.due_at == NOW + timedelta(minutes=3)


def test_a_retry_waits_and_a_failure_or_drop_is_final(reminders: ReminderRepository) -> None:
    first = _claimed(reminders)
    reminders.retry_at(first, NOW + timedelta(minutes=5), "429")
    assert reminders.claim(NOW + timedelta(minutes=5) - SECOND, HOLD, "b") == []
    assert reminders.next_wake() == NOW + timedelta(minutes=5)
    [again] = reminders.claim(NOW + timedelta(minutes=5), HOLD, "b")
    assert again.id == first and again.attempts == 2
    reminders.mark_failed(again.id, NOW, "403 " + "x" * 500)
    reminders.retry_at(again.id, NOW, "late retry")  # a finished delivery is not revived
    assert reminders.claim(NOW + timedelta(days=1), HOLD, "c") == []
    dropped = _claimed(reminders, NOW + timedelta(hours=1))
    reminders.mark_dropped(dropped, NOW, "mötet har börjat")
    assert reminders.claim(NOW + timedelta(days=1), HOLD, "c") == []
    assert reminders.delivered_counts() == {}
    assert reminders.next_wake() is None


def test_delivered_ones_are_counted_per_reminder(reminders: ReminderRepository) -> None:
    one = _claimed(reminders)
    two = _claimed(reminders, NOW + SECOND)
    three = _claimed(reminders, NOW + 2 * SECOND)
    reminders.mark_delivered_many([(one, "act-1", NOW), (two, None, NOW)])
    reminders.mark_delivered_many([])
    assert reminders.claim(NOW + timedelta(days=1), HOLD, "b") != []  # only the third
    reminders.mark_delivered(three, NOW, "act-3")
    counts = reminders.delivered_counts()
    assert sorted(counts.values()) == [1, 1, 1] and len(counts) == 3
    assert reminders.claim(NOW + timedelta(days=2), HOLD, "c") == []


def test_a_graceful_stop_hands_back_only_its_own_unsent_claims(
    reminders: ReminderRepository,
) -> None:
    mine = _claimed(reminders, owner="a")
    _claimed(reminders, NOW + SECOND, owner="b")
    sent = _claimed(reminders, NOW + 2 * SECOND, owner="a")
    reminders.mark_delivered(sent, NOW, "act")
    assert reminders.release_leases("a") == 1
    [back] = reminders.claim(NOW + 2 * SECOND, HOLD, "c")
    assert back.id == mine


def test_the_service_wakes_for_the_earliest_due_retry_or_lease_end(
    reminders: ReminderRepository,
) -> None:
    assert reminders.next_wake() is None
    reminders.add(one_off(NOW + timedelta(hours=1)), NOW)
    assert reminders.next_wake() == NOW + timedelta(hours=1)
    claimed = _claimed(reminders, NOW)
    assert reminders.next_wake() == NOW + HOLD  # the lease may run out unsent
    reminders.retry_at(claimed, NOW + timedelta(minutes=30), "500")
    assert reminders.next_wake() == NOW + timedelta(minutes=30)


# --- deadlines ----------------------------------------------------------------------------
def test_a_deadline_nudges_those_not_done_and_sums_up_for_its_owner(
    reminders: ReminderRepository, deadlines: DeadlineRepository
) -> None:
    day = date(2026, 12, 4)  # a Friday; nudges at 08.00 Stockholm = 07.00 UTC
    deadline = deadlines.add(
        name="Verksamhetsberättelse",
        day=day,
        tenant_id="t",
        group_id=None,
        group_name="Civilsamhälle",
        owner=ANNA,
        conversation_id="19:chat",
        members=[BERIT, ANNA, BERIT],
        schedule=(14, 3, 0),  # the 14-day one has passed: not sent late
        hour=8,
        now=NOW,
    )
    assert (deadline.name, deadline.day, deadline.schedule, deadline.hour) == (
        "Verksamhetsberättelse",
        day,
        (14, 3, 0),
        8,
    )
    assert [p.user_id for p in deadline.not_done] == ["29:anna", "29:berit"]
    assert deadline.done == () and deadline.owner == ANNA
    assert deadlines.mark_done(deadline.id, BERIT.user_id, NOW)
    assert not deadlines.mark_done(deadline.id, BERIT.user_id, NOW)  # once
    assert not deadlines.mark_done(deadline.id, "29:outsider", NOW)
    assert deadlines.is_done(deadline.id, BERIT.user_id)
    assert not deadlines.is_done(deadline.id, ANNA.user_id)
    assert not deadlines.is_done(deadline.id, "29:outsider")
    first_nudge = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert reminders.expand_due(first_nudge - SECOND) == []
    reminders.expand_due(first_nudge)
    [nudge] = reminders.claim(first_nudge, HOLD, "a")
    assert (nudge.kind, nudge.recipient, nudge.deadline_id) == (
        DEADLINE_NUDGE,
        "29:anna",
        deadline.id,
    )
    reminders.mark_delivered(nudge.id, first_nudge, "act-1")
    last_nudge = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
    reminders.expand_due(last_nudge)
    [nudge] = reminders.claim(last_nudge, HOLD, "a")
    reminders.mark_delivered(nudge.id, last_nudge, "act-2")
    saturday = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
    reminders.expand_due(saturday)
    assert reminders.claim(saturday, HOLD, "a") == []  # the summary waits for Monday
    summary_at = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    reminders.expand_due(summary_at)
    [summary] = reminders.claim(summary_at, HOLD, "a")
    assert (summary.kind, summary.recipient) == ("deadline_summary", "29:anna")
    stored = deadlines.get(deadline.id)
    assert stored is not None and [p.user_id for p in stored.done] == ["29:berit"]
    assert deadlines.get(deadline.id + 1000) is None


def test_a_deadline_is_found_by_its_name_within_the_tenant(
    deadlines: DeadlineRepository,
) -> None:
    def add(name: str, tenant: str | None, day: date) -> int:
        return deadlines.add(
            name=name,
            day=day,
            tenant_id=tenant,
            group_id=None,
            group_name="",
            owner=ANNA,
            conversation_id=None,
            members=[ANNA],
            schedule=(1,),
            hour=8,
            now=NOW,
        ).id

    older = add("Budget 2027", "t", date(2026, 12, 1))
    newer = add("Budget 2027", "t", date(2027, 1, 15))
    elsewhere = add("Budget 2027", None, date(2026, 12, 1))
    assert deadlines.find("budget 2027", "t").id == newer  # type: ignore[union-attr]
    assert deadlines.find("Budgett 2027", "t").id == newer  # type: ignore[union-attr]
    assert deadlines.find("Budget 2027", None).id == elsewhere  # type: ignore[union-attr]
    assert deadlines.find("Semesterlista", "t") is None
    assert deadlines.find("Budget 2027", "t2") is None
    # open deadlines listed: a person's (set or to finish), a tenant's
    assert [d.id for d in deadlines.listing("t", person=ANNA)] == [older, newer]
    assert deadlines.listing("t", person=BERIT) == []
    assert [d.id for d in deadlines.listing(None)] == [elsewhere]


# --- topic watches ------------------------------------------------------------------------
def test_a_topic_is_watched_once_and_unwatched_by_a_near_name(
    reminders: ReminderRepository,
) -> None:
    def watch(person: Person, topic: str) -> bool:
        return reminders.add_watch(person, topic, tenant_id="t", conversation_id="a:1", now=NOW)

    assert watch(ANNA, "Demens")
    assert not watch(ANNA, "demens")
    assert watch(ANNA, "Sårvård") and watch(BERIT, "Demens")
    assert [w.topic for w in reminders.watches_of(ANNA.user_id)] == ["Demens", "Sårvård"]
    [first] = reminders.watches_of(BERIT.user_id)
    assert (first.user_id, first.aad_object_id, first.name, first.tenant_id) == (
        "29:berit",
        "aad-berit",
        "Berit",
        "t",
    )
    assert first.conversation_id == "a:1"
    assert len(reminders.all_watches()) == 3
    assert reminders.remove_watch(ANNA.user_id, "sarvard") == "Sårvård"
    assert reminders.remove_watch(ANNA.user_id, "KOL") is None
    assert reminders.remove_watch(ANNA.user_id, "sårvård") is None
    assert [w.topic for w in reminders.watches_of(ANNA.user_id)] == ["Demens"]
    assert [w.topic for w in reminders.watches_of(BERIT.user_id)] == ["Demens"]


# --- retention ----------------------------------------------------------------------------
def test_retention_forgets_finished_things_only_after_the_cutoff(
    reminders: ReminderRepository,
) -> None:
    sent = _claimed(reminders)
    reminders.mark_delivered(sent, NOW, "act")
    pending = reminders.add(one_off(NOW + timedelta(days=400)), NOW)
    stopped = reminders.add(one_off(NOW + timedelta(days=400)), NOW)
    reminders.cancel(stopped.id, ANNA.user_id, NOW)
    assert reminders.purge_older_than(NOW) == 0  # made, delivered, stopped at the cutoff: kept
    # the delivery, its reminder, the stopped one; not the one still to come
    assert reminders.purge_older_than(NOW + SECOND) == 3
    assert reminders.get(stopped.id) is None and reminders.get(pending.id) == pending


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY",
        "RRULE:FREQ=WEEKLY",
        "rrule:FREQ=WEEKLY",
        # an iCalendar DTSTART of its own is ignored: the series starts at the reminder's time
        "DTSTART:20200101T080000\nRRULE:FREQ=WEEKLY",
        "dtstart:20200101T080000\nRRULE:FREQ=WEEKLY",
    ],
)
def test_a_weekly_rule_recurs_from_the_reminders_time_however_it_is_written(
    reminders: ReminderRepository, rule: str
) -> None:
    weekly = reminders.add(one_off(NOW, rrule=rule), NOW)
    assert reminders.expand_due(NOW) == [(weekly.id, NOW + timedelta(days=7))]


def test_a_lease_owner_names_the_host_and_process() -> None:
    owner = new_lease_owner()
    host, pid, random_part = owner.rsplit(":", 2)
    assert (host, pid) == (socket.gethostname()[:30], str(os.getpid()))
    assert len(random_part) == 12 and new_lease_owner() != owner
