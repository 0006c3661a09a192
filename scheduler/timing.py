"""Where a reminder's time is decided: every Stockholm wall-time rule of the bot, in one place.

when.py turns what someone wrote into a time; this module decides everything after that: a
recurring reminder's next occurrence, when a deadline and a meeting nudge go out, where "imorgon"
lands for a snoozed reminder, the poll nudges and the poll's default last day to answer, when a
delivery counts as late and when a meeting reminder is pointless because the meeting began.

Rules run on Stockholm wall time (a reminder at 10.00 stays at 10.00 across daylight saving) and
hand back aware UTC datetimes. Storage is handed the rules it applies (`ReminderTiming`); it
keeps rows and leases and knows no clock of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from dateutil.rrule import rrulestr

from scheduler.clock import wall_zone
from scheduler.swedish import (
    holiday_name,
    is_working_day,
    next_working_day,
    previous_working_day,
)

# A delivery later than this after its due time is marked late ("skulle ha kommit ...").
LATE_AFTER = timedelta(minutes=2)

# Meeting reminders: the afternoon before, and this long before the start.
MEETING_AFTERNOON_HOUR = 16
MEETING_SOON = timedelta(hours=1)

# Deadline nudges go out at this hour unless the deadline says otherwise.
DEADLINE_NUDGE_HOUR = 8

# The organiser of a group's recurring reminder hears this long ahead that an occurrence falls
# on a day off.
DAY_OFF_NOTICE_AHEAD = timedelta(days=7)

# A snoozed reminder's "imorgon" is this hour, Stockholm time.
TOMORROW_HOUR = 9

# Polls: a last day to answer without a time ends at the end of the office day; members who have
# not answered are nudged two days before at EARLY, and on the last morning at MORNING.
POLL_DEADLINE_HOUR = 17
POLL_EARLY_NUDGE_HOUR = 9
POLL_MORNING_NUDGE_HOUR = 8


# --- wall time ------------------------------------------------------------------------------


def local_to_utc(naive_local: datetime) -> datetime:
    """Wall time (Stockholm, or the user's zone during their turn: scheduler.clock.wall_zone)
    to UTC. A wall time skipped by spring-forward (02.30) does not exist: it becomes the hour
    after; an autumn time that happens twice is the first (summer) one."""
    zone = wall_zone()
    aware = naive_local.replace(tzinfo=zone)
    roundtrip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if roundtrip != naive_local:
        aware = (naive_local + timedelta(hours=1)).replace(tzinfo=zone)
    return aware.astimezone(UTC)


def at_hour(day: date, hour: int) -> datetime:
    """`hour`.00 on `day`, Stockholm time, in UTC."""
    return local_to_utc(datetime.combine(day, time(hour)))


def local_day(moment: datetime) -> date:
    return moment.astimezone(wall_zone()).date()


# --- recurrence -----------------------------------------------------------------------------


def occurrences_after(
    rule: str, first: datetime, after: datetime, count: int = 1
) -> list[datetime]:
    """The next `count` occurrences of an RFC 5545 rule strictly after `after`, in UTC.

    The rule runs over naive Stockholm wall time from `first` (its first occurrence, or any
    moment that anchors the series), so "kl 10 every first Monday" stays 10.00 across DST.
    """
    body = "\n".join(
        line[len("RRULE:") :] if line.upper().startswith("RRULE:") else line
        for line in rule.strip().splitlines()
        if not line.upper().startswith("DTSTART")
    )
    start = first.astimezone(wall_zone()).replace(tzinfo=None)
    parsed = rrulestr(body, dtstart=start)
    # A margin of a few hours covers the DST hour that naive wall time cannot see.
    from_local = after.astimezone(wall_zone()).replace(tzinfo=None) - timedelta(hours=3)
    found: list[datetime] = []
    for naive in parsed.xafter(from_local, inc=True):
        moment = local_to_utc(naive)
        if moment > after:
            found.append(moment)
            if len(found) >= count:
                break
    return found


def next_occurrence(rule: str, series_start: datetime, after: datetime) -> datetime | None:
    """A recurring reminder's next time: its first occurrence strictly after `after`."""
    found = occurrences_after(rule, series_start, after, 1)
    return found[0] if found else None


# --- delivery -------------------------------------------------------------------------------


def is_late(due_at: datetime, now: datetime) -> bool:
    return now - due_at > LATE_AFTER


def has_started(meeting_start: datetime | None, now: datetime) -> bool:
    """A meeting reminder that would arrive after the meeting began is not sent at all."""
    return meeting_start is not None and now >= meeting_start


# --- deadlines, meetings, snoozes -------------------------------------------------------------


def deadline_nudge_times(day: date, schedule: Sequence[int], hour: int) -> list[datetime]:
    """One nudge `days` before the deadline at `hour`, for each entry of `schedule`.

    A nudge that would fall on a weekend, a public holiday or midsommar-, jul- or nyårsafton
    goes out on the working day before; two that land on the same day become one.
    """
    days = {previous_working_day(day - timedelta(days=before)) for before in schedule}
    return sorted(at_hour(nudge_day, hour) for nudge_day in days)


def deadline_nudges(
    day: date, schedule: Sequence[int], hour: int, now: datetime, due_at: datetime | None = None
) -> list[datetime]:
    """The nudges a deadline registered (or moved) `now` will really send: those of the
    schedule still ahead (and before the deadline's time, if it has one). Registered on the day
    itself after the morning's nudge, with the deadline still ahead, one goes out right away."""
    end = due_at or at_hour(day + timedelta(days=1), 0)
    ahead = [at for at in deadline_nudge_times(day, schedule, hour) if now < at < end]
    same_day = [at for at in ahead if local_day(at) == day]
    if 0 in schedule and not same_day and local_day(now) == day and now < end:
        ahead.append(now)
    return sorted(ahead)


def deadline_summary_time(day: date, hour: int) -> datetime:
    """The owner's summary: the first working morning after the deadline.

    Not the working day before, as for nudges: before the deadline has passed there is nothing
    to sum up, so a summary that would come on a Saturday comes on Monday.
    """
    return at_hour(next_working_day(day + timedelta(days=1)), hour)


def deadline_is_ahead(day: date, due_at: datetime | None, now: datetime) -> bool:
    """A nudge missed while the bot was down still helps until the deadline: its time of day
    when it has one, else the end of its day."""
    if due_at is not None:
        return now < due_at
    return local_day(now) <= day


def is_day_off(occurrence: datetime, series_start: datetime) -> bool:
    """An occurrence on a public holiday or midsommar-, jul- or nyårsafton; or on a weekend when
    the series itself did not start on one (someone who chose Saturdays meant Saturdays)."""
    day = local_day(occurrence)
    if is_working_day(day):
        return False
    if day.weekday() >= 5 and holiday_name(day) is None:
        return local_day(series_start).weekday() < 5
    return True


def day_off_notice_at(
    occurrence: datetime, series_start: datetime, now: datetime
) -> datetime | None:
    """When to ask the organiser about an occurrence on a day off: a week ahead, or now when
    that has passed; None for an occurrence on a working day or already begun."""
    if occurrence <= now or not is_day_off(occurrence, series_start):
        return None
    return max(now, occurrence - DAY_OFF_NOTICE_AHEAD)


def working_day_before(occurrence: datetime) -> datetime:
    """The same wall time on the working day before the occurrence's day."""
    local = occurrence.astimezone(wall_zone())
    day = previous_working_day(local.date() - timedelta(days=1))
    return local_to_utc(datetime.combine(day, local.time().replace(tzinfo=None)))


def working_day_after(occurrence: datetime) -> datetime:
    """The same wall time on the working day after the occurrence's day."""
    local = occurrence.astimezone(wall_zone())
    day = next_working_day(local.date() + timedelta(days=1))
    return local_to_utc(datetime.combine(day, local.time().replace(tzinfo=None)))


def meeting_reminder_times(start: datetime, now: datetime) -> list[datetime]:
    """The afternoon before (16.00) and one hour before; those already past are left out."""
    afternoon = at_hour(local_day(start) - timedelta(days=1), MEETING_AFTERNOON_HOUR)
    return [at for at in (afternoon, start - MEETING_SOON) if at > now]


def snooze_until(now: datetime, *, minutes: int | None = None) -> datetime:
    """A snoozed reminder comes back after `minutes`, or without them "imorgon kl. 9"."""
    if minutes is not None:
        return now + timedelta(minutes=minutes)
    return at_hour(local_day(now) + timedelta(days=1), TOMORROW_HOUR)


# --- polls ----------------------------------------------------------------------------------


def poll_nudge_times(deadline: datetime, now: datetime) -> list[datetime]:
    """Two days before the last day to answer, and on its morning; only those still ahead of
    both now and the deadline."""
    last_day = local_day(deadline)
    moments = [
        at_hour(last_day - timedelta(days=2), POLL_EARLY_NUDGE_HOUR),
        at_hour(last_day, POLL_MORNING_NUDGE_HOUR),
    ]
    return [at for at in moments if now < at < deadline]


def poll_deadline_on(day: date) -> datetime:
    """A last day to answer given without a time ends at the end of the office day."""
    return at_hour(day, POLL_DEADLINE_HOUR)


def default_poll_deadline(first_start: datetime, now: datetime) -> datetime | None:
    """17.00 on the second working day before the first slot, else the one before."""
    day = local_day(first_start)
    found: list[datetime] = []
    while len(found) < 2 and day > local_day(now) - timedelta(days=1):
        day -= timedelta(days=1)
        if is_working_day(day):
            moment = poll_deadline_on(day)
            if now < moment <= first_start:
                found.append(moment)
    return found[-1] if found else None


class ReminderTiming:
    """The rules storage applies when it expands due reminders and stores a deadline
    (storage.reminders.ReminderRules); composition hands this to the repository."""

    def next_occurrence(
        self, rule: str, series_start: datetime, after: datetime
    ) -> datetime | None:
        return next_occurrence(rule, series_start, after)

    def is_late(self, due_at: datetime, now: datetime) -> bool:
        return is_late(due_at, now)

    def has_started(self, meeting_start: datetime | None, now: datetime) -> bool:
        return has_started(meeting_start, now)

    def deadline_nudge_times(self, day: date, schedule: Sequence[int], hour: int) -> list[datetime]:
        return deadline_nudge_times(day, schedule, hour)

    def deadline_summary_time(self, day: date, hour: int) -> datetime:
        return deadline_summary_time(day, hour)

    def deadline_nudges(
        self,
        day: date,
        schedule: Sequence[int],
        hour: int,
        now: datetime,
        due_at: datetime | None,
    ) -> list[datetime]:
        return deadline_nudges(day, schedule, hour, now, due_at)

    def day_off_notice_at(
        self, occurrence: datetime, series_start: datetime, now: datetime
    ) -> datetime | None:
        return day_off_notice_at(occurrence, series_start, now)

    def is_same_day(self, one: datetime, other: datetime) -> bool:
        return local_day(one) == local_day(other)

    def deadline_is_ahead(self, day: date, due_at: datetime | None, now: datetime) -> bool:
        return deadline_is_ahead(day, due_at, now)
