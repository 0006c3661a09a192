"""Turning a filled frame into a value: the day, the clock, DST, a span, checks that parts agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from scheduler.clock import wall_zone
from scheduler.swedish import (
    MONTHS,
    WEEKDAYS,
    format_clock,
    format_date,
    format_when,
)
from scheduler.when.days import _week_monday
from scheduler.when.frame import _Clock, _Frame
from scheduler.when.values import Recurrence, Span, When, WhenError
from scheduler.when.vocabulary import _POSITION_NAMES, _DayPart

if TYPE_CHECKING:
    from scheduler.when.grammar import _Parser

# "heldag" is office hours.
OFFICE_START = time(8, 0)
OFFICE_END = time(17, 0)


def _to_utc(naive: datetime) -> tuple[datetime, str | None]:
    """Stockholm wall time → UTC, saying so when DST made the wall time odd."""
    zone = wall_zone()
    aware = naive.replace(tzinfo=zone)
    moment = aware.astimezone(UTC)
    back = moment.astimezone(zone).replace(tzinfo=None)
    if back != naive:
        return moment, (
            f"kl. {format_clock(naive.hour, naive.minute)} finns inte den natten "
            f"(sommartid börjar), så jag tog kl. {format_clock(back.hour, back.minute)}"
        )
    if aware.replace(fold=1).utcoffset() != aware.utcoffset():
        return moment, (
            f"kl. {format_clock(naive.hour, naive.minute)} inträffar två gånger den natten "
            f"(sommartid slutar); jag tog den första"
        )
    return moment, None


def _ambiguity_question(clock: _Clock) -> WhenError:
    night = f"{clock.hour:02d}.{clock.minute:02d}"
    day = f"{clock.hour + 12:02d}.{clock.minute:02d}"
    when = "på natten" if clock.hour < 5 else "på morgonen"
    return WhenError(
        f"Menar du kl. {night} {when} eller kl. {day} på eftermiddagen? "
        f"Skriv gärna 24-timmarstid, till exempel kl. {clock.hour + 12}."
    )


def _settle_clock(clock: _Clock, part: _DayPart | None) -> tuple[int, int]:
    """Apply "på eftermiddagen"/"ikväll" to a clock time; refuse an unsettled bare 1–6."""
    hour = clock.hour
    if part is not None and part.shift is not None and not clock.shifted:
        if part.shift == "pm" and hour < 12:
            hour += 12
        elif part.shift == "am" and hour > 12:
            raise WhenError(f"kl {clock.text} är inte {part.label}.")
        return hour, clock.minute
    if clock.ambiguous and not clock.shifted:
        raise _ambiguity_question(clock)
    return hour, clock.minute


def _resolve_day(parser: _Parser, frame: _Frame) -> date | None:
    """The one day the frame names, checking every part agrees."""
    today = parser.today
    days: list[tuple[date, str]] = list(frame.dates)
    if frame.week is not None:
        year, number, text = frame.week
        monday = _week_monday(year, number, text)
        assert monday is not None
        if frame.weekday is not None:
            weekday, mode, _, weekday_text = frame.weekday
            if mode not in ("coming", "this_week"):
                raise WhenError(
                    f"”{weekday_text}” och ”{text}” går inte ihop. Vilken vecka menar du?"
                )
            days.append((monday + timedelta(days=weekday), f"{weekday_text} {text}"))
        elif not days:
            day = max(monday, today)
            frame.notes.append(f"jag antog {format_date(day)} för ”{text}”")
            days.append((day, text))
    elif frame.weekday is not None and not days and frame.duration is None:
        weekday, mode, weeks, text = frame.weekday
        monday = today - timedelta(days=today.weekday())
        if mode == "coming":
            day = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
        elif mode in ("next", "next_week"):
            day = monday + timedelta(weeks=1, days=weekday)
            if mode == "next":
                # Swedes differ on whether "nästa fredag" said on a Monday is this week's.
                frame.notes.append(f"jag tolkade ”{text}” som {WEEKDAYS[weekday]} i nästa vecka")
        elif mode == "weeks":
            day = monday + timedelta(weeks=weeks, days=weekday)
        else:
            day = monday + timedelta(days=weekday)
        days.append((day, text))
    if frame.duration is not None and frame.duration.has_calendar():
        local = parser.local_now.replace(tzinfo=None) + frame.duration.calendar
        if frame.clock is not None or frame.day_part is not None or frame.span is not None:
            days.append((local.date(), frame.duration_text))
    if not days:
        return None
    first, first_text = days[0]
    for day, text in days[1:]:
        if day != first:
            raise WhenError(
                f"”{first_text}” och ”{text}” är olika dagar "
                f"({format_date(first)} och {format_date(day)}). Vilken menar du?"
            )
    if frame.weekday is not None:
        weekday, mode, _, text = frame.weekday
        if first.weekday() != weekday:
            raise WhenError(
                f"{_date_words(first)} är en {WEEKDAYS[first.weekday()]}, "
                f"inte en {WEEKDAYS[weekday]}."
            )
    return first


def _date_words(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _clock_of(frame: _Frame, default_hour: int) -> tuple[int, int, str | None, bool]:
    """(hour, minute, assumed note, whether it was a default)."""
    if frame.clock is not None:
        hour, minute = _settle_clock(frame.clock, frame.day_part)
        return hour, minute, None, False
    if frame.day_part is not None:
        part = frame.day_part
        return part.hour, 0, f"jag antog kl. {format_clock(part.hour, 0)} för ”{part.label}”", False
    return default_hour, 0, None, True


def _past(moment: datetime) -> WhenError:
    return WhenError(f"Den tiden har redan varit ({format_when(moment)}). Ange en senare tid.")


def _parse_frame(
    parser: _Parser, frame: _Frame, future: bool, default_hour: int
) -> When | Span | Recurrence:
    if frame.freq is not None:
        return _recurrence(parser, frame, default_hour)
    if frame.span is not None or frame.all_day_span:
        return _span(parser, frame, timedelta(hours=2))
    day = _resolve_day(parser, frame)
    notes = list(frame.notes)
    duration = frame.duration
    if duration is not None and day is None and frame.clock is None and frame.day_part is None:
        # Calendar units keep the wall-clock time ("om en vecka" at 10.00 is 10.00 then too);
        # hours and minutes are elapsed time, so "om 24 timmar" over a DST change is 23 or 25
        # on the clock.
        moment, note = _to_utc(parser.local_now.replace(tzinfo=None) + duration.calendar)
        moment += duration.exact
        if note:
            notes.append(note)
        if moment <= parser.now:
            raise WhenError("Ange en tid längre fram än nu.")
        return When(moment, "; ".join(notes) or None, False)
    if duration is not None and (duration.exact or not duration.has_calendar()):
        raise WhenError(
            f"”{frame.duration_text}” och ett klockslag går inte ihop. Vilken tid menar du?"
        )
    hour, minute, note, defaulted = _clock_of(frame, default_hour)
    if note:
        notes.append(note)
    all_day = False
    next_day = 1 if (hour == 24) else 0
    hour %= 24
    if day is None:
        day = parser.today
        candidate, _ = _to_utc(datetime.combine(day, time(hour, minute)) + timedelta(days=next_day))
        if candidate <= parser.now and future:
            day = day + timedelta(days=1)
            notes.append(
                f"kl. {format_clock(hour, minute)} har redan passerat i dag, så jag tog i morgon"
            )
    elif defaulted:
        all_day = True
        notes.append(f"jag antog kl. {format_clock(hour, minute)} eftersom ingen tid angavs")
    local = datetime.combine(day, time(hour, minute)) + timedelta(days=next_day)
    moment, dst_note = _to_utc(local)
    if dst_note:
        notes.append(dst_note)
    if future and moment <= parser.now:
        raise _past(moment)
    return When(moment, "; ".join(notes) or None, all_day)


def _span(parser: _Parser, frame: _Frame, default_length: timedelta) -> Span:
    day = _resolve_day(parser, frame)
    if frame.all_day_span:
        if frame.span is not None or frame.clock is not None:
            raise WhenError("”heldag” och ett klockslag går inte ihop. Vilken tid menar du?")
        first_clock, last_clock = OFFICE_START, OFFICE_END
    elif frame.span is not None:
        first, second = frame.span
        first_hour, first_minute = _settle_span_clock(first, second, frame.day_part)
        last_hour, last_minute = _settle_span_clock(second, first, frame.day_part)
        if (
            (last_hour, last_minute) <= (first_hour, first_minute)
            and not second.ambiguous
            and not (second.hour == 24 and second.minute == 0)
        ):
            raise WhenError(
                f"”{first.text}”: sluttiden kl. {format_clock(last_hour % 24, last_minute)} "
                f"är inte efter starttiden kl. {format_clock(first_hour, first_minute)}."
            )
        if (last_hour, last_minute) <= (first_hour, first_minute):
            last_hour += 12
        first_clock = time(first_hour, first_minute)
        last_clock = time(last_hour % 24, last_minute)
        if last_hour >= 24:
            last_clock = time(0, 0)
    else:
        hour, minute, _, _ = _clock_of(frame, 9)
        first_clock = time(hour % 24, minute)
        last_clock = (datetime.combine(date(2000, 1, 1), first_clock) + default_length).time()
    if day is None:
        # Today when it is still ahead, else ask: a Span has no room to say "I took tomorrow".
        day = parser.today
        if _to_utc(datetime.combine(day, first_clock))[0] <= parser.now:
            raise WhenError(f"Vilken dag gäller ”{_frame_text(parser, frame)}”?")
    start, _ = _to_utc(datetime.combine(day, first_clock))
    end_day = day + timedelta(days=1) if last_clock <= first_clock else day
    end, _ = _to_utc(datetime.combine(end_day, last_clock))
    if start <= parser.now:
        raise _past(start)
    return Span(start, end)


def _settle_span_clock(clock: _Clock, other: _Clock, part: _DayPart | None) -> tuple[int, int]:
    """Each end of "11-1" or "1-15" settles the other; "1-3" alone is still a question."""
    # A meeting cannot end before it starts, nor start at night to end in the afternoon.
    if (
        clock.ambiguous
        and not clock.shifted
        and (part is None or part.shift is None)
        and not other.ambiguous
        and (other.hour >= 12 or clock.hour < other.hour)
    ):
        return clock.hour + 12, clock.minute
    return _settle_clock(clock, part)


def _frame_text(parser: _Parser, frame: _Frame) -> str:
    return " ".join(parser.text[a:b] for a, b in frame.ranges)


_RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _recurrence(parser: _Parser, frame: _Frame, default_hour: int) -> Recurrence:
    hour, minute, _, _ = _clock_of(frame, default_hour)
    if hour == 24:
        hour = 0
    parts = [f"FREQ={frame.freq}"]
    if frame.interval > 1:
        parts.append(f"INTERVAL={frame.interval}")
    described: str
    clock_text = f"kl. {format_clock(hour, minute)}"
    by_day = sorted(set(frame.by_day), key=lambda item: (item[1], item[0] or 0))
    every = {1: "varje", 2: "varannan", 3: "var tredje", 4: "var fjärde", 5: "var femte"}.get(
        frame.interval, f"var {frame.interval}:e"
    )
    if frame.freq == "WEEKLY" and not by_day:
        weekday = parser.today.weekday()
        if frame.weekday is not None:
            weekday = frame.weekday[0]
        by_day = [(None, weekday)]
    if frame.freq == "DAILY":
        described = f"{every} dag"
    elif frame.freq == "WEEKLY":
        codes = ",".join(_RRULE_DAYS[day] for _, day in by_day)
        parts.append(f"BYDAY={codes}")
        days = [day for _, day in by_day]
        if days == [0, 1, 2, 3, 4]:
            described = f"{every} vardag"
        else:
            names = [WEEKDAYS[day] for day in days]
            joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]
            described = f"{every} {joined}"
    elif frame.freq == "MONTHLY":
        if by_day:
            if len(by_day) > 1:
                raise WhenError("Ange en veckodag i månaden, till exempel ”första måndagen”.")
            position, weekday = by_day[0]
            parts.append(f"BYDAY={position}{_RRULE_DAYS[weekday]}")
            described = (
                f"{every} {_POSITION_NAMES.get(position or 1, 'näst sista')} "
                f"{WEEKDAYS[weekday]} i månaden"
            )
        else:
            day_of_month = frame.day_of_month or (frame.day_month or (parser.today.day, 0))[0]
            parts.append(f"BYMONTHDAY={day_of_month}")
            described = f"{every} månad den {day_of_month}"
            if day_of_month > 28:
                described += " (månader utan den dagen hoppas över)"
    else:  # YEARLY
        if frame.day_month is None:
            if frame.dates:
                day = frame.dates[0][0]
                frame.day_month = (day.day, day.month)
            else:
                raise WhenError("Vilken dag varje år? Skriv till exempel ”varje år den 15 mars”.")
        day_of_month, month = frame.day_month
        parts.append(f"BYMONTH={month};BYMONTHDAY={day_of_month}")
        described = f"{every} år den {day_of_month} {MONTHS[month - 1]}"
    parts.append(f"BYHOUR={hour};BYMINUTE={minute};BYSECOND=0")
    rule = ";".join(parts)
    anchor = parser.local_now.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if frame.dates and frame.freq != "YEARLY":
        anchor = datetime.combine(frame.dates[0][0], time(0, 0))
    # The first time is the pattern's next one without the interval: "varannan tisdag" starts on
    # the coming Tuesday, not on one two weeks ahead. The series then counts from that first time.
    single = ";".join(part for part in parts if not part.startswith("INTERVAL="))
    probe = Recurrence(single, anchor.replace(tzinfo=wall_zone()).astimezone(UTC), "")
    found = probe.occurrences_after(max(parser.now, probe.first - timedelta(seconds=1)), 1)
    if not found:
        raise WhenError("Den upprepningen inträffar aldrig.")
    return Recurrence(rule, found[0], f"{described} {clock_text}")
