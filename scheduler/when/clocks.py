"""Phrases that name a time of day or a length.

"kl 14", "halv tre", "13-15", "på förmiddagen", "om två timmar".
"""

from __future__ import annotations

import re
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from scheduler.when.frame import _Clock, _Duration
from scheduler.when.reader import _leading_int, _TokenReader
from scheduler.when.tokens import _CLOCK, _RANGE_SPLIT
from scheduler.when.values import WhenError
from scheduler.when.vocabulary import _ABOUT_WORDS, _DAY_PARTS, _HOUR_UNITS, _DayPart


class _ClockPhrases(_TokenReader):
    def _p_span_words(self, i: int) -> int | None:
        """ "heldag", "hela dagen", "all day"; "mellan 10 och 12", "från 10 till 12"."""
        if self._is(i, "heldag", "heldagen", "heldags"):
            self.frame.all_day_span = True
            return i + 1
        if (self._is(i, "hela") and self._is(i + 1, "dagen")) or (
            self._is(i, "all") and self._is(i + 1, "day")
        ):
            self.frame.all_day_span = True
            return i + 2
        if self._is(i, "mellan", "fran", "from", "between"):
            j = i + 1
            if self._is(j, "kl", "klockan"):
                j = self._skip_dot(j + 1)
            first = self._clock_at(j, allow_bare=True)
            if first is None:
                return None
            clock, j = first
            if not self._is(j, "och", "till", "and", "to", "until") and not (
                self._kind(j) == "punct" and self.tokens[j].raw in "-–—"
            ):
                if self._is(i, "fran", "from"):
                    self.frame.set_clock(clock)
                    return j
                return None
            second = self._clock_at(j + 1, allow_bare=True)
            if second is None:
                return None
            self._set_span(clock, second[0], self._text(i, second[1]))
            return second[1]
        return None

    def _p_clock(self, i: int) -> int | None:
        start = i
        lead = self._word(i)
        explicit = False
        if lead in ("kl", "klockan", "klo"):
            i = self._skip_dot(i + 1)
            explicit = True
        elif lead in ("at", "vid", "runt", "omkring", "cirka", "ca", "around", "till"):
            i += 1
            if self._is(i, "kl", "klockan"):
                i = self._skip_dot(i + 1)
                explicit = True
        found = self._clock_at(i, allow_bare=explicit or lead == "at")
        if found is None:
            if explicit and i < len(self.tokens):
                token = self.tokens[i]
                if token.kind == "num":
                    raise WhenError(f"kl {token.raw} är ingen tid på dygnet.")
            return None
        clock, end = found
        # "till 9-tiden" yes; "till 3 personer" no: only clock-shaped tokens.
        if (
            lead in ("till", "runt", "omkring", "cirka", "ca", "around")
            and not explicit
            and self._kind(i) not in ("hm", "about", "ampm")
            and self._word(i) not in _ABOUT_WORDS
        ):
            return None
        # "14.30" alone may be a version or a chapter; "14:30" is always a time.
        if (
            not explicit
            and self._kind(i) == "hm"
            and "." in self.tokens[i].raw
            and not self._is_dated(start, end)
        ):
            return None
        # A range: "kl 10-12", "9.00 till 11.30", "10 - 12".
        if self._kind(i) == "range":
            first_text, second_text = _RANGE_SPLIT.split(self.tokens[i].raw)
            first = self._make_clock(first_text, self.tokens[i].raw)
            second = self._make_clock(second_text, self.tokens[i].raw)
            self._set_span(first, second, self._text(start, end))
            return end
        if self._is(end, "till", "to", "until") or (
            self._kind(end) == "punct" and self.tokens[end].raw in "-–—"
        ):
            j = end + 1
            if self._is(j, "kl", "klockan"):
                j = self._skip_dot(j + 1)
            upto = self._clock_at(j, allow_bare=explicit)
            if upto is not None:
                self._set_span(clock, upto[0], self._text(start, upto[1]))
                return upto[1]
        self.frame.set_clock(clock)
        return end

    def _clock_at(self, i: int, *, allow_bare: bool) -> tuple[_Clock, int] | None:
        """A clock time at i. Bare numbers ("9") only when `allow_bare` (after "kl")."""
        if i >= len(self.tokens):
            return None
        token = self.tokens[i]
        if token.kind in ("hm", "range"):
            if token.kind == "range":
                return self._make_clock(_RANGE_SPLIT.split(token.raw)[0], token.raw), i + 1
            end = i + 1
            return self._with_am_pm(self._make_clock(token.raw, token.raw), end)
        if token.kind == "about":
            hour = _leading_int(token.raw)
            return self._make_clock(str(hour), token.raw), i + 1
        if token.kind == "word" and token.word in _ABOUT_WORDS:
            hour = _ABOUT_WORDS[token.word]
            return _Clock(hour, 0, token.raw, ambiguous=1 <= hour <= 6), i + 1
        if token.kind == "ampm":
            return self._am_pm_clock(token.low, token.raw), i + 1
        if (
            token.kind == "word"
            and token.word in ("noon", "midday", "mitt")
            and (token.word != "mitt" or (self._is(i + 1, "pa") and self._is(i + 2, "dagen")))
        ):
            return _Clock(12, 0, token.raw, ambiguous=False, shifted=True), i + (
                3 if token.word == "mitt" else 1
            )
        if token.kind == "word" and token.word in ("midnatt", "midnight"):
            return _Clock(0, 0, token.raw, ambiguous=False, shifted=True), i + 1
        if (
            token.kind == "word"
            and token.word in ("halv", "kvart")
            or (
                token.kind in ("num", "word")
                and self._is(i + 1, "over", "i")
                and self._is(i + 3, "")
            )
        ):
            return self._spoken_clock(i)
        if allow_bare:
            number = self._number(i)
            if number is not None and (self.tokens[i].kind == "num" or number[0] <= 24):
                value, end = number
                if self.tokens[i].kind == "num":
                    clock = self._make_clock(self.tokens[i].raw, self.tokens[i].raw)
                else:
                    clock = _Clock(value, 0, token.raw, ambiguous=1 <= value <= 6)
                    if value > 24:
                        raise WhenError(f"kl {token.raw} är ingen tid på dygnet.")
                return self._with_am_pm(clock, end)
        return None

    def _spoken_clock(self, i: int) -> tuple[_Clock, int] | None:
        """ "halv tre" (2.30), "kvart över nio", "kvart i tio"."""
        word = self._word(i)
        if word == "halv":
            found = self._number(i + 1)
            if found is None:
                return None
            hour, end = found
            if not 1 <= hour <= 24:
                return None
            text = self._text(i, end)
            return _Clock((hour - 1) % 24, 30, text, ambiguous=2 <= hour <= 7), end
        if word == "kvart" and self._is(i + 1, "over", "i"):
            found = self._number(i + 2)
            if found is None:
                return None
            hour, end = found
            if not 0 <= hour <= 24:
                return None
            text = self._text(i, end)
            if self._is(i + 1, "over"):
                return _Clock(hour % 24, 15, text, ambiguous=1 <= hour <= 6), end
            return _Clock((hour - 1) % 24, 45, text, ambiguous=2 <= hour <= 7), end
        return None

    def _with_am_pm(self, clock: _Clock, end: int) -> tuple[_Clock, int]:
        """ "kl 3 em", "9 fm": a following fm/em settles the hour."""
        word = self._word(end)
        if word in ("em", "pm", "fm", "am"):
            end = self._skip_dot(end + 1)
            if word in ("em", "pm") and clock.hour < 12:
                clock.hour += 12
            clock.ambiguous = False
            clock.shifted = True
        return clock, end

    def _make_clock(self, raw: str, text: str) -> _Clock:
        match = _CLOCK.fullmatch(raw.strip())
        if match is None:
            raise WhenError(f"”{text}” är ingen tid på dygnet.")
        hour = int(match.group(1))
        minute = int(match.group(2) or 0)
        if hour > 24 or minute > 59 or (hour == 24 and minute):
            raise WhenError(f"kl {raw.strip()} är ingen tid på dygnet.")
        # "03" or "3.00"? A leading zero settles it; a bare 1–6 does not.
        ambiguous = 1 <= hour <= 6 and not match.group(1).startswith("0")
        return _Clock(hour, minute, text, ambiguous)

    def _am_pm_clock(self, low: str, raw: str) -> _Clock:
        match = re.match(r"(\d{1,2})(?:[.:](\d{2}))?", low)
        assert match is not None
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise WhenError(f"”{raw}” är ingen tid på dygnet.")
        is_pm = "p" in low[match.end() :]
        hour = hour % 12 + (12 if is_pm else 0)
        return _Clock(hour, minute, raw, ambiguous=False, shifted=True)

    def _p_day_part(self, i: int) -> int | None:
        start = i
        word = self._word(i)
        relation = ""
        if word in ("pa", "i", "under", "on", "in", "vid", "till"):
            i += 1
            if self._is(i, "the"):
                i += 1
        elif word in ("efter", "fore", "innan", "after", "before"):
            relation, i = word, i + 1
        part = _DAY_PARTS.get(self._word(i))
        if part is None:
            return None
        if part.label == "bitti" and start == i:
            return None
        if relation and part.label != "lunch":
            return None
        if relation in ("efter", "after"):
            part = _DayPart(13, self._text(start, i + 1), None)
        elif relation:
            part = _DayPart(11, self._text(start, i + 1), None)
        elif start != i and part.label == "lunch":
            part = _DayPart(12, self._text(start, i + 1), None)
        self._set_day_part(part)
        return i + 1

    def _p_duration(self, i: int) -> int | None:
        if not self._is(i, "om", "in", "within", "inom"):
            return None
        found = _read_duration(self, i + 1)
        if found is None:
            return None
        delta, end = found
        if self.frame.duration is not None:
            raise WhenError("Jag hittar två tidsangivelser med ”om”. Vilken menar du?")
        self.frame.duration = delta
        self.frame.duration_text = self._text(i, end)
        return end


def _read_duration(parser: _TokenReader, i: int) -> tuple[_Duration, int] | None:
    """ "10 minuter", "två timmar", "en halvtimme", "en och en halv timme", "1,5 h", "tre kvart"."""
    total = _Duration(relativedelta(), timedelta())
    end = i
    found_any = False
    while True:
        part = _read_duration_part(parser, end)
        if part is None:
            break
        delta, end = part
        total += delta
        found_any = True
        if parser._is(end, "och", "and") and _read_duration_part(parser, end + 1) is not None:
            end += 1
            continue
        break
    if not found_any:
        return None
    return total, end


def _read_duration_part(parser: _TokenReader, i: int) -> tuple[_Duration, int] | None:
    word = parser._word(i)
    # "en halvtimme", "en kvart", "halvtimme", "half an hour", "tre kvart".
    j = i
    count: float | None = None
    if parser._kind(j) == "num" and "," in parser.tokens[j].raw:
        count, j = float(parser.tokens[j].raw.replace(",", ".")), j + 1
    elif (
        parser._kind(j) == "num"
        and parser._kind(j + 1) == "punct"
        and parser.tokens[j + 1].raw == "."
        and parser._kind(j + 2) == "num"
    ):
        count = float(f"{parser.tokens[j].raw}.{parser.tokens[j + 2].raw}")
        j += 3
    else:
        number = parser._number(j)
        if number is not None:
            count, j = float(number[0]), number[1]
    if word in ("half",) and parser._is(i + 1, "an", "a") and parser._is(i + 2, "hour"):
        return _exact(minutes=30), i + 3
    if count is None and parser._is(j, "halvtimme", "halvtimma", "kvart"):
        count = 1.0
    if count is None:
        return None
    # "en och en halv timme"
    if (
        parser._is(j, "och", "and")
        and parser._is(j + 1, "en", "a")
        and parser._is(j + 2, "halv", "half")
    ):
        count += 0.5
        j += 3
    elif parser._is(j, "och", "and") and parser._is(j + 1, "halv", "half"):
        count += 0.5
        j += 2
    unit_word = parser._word(j)
    if unit_word in ("halvtimme", "halvtimma", "halvtimmar"):
        return _exact(minutes=30 * count), j + 1
    if unit_word == "kvart":
        return _exact(minutes=15 * count), j + 1
    unit = _HOUR_UNITS.get(unit_word)
    if unit is None:
        return None
    j = parser._skip_dot(j + 1)
    if unit == "minutes":
        return _exact(minutes=count), j
    if unit == "hours":
        return _exact(minutes=60 * count), j
    if count != int(count):
        if unit == "days":
            return _exact(minutes=24 * 60 * count), j
        if unit == "weeks":
            return _Duration(relativedelta(days=int(count * 7)), timedelta()), j
        return None
    return _Duration(relativedelta(**{unit: int(count)}), timedelta()), j


def _exact(*, minutes: float) -> _Duration:
    return _Duration(relativedelta(), timedelta(minutes=round(minutes)))
