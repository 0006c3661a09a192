"""Where a rule holds or breaks: leases, poll submits and ranking, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.timing import ReminderTiming
from storage.polls import IF_NEEDED, NO, YES, NewPoll, PollClosed, PollRepository, Voter
from storage.reminders import PERSON, NewReminder, Person, ReminderRepository
from tests.test_polls_concurrency import _poll

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOLD = timedelta(seconds=60)
SECOND = timedelta(seconds=1)
ANNA = Person("29:anna", "Anna", "aad-anna")


def _one_claimed(reminders: ReminderRepository, owner: str) -> int:
    reminders.add(NewReminder(owner=ANNA, audience=PERSON, person=ANNA, text="x", due_at=NOW), NOW)
    reminders.expand_due(NOW)
    [claimed] = reminders.claim(NOW, HOLD, owner)
    return claimed.id


# --- leases -------------------------------------------------------------------------------


def test_a_second_owner_one_second_later_gets_nothing(
    any_sessions: sessionmaker[Session],
) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    _one_claimed(reminders, "a")
    assert reminders.claim(NOW + SECOND, HOLD, "b") == []
    assert reminders.claim(NOW + HOLD - SECOND, HOLD, "b") == []


def test_a_held_lease_is_extended_only_by_its_owner(any_sessions: sessionmaker[Session]) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    delivery = _one_claimed(reminders, "a")
    assert reminders.extend_lease(delivery, "b", NOW + SECOND, HOLD) is False
    assert reminders.extend_lease(delivery, "a", NOW + 30 * SECOND, HOLD) is True
    # Extended: at the old expiry it is still a's.
    assert reminders.claim(NOW + HOLD + SECOND, HOLD, "b") == []


def test_a_lost_lease_cannot_be_extended(any_sessions: sessionmaker[Session]) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    delivery = _one_claimed(reminders, "a")
    expired = NOW + HOLD + SECOND
    assert reminders.extend_lease(delivery, "a", expired, HOLD) is False
    [taken] = reminders.claim(expired, HOLD, "b")
    assert taken.id == delivery
    assert reminders.extend_lease(delivery, "a", expired + SECOND, HOLD) is False
    # b's lease stands: a third sender gets nothing while b holds it.
    assert reminders.claim(expired + 2 * SECOND, HOLD, "c") == []


def test_a_delivered_one_is_never_claimed_or_extended_again(
    any_sessions: sessionmaker[Session],
) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    delivery = _one_claimed(reminders, "a")
    reminders.mark_delivered(delivery, NOW + SECOND, "activity-1")
    assert reminders.extend_lease(delivery, "a", NOW + 2 * SECOND, HOLD) is False
    assert reminders.claim(NOW + 2 * HOLD, HOLD, "b") == []


# --- poll submits ---------------------------------------------------------------------------

MARIA = Voter("29:maria", "Maria")
ELIN = Voter("29:elin", "Elin")
OMAR = Voter("29:omar", "Omar")
START = datetime(2027, 8, 16, 8, 0, tzinfo=UTC)


def test_an_answer_after_the_deadline_is_refused_before_the_close_job_runs(
    any_sessions: sessionmaker[Session],
) -> None:
    poll_id, (one, _) = _poll(any_sessions, START)
    polls = PollRepository(any_sessions)
    deadline = polls.get(poll_id).deadline  # type: ignore[union-attr]
    polls.submit(poll_id, MARIA, {one: YES}, deadline - SECOND)
    with pytest.raises(PollClosed):
        polls.submit(poll_id, ELIN, {one: YES}, deadline)
    stored = polls.get(poll_id)
    assert stored is not None and set(stored.answered()) == {MARIA.user_id}


def test_slot_ids_of_another_poll_and_unknown_choices_are_not_stored(
    any_sessions: sessionmaker[Session],
) -> None:
    poll_id, (one, two) = _poll(any_sessions, START)
    polls = PollRepository(any_sessions)
    first = polls.get(poll_id)
    assert first is not None
    other = polls.create(
        NewPoll(
            group_id=first.group_id or 0,
            group_name=first.group_name,
            tenant_id=first.tenant_id,
            title="Uppföljning",
            length_minutes=60,
            place="Teams-möte",
            deadline=first.deadline,
            creator=first.creator,
            slots=((START + timedelta(days=20), START + timedelta(days=20, hours=1)),),
        ),
        START,
    )
    other_id, foreign = other.id, other.slots[0].id
    polls.submit(poll_id, MARIA, {one: YES, foreign: YES, two: "maybe"}, START)
    stored = polls.get(poll_id)
    other = polls.get(other_id)
    assert stored is not None and other is not None
    assert [(a.slot_id, a.choice) for a in stored.answers] == [(one, YES)]
    assert other.answers == ()


def test_more_ja_beats_more_total_availability(any_sessions: sessionmaker[Session]) -> None:
    poll_id, (one, two) = _poll(any_sessions, START)
    polls = PollRepository(any_sessions)
    # Slot one: two Ja, one Nej. Slot two (later): one Ja, two Om det behövs – more in total.
    polls.submit(poll_id, MARIA, {one: YES, two: YES}, START)
    polls.submit(poll_id, ELIN, {one: YES, two: IF_NEEDED}, START)
    polls.submit(poll_id, OMAR, {one: NO, two: IF_NEEDED}, START)
    stored = polls.get(poll_id)
    assert stored is not None
    assert [r.slot.id for r in stored.ranked()] == [one, two]


def test_equal_ja_is_decided_by_om_det_behovs_then_by_the_earliest(
    any_sessions: sessionmaker[Session],
) -> None:
    poll_id, (one, two) = _poll(any_sessions, START)
    polls = PollRepository(any_sessions)
    polls.submit(poll_id, MARIA, {one: YES, two: YES}, START)
    polls.submit(poll_id, ELIN, {one: NO, two: IF_NEEDED}, START)
    stored = polls.get(poll_id)
    assert stored is not None
    assert [r.slot.id for r in stored.ranked()] == [two, one]  # the later slot, by Om det behövs
    polls.submit(poll_id, ELIN, {one: IF_NEEDED, two: IF_NEEDED}, START)
    stored = polls.get(poll_id)
    assert stored is not None
    assert [r.slot.id for r in stored.ranked()] == [one, two]  # a tie: the earliest first
