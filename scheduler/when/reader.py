"""Reading single tokens: a word, a number, an ordinal, a weekday, a month, a year."""

from __future__ import annotations

import re
from datetime import datetime

from scheduler.clock import wall_zone
from scheduler.when.frame import _Clock, _Frame
from scheduler.when.tokens import _tokenize
from scheduler.when.values import WhenError
from scheduler.when.vocabulary import (
    _CARDINALS,
    _LAST_WORDS,
    _MONTH_WORDS,
    _ORDINALS,
    _WEEKDAY_ABBR,
    _WEEKDAY_WORDS,
    _DayPart,
)


class _TokenReader:
    """The tokens of one text and small readers for a word, a number, a weekday, a month."""

    def __init__(self, text: str, now: datetime, frame: _Frame | None = None) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.now = now
        self.local_now = now.astimezone(wall_zone())
        self.today = self.local_now.date()
        self.frame = frame if frame is not None else _Frame()

    def _word(self, i: int) -> str:
        if i < len(self.tokens) and self.tokens[i].kind == "word":
            return self.tokens[i].word
        return ""

    def _is(self, i: int, *words: str) -> bool:
        return self._word(i) in words

    def _kind(self, i: int) -> str:
        return self.tokens[i].kind if i < len(self.tokens) else ""

    def _skip_dot(self, i: int) -> int:
        """Past an abbreviation's full stop ("kl.", "sept.") when it touches the word."""
        if (
            i < len(self.tokens)
            and self.tokens[i].raw == "."
            and i > 0
            and self.tokens[i - 1].end == self.tokens[i].start
        ):
            return i + 1
        return i

    def _text(self, i: int, j: int) -> str:
        return self.text[self.tokens[i].start : self.tokens[j - 1].end]

    def _number(self, i: int) -> tuple[int, int] | None:
        """A cardinal as digits or a word ("två", "tjugo", "twelve") → (value, next index)."""
        if i >= len(self.tokens):
            return None
        token = self.tokens[i]
        if token.kind == "num" and "," not in token.raw and len(token.raw) <= 4:
            return int(token.raw), i + 1
        if token.kind == "word" and token.word in _CARDINALS:
            return _CARDINALS[token.word], i + 1
        return None

    def _ordinal(self, i: int) -> tuple[int, int] | None:
        """ "30:e", "1st", "första", "tjugofjärde", "sista" (−1) → (value, next index)."""
        if i >= len(self.tokens):
            return None
        token = self.tokens[i]
        if token.kind == "ord":
            return _leading_int(token.raw), i + 1
        if token.kind == "word":
            if token.word in _ORDINALS:
                return _ORDINALS[token.word], i + 1
            if token.word in _LAST_WORDS:
                return -1, i + 1
            if token.word == "nast" and self._word(i + 1) == "sista":
                return -2, i + 2
        return None

    def _weekday(self, i: int, *, loose: bool) -> tuple[int, int] | None:
        """A weekday name → (0..6, next index). Abbreviations only when `loose`."""
        if i >= len(self.tokens) or self.tokens[i].kind != "word":
            return None
        token = self.tokens[i]
        if token.word in _WEEKDAY_WORDS:
            return _WEEKDAY_WORDS[token.word], i + 1
        if loose and token.low in _WEEKDAY_ABBR:
            return _WEEKDAY_ABBR[token.low], self._skip_dot(i + 1)
        return None

    def _month(self, i: int) -> tuple[int, int] | None:
        if i < len(self.tokens) and self.tokens[i].kind == "word":
            month = _MONTH_WORDS.get(self.tokens[i].word)
            if month is not None:
                return month, self._skip_dot(i + 1)
        return None

    def _year(self, i: int) -> tuple[int, int] | None:
        if i < len(self.tokens) and self.tokens[i].kind == "num" and len(self.tokens[i].raw) == 4:
            year = int(self.tokens[i].raw)
            if 1900 <= year <= 2200:
                return year, i + 1
        return None

    def _nth_weekday(self, i: int) -> tuple[int, int, int, tuple[str, int, int]] | None:
        found = self._ordinal(i)
        if found is None:
            return None
        position, i = found
        if not (1 <= position <= 5 or position in (-1, -2)):
            return None
        weekday_found = self._weekday(i, loose=True)
        if weekday_found is None:
            return None
        weekday, i = weekday_found
        return self._month_scope(position, weekday, i)

    def _month_scope(
        self, position: int, weekday: int, i: int
    ) -> tuple[int, int, int, tuple[str, int, int]] | None:
        j = i
        if self._is(j, "i", "in", "of", "pa"):
            j += 1
        if self._is(j, "the", "every", "each", "varje", "var"):
            j += 1
        if self._is(j, "manaden", "manad", "month"):
            return position, weekday, j + 1, ("month", 0, 0)
        if self._is(j, "nasta") and self._is(j + 1, "manad"):
            return position, weekday, j + 2, ("next_month", 0, 0)
        if self._is(j, "next") and self._is(j + 1, "month"):
            return position, weekday, j + 2, ("next_month", 0, 0)
        month = self._month(j)
        if month is not None:
            year = self._year(month[1])
            if year is not None:
                return position, weekday, year[1], ("date", month[0], year[0])
            return position, weekday, month[1], ("date", month[0], 0)
        # "every first monday": the month is understood.
        if self._is(i - 2, "varje", "every", "each") or self._is(i - 3, "varje", "every"):
            return position, weekday, i, ("month", 0, 0)
        return None

    def _is_dated(self, start: int, end: int) -> bool:
        """Whether a date-like phrase touches tokens start..end, so "14.30" there is a time."""
        ranges = self.frame.ranges
        if ranges and 0 <= self.tokens[start].start - ranges[-1][1] <= 2:
            return True
        word = self._word(end)
        if word in ("i", "pa", "den", "on"):
            end += 1
            word = self._word(end)
            if word in ("morgon", "dag", "overmorgon", "kvall") or self._kind(end) == "num":
                return True
        if word in _WEEKDAY_WORDS or word in ("idag", "imorgon", "today", "tomorrow", "ikvall"):
            return True
        return word == "overmorgon" or self._kind(end) in ("slash", "iso", "dotdate", "ord")

    def _set_day_part(self, part: _DayPart, label: str | None = None) -> None:
        if label is not None:
            part = _DayPart(part.hour, label, part.shift)
        if self.frame.day_part is not None and self.frame.day_part.hour != part.hour:
            raise WhenError(
                f"”{self.frame.day_part.label}” och ”{part.label}” går inte ihop. "
                "Vilken tid menar du?"
            )
        self.frame.day_part = part

    def _set_span(self, first: _Clock, second: _Clock, text: str) -> None:
        if self.frame.span is not None or self.frame.clock is not None:
            raise WhenError(f"Jag hittar två tider (”{text}” och fler). Vilken menar du?")
        self.frame.span = (first, second)

    def _set_recurrence(self, freq: str, text: str) -> None:
        if self.frame.freq is not None and self.frame.freq != freq:
            raise WhenError(f"”{text}” går inte ihop med ”{self.frame.rec_text}”.")
        self.frame.freq = freq
        if not self.frame.rec_text:
            self.frame.rec_text = text


def _leading_int(raw: str) -> int:
    """The number an "ord" or "about" token starts with ("30:e", "3-tiden"); its pattern has one."""
    match = re.match(r"\d+", raw)
    assert match is not None, raw
    return int(match.group())
