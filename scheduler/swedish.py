"""Showing times to users in full Swedish, and knowing which days are Swedish working days.

Every confirmation spells out weekday, day, month name, year and time ("måndag 30 november 2026
kl. 09.00") so that a wrong guess is visible at once. Names are written out here rather than taken
from babel: babel 2.9.1 (pinned by botbuilder) is fine for Swedish, but a tuple is faster, has no
locale data to load and cannot change under us with an upgrade.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import holidays

from scheduler.clock import STOCKHOLM, wall_zone

WEEKDAYS: tuple[str, ...] = (
    "måndag",
    "tisdag",
    "onsdag",
    "torsdag",
    "fredag",
    "lördag",
    "söndag",
)
MONTHS: tuple[str, ...] = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)

# Holidays the package labels "X (från kl. 14.00)" are half days; for names we want just "X".
_HALF_DAY_SUFFIX = " (från kl. 14.00)"


def to_local(moment: datetime) -> datetime:
    """An aware datetime as wall time in the turn's zone (Stockholm unless the user's Teams says
    otherwise); a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(wall_zone())


def zone_note() -> str:
    """ " (Europe/London)" after a time shown in another zone than Stockholm; else nothing."""
    zone = wall_zone()
    return "" if zone == STOCKHOLM else f" ({zone.key})"


def format_clock(hour: int, minute: int) -> str:
    """Swedish clock notation: "09.00" (a dot, two-digit hour)."""
    return f"{hour:02d}.{minute:02d}"


def format_date(day: date) -> str:
    """ "måndag 30 november 2026"."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def format_when(moment: datetime) -> str:
    """ "måndag 30 november 2026 kl. 09.00", in the turn's wall time (Stockholm unless the
    user's zone differs, which is then named) whatever zone `moment` is in."""
    return _when(to_local(moment)) + zone_note()


def format_span(start: datetime, end: datetime) -> str:
    """ "tisdag 5 september 2023 kl. 13.00–15.00"; both ends written out when days differ."""
    first, last = to_local(start), to_local(end)
    if first.date() == last.date():
        return (
            f"{format_date(first.date())} kl. "
            f"{format_clock(first.hour, first.minute)}–{format_clock(last.hour, last.minute)}"
            f"{zone_note()}"
        )
    return f"{_when(first)} – {_when(last)}{zone_note()}"


def _when(local: datetime) -> str:
    return f"{format_date(local.date())} kl. {format_clock(local.hour, local.minute)}"


@lru_cache(maxsize=32)  # bounded: one entry per year asked about, built from pure data
def _named_days(year: int) -> dict[date, str]:
    """Public holidays plus the de facto non-working eves (midsommar-, jul-, nyårsafton).

    Sundays are excluded explicitly: some versions of `holidays` list every Sunday as "Söndag",
    which is a weekend, not a holiday name.
    """
    days = holidays.country_holidays(
        "SE",
        years=year,
        language="sv",
        categories=(holidays.PUBLIC, holidays.DE_FACTO),
        include_sundays=False,
    )
    return {day: name.replace(_HALF_DAY_SUFFIX, "") for day, name in days.items()}


@lru_cache(maxsize=32)
def all_named_days(year: int) -> dict[str, date]:
    """Every day the package knows by name in `year`, half days and eves included, name → date.

    Used to understand "valborg" or "påskafton" in text; these are not all days off.
    """
    days = holidays.country_holidays(
        "SE",
        years=year,
        language="sv",
        categories=(holidays.PUBLIC, holidays.DE_FACTO, holidays.BANK, holidays.OPTIONAL),
        include_sundays=False,
    )
    named: dict[str, date] = {}
    for day, names in days.items():
        for name in names.split("; "):
            named.setdefault(name.replace(_HALF_DAY_SUFFIX, "").lower(), day)
    return named


def holiday_name(day: date) -> str | None:
    """The Swedish name of a public holiday or de facto day off ("Julafton"), else None."""
    return _named_days(day.year).get(day)


def is_working_day(day: date) -> bool:
    """Monday–Friday and neither a public holiday nor midsommar-, jul- or nyårsafton."""
    return day.weekday() < 5 and day not in _named_days(day.year)


def is_klamdag(day: date) -> bool:
    """A working day squeezed between days off, at least one of them a holiday.

    The classic one is the Friday after Kristi himmelsfärdsdag; a Monday before a Tuesday holiday
    counts too. Two weekends cannot squeeze a single weekday, so "a holiday" is implied.
    """
    one = timedelta(days=1)
    return is_working_day(day) and not is_working_day(day - one) and not is_working_day(day + one)


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first one after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the last one before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day
