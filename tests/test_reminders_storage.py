"""The reminder rows as the truth: expansion, leases and recurrence, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from scheduler.timing import (
    ReminderTiming,
    deadline_nudge_times,
    deadline_summary_time,
    next_occurrence,
)
from storage.deadlines import DeadlineRepository
from storage.groups import GroupRepository, Member
from storage.reminders import (
    GROUP,
    PERSON,
    NewReminder,
    Person,
    ReminderRepository,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOLD = timedelta(seconds=60)
ANNA = Person("29:anna", "Anna", "aad-anna")


def one_off(due: datetime, text: str = "x") -> NewReminder:
    return NewReminder(owner=ANNA, audience=PERSON, person=ANNA, text=text, due_at=due)


def test_an_occurrence_is_expanded_and_claimed_once(any_sessions: sessionmaker[Session]) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    reminders.add(one_off(NOW), NOW)
    assert reminders.expand_due(NOW - timedelta(seconds=1)) == []
    assert reminders.expand_due(NOW) == [(1, None)]
    assert reminders.expand_due(NOW) == []  # already moved on
    [claimed] = reminders.claim(NOW, HOLD, "a")
    assert reminders.claim(NOW, HOLD, "b") == []  # leased by a
    # a dies before marking it delivered: once the lease runs out, b sends it again.
    [again] = reminders.claim(NOW + HOLD + timedelta(seconds=1), HOLD, "b")
    assert again.id == claimed.id and again.attempts == 2
    reminders.mark_delivered(again.id, NOW, "activity-1")
    assert reminders.claim(NOW + timedelta(hours=1), HOLD, "c") == []
    assert reminders.next_wake() is None


def test_group_reminders_reach_the_members_at_due_time(any_sessions: sessionmaker[Session]) -> None:
    groups = GroupRepository(any_sessions)
    group = groups.create(
        "Civilsamhälle",
        tenant_id="t",
        created_by=Member("29:coord", "C"),
        conversation_id=None,
        members=[Member("29:maria", "Maria")],
        now=NOW,
    )
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    reminders.add(
        NewReminder(owner=ANNA, audience=GROUP, group_id=group.id, text="möte", due_at=NOW), NOW
    )
    groups.add_members(group.id, [Member("29:caroline", "Caroline")])  # joined before it was due
    reminders.expand_due(NOW)
    claimed = reminders.claim(NOW, HOLD, "a")
    assert sorted(d.recipient for d in claimed) == ["29:caroline", "29:maria"]


def test_late_expansion_is_marked_late_and_recurring_skips_to_the_future(
    any_sessions: sessionmaker[Session],
) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    reminders.add(
        NewReminder(
            owner=ANNA,
            audience=PERSON,
            person=ANNA,
            text="veckomöte",
            due_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0;BYSECOND=0",
        ),
        NOW,
    )
    three_weeks_later = NOW + timedelta(days=21, hours=2)
    [(_, following)] = reminders.expand_due(three_weeks_later)
    assert following == datetime(2026, 12, 21, 9, 0, tzinfo=UTC)  # not three catch-up sends
    [claimed] = reminders.claim(three_weeks_later, HOLD, "a")
    assert claimed.late and claimed.is_recurring


def test_parallel_claimers_never_share_a_delivery(any_sessions: sessionmaker[Session]) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    reminders.add_many([one_off(NOW, f"r{i}") for i in range(300)], NOW)
    reminders.expand_due(NOW)

    def take(owner: str) -> list[int]:
        taken: list[int] = []
        while batch := reminders.claim(NOW, HOLD, owner, limit=7):
            taken += [d.id for d in batch]
        return taken

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(take, ["a", "b", "c", "d"]))
    everything = [i for taken in results for i in taken]
    assert len(everything) == len(set(everything)) == 300


def test_monthly_rule_keeps_stockholm_wall_time_across_dst() -> None:
    rule = "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=10;BYMINUTE=0;BYSECOND=0"
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    march = next_occurrence(rule, start, datetime(2027, 2, 2, tzinfo=UTC))
    april = next_occurrence(rule, start, datetime(2027, 3, 2, tzinfo=UTC))
    november = next_occurrence(rule, start, datetime(2027, 10, 5, tzinfo=UTC))
    assert march == datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 10.00 CET
    assert april == datetime(2027, 4, 5, 8, 0, tzinfo=UTC)  # 10.00 CEST
    assert november == datetime(2027, 11, 1, 9, 0, tzinfo=UTC)


def test_deadline_nudges_are_at_eight_local_on_working_days() -> None:
    times = deadline_nudge_times(date(2027, 4, 1), (14, 3, 1, 0), 8)
    assert times == [
        datetime(2027, 3, 18, 7, 0, tzinfo=UTC),  # CET
        # 3 days before is annandag påsk (29 March 2027), the Friday before långfredagen:
        # the Thursday, still CET
        datetime(2027, 3, 25, 7, 0, tzinfo=UTC),
        datetime(2027, 3, 31, 6, 0, tzinfo=UTC),  # CEST from 28 March
        datetime(2027, 4, 1, 6, 0, tzinfo=UTC),
    ]
    # Friday 24 December 2027: same day and the day before fall on julafton and the Thursday;
    # a Saturday deadline's "same day" is Friday, the same day as its "1 day before": one nudge.
    assert deadline_nudge_times(date(2027, 12, 24), (1, 0), 8) == [
        datetime(2027, 12, 23, 7, 0, tzinfo=UTC)
    ]
    assert deadline_nudge_times(date(2027, 1, 30), (1, 0), 8) == [
        datetime(2027, 1, 29, 7, 0, tzinfo=UTC)
    ]


def test_a_deadline_summary_comes_on_the_first_working_morning_after() -> None:
    assert deadline_summary_time(date(2027, 1, 28), 8) == datetime(2027, 1, 29, 7, tzinfo=UTC)
    # Friday deadline: not Saturday, Monday
    assert deadline_summary_time(date(2027, 1, 29), 8) == datetime(2027, 2, 1, 7, tzinfo=UTC)
    # Wednesday 23 December 2026: julafton, juldagen, the weekend -> Monday 28 December
    assert deadline_summary_time(date(2026, 12, 23), 8) == datetime(2026, 12, 28, 7, tzinfo=UTC)


def test_deadline_done_members_are_not_nudged(any_sessions: sessionmaker[Session]) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    deadlines = DeadlineRepository(any_sessions, ReminderTiming())
    deadline = deadlines.add(
        name="delredovisning",
        day=date(2027, 1, 30),
        tenant_id="t",
        group_id=None,
        group_name="RSS Dalarna",
        owner=Person("29:coord", "Cecilia"),
        conversation_id=None,
        members=[Person("29:maria", "Maria"), Person("29:caroline", "Caroline")],
        schedule=(14, 3, 1, 0),
        hour=8,
        now=NOW,
    )
    assert deadlines.mark_done(deadline.id, "29:maria", NOW)
    assert not deadlines.mark_done(deadline.id, "29:maria", NOW)
    moment = datetime(2027, 1, 16, 7, 0, tzinfo=UTC)
    reminders.expand_due(moment)
    assert [d.recipient for d in reminders.claim(moment, HOLD, "a")] == ["29:caroline"]
    status = deadlines.find("Delredovisningen", "t")
    assert status is not None
    assert [p.name for p in status.done] == ["Maria"]
    assert [p.name for p in status.not_done] == ["Caroline"]


def test_retention_forgets_delivered_reminders_but_not_pending_ones(
    any_sessions: sessionmaker[Session],
) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    reminders.add(one_off(NOW, "done long ago"), NOW)
    reminders.add(one_off(NOW + timedelta(days=400), "still to come"), NOW)
    reminders.expand_due(NOW)
    [claimed] = reminders.claim(NOW, HOLD, "a")
    reminders.mark_delivered(claimed.id, NOW, "activity-1")
    assert reminders.purge_older_than(NOW + timedelta(days=1)) == 2  # the delivery and its reminder
    assert reminders.purge_older_than(NOW + timedelta(days=1)) == 0
    assert reminders.expand_due(NOW + timedelta(days=400)) == [(2, None)]


def test_a_dead_processs_claims_are_taken_over_at_once_a_live_ones_never(
    any_sessions: sessionmaker[Session],
) -> None:
    """PostgreSQL: a process is alive while it holds its liveness lock; when it dies (its
    connection closes) a peer takes over its claims without waiting for the lease. SQLite is one
    process: at start every claim not the process's own is a dead predecessor's."""
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    reminders.add_many([one_off(NOW, f"r{i}") for i in range(6)], NOW)
    reminders.expand_due(NOW)
    alive, dying = reminders.liveness("host:1:alive"), reminders.liveness("host:2:dying")
    alive.hold()
    dying.hold()
    try:
        assert len(reminders.claim(NOW, HOLD, "host:1:alive", limit=3)) == 3
        assert len(reminders.claim(NOW, HOLD, "host:2:dying", limit=3)) == 3
        postgres = any_sessions.kw["bind"].dialect.name == "postgresql"
        if postgres:
            assert reminders.release_orphaned_leases("host:3:peer") == 0  # both alive
            dying.release()  # SIGKILL: the connection closes and the lock goes with it
            assert reminders.release_orphaned_leases("host:3:peer") == 3
            assert reminders.release_orphaned_leases("host:3:peer") == 0
        else:
            assert reminders.release_orphaned_leases("host:3:peer") == 6
        taken = reminders.claim(NOW, HOLD, "host:3:peer")
        assert len(taken) == (3 if postgres else 6)
    finally:
        alive.release()
        dying.release()


def test_presses_at_the_same_time_snooze_once(any_sessions: sessionmaker[Session]) -> None:
    reminders = ReminderRepository(any_sessions, ReminderTiming())
    reminders.add(one_off(NOW, "ringa Lena"), NOW)
    reminders.expand_due(NOW)
    [delivery] = reminders.claim(NOW, HOLD, "a")
    reminders.mark_delivered(delivery.id, NOW, "card-1")
    later = NOW + timedelta(hours=1)
    with ThreadPoolExecutor(8) as pool:
        pressed = list(
            pool.map(
                lambda _: reminders.snooze_once(delivery.id, one_off(later, "ringa Lena"), NOW),
                range(8),
            )
        )
    assert sum(1 for p in pressed if p is not None and p.first) == 1
    assert {p.due_at for p in pressed if p is not None} == {later}
    assert [r.text for r in reminders.upcoming_for(ANNA.user_id)] == ["ringa Lena"]

    done = reminders.finish(delivery.id, NOW)
    assert done is not None and done.done and done.first
    assert reminders.upcoming_for(ANNA.user_id) == []
    assert reminders.snooze_once(delivery.id, one_off(later), NOW) == done.__class__(
        done=True, due_at=None, first=False
    )
    assert reminders.snooze_once(delivery.id + 99, one_off(later), NOW) is None
