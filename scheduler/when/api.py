"""The entry points: parse, parse_slots, find_week, parse_duration."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from scheduler.when.clocks import _read_duration
from scheduler.when.days import _week_monday
from scheduler.when.grammar import _Parser
from scheduler.when.resolve import _parse_frame, _past, _resolve_day, _span, _to_utc
from scheduler.when.tokens import (
    _DOUBLE_PUNCT,
    _EDGE_PUNCT,
    _SLOT_SEPARATORS,
    _SPACE_BEFORE_PUNCT,
    _SPACES,
)
from scheduler.when.values import Parsed, Span, WhenError

# ---------------------------------------------------------------------------------------------
# Entry points


def _cut(text: str, ranges: list[tuple[int, int]]) -> tuple[str, str]:
    """(matched, rest): neighbouring pieces with only spaces or commas between them merge."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and text[merged[-1][1] : start].strip(" ,\t") == "":
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    matched = " ".join(text[start:end] for start, end in merged)
    pieces = []
    position = 0
    for start, end in merged:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    rest = _SPACES.sub(" ", " ".join(pieces))
    rest = _SPACE_BEFORE_PUNCT.sub(r"\1", rest)
    rest = _DOUBLE_PUNCT.sub(r"\1", rest).strip(_EDGE_PUNCT)
    return matched, rest


def _check_now(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def parse(text: str, now: datetime, *, future: bool = True, default_hour: int = 9) -> Parsed | None:
    """The time expression in `text`, relative to `now` (aware).

    None when there is none; WhenError (a Swedish sentence for the user) when there is one but it
    is impossible, ambiguous or, with `future`, not after `now`.
    """
    _check_now(now)
    parser = _Parser(text, now)
    frame = parser.run()
    if frame.is_empty():
        return None
    value = _parse_frame(parser, frame, future, default_hour)
    matched, rest = _cut(text, frame.ranges)
    return Parsed(value, rest, matched)


def parse_slots(
    text: str, now: datetime, *, default_length: timedelta = timedelta(hours=2)
) -> list[Span]:
    """Meeting slots, one per comma-, semicolon-, newline- or "eller"-separated part.

    "tis 5/9 13-15, ons 6/9 9-11". A part with only a time reuses the previous part's day
    ("tis 5/9 9-11, 13-15"); a part with only a day is "heldag", 08.00–17.00; a start time alone
    lasts `default_length`. A part with no time at all raises WhenError naming it.
    """
    _check_now(now)
    slots: list[Span] = []
    previous_day: date | None = None
    for piece in _SLOT_SEPARATORS.split(text):
        if not piece or not piece.strip(" .:-"):
            continue
        parser = _Parser(piece, now)
        try:
            frame = parser.run()
        except WhenError as error:
            raise WhenError(f"”{piece.strip()}”: {error}") from None
        if frame.is_empty() or frame.duration is not None or frame.freq is not None:
            raise WhenError(f"Jag förstår inte vilken tid ”{piece.strip()}” är.")
        has_clock = frame.clock is not None or frame.span is not None or frame.all_day_span
        if not has_clock and frame.day_part is None:
            frame.all_day_span = True
        try:
            day = _resolve_day(parser, frame)
        except WhenError as error:
            raise WhenError(f"”{piece.strip()}”: {error}") from None
        if day is None:
            if previous_day is None:
                raise WhenError(f"Vilken dag gäller ”{piece.strip()}”?")
            frame.dates.append((previous_day, ""))
            day = previous_day
        try:
            if frame.span is None and not frame.all_day_span and frame.clock is None:
                part = frame.day_part
                assert part is not None
                # "tis fm" in a poll: the half day.
                start, end = (time(8), time(12)) if part.shift == "am" else (time(13), time(17))
                slot = Span(
                    _to_utc(datetime.combine(day, start))[0], _to_utc(datetime.combine(day, end))[0]
                )
                if slot.start <= now:
                    raise _past(slot.start)
            else:
                slot = _span(parser, frame, default_length)
        except WhenError as error:
            raise WhenError(f"”{piece.strip()}”: {error}") from None
        previous_day = day
        slots.append(slot)
    return slots


def find_week(text: str, now: datetime) -> tuple[date, date] | None:
    """ "vecka 36", "v. 36", "v36", "nästa vecka" → (Monday, Friday) of the next such week."""
    _check_now(now)
    parser = _Parser(text, now)
    for i in range(len(parser.tokens)):
        if parser._p_week(i) is not None:
            assert parser.frame.week is not None
            year, number, text_found = parser.frame.week
            monday = _week_monday(year, number, text_found)
            assert monday is not None
            return monday, monday + timedelta(days=4)
    return None


def parse_duration(text: str) -> timedelta | None:
    """ "om 10 minuter", "en halvtimme", "två timmar", "1,5 h" → timedelta.

    Months and years have no fixed length, so they give None; so does text with no duration.
    """
    parser = _Parser(text, datetime(2000, 1, 1, tzinfo=UTC))
    for i in range(len(parser.tokens)):
        found = _read_duration(parser, i)
        if found is None:
            continue
        delta = found[0]
        if delta.calendar.months or delta.calendar.years:
            return None
        return timedelta(days=delta.calendar.days) + delta.exact
    return None
