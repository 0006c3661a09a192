"""Phrases that name a day.

"imorgon", "på tisdag", "första måndagen i mars", "5/9", "vecka 36", holidays.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from scheduler.swedish import (
    MONTHS,
    all_named_days,
    format_date,
    next_working_day,
    previous_working_day,
)
from scheduler.when.reader import _TokenReader
from scheduler.when.values import WhenError
from scheduler.when.vocabulary import (
    _DAY_PARTS,
    _GROUP_WORDS,
    _HOLIDAY_ALIASES,
    _HOLIDAY_GROUPS,
    _WEEKDAY_PAST,
    _DayPart,
)


def _nth_weekday_of_month(year: int, month: int, position: int, weekday: int) -> date | None:
    first = date(year, month, 1)
    days_in_month = monthrange(year, month)[1]
    if position > 0:
        day = 1 + (weekday - first.weekday()) % 7 + 7 * (position - 1)
        return date(year, month, day) if day <= days_in_month else None
    last = date(year, month, days_in_month)
    day = days_in_month - (last.weekday() - weekday) % 7 + 7 * (position + 1)
    return date(year, month, day) if day >= 1 else None


def _week_monday(year: int, week: int, text: str) -> date:
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        where = f" år {year}" if week == 53 else ""
        raise WhenError(f"Vecka {week} finns inte{where} (”{text}”).") from None


class _DayPhrases(_TokenReader):
    def _p_relative_day(self, i: int) -> int | None:
        word = self._word(i)
        start = i
        if word == "i" or word == "in":
            i += 1
            word = self._word(i)
            if word in ("dag", "morgon", "morgn", "morrn", "overmorgon", "kvall", "natt", "gar"):
                word = "i" + word
            elif word == "eftermiddag" or word == "formiddag":
                # "i eftermiddag" = this afternoon; "i förmiddag" = this morning.
                part = _DAY_PARTS[word]
                self.frame.add_date(self.today, self._text(start, i + 1))
                self._set_day_part(part)
                return i + 1
            else:
                return None
        offsets = {
            "idag": 0,
            "today": 0,
            "imorgon": 1,
            "imorn": 1,
            "imorrn": 1,
            "imorgn": 1,
            "tomorrow": 1,
            "iovermorgon": 2,
            "overmorgon": 2,
            "ikvall": 0,
            "tonight": 0,
            "inatt": 0,
            "igar": -1,
            "yesterday": -1,
            "iforrgar": -2,
        }
        if word == "the" and self._is(i + 1, "day"):
            i += 1
            word = "day"
        if word not in offsets:
            if word == "day" and self._is(i + 1, "after") and self._is(i + 2, "tomorrow"):
                offsets_end, offset = i + 3, 2
            else:
                return None
        else:
            offsets_end, offset = i + 1, offsets[word]
        text = self._text(start, offsets_end)
        self.frame.add_date(self.today + timedelta(days=offset), text)
        if word in ("ikvall", "tonight"):
            self._set_day_part(_DAY_PARTS["kvall"], label="ikväll" if word == "ikvall" else word)
        if word == "inatt":
            self._set_day_part(_DayPart(23, "i natt", "pm"))
        # "i morgon bitti", "imorgon förmiddag", "tomorrow morning".
        follow = self._word(offsets_end)
        if follow in _DAY_PARTS and follow not in ("lunch", "lunchen"):
            self._set_day_part(_DAY_PARTS[follow])
            return offsets_end + 1
        return offsets_end

    def _p_holiday(self, i: int) -> int | None:
        start = i
        relation = ""
        if self._is(i, "the") and self._is(i + 1, "day"):
            i += 1
        if self._is(i, "dagen", "day") and self._is(
            i + 1, "fore", "innan", "efter", "before", "after"
        ):
            relation = "day_" + ("after" if self._is(i + 1, "efter", "after") else "before")
            i += 2
        elif self._is(i, "fore", "innan", "before"):
            relation, i = "before", i + 1
        elif self._is(i, "efter", "after"):
            relation, i = "after", i + 1
        elif self._is(i, "till", "pa", "i", "on", "by", "at", "under"):
            relation, i = "at", i + 1
        found = self._holiday_name(i)
        if found is None:
            if relation != "at" and relation:
                return None
            found = self._holiday_name(start)
            if found is None:
                return None
            relation, i = "", start
        names, anchor, end = found
        year_end = end
        explicit_year = self._year(end)
        if explicit_year is not None:
            year_end = explicit_year[1]
        text = self._text(start, year_end)
        day = self._resolve_holiday(names, anchor, relation, explicit_year, text)
        self.frame.add_date(day, text)
        return year_end

    def _holiday_name(self, i: int) -> tuple[tuple[str, ...], str, int] | None:
        """A holiday or season name at i → (its day names, the one meant alone, next index)."""
        words: list[str] = []
        j = i
        best: tuple[tuple[str, ...], str, int] | None = None
        while j < len(self.tokens) and len(words) < 4:
            token = self.tokens[j]
            if token.raw in ("'", "’"):
                j += 1
                continue
            if token.kind != "word":
                break
            words.append(token.word)
            j += 1
            name = _HOLIDAY_ALIASES.get(tuple(words))
            if name is not None:
                best = ((name,), name, j)
        if best is not None:
            return best
        group = _GROUP_WORDS.get(self._word(i))
        if group is not None:
            # "30 jul" is July; the date parser has had its chance first, so this is Christmas.
            names, anchor = _HOLIDAY_GROUPS[group]
            return names, anchor, i + 1
        return None

    def _resolve_holiday(
        self,
        names: tuple[str, ...],
        anchor: str,
        relation: str,
        explicit_year: tuple[int, int] | None,
        text: str,
    ) -> date:
        years = [explicit_year[0]] if explicit_year else [self.today.year, self.today.year + 1]
        for year in years:
            named = all_named_days(year)
            days = sorted(named[name] for name in names if name in named)
            if not days:
                continue
            first, last = days[0], days[-1]
            if relation == "day_before":
                day = first - timedelta(days=1)
            elif relation == "day_after":
                day = last + timedelta(days=1)
            elif relation == "before":
                day = previous_working_day(first - timedelta(days=1))
            elif relation == "after":
                day = next_working_day(last + timedelta(days=1))
            else:
                day = named[anchor]
            if explicit_year or day >= self.today:
                if relation in ("before", "after"):
                    which = (
                        "sista arbetsdagen före"
                        if relation == "before"
                        else "första arbetsdagen efter"
                    )
                    self.frame.notes.append(f"jag tolkade ”{text}” som {which}, {format_date(day)}")
                return day
        raise WhenError(f"Jag hittar inget datum för ”{text}”.")

    def _p_nth_weekday(self, i: int) -> int | None:
        """ "första måndagen i december", "sista fredagen i varje månad", "first monday of may"."""
        start = i
        if self._is(i, "den", "the"):
            i += 1
        found = self._nth_weekday(i)
        if found is None:
            return None
        position, weekday, end, scope = found
        text = self._text(start, end)
        if scope[0] == "month":
            self._set_recurrence("MONTHLY", text)
            self.frame.by_day.append((position, weekday))
            return end
        if scope[0] == "next_month":
            first = self.today.replace(day=1) + relativedelta(months=1)
            day = _nth_weekday_of_month(first.year, first.month, position, weekday)
        else:
            month, year = scope[1], scope[2]
            day = None
            for candidate_year in [year] if year else [self.today.year, self.today.year + 1]:
                day = _nth_weekday_of_month(candidate_year, month, position, weekday)
                if year or (day is not None and day >= self.today):
                    break
        if day is None:
            raise WhenError(f"”{text}” finns inte.")
        self.frame.add_date(day, text)
        return end

    def _p_weekday(self, i: int) -> int | None:
        start = i
        lead = self._word(i)
        mode = "coming"
        if lead in ("pa", "on", "this", "denna", "kommande"):
            i += 1
        elif lead in ("nasta", "next", "kommande"):
            mode, i = "next", i + 1
        elif lead == "i" and self._word(i + 1) in _WEEKDAY_PAST:
            weekday = _WEEKDAY_PAST[self._word(i + 1)]
            back = (self.today.weekday() - weekday) % 7 or 7
            self.frame.add_date(self.today - timedelta(days=back), self._text(i, i + 2))
            return i + 2
        backed = i != start or self._backed_by_date_or_time(i + 1)
        found = self._weekday(i, loose=backed)
        if found is None:
            return None
        weekday, i = found
        # The weekday may be backed by a time or date after it ("tis 5/9"): look again.
        weeks = 0
        if self._is(i, "nasta", "next") and self._is(i + 1, "vecka", "week", "veckan"):
            mode, i = "next_week", i + 2
        elif self._is(i, "i") and self._is(i + 1, "nasta") and self._is(i + 2, "vecka"):
            mode, i = "next_week", i + 3
        elif self._is(i, "veckan") and self._is(i + 1, "efter"):
            mode, i = "next_week", i + 2
        elif (
            self._is(i, "om", "in")
            and (counted := self._number(i + 1)) is not None
            and self._is(counted[1], "veckor", "vecka", "weeks", "week")
        ):
            weeks, after = counted
            mode, i = "weeks", after + 1
        elif self._is(i, "denna", "this") and self._is(i + 1, "vecka", "week"):
            mode, i = "this_week", i + 2
        elif self._is(i, "den", "i") and self._is(i + 1, "har") and self._is(i + 2, "veckan"):
            mode, i = "this_week", i + 3
        elif self._is(i, "i") and self._is(i + 1, "veckan"):
            mode, i = "this_week", i + 2
        text = self._text(start, i)
        if self.frame.weekday is not None and self.frame.weekday[0] != weekday:
            raise WhenError(
                f"”{self.frame.weekday[3]}” och ”{text}” är olika veckodagar. Vilken menar du?"
            )
        self.frame.weekday = (weekday, mode, weeks, text)
        return i

    def _backed_by_date_or_time(self, i: int) -> bool:
        """Whether the token at i starts a date or time, so an abbreviation before it is a day."""
        kind = self._kind(i)
        if kind in ("slash", "iso", "dotdate", "hm", "range", "ampm", "ord", "about"):
            return True
        if kind == "num" and self._month(i + 1) is not None:
            return True
        if kind == "punct" and self.tokens[i].raw in (".", ","):
            return self._backed_by_date_or_time(i + 1)
        return self._is(i, "kl", "klockan", "den", "nasta", "v", "vecka", "heldag", "at")

    def _p_date(self, i: int) -> int | None:
        start = i
        if self._is(i, "den", "the", "on"):
            i += 1
        token = self.tokens[i] if i < len(self.tokens) else None
        if token is None:
            return None
        day = month = 0
        year: int | None = None
        end = i
        if token.kind == "iso":
            year, month, day = (int(part) for part in token.raw.split("-"))
            end = i + 1
        elif token.kind == "slash":
            parts = [int(part) for part in token.raw.split("/")]
            day, month = parts[0], parts[1]
            if len(parts) == 3:
                year = parts[2] + (2000 if parts[2] < 100 else 0)
            end = i + 1
            found_year = self._year(end)
            if year is None and found_year is not None:
                year, end = found_year
        elif token.kind == "dotdate":
            day, month, year = (int(part) for part in token.raw.split("."))
            end = i + 1
        else:
            found = self._day_month(i)
            if found is None:
                return self._p_day_of_month(start, i)
            day, month, year, end = found
        text = self._text(start, end)
        if not 1 <= month <= 12:
            raise WhenError(f"”{text}” är inget giltigt datum: det finns bara tolv månader.")
        resolved = self._resolve_day_month(day, month, year, text)
        if year is None:
            self.frame.day_month = (day, month)
        self.frame.add_date(resolved, text)
        return end

    def _day_month(self, i: int) -> tuple[int, int, int | None, int] | None:
        """ "30 september [2027]", "30:e sept.", "september 30th", "30th of september"."""
        day_found = self._ordinal(i) or self._number(i)
        if day_found is not None and self._kind(i) in ("num", "ord", "word"):
            day, j = day_found
            if self._is(j, "of"):
                j += 1
            month_found = self._month(j)
            if month_found is not None and (day > 0 or self._kind(i) == "num"):
                month, j = month_found
                if self._kind(j) == "punct" and self.tokens[j].raw == ",":
                    j += 1 if self._year(j + 1) else 0
                year_found = self._year(j)
                if year_found is not None:
                    return day, month, year_found[0], year_found[1]
                return day, month, None, j
        month_found = self._month(i)
        if month_found is not None and self.tokens[i].word not in ("may", "mar", "jul", "sun"):
            month, j = month_found
            day_found = self._ordinal(j) or self._number(j)
            if day_found is not None and self._kind(j) in ("num", "ord"):
                day, j = day_found
                if self._kind(j) == "punct" and self.tokens[j].raw == ",":
                    j += 1 if self._year(j + 1) else 0
                year_found = self._year(j)
                if year_found is not None:
                    return day, month, year_found[0], year_found[1]
                return day, month, None, j
        return None

    def _p_day_of_month(self, start: int, i: int) -> int | None:
        """ "den 15", "den 15:e", "den tjugonde": a day in this or next month."""
        if start == i:
            return None
        found = self._ordinal(i) or (self._number(i) if self._kind(i) == "num" else None)
        if found is None:
            return None
        day, end = found
        if self.frame.freq in ("MONTHLY", "YEARLY") or self._is(end, "varje", "i", "every", "each"):
            if not 1 <= day <= 31:
                raise WhenError(f"Den {day} finns inte i någon månad.")
            self.frame.day_of_month = day
            return end
        if not 1 <= day <= 31:
            raise WhenError(f"Den {day} finns inte i någon månad.")
        month_start = self.today.replace(day=1)
        for ahead in range(0, 3):
            first = month_start + relativedelta(months=ahead)
            if day <= monthrange(first.year, first.month)[1]:
                candidate = first.replace(day=day)
                if candidate >= self.today:
                    self.frame.add_date(candidate, self._text(start, end))
                    self.frame.day_of_month = day
                    return end
        raise WhenError(f"Jag hittar ingen den {day} framöver.")

    def _resolve_day_month(self, day: int, month: int, year: int | None, text: str) -> date:
        month_name = MONTHS[month - 1]
        if not 1 <= day <= 31 or day > (29 if month == 2 else monthrange(2000, month)[1]):
            raise WhenError(f"{day} {month_name} finns inte.")
        if year is not None:
            if day > monthrange(year, month)[1]:
                raise WhenError(f"{day} {month_name} {year} finns inte ({year} är inget skottår).")
            return date(year, month, day)
        year = self.today.year
        for candidate_year in range(year, year + 8):
            if day <= monthrange(candidate_year, month)[1]:
                candidate = date(candidate_year, month, day)
                if candidate >= self.today:
                    if candidate_year != year and month == 2 and day == 29:
                        self.frame.notes.append(f"nästa 29 februari är {candidate_year}")
                    return candidate
        raise WhenError(f"{day} {month_name} finns inte.")  # pragma: no cover

    def _p_week(self, i: int) -> int | None:
        start = i
        if self._is(i, "i", "in", "under", "pa"):
            i += 1
        word = self._word(i)
        token = self.tokens[i] if i < len(self.tokens) else None
        number: int | None = None
        end = i
        if token is not None and token.kind == "vnum":
            number, end = int(token.raw[1:]), i + 1
        elif (
            word in ("vecka", "v", "week", "veckan") and self._kind(self._skip_dot(i + 1)) == "num"
        ):
            j = self._skip_dot(i + 1)
            number, end = int(self.tokens[j].raw), j + 1
        elif word in ("nasta", "next") and self._is(i + 1, "vecka", "week", "veckan"):
            ahead = self.today + timedelta(weeks=1)
            year, number, _ = ahead.isocalendar()
            self.frame.week = (year, number, self._text(start, i + 2))
            return i + 2
        elif (word in ("denna", "this") and self._is(i + 1, "vecka", "week")) or (
            word == "den" and self._is(i + 1, "har") and self._is(i + 2, "veckan")
        ):
            end = i + (3 if word == "den" else 2)
            year, number, _ = self.today.isocalendar()
            self.frame.week = (year, number, self._text(start, end))
            return end
        elif (
            word == "om"
            and (counted := self._number(i + 1)) is not None
            and self._is(counted[1], "veckor")
        ):
            return None
        if number is None:
            if start != i:
                return None
            return None
        year_found = self._year(end)
        text = self._text(start, year_found[1] if year_found else end)
        if year_found is not None:
            end = year_found[1]
            year = year_found[0]
            _week_monday(year, number, text)
        else:
            year = self.today.isocalendar()[0]
            if _week_monday(year, number, text) + timedelta(days=4) < self.today:
                year += 1
                _week_monday(year, number, text)
        self.frame.week = (year, number, text)
        return end
