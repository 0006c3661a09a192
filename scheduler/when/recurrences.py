"""Phrases that repeat: "varje måndag", "varannan vecka", "första tisdagen i månaden"."""

from __future__ import annotations

from scheduler.when.reader import _TokenReader
from scheduler.when.vocabulary import _DAY_PARTS, _WEEKDAY_PLURAL


class _RecurrencePhrases(_TokenReader):
    def _p_recurrence(self, i: int) -> int | None:
        start = i
        word = self._word(i)
        interval = 1
        if word in ("dagligen", "daily"):
            self._set_recurrence("DAILY", self._text(i, i + 1))
            return i + 1
        if word in ("veckovis", "weekly"):
            self._set_recurrence("WEEKLY", self._text(i, i + 1))
            return i + 1
        if word in ("manadsvis", "monthly"):
            self._set_recurrence("MONTHLY", self._text(i, i + 1))
            return i + 1
        if word in ("arligen", "yearly", "annually"):
            self._set_recurrence("YEARLY", self._text(i, i + 1))
            return i + 1
        plural = self._plural_weekdays(i + (1 if word in ("pa", "on", "alla") else 0))
        if plural is not None:
            days, end = plural
            self._set_recurrence("WEEKLY", self._text(start, end))
            self.frame.by_day.extend((None, day) for day in days)
            return end
        if word == "varannan" or (word == "var" and self._is(i + 1, "annan")):
            interval, i = 2, i + (1 if word == "varannan" else 2)
        elif word in ("every", "each") and self._is(i + 1, "other", "second"):
            interval, i = 2, i + 2
            if self._is(i - 1, "second") and self._nth_weekday(i - 1) is not None:
                found = self._nth_weekday(i - 1)
                if found is not None and found[3][0] == "month" and not self._is(i - 2, "other"):
                    interval, i = 1, i - 1
        elif word == "var" and self._ordinal(i + 1) is not None:
            found_ord = self._ordinal(i + 1)
            assert found_ord is not None
            interval, i = found_ord[0], found_ord[1]
            if self._kind(i - 1) == "ord" or interval < 2:
                return None
        elif word == "every" and self._number(i + 1) and self._kind(i + 1) == "num":
            number = self._number(i + 1)
            assert number is not None
            interval, i = number
        elif word in ("varje", "varenda", "every", "each", "var", "alla"):
            i += 1
        else:
            return None
        # What repeats.
        nth = self._nth_weekday(i)
        if nth is not None and interval == 1:
            position, weekday, end, scope = nth
            if scope[0] == "month":
                self._set_recurrence("MONTHLY", self._text(start, end))
                self.frame.by_day.append((position, weekday))
                return end
        listed = self._weekday_list(i)
        if listed is not None:
            found_days, end = listed
            self._set_recurrence("WEEKLY", self._text(start, end))
            self.frame.interval = interval
            self.frame.by_day.extend((None, day) for day in found_days)
            return end
        unit = self._word(i)
        if unit in ("vardag", "vardagar", "weekday", "weekdays", "arbetsdag", "arbetsdagar"):
            self._set_recurrence("WEEKLY", self._text(start, i + 1))
            self.frame.interval = interval
            self.frame.by_day.extend((None, day) for day in range(5))
            return i + 1
        freq = {
            "dag": "DAILY",
            "day": "DAILY",
            "dygn": "DAILY",
            "vecka": "WEEKLY",
            "week": "WEEKLY",
            "veckor": "WEEKLY",
            "weeks": "WEEKLY",
            "manad": "MONTHLY",
            "month": "MONTHLY",
            "manader": "MONTHLY",
            "months": "MONTHLY",
            "ar": "YEARLY",
            "year": "YEARLY",
            "morgon": "DAILY",
            "kvall": "DAILY",
            "days": "DAILY",
        }.get(unit)
        if freq is None:
            return None
        if word == "alla":
            return None
        end = i + 1
        self._set_recurrence(freq, self._text(start, end))
        self.frame.interval = interval
        if unit in ("morgon", "kvall"):
            self._set_day_part(_DAY_PARTS["morgonen" if unit == "morgon" else "kvall"])
        # "varje vecka på måndag", "every week on friday".
        if freq == "WEEKLY" and self._is(end, "pa", "on"):
            on_days = self._weekday_list(end + 1)
            if on_days is not None:
                self.frame.by_day.extend((None, day) for day in on_days[0])
                end = on_days[1]
        return end

    def _p_recurrence_tail(self, i: int) -> int | None:
        """ "i varje månad", "i månaden" after "den 15"; "varje år" is handled above."""
        if self._is(i, "i", "in", "of") and self._is(i + 1, "varje", "every", "each"):
            found = self._p_recurrence(i + 1)
            return found
        if (
            self.frame.day_of_month is not None
            and self._is(i, "i", "of")
            and self._is(i + 1, "manaden", "month")
        ):
            self._set_recurrence("MONTHLY", self._text(i, i + 2))
            return i + 2
        return None

    def _plural_weekdays(self, i: int) -> tuple[list[int], int] | None:
        if self._word(i) not in _WEEKDAY_PLURAL:
            return None
        days = [_WEEKDAY_PLURAL[self._word(i)]]
        end = i + 1
        while self._is(end, "och", "and") or (
            self._kind(end) == "punct" and self.tokens[end].raw == ","
        ):
            if self._word(end + 1) not in _WEEKDAY_PLURAL:
                break
            days.append(_WEEKDAY_PLURAL[self._word(end + 1)])
            end += 2
        return days, end

    def _weekday_list(self, i: int) -> tuple[list[int], int] | None:
        found = self._weekday(i, loose=True) or (
            (_WEEKDAY_PLURAL[self._word(i)], i + 1) if self._word(i) in _WEEKDAY_PLURAL else None
        )
        if found is None:
            return None
        days = [found[0]]
        end = found[1]
        while self._is(end, "och", "and") or (
            self._kind(end) == "punct" and self.tokens[end].raw == ","
        ):
            more = self._weekday(end + 1, loose=True)
            if more is None:
                break
            days.append(more[0])
            end = more[1]
        return days, end
