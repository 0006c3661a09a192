"""What the phrase readers fill in as they walk the tokens; resolved into a value at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from scheduler.swedish import (
    format_date,
)
from scheduler.when.values import WhenError
from scheduler.when.vocabulary import _DayPart

# ---------------------------------------------------------------------------------------------
# What the phrase parsers find


@dataclass(frozen=True)
class _Duration:
    """Calendar units (days and up, kept in wall time) and exact ones (hours, minutes)."""

    calendar: relativedelta
    exact: timedelta

    def __add__(self, other: _Duration) -> _Duration:
        return _Duration(self.calendar + other.calendar, self.exact + other.exact)

    def has_calendar(self) -> bool:
        return bool(self.calendar)


@dataclass
class _Clock:
    hour: int
    minute: int
    text: str
    ambiguous: bool  # a bare 1–6 that may be night or afternoon
    shifted: bool = False  # am/pm already applied


@dataclass
class _Frame:
    dates: list[tuple[date, str]] = field(default_factory=list)
    weekday: tuple[int, str, int, str] | None = None  # (weekday, mode, weeks ahead, text)
    week: tuple[int, int, str] | None = None  # (ISO year, week, text)
    clock: _Clock | None = None
    day_part: _DayPart | None = None
    span: tuple[_Clock, _Clock] | None = None
    all_day_span: bool = False
    duration: _Duration | None = None
    duration_text: str = ""
    day_of_month: int | None = None  # "den 15" without a month
    day_month: tuple[int, int] | None = None  # (day, month) when no year was written
    freq: str | None = None
    interval: int = 1
    by_day: list[tuple[int | None, int]] = field(default_factory=list)
    rec_text: str = ""
    notes: list[str] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)

    def add_date(self, day: date, text: str) -> None:
        for known, known_text in self.dates:
            if known != day:
                raise WhenError(
                    f"”{known_text}” och ”{text}” är olika dagar "
                    f"({format_date(known)} och {format_date(day)}). Vilken menar du?"
                )
        self.dates.append((day, text))

    def set_clock(self, clock: _Clock) -> None:
        if self.clock is not None or self.span is not None:
            known = self.clock.text if self.clock is not None else "en tid till"
            raise WhenError(
                f"Jag hittar två klockslag, ”{known}” och ”{clock.text}”. Vilket menar du?"
            )
        self.clock = clock

    def is_empty(self) -> bool:
        return not self.ranges
