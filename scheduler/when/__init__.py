"""Understanding the times people write in Swedish (and some English), relative to an injected now.

Pure: no I/O and no wall clock. The text is cut into tokens (numbers, words, "14:30", "5/9",
"13-15", ...), then small parsers, one per kind of phrase, walk the tokens left to right and fill a
`_Frame` with what they understood: a date, a weekday, a clock time, a part of the day, a span, a
duration, a recurrence. `_resolve` then checks the parts agree and turns them into a value.

Conventions, so the confirmation never hides a guess:
- A date without a year is the next one to come (today counts).
- A date without a time is `default_hour` (09.00) local, `When.all_day` is True and `assumed`
  says so. "på förmiddagen" is 09.00, "på eftermiddagen" 13.00, "ikväll" 19.00, "lunch" 12.00,
  each stated in `assumed`.
- A clock time without a date is today, or tomorrow if it has passed (stated in `assumed`).
- "på tisdag" is the first Tuesday after today; "nästa tisdag" is Tuesday in next week (stated).
- A bare hour 1–6 ("kl 3") could be night or afternoon, so it is refused with a question.
- "heldag" is office hours, 08.00–17.00.
- Wall times are built in Europe/Stockholm and converted to UTC; a time in the spring DST gap moves
  forward one hour and an ambiguous autumn time takes the first (summer-time) instance, both stated.
"""

from scheduler.clock import STOCKHOLM
from scheduler.when.api import find_week, parse, parse_duration, parse_slots
from scheduler.when.values import Parsed, Recurrence, Span, When, WhenError

__all__ = [
    "STOCKHOLM",
    "Parsed",
    "Recurrence",
    "Span",
    "When",
    "WhenError",
    "find_week",
    "parse",
    "parse_duration",
    "parse_slots",
]
