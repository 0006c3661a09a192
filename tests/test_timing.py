"""The Stockholm wall-time rules of scheduler/timing.py, each pinned at its edges.

The dialogs and storage tests reach these rules through whole conversations; here each rule is
checked where it turns (daylight saving, midnight, "strictly after", the end of a working week),
so a changed comparison or hour is caught by a test that names the rule.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler.timing import (
    ReminderTiming,
    at_hour,
    deadline_nudge_times,
    deadline_nudges,
    deadline_summary_time,
    default_poll_deadline,
    has_started,
    is_late,
    local_day,
    local_to_utc,
    meeting_reminder_times,
    next_occurrence,
    occurrences_after,
    poll_deadline_on,
    poll_nudge_times,
    snooze_until,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- wall time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0), utc(2026, 11, 23, 9, 0)),  # winter: UTC+1
        (datetime(2026, 6, 15, 10, 0), utc(2026, 6, 15, 8, 0)),  # summer: UTC+2
        # 02.30 on the last Sunday of March does not exist: the hour after
        (datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 30)),
        # 02.30 on the last Sunday of October happens twice: the first, summer-time one
        (datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),
    ],
)
def test_stockholm_wall_time_to_utc_across_daylight_saving(
    local: datetime, expected: datetime
) -> None:
    assert local_to_utc(local) == expected


def test_a_day_and_hour_is_stockholm_time_and_the_local_day_turns_at_local_midnight() -> None:
    assert at_hour(date(2026, 11, 23), 8) == utc(2026, 11, 23, 7, 0)
    assert at_hour(date(2026, 6, 15), 8) == utc(2026, 6, 15, 6, 0)
    assert local_day(utc(2026, 11, 22, 23, 30)) == date(2026, 11, 23)  # 00.30 in Stockholm
    assert local_day(utc(2026, 11, 22, 22, 59)) == date(2026, 11, 22)


# --- recurrence -----------------------------------------------------------------------------

TUESDAY_10 = utc(2026, 3, 24, 9, 0)  # Tuesday 24 March 2026, 10.00 in Stockholm (winter)


def test_a_weekly_reminder_stays_at_ten_across_the_spring_change() -> None:
    # the next Tuesday is in summer time: 10.00 in Stockholm is 08.00 UTC
    assert next_occurrence("FREQ=WEEKLY;BYDAY=TU", TUESDAY_10, TUESDAY_10) == utc(2026, 3, 31, 8, 0)


def test_the_next_occurrence_is_strictly_after_and_the_same_day_counts() -> None:
    daily = "FREQ=DAILY"
    first = utc(2026, 11, 23, 9, 0)  # 10.00 in Stockholm
    # an hour before today's 10.00: today's, not tomorrow's
    assert next_occurrence(daily, first, utc(2026, 11, 24, 8, 0)) == utc(2026, 11, 24, 9, 0)
    # exactly at today's 10.00: tomorrow's
    assert next_occurrence(daily, first, utc(2026, 11, 24, 9, 0)) == utc(2026, 11, 25, 9, 0)
    # one second before: today's
    before = utc(2026, 11, 24, 9, 0) - timedelta(seconds=1)
    assert next_occurrence(daily, first, before) == utc(2026, 11, 24, 9, 0)


def test_stored_rules_with_a_prefix_or_a_start_line_read_the_same() -> None:
    after = utc(2026, 11, 23, 12, 0)
    first = utc(2026, 11, 23, 9, 0)
    plain = occurrences_after("FREQ=WEEKLY;BYDAY=MO,WE", first, after, 3)
    assert plain == [utc(2026, 11, 25, 9, 0), utc(2026, 11, 30, 9, 0), utc(2026, 12, 2, 9, 0)]
    prefixed = "DTSTART:20200101T000000\nrrule:FREQ=WEEKLY;BYDAY=MO,WE"
    assert occurrences_after(prefixed, first, after, 3) == plain


def test_a_series_that_has_ended_has_no_next_time() -> None:
    first = utc(2026, 11, 23, 9, 0)
    assert next_occurrence("FREQ=DAILY;COUNT=2", first, utc(2026, 11, 24, 9, 0)) is None
    assert occurrences_after("FREQ=DAILY;COUNT=2", first, first, 5) == [utc(2026, 11, 24, 9, 0)]


def test_as_many_occurrences_as_asked_for() -> None:
    first = utc(2026, 11, 23, 9, 0)
    found = occurrences_after("FREQ=DAILY", first, first, 2)
    assert found == [utc(2026, 11, 24, 9, 0), utc(2026, 11, 25, 9, 0)]
    assert len(occurrences_after("FREQ=DAILY", first, first)) == 1


# --- delivery -------------------------------------------------------------------------------


def test_a_delivery_is_late_only_after_two_minutes() -> None:
    due = utc(2026, 11, 23, 9, 0)
    assert not is_late(due, due)
    assert not is_late(due, due + timedelta(minutes=2))
    assert is_late(due, due + timedelta(minutes=2, seconds=1))
    assert not is_late(due, due - timedelta(hours=1))


def test_a_meeting_has_started_from_its_first_second() -> None:
    start = utc(2026, 11, 24, 12, 0)
    assert not has_started(None, start)
    assert not has_started(start, start - timedelta(seconds=1))
    assert has_started(start, start)
    assert has_started(start, start + timedelta(minutes=5))


# --- deadlines, meetings, snoozes -------------------------------------------------------------


def test_deadline_nudges_in_time_order_at_the_hour_and_the_summary_the_morning_after() -> None:
    day = date(2027, 1, 28)  # a Thursday; every nudge day below is a working day
    assert deadline_nudge_times(day, [0, 14, 1, 3], 8) == [
        utc(2027, 1, 14, 7, 0),
        utc(2027, 1, 25, 7, 0),
        utc(2027, 1, 27, 7, 0),
        utc(2027, 1, 28, 7, 0),
    ]
    assert deadline_nudge_times(date(2026, 4, 10), [14], 9) == [utc(2026, 3, 27, 8, 0)]
    assert deadline_summary_time(day, 8) == utc(2027, 1, 29, 7, 0)


DEADLINE_DAY = date(2027, 1, 28)  # Thursday; nudges 3, 1 and 0 days before at 08.00
SCHEDULE = (14, 3, 1, 0)
MON_08, WED_08, THU_08 = utc(2027, 1, 25, 7, 0), utc(2027, 1, 27, 7, 0), utc(2027, 1, 28, 7, 0)


def test_a_deadline_registered_now_sends_only_the_nudges_still_ahead() -> None:
    early = utc(2027, 1, 25, 6, 0)  # Monday 07.00: the 14-days nudge is long gone
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, early) == [MON_08, WED_08, THU_08]
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, MON_08) == [WED_08, THU_08]


def test_a_deadline_at_a_time_gets_no_nudge_at_or_after_that_time() -> None:
    due = THU_08  # the deadline is Thursday 08.00: the 08.00 nudge that day would be too late
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, MON_08, due) == [WED_08]
    wednesday_noon = utc(2027, 1, 27, 11, 0)
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, wednesday_noon, due) == []
    assert ReminderTiming().deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, MON_08, due) == [WED_08]


def test_registered_on_the_day_after_the_morning_nudge_one_goes_out_at_once() -> None:
    before_it = utc(2027, 1, 28, 6, 0)
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, before_it) == [THU_08]
    late_morning = utc(2027, 1, 28, 10, 0)
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, late_morning) == [late_morning]
    last_minute = utc(2027, 1, 28, 22, 59)  # 23.59 in Stockholm
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, last_minute) == [last_minute]
    # without "the same day" in the schedule, nothing
    assert deadline_nudges(DEADLINE_DAY, (3, 1), 8, late_morning) == []
    # the day is over in Stockholm, or the deadline's time has come: nothing
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, utc(2027, 1, 28, 23, 0)) == []
    due = utc(2027, 1, 28, 12, 0)
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, due, due) == []
    assert deadline_nudges(DEADLINE_DAY, SCHEDULE, 8, late_morning, due) == [late_morning]


def test_meeting_reminders_the_afternoon_before_and_an_hour_before_unless_past() -> None:
    start = utc(2026, 11, 24, 12, 0)  # Tuesday 13.00 in Stockholm
    afternoon, hour_before = utc(2026, 11, 23, 15, 0), utc(2026, 11, 24, 11, 0)
    assert meeting_reminder_times(start, utc(2026, 11, 23, 9, 0)) == [afternoon, hour_before]
    assert meeting_reminder_times(start, afternoon) == [hour_before]
    assert meeting_reminder_times(start, hour_before) == []
    # a meeting just after midnight: "the afternoon before" is the previous Stockholm day
    early = utc(2026, 11, 24, 23, 30)  # Wednesday 00.30 in Stockholm
    assert meeting_reminder_times(early, utc(2026, 11, 23, 9, 0))[0] == utc(2026, 11, 24, 15, 0)


def test_a_snooze_comes_back_after_its_minutes_or_tomorrow_at_nine() -> None:
    now = utc(2026, 11, 23, 9, 0)
    assert snooze_until(now, minutes=30) == now + timedelta(minutes=30)
    assert snooze_until(now, minutes=0) == now
    assert snooze_until(now) == utc(2026, 11, 24, 8, 0)
    # 00.30 in Stockholm on the 24th: tomorrow is the 25th
    assert snooze_until(utc(2026, 11, 23, 23, 30)) == utc(2026, 11, 25, 8, 0)


# --- polls ----------------------------------------------------------------------------------


def test_poll_nudges_two_days_before_and_on_the_last_morning_only_ahead() -> None:
    deadline = poll_deadline_on(date(2026, 11, 27))  # Friday 17.00
    assert deadline == utc(2026, 11, 27, 16, 0)
    early, morning = utc(2026, 11, 25, 8, 0), utc(2026, 11, 27, 7, 0)
    assert poll_nudge_times(deadline, utc(2026, 11, 23, 9, 0)) == [early, morning]
    assert poll_nudge_times(deadline, early) == [morning]
    assert poll_nudge_times(deadline, morning) == []
    # a last day that ends at 08.00 gets no nudge that morning
    assert poll_nudge_times(morning, utc(2026, 11, 23, 9, 0)) == [early]


def test_the_default_last_day_is_the_second_working_day_before_the_first_slot() -> None:
    monday = utc(2026, 11, 23, 9, 0)
    # first slot Thursday: Tuesday 17.00
    assert default_poll_deadline(utc(2026, 11, 26, 9, 0), monday) == utc(2026, 11, 24, 16, 0)
    # first slot the next Monday: over the weekend, Thursday 17.00
    assert default_poll_deadline(utc(2026, 11, 30, 9, 0), monday) == utc(2026, 11, 26, 16, 0)
    # first slot Thursday 7 January 2027: trettondedag jul is no working day
    assert default_poll_deadline(utc(2027, 1, 7, 9, 0), monday) == utc(2027, 1, 4, 16, 0)


def test_with_one_working_day_left_it_is_today_and_with_none_there_is_no_default() -> None:
    tuesday_morning = utc(2026, 11, 24, 8, 0)
    first_slot = utc(2026, 11, 25, 9, 0)  # Wednesday 10.00
    assert default_poll_deadline(first_slot, tuesday_morning) == utc(2026, 11, 24, 16, 0)
    assert default_poll_deadline(first_slot, utc(2026, 11, 24, 16, 0)) is None
    assert default_poll_deadline(first_slot, utc(2026, 11, 24, 17, 0)) is None


def test_storage_is_handed_the_same_rules() -> None:
    timing = ReminderTiming()
    first = utc(2026, 11, 23, 9, 0)
    assert timing.next_occurrence("FREQ=DAILY", first, first) == utc(2026, 11, 24, 9, 0)
    assert timing.is_late(first, first + timedelta(minutes=3))
    assert not timing.is_late(first, first + timedelta(minutes=1))
    assert timing.has_started(first, first) and not timing.has_started(None, first)
    assert timing.deadline_nudge_times(date(2027, 1, 28), [1], 8) == [utc(2027, 1, 27, 7, 0)]
    assert timing.deadline_summary_time(date(2027, 1, 28), 8) == utc(2027, 1, 29, 7, 0)
