"""The poll repository's rules, on SQLite and PostgreSQL: what is stored, who is closed, booked,
moved and forgotten, and who gets to send a result. Written against the survivors
bench/mutation.py listed for storage/polls.py; each assertion is something a member or the
coordinator would see (the card, the result, the .ics, the booking answer).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.groups import GroupRepository, Member
from storage.polls import (
    BOOKED,
    CANCELLED,
    CLOSED,
    IF_NEEDED,
    NO,
    OPEN,
    YES,
    AlreadyBooked,
    NewPoll,
    PollClosed,
    PollNotFound,
    PollRepository,
    PollView,
    Voter,
)

NOW = datetime(2027, 8, 16, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
HOURS = timedelta(hours=2)
CECILIA = Voter("29:coord", "Cecilia", "aad-coord")
MARIA = Voter("29:maria", "Maria", "aad-maria")
NAMELESS = Voter("29:nameless")


def _group(sessions: sessionmaker[Session], name: str = "Civilsamhälle") -> int:
    return (
        GroupRepository(sessions)
        .create(
            name,
            tenant_id="t",
            created_by=Member("29:coord", "Cecilia"),
            conversation_id=None,
            members=[Member("29:maria", "Maria")],
            now=NOW,
        )
        .id
    )


def _new(
    polls: PollRepository,
    group_id: int,
    *,
    now: datetime = NOW,
    deadline: datetime = NOW + 7 * DAY,
    creator: Voter = CECILIA,
    tenant_id: str | None = "t",
    first: datetime = NOW + 14 * DAY,
) -> PollView:
    return polls.create(
        NewPoll(
            group_id=group_id,
            group_name="Civilsamhälle",
            tenant_id=tenant_id,
            title="Spånarmöte",
            length_minutes=90,
            place="Rum 3, Borås stadshus",
            deadline=deadline,
            creator=creator,
            # given out of order: stored earliest first
            slots=((first + DAY, first + DAY + HOURS), (first, first + HOURS)),
        ),
        now,
    )


@pytest.fixture
def polls(any_sessions: sessionmaker[Session]) -> PollRepository:
    return PollRepository(any_sessions)


@pytest.fixture
def group_id(any_sessions: sessionmaker[Session]) -> int:
    return _group(any_sessions)


def test_a_new_poll_keeps_what_the_coordinator_planned(
    polls: PollRepository, group_id: int
) -> None:
    created = _new(polls, group_id)
    stored = polls.get(created.id)
    assert stored == created
    assert (stored.group_id, stored.group_name, stored.tenant_id) == (
        group_id,
        "Civilsamhälle",
        "t",
    )
    assert (stored.title, stored.length_minutes, stored.place) == (
        "Spånarmöte",
        90,
        "Rum 3, Borås stadshus",
    )
    assert (stored.deadline, stored.status, stored.creator) == (NOW + 7 * DAY, OPEN, CECILIA)
    assert (stored.version, stored.result_sent, stored.meeting, stored.answers) == (
        0,
        False,
        None,
        (),
    )
    first = NOW + 14 * DAY
    assert [(s.position, s.start, s.end) for s in stored.slots] == [
        (0, first, first + HOURS),
        (1, first + DAY, first + DAY + HOURS),
    ]
    assert (stored.conversation_id, stored.activity_id) == (None, None)
    assert polls.get(created.id + 1000) is None
    assert polls.version(created.id + 1000) == 0


def test_the_shared_card_is_remembered(polls: PollRepository, group_id: int) -> None:
    poll = _new(polls, group_id)
    polls.set_card(poll.id, "19:group", "activity-1")
    stored = polls.get(poll.id)
    assert stored is not None
    assert (stored.conversation_id, stored.activity_id) == ("19:group", "activity-1")


def test_answers_are_counted_by_choice_with_the_members_names(
    polls: PollRepository, group_id: int
) -> None:
    poll = _new(polls, group_id)
    one, two = (s.id for s in poll.slots)
    first = polls.submit(poll.id, MARIA, {one: YES, two: NO}, NOW)
    assert (first.changed, first.first_time, first.poll.version) == (True, True, 1)
    again = polls.submit(poll.id, MARIA, {one: YES, two: NO}, NOW + SECOND)
    assert (again.changed, again.first_time, again.poll.version) == (False, False, 2)
    changed = polls.submit(poll.id, MARIA, {two: IF_NEEDED}, NOW + SECOND)
    assert (changed.changed, changed.first_time) == (True, False)
    polls.submit(poll.id, NAMELESS, {one: NO, two: IF_NEEDED}, NOW)
    stored = polls.get(poll.id)
    assert stored is not None and polls.version(poll.id) == stored.version == 4
    assert stored.answered() == {MARIA.user_id: MARIA, NAMELESS.user_id: NAMELESS}
    assert stored.choice_of(MARIA.user_id, two) == IF_NEEDED
    assert stored.choice_of(NAMELESS.user_id, one) == NO
    assert stored.choice_of("29:someone", one) is None
    assert stored.names_by_choice(two) == {YES: [], IF_NEEDED: ["29:nameless", "Maria"], NO: []}
    assert [(r.slot.id, r.yes, r.if_needed, r.no) for r in stored.ranked()] == [
        (one, 1, 0, 1),
        (two, 0, 2, 0),
    ]
    assert stored.slot(two) == stored.slots[1] and stored.slot(two + 1000) is None


def test_a_cancelled_or_unknown_poll_takes_no_answers(polls: PollRepository, group_id: int) -> None:
    poll = _new(polls, group_id)
    one = poll.slots[0].id
    polls.cancel(poll.id, NOW)
    with pytest.raises(PollClosed) as closed:
        polls.submit(poll.id, MARIA, {one: YES}, NOW)
    assert closed.value.poll.status == CANCELLED and closed.value.poll.id == poll.id
    with pytest.raises(PollNotFound):
        polls.submit(poll.id + 1000, MARIA, {one: YES}, NOW)
    stored = polls.get(poll.id)
    assert stored is not None and stored.answers == () and not stored.is_open


def test_open_until_the_deadline(polls: PollRepository, group_id: int) -> None:
    poll = _new(polls, group_id)
    one = poll.slots[0].id
    assert poll.is_open
    polls.submit(poll.id, MARIA, {one: YES}, poll.deadline - SECOND)
    with pytest.raises(PollClosed):
        polls.submit(poll.id, CECILIA, {one: YES}, poll.deadline)
    stored = polls.get(poll.id)
    assert stored is not None and [a.member.user_id for a in stored.answers] == [MARIA.user_id]


# --- closing and the result ---------------------------------------------------------------
def test_polls_close_at_their_deadline_once_in_deadline_order(
    polls: PollRepository, any_sessions: sessionmaker[Session], group_id: int
) -> None:
    later = _new(polls, group_id, deadline=NOW + 3 * DAY)
    sooner = _new(polls, group_id, deadline=NOW + 2 * DAY)
    _new(polls, group_id, deadline=NOW + 9 * DAY)
    assert polls.next_deadline() == NOW + 2 * DAY
    assert polls.close_due(NOW + 2 * DAY - SECOND) == []
    assert polls.claim_result(later.id, NOW) is not None  # everyone answered: sent early
    closed = polls.close_due(NOW + 3 * DAY)
    assert [(p.id, p.status, p.version, p.result_sent, send) for p, send in closed] == [
        (sooner.id, CLOSED, 1, True, True),
        (later.id, CLOSED, 1, True, False),  # its result is already on its way
    ]
    assert polls.close_due(NOW + 3 * DAY) == []
    assert polls.next_deadline() == NOW + 9 * DAY
    with pytest.raises(PollClosed):
        polls.submit(sooner.id, MARIA, {sooner.slots[0].id: YES}, NOW)


def test_no_deadline_when_nothing_is_open(polls: PollRepository, group_id: int) -> None:
    assert polls.next_deadline() is None
    polls.cancel(_new(polls, group_id).id, NOW)
    assert polls.next_deadline() is None


def test_one_caller_gets_to_send_the_result_and_it_is_resent_until_delivered(
    polls: PollRepository, group_id: int
) -> None:
    poll = _new(polls, group_id)
    lease = timedelta(minutes=10)
    claimed = polls.claim_result(poll.id, NOW)
    assert claimed is not None and claimed.result_sent and claimed.id == poll.id
    assert polls.claim_result(poll.id, NOW) is None
    assert polls.results_to_resend(NOW + lease - SECOND, lease) == []
    [again] = polls.results_to_resend(NOW + lease, lease)
    assert again.id == poll.id
    assert polls.results_to_resend(NOW + lease, lease) == []  # claimed anew just now
    polls.mark_result_delivered(poll.id, NOW + lease)
    assert polls.results_to_resend(NOW + 10 * lease, lease) == []
    polls.cancel(poll.id, NOW)
    assert polls.claim_result(poll.id, NOW) is None


def test_a_closed_poll_whose_result_was_lost_is_resent(
    polls: PollRepository, group_id: int
) -> None:
    poll = _new(polls, group_id, deadline=NOW + DAY)
    lease = timedelta(minutes=10)
    [(closed, send)] = polls.close_due(NOW + DAY)
    assert send and closed.status == CLOSED
    [again] = polls.results_to_resend(NOW + DAY + lease, lease)
    assert again.id == poll.id
    polls.mark_result_delivered(poll.id, NOW + DAY + lease)
    cancelled = _new(polls, group_id)
    polls.claim_result(cancelled.id, NOW)
    polls.cancel(cancelled.id, NOW)
    assert polls.results_to_resend(NOW + DAY + 3 * lease, lease) == []


# --- booking, moving, cancelling ----------------------------------------------------------
def test_booking_a_slot_gives_a_meeting_once(polls: PollRepository, group_id: int) -> None:
    poll = _new(polls, group_id)
    one, two = poll.slots
    booked, first_time = polls.book(poll.id, one.id, NOW + SECOND)
    assert first_time and booked.status == BOOKED and booked.version == 1 and booked.result_sent
    meeting = booked.meeting
    assert meeting is not None and (meeting.start, meeting.end) == (one.start, one.end)
    assert (meeting.sequence, meeting.cancelled, meeting.poll_id) == (0, False, poll.id)
    assert meeting.uid.endswith("@natverksboten") and len(meeting.ics_token) >= 40
    again, first_time = polls.book(poll.id, one.id, NOW + 2 * SECOND)
    assert not first_time and again.meeting == meeting and again.version == 1
    with pytest.raises(AlreadyBooked) as taken:
        polls.book(poll.id, two.id, NOW)
    assert taken.value.meeting == meeting and taken.value.poll.id == poll.id
    assert polls.by_token(meeting.ics_token) == again
    assert polls.by_token("gissat") is None
    other = polls.book(_new(polls, group_id).id, one.id + 2, NOW)[0].meeting
    assert other is not None and other.ics_token != meeting.ics_token and other.uid != meeting.uid


def test_no_booking_of_a_foreign_slot_a_cancelled_or_unknown_poll(
    polls: PollRepository, group_id: int
) -> None:
    poll = _new(polls, group_id)
    other = _new(polls, group_id)
    with pytest.raises(PollNotFound):
        polls.book(poll.id, other.slots[0].id, NOW)
    with pytest.raises(PollNotFound):
        polls.book(poll.id, other.slots[1].id + 1000, NOW)
    with pytest.raises(PollNotFound):
        polls.book(other.id + 1000, poll.slots[0].id, NOW)
    polls.cancel(poll.id, NOW)
    with pytest.raises(PollClosed):
        polls.book(poll.id, poll.slots[0].id, NOW)
    stored = polls.get(poll.id)
    assert stored is not None and stored.meeting is None and stored.status == CANCELLED


def test_a_moved_meeting_keeps_its_uid_with_a_higher_sequence(
    polls: PollRepository, group_id: int
) -> None:
    poll = _new(polls, group_id)
    one, two = poll.slots
    booked, _ = polls.book(poll.id, one.id, NOW)
    elsewhere = one.start + 30 * DAY
    moved = polls.move(poll.id, elsewhere, elsewhere + HOURS, NOW + SECOND)
    assert moved.meeting is not None and booked.meeting is not None
    assert (moved.meeting.start, moved.meeting.end) == (elsewhere, elsewhere + HOURS)
    assert (moved.meeting.uid, moved.meeting.sequence) == (booked.meeting.uid, 1)
    assert moved.version == booked.version + 1 and moved.status == BOOKED
    # Onto the other proposed slot: that slot is now the booked one.
    back = polls.move(poll.id, two.start, two.end, NOW + 2 * SECOND)
    assert back.meeting is not None and back.meeting.sequence == 2
    again, first_time = polls.book(poll.id, two.id, NOW)
    assert not first_time and again.meeting == back.meeting
    with pytest.raises(AlreadyBooked):
        polls.book(poll.id, one.id, NOW)


def test_only_a_booked_meeting_can_be_moved(polls: PollRepository, group_id: int) -> None:
    poll = _new(polls, group_id)
    start = poll.slots[0].start
    with pytest.raises(PollClosed):
        polls.move(poll.id, start, start + HOURS, NOW)
    with pytest.raises(PollNotFound):
        polls.move(poll.id + 1000, start, start + HOURS, NOW)
    polls.book(poll.id, poll.slots[0].id, NOW)
    polls.cancel(poll.id, NOW)
    with pytest.raises(PollClosed):
        polls.move(poll.id, start + DAY, start + DAY + HOURS, NOW)
    stored = polls.get(poll.id)
    assert stored is not None and stored.meeting is not None
    assert stored.meeting.start == start


def test_cancelling_cancels_the_meeting_once(polls: PollRepository, group_id: int) -> None:
    poll = _new(polls, group_id)
    booked, _ = polls.book(poll.id, poll.slots[0].id, NOW)
    cancelled = polls.cancel(poll.id, NOW + SECOND)
    assert cancelled.status == CANCELLED and cancelled.version == booked.version + 1
    assert cancelled.meeting is not None and booked.meeting is not None
    assert cancelled.meeting.cancelled and cancelled.meeting.sequence == 1
    assert cancelled.meeting.uid == booked.meeting.uid
    with pytest.raises(PollClosed):
        polls.cancel(poll.id, NOW)
    with pytest.raises(PollNotFound):
        polls.cancel(poll.id + 1000, NOW)
    open_one = polls.cancel(_new(polls, group_id).id, NOW)
    assert open_one.status == CANCELLED and open_one.meeting is None


def test_proposals_avoid_only_the_groups_live_meetings_that_overlap(
    polls: PollRepository, any_sessions: sessionmaker[Session], group_id: int
) -> None:
    poll = _new(polls, group_id)
    one = poll.slots[0]
    polls.book(poll.id, one.id, NOW)
    assert polls.booked_meetings(group_id, one.start, one.end) == [(one.start, one.end)]
    assert polls.booked_meetings(group_id, one.end - SECOND, one.end + DAY) == [
        (one.start, one.end)
    ]
    assert polls.booked_meetings(group_id, one.end, one.end + DAY) == []  # touching is fine
    assert polls.booked_meetings(group_id, one.start - DAY, one.start) == []
    other_group = _group(any_sessions, "Demensnätverket")
    assert polls.booked_meetings(other_group, one.start, one.end) == []
    polls.cancel(poll.id, NOW)
    assert polls.booked_meetings(group_id, one.start, one.end) == []


# --- which poll a command is about --------------------------------------------------------
def test_the_poll_shown_in_this_chat_else_the_one_this_person_started(
    polls: PollRepository, group_id: int
) -> None:
    older = _new(polls, group_id)
    polls.set_card(older.id, "19:group", None)
    newer = _new(polls, group_id, now=NOW + SECOND)
    polls.set_card(newer.id, "19:group", None)
    mine = _new(polls, group_id, creator=MARIA, now=NOW + 2 * SECOND)
    elsewhere = _new(polls, group_id, tenant_id=None, now=NOW + 3 * SECOND)

    def latest(conversation: str, user: str, tenant: str | None = "t") -> int | None:
        found = polls.latest_open(tenant, conversation_id=conversation, user_id=user)
        return found.id if found else None

    assert latest("19:group", MARIA.user_id) == newer.id
    assert latest("19:other", MARIA.user_id) == mine.id
    assert latest("19:other", "29:nobody") is None
    assert latest("19:other", CECILIA.user_id, tenant=None) == elsewhere.id
    assert latest("19:group", MARIA.user_id, tenant="t2") is None
    polls.book(newer.id, newer.slots[0].id, NOW + 5 * SECOND)
    polls.book(older.id, older.slots[0].id, NOW + 4 * SECOND)
    assert latest("19:group", MARIA.user_id) == mine.id  # none open here: hers
    active = polls.latest_active("t", conversation_id="19:group", user_id="29:x")
    assert active is not None and active.id == newer.id
    polls.cancel(newer.id, NOW)
    active = polls.latest_active("t", conversation_id="19:group", user_id="29:x")
    assert active is not None and active.id == older.id
    active = polls.latest_active("t", conversation_id="19:other", user_id=MARIA.user_id)
    assert active is not None and active.id == mine.id
    assert polls.latest_active("t2", conversation_id="19:group", user_id=MARIA.user_id) is None


# --- forgetting ---------------------------------------------------------------------------
def test_finished_polls_are_forgotten_after_the_cutoff_open_ones_never(
    polls: PollRepository, group_id: int
) -> None:
    still_open = _new(polls, group_id, deadline=NOW + 400 * DAY)
    closed = _new(polls, group_id, deadline=NOW + DAY)
    polls.close_due(NOW + DAY)
    cancelled = polls.cancel(_new(polls, group_id).id, NOW + 2 * DAY)
    booked = _new(polls, group_id)
    meeting_end = booked.slots[0].end  # NOW + 14 days + 2 h
    polls.book(booked.id, booked.slots[0].id, NOW)
    assert polls.purge_older_than(NOW + DAY) == 0  # closed at exactly the cutoff: kept
    assert polls.purge_older_than(NOW + DAY + SECOND) == 1
    assert polls.get(closed.id) is None
    assert polls.purge_older_than(NOW + 2 * DAY + SECOND) == 1
    assert polls.get(cancelled.id) is None
    assert polls.purge_older_than(meeting_end) == 0  # the meeting has not ended before it
    assert polls.purge_older_than(meeting_end + SECOND) == 1
    assert polls.get(booked.id) is None and polls.get(still_open.id) is not None
