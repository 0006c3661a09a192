"""The grammar: which phrase readers run, in which order, as the parser walks the tokens once.

Each `_p_*` reader looks at the token where the walk stands and returns the index after its phrase
(or None); the first that matches wins, so the order below is the grammar's priority.
Tokens that cannot start a phrase are skipped; what is left over is the reminder's text.

    text        := (phrase | other token)*
    phrase      := recurrence        "varje måndag", "varannan vecka", "första tisdagen varje månad"
                 | relative_day      "idag", "imorgon", "i övermorgon", "ikväll"
                 | holiday           "julafton", "midsommarafton", "dagen före nyårsafton"
                 | nth_weekday       "första måndagen i mars", "sista fredagen i månaden"
                 | weekday           "på tisdag", "nästa fredag", "tis 1/9"
                 | date              "5/9", "den 5 september 2027", "2027-09-05"
                 | week              "vecka 36"
                 | span_words        "heldag", "mellan 10 och 12", "från 10 till 12"
                 | clock             "kl 14", "14:30", "halv tre", "13-15"
                 | day_part          "på förmiddagen", "på eftermiddagen", "lunch"
                 | duration          "om två timmar", "om en halvtimme"
                 | recurrence_tail   "den 15 i månaden", "i varje månad"

Readers live by what they read: days.py, clocks.py, recurrences.py; reader.py holds the token
readers they share; resolve.py turns the filled frame into a value.
"""

from __future__ import annotations

from scheduler.when.clocks import _ClockPhrases
from scheduler.when.days import _DayPhrases
from scheduler.when.frame import _Frame
from scheduler.when.recurrences import _RecurrencePhrases
from scheduler.when.vocabulary import _STARTERS, _WEEKDAY_ABBR


class _Parser(_RecurrencePhrases, _DayPhrases, _ClockPhrases):
    """Walks the tokens once; each `_p_*` method returns the index after its phrase, or None."""

    def run(self) -> _Frame:
        parsers = (
            self._p_recurrence,
            self._p_relative_day,
            self._p_holiday,
            self._p_nth_weekday,
            self._p_weekday,
            self._p_date,
            self._p_week,
            self._p_span_words,
            self._p_clock,
            self._p_day_part,
            self._p_duration,
            self._p_recurrence_tail,
        )
        i = 0
        count = len(self.tokens)
        while i < count:
            token = self.tokens[i]
            if token.kind == "punct" or (
                token.kind == "word"
                and token.word not in _STARTERS
                and token.low not in _WEEKDAY_ABBR
            ):
                i += 1
                continue
            end = None
            for parser in parsers:
                end = parser(i)
                if end is not None:
                    break
            if end is None:
                i += 1
                continue
            self.frame.ranges.append((self.tokens[i].start, self.tokens[end - 1].end))
            i = end
        return self.frame
