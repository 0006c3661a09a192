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

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from scheduler.swedish import (
    MONTHS,
    STOCKHOLM,
    WEEKDAYS,
    all_named_days,
    format_clock,
    format_date,
    format_when,
    next_working_day,
    previous_working_day,
)

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

OFFICE_START = time(8, 0)
OFFICE_END = time(17, 0)


# ---------------------------------------------------------------------------------------------
# Public values


@dataclass(frozen=True)
class When:
    """A single moment, for reminders and deadlines.

    `all_day` is True when only a date was given; `at` is then that date at the default hour
    (09.00 local) and `assumed` says so.
    """

    at: datetime  # aware, UTC
    assumed: str | None
    all_day: bool


@dataclass(frozen=True)
class Span:
    """A meeting slot."""

    start: datetime  # aware, UTC
    end: datetime  # aware, UTC


@dataclass(frozen=True)
class Recurrence:
    """A repeating time. `rule` has no DTSTART; `first` (a matching occurrence) anchors it."""

    rule: str
    first: datetime  # aware, UTC
    description: str

    def occurrences_after(self, after: datetime, count: int = 1) -> list[datetime]:
        """The next `count` occurrences strictly after `after`, as aware UTC datetimes.

        The rule runs over naive Stockholm wall time, so "kl 10" stays 10.00 across DST.
        """
        start = self.first.astimezone(STOCKHOLM).replace(tzinfo=None)
        rule = rrulestr(self.rule, dtstart=start)
        # A margin of a few hours covers the DST hour that naive wall time cannot see.
        from_local = after.astimezone(STOCKHOLM).replace(tzinfo=None) - timedelta(hours=3)
        found: list[datetime] = []
        for naive in rule.xafter(from_local, inc=True):
            moment, _ = _to_utc(naive)
            if moment > after:
                found.append(moment)
                if len(found) >= count:
                    break
        return found


@dataclass(frozen=True)
class Parsed:
    """What `parse` understood.

    `matched` is the text understood as time: the original pieces, in order, joined by a space.
    `rest` is the input with those pieces cut out, whitespace collapsed, no space before
    punctuation and stray punctuation trimmed from both ends. Nothing else is removed: "påminn mig
    imorgon kl 9 om att skicka enkäten" gives rest "påminn mig om att skicka enkäten", and the
    caller strips its own command words.
    """

    value: When | Span | Recurrence
    rest: str
    matched: str


class WhenError(Exception):
    """A time expression that is impossible, ambiguous or past; the message is for the user."""


# ---------------------------------------------------------------------------------------------
# Vocabulary. Words are compared folded: lower case, å/ä → a, ö → o, é → e, because people type
# "mandag" and "overmorgon". Abbreviations that would collide with ordinary words once folded
# ("man", "son") are only accepted with their diacritics.

_FOLD = str.maketrans("åäöéüàáè", "aaoeuaae")


def _fold(word: str) -> str:
    return word.lower().translate(_FOLD)


_WEEKDAY_WORDS: dict[str, int] = {}
for _i, _name in enumerate(("mandag", "tisdag", "onsdag", "torsdag", "fredag", "lordag", "sondag")):
    _WEEKDAY_WORDS[_name] = _i
    _WEEKDAY_WORDS[_name + "en"] = _i
for _i, _name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
):
    _WEEKDAY_WORDS[_name] = _i
_WEEKDAY_PLURAL: dict[str, int] = {}
for _i, _name in enumerate(("mandag", "tisdag", "onsdag", "torsdag", "fredag", "lordag", "sondag")):
    _WEEKDAY_PLURAL[_name + "ar"] = _i
    _WEEKDAY_PLURAL[_name + "arna"] = _i
for _i, _name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
):
    _WEEKDAY_PLURAL[_name + "s"] = _i
# "i måndags" = last Monday.
_WEEKDAY_PAST = {
    n + "s": i
    for i, n in enumerate(("mandag", "tisdag", "onsdag", "torsdag", "fredag", "lordag", "sondag"))
}
# Abbreviations, matched on the lower-case (unfolded) word. Alone they are only a weekday when a
# date, a time or a word like "på"/"nästa" backs them up: "sat", "man" and "i mån av tid" exist.
_WEEKDAY_ABBR: dict[str, int] = {
    "mån": 0,
    "tis": 1,
    "ons": 2,
    "tor": 3,
    "tors": 3,
    "fre": 4,
    "lör": 5,
    "sön": 6,
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}

_MONTH_WORDS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("januari", "jan", "january"),
        ("februari", "feb", "february", "febr"),
        ("mars", "mar", "march"),
        ("april", "apr"),
        ("maj", "may"),
        ("juni", "jun", "june"),
        ("juli", "jul", "july"),
        ("augusti", "aug", "august"),
        ("september", "sep", "sept"),
        ("oktober", "okt", "october", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    ),
    start=1,
):
    for _name in _names:
        _MONTH_WORDS[_name] = _i

_CARDINALS: dict[str, int] = {
    "noll": 0,
    "en": 1,
    "ett": 1,
    "tva": 2,
    "tre": 3,
    "fyra": 4,
    "fem": 5,
    "sex": 6,
    "sju": 7,
    "atta": 8,
    "nio": 9,
    "tio": 10,
    "elva": 11,
    "tolv": 12,
    "tretton": 13,
    "fjorton": 14,
    "femton": 15,
    "sexton": 16,
    "sjutton": 17,
    "arton": 18,
    "aderton": 18,
    "nitton": 19,
    "tjugo": 20,
    "trettio": 30,
    "fyrtio": 40,
    "femtio": 50,
    "sextio": 60,
    "nittio": 90,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
}
_ONES = ("en", "tva", "tre", "fyra", "fem", "sex", "sju", "atta", "nio")
for _tens_word, _tens in (("tjugo", 20), ("trettio", 30), ("fyrtio", 40), ("femtio", 50)):
    for _n, _one in enumerate(_ONES, start=1):
        _CARDINALS[_tens_word + _one] = _tens + _n
    _CARDINALS[_tens_word + "ett"] = _tens + 1

_ORDINALS: dict[str, int] = {
    "forsta": 1,
    "andra": 2,
    "tredje": 3,
    "fjarde": 4,
    "femte": 5,
    "sjatte": 6,
    "sjunde": 7,
    "attonde": 8,
    "nionde": 9,
    "tionde": 10,
    "elfte": 11,
    "tolfte": 12,
    "trettonde": 13,
    "fjortonde": 14,
    "femtonde": 15,
    "sextonde": 16,
    "sjuttonde": 17,
    "artonde": 18,
    "nittonde": 19,
    "tjugonde": 20,
    "trettionde": 30,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
}
for _tens_word, _tens in (("tjugo", 20), ("trettio", 30)):
    for _n, _ord in enumerate(
        (
            "forsta",
            "andra",
            "tredje",
            "fjarde",
            "femte",
            "sjatte",
            "sjunde",
            "attonde",
            "nionde",
        ),
        start=1,
    ):
        _ORDINALS[_tens_word + _ord] = _tens + _n
_LAST_WORDS = frozenset({"sista", "last"})
# Ordinal positions for "första måndagen", with the Swedish words for descriptions.
_POSITION_NAMES = {1: "första", 2: "andra", 3: "tredje", 4: "fjärde", 5: "femte", -1: "sista"}

# "niotiden", "tvåtiden": around nine, around two.
_ABOUT_WORDS = {
    _fold(w) + "tiden": n
    for w, n in (
        ("ett", 1),
        ("två", 2),
        ("tre", 3),
        ("fyra", 4),
        ("fem", 5),
        ("sex", 6),
        ("sju", 7),
        ("åtta", 8),
        ("nio", 9),
        ("tio", 10),
        ("elva", 11),
        ("tolv", 12),
    )
}


@dataclass(frozen=True)
class _DayPart:
    hour: int  # the default when no clock time is given
    label: str  # as the user most likely wrote it, for `assumed`
    shift: str | None  # "pm": add 12 to hours before 12; "am": keep; None: no effect


_DAY_PARTS: dict[str, _DayPart] = {}
for _words, _part in (
    (("formiddag", "formiddagen", "fm", "forenoon"), _DayPart(9, "på förmiddagen", "am")),
    (("eftermiddag", "eftermiddagen", "em", "afternoon"), _DayPart(13, "på eftermiddagen", "pm")),
    (("morgonen", "morning", "morgnarna"), _DayPart(8, "på morgonen", "am")),
    (("bitti",), _DayPart(7, "bitti", "am")),
    (("kvall", "kvallen", "evening", "kvallarna"), _DayPart(19, "på kvällen", "pm")),
    (("lunch", "lunchen", "lunchtid", "lunchtiden", "lunchtime"), _DayPart(12, "lunch", None)),
):
    for _word in _words:
        _DAY_PARTS[_word] = _part

_HOUR_UNITS = {
    "minut": "minutes",
    "minuter": "minutes",
    "minuten": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "timme": "hours",
    "timmar": "hours",
    "timma": "hours",
    "timmen": "hours",
    "tim": "hours",
    "h": "hours",
    "t": "hours",
    "hour": "hours",
    "hours": "hours",
    "hr": "hours",
    "hrs": "hours",
    "dag": "days",
    "dagar": "days",
    "day": "days",
    "days": "days",
    "dygn": "days",
    "vecka": "weeks",
    "veckor": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "v": "weeks",
    "manad": "months",
    "manader": "months",
    "month": "months",
    "months": "months",
    "ar": "years",
    "year": "years",
    "years": "years",
}

# Named days: folded word sequences → a name `all_named_days` knows, or a group of them.
_HOLIDAY_ALIASES: dict[tuple[str, ...], str] = {}
for _name, _aliases in (
    ("julafton", ("julafton", "julaftonen", "christmas eve")),
    ("juldagen", ("juldagen", "juldag", "christmas day", "christmas")),
    ("annandag jul", ("annandag jul", "annandagen", "annandag", "boxing day")),
    ("nyårsafton", ("nyarsafton", "nyarsaftonen", "new years eve", "new year s eve")),
    ("nyårsdagen", ("nyarsdagen", "nyarsdag", "new years day", "new year s day")),
    ("trettondedag jul", ("trettondedag jul", "trettondedagen", "trettondagen", "epiphany")),
    ("trettondagsafton", ("trettondagsafton",)),
    ("skärtorsdagen", ("skartorsdagen", "skartorsdag", "maundy thursday")),
    ("långfredagen", ("langfredagen", "langfredag", "good friday")),
    ("påskafton", ("paskafton", "paskaftonen", "easter saturday")),
    ("påskdagen", ("paskdagen", "paskdag", "easter sunday", "easter day")),
    ("annandag påsk", ("annandag pask", "annandagpask", "easter monday")),
    ("valborgsmässoafton", ("valborgsmassoafton", "valborg", "valborgsafton", "walpurgis")),
    ("första maj", ("forsta maj", "forstamaj", "may day")),
    (
        "kristi himmelsfärdsdag",
        (
            "kristi himmelsfardsdag",
            "kristi himmelsfard",
            "kristi himmelsfards dag",
            "kristi himmelfardsdag",
            "kristi himmelfard",
            "himmelsfardsdagen",
            "himmelsfardsdag",
            "ascension day",
        ),
    ),
    ("pingstafton", ("pingstafton",)),
    ("pingstdagen", ("pingstdagen", "pingstdag", "pentecost", "whitsunday")),
    ("nationaldagen", ("nationaldagen", "nationaldag", "sveriges nationaldag", "national day")),
    ("midsommarafton", ("midsommarafton", "midsommaraftonen", "midsummer eve")),
    ("midsommardagen", ("midsommardagen", "midsommardag", "midsummer day")),
    ("alla helgons dag", ("alla helgons dag", "allhelgonadagen", "all saints day")),
    ("allahelgonsafton", ("allahelgonsafton", "allhelgonaafton", "halloween")),
):
    for _alias in _aliases:
        _HOLIDAY_ALIASES[tuple(_alias.split())] = _name
# A season: its days, and which of them plain "till jul"/"på midsommar" means.
_HOLIDAY_GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "jul": (("julafton", "juldagen", "annandag jul"), "julafton"),
    "pask": (("långfredagen", "påskafton", "påskdagen", "annandag påsk"), "påskdagen"),
    "midsommar": (("midsommarafton", "midsommardagen"), "midsommarafton"),
    "nyar": (("nyårsafton", "nyårsdagen"), "nyårsafton"),
    "pingst": (("pingstafton", "pingstdagen"), "pingstdagen"),
}
_GROUP_WORDS = {
    "jul": "jul",
    "julen": "jul",
    "christmas": "jul",
    "pask": "pask",
    "pasken": "pask",
    "easter": "pask",
    "midsommar": "midsommar",
    "midsommaren": "midsommar",
    "midsummer": "midsommar",
    "nyar": "nyar",
    "nyaret": "nyar",
    "pingst": "pingst",
    "pingsten": "pingst",
}
_GROUP_LABEL = {
    "jul": "jul",
    "pask": "påsk",
    "midsommar": "midsommar",
    "nyar": "nyår",
    "pingst": "pingst",
}

# Words that can begin a phrase; the walk skips every other word without trying the parsers,
# which keeps ordinary message text cheap.
_STARTERS = frozenset(
    {
        *_WEEKDAY_WORDS,
        *_WEEKDAY_PLURAL,
        *_MONTH_WORDS,
        *_CARDINALS,
        *_ORDINALS,
        *_LAST_WORDS,
        *_ABOUT_WORDS,
        *_DAY_PARTS,
        *_GROUP_WORDS,
        *(alias[0] for alias in _HOLIDAY_ALIASES),
        *(
            "i",
            "in",
            "idag",
            "today",
            "imorgon",
            "imorn",
            "imorrn",
            "imorgn",
            "tomorrow",
            "iovermorgon",
            "overmorgon",
            "ikvall",
            "tonight",
            "inatt",
            "igar",
            "yesterday",
            "iforrgar",
            "the",
            "day",
            "dagen",
            "fore",
            "innan",
            "before",
            "efter",
            "after",
            "till",
            "pa",
            "on",
            "by",
            "at",
            "under",
            "den",
            "nast",
            "this",
            "denna",
            "kommande",
            "nasta",
            "next",
            "vecka",
            "v",
            "week",
            "veckan",
            "om",
            "heldag",
            "heldagen",
            "heldags",
            "hela",
            "all",
            "mellan",
            "fran",
            "from",
            "between",
            "kl",
            "klockan",
            "klo",
            "vid",
            "runt",
            "omkring",
            "cirka",
            "ca",
            "around",
            "noon",
            "midday",
            "mitt",
            "midnatt",
            "midnight",
            "halv",
            "kvart",
            "within",
            "inom",
            "dagligen",
            "daily",
            "veckovis",
            "weekly",
            "manadsvis",
            "monthly",
            "arligen",
            "yearly",
            "annually",
            "alla",
            "varannan",
            "var",
            "every",
            "each",
            "varje",
            "varenda",
            "of",
        ),
    }
)

# ---------------------------------------------------------------------------------------------
# Tokens

_TOKEN = re.compile(
    r"""
    (?P<iso>(?<!\d)\d{4}-\d{1,2}-\d{1,2}(?!\d))
  | (?P<slash>(?<![\d/])\d{1,2}/\d{1,2}(?:/\d{2}(?:\d{2})?)?(?![\d/]))
  | (?P<dotdate>(?<![\d.])\d{1,2}\.\d{1,2}\.\d{4}(?!\d))
  | (?P<about>(?<!\d)\d{1,2}\ ?-?\ ?tiden)
  | (?P<ampm>(?<![\d.:])\d{1,2}(?:[.:]\d{2})?\ ?(?:a\.m\.|p\.m\.|am|pm)(?!\w))
  | (?P<range>(?<![\d.:/-])\d{1,2}(?:[.:]\d{2})?\ *[-–—]\ *\d{1,2}(?:[.:]\d{2})?(?![\d/]))
  | (?P<hm>(?<![\d.:])\d{1,2}[.:]\d{2}(?![\d]|[.:]\d))
  | (?P<ord>(?<!\d)\d{1,2}(?::[ae]|st|nd|rd|th)(?!\w))
  | (?P<vnum>(?<!\w)[vw]\d{1,2}(?!\d))
  | (?P<num>\d+(?:,\d+)?)
  | (?P<word>[^\W\d_]+)
  | (?P<punct>\S)
    """,
    re.VERBOSE,
)
_CLOCK = re.compile(r"(\d{1,2})(?:[.:](\d{2}))?")
_RANGE_SPLIT = re.compile(r"\s*[-–—]\s*")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)])")
_EDGE_PUNCT = " ,;:-–—"
_DOUBLE_PUNCT = re.compile(r"([,;])(?:\s*[,;])+")
_SLOT_SEPARATORS = re.compile(r"[;\n]|,(?!\d)|\s+eller\s+|\s+samt\s+")


@dataclass(frozen=True)
class _Token:
    kind: str
    raw: str  # original text
    low: str  # lower case
    word: str  # folded, for comparisons
    start: int
    end: int


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        raw = match.group()
        low = raw.lower()
        tokens.append(_Token(kind, raw, low, _fold(raw), match.start(), match.end()))
    return tokens


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


class _Parser:
    """Walks the tokens once; each `_p_*` method returns the index after its phrase, or None."""

    def __init__(self, text: str, now: datetime, frame: _Frame | None = None) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.now = now
        self.local_now = now.astimezone(STOCKHOLM)
        self.today = self.local_now.date()
        self.frame = frame if frame is not None else _Frame()

    # -- token helpers ---------------------------------------------------------------------

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
            return int(re.match(r"\d+", token.raw).group()), i + 1  # type: ignore[union-attr]
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

    # -- the walk ---------------------------------------------------------------------------

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

    # -- phrases ----------------------------------------------------------------------------

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

    def _set_day_part(self, part: _DayPart, label: str | None = None) -> None:
        if label is not None:
            part = _DayPart(part.hour, label, part.shift)
        if self.frame.day_part is not None and self.frame.day_part.hour != part.hour:
            raise WhenError(
                f"”{self.frame.day_part.label}” och ”{part.label}” går inte ihop. "
                "Vilken tid menar du?"
            )
        self.frame.day_part = part

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
            and self._number(i + 1)
            and self._is(
                self._number(i + 1)[1],  # type: ignore[index]
                "veckor",
                "vecka",
                "weeks",
                "week",
            )
        ):
            weeks, after = self._number(i + 1)  # type: ignore[misc]
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
        elif word == "om" and self._number(i + 1) and self._is(self._number(i + 1)[1], "veckor"):  # type: ignore[index]
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

    def _set_span(self, first: _Clock, second: _Clock, text: str) -> None:
        if self.frame.span is not None or self.frame.clock is not None:
            raise WhenError(f"Jag hittar två tider (”{text}” och fler). Vilken menar du?")
        self.frame.span = (first, second)

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
            hour = int(re.match(r"\d+", token.raw).group())  # type: ignore[union-attr]
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

    # -- recurrence ---------------------------------------------------------------------------

    def _set_recurrence(self, freq: str, text: str) -> None:
        if self.frame.freq is not None and self.frame.freq != freq:
            raise WhenError(f"”{text}” går inte ihop med ”{self.frame.rec_text}”.")
        self.frame.freq = freq
        if not self.frame.rec_text:
            self.frame.rec_text = text

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


def _read_duration(parser: _Parser, i: int) -> tuple[_Duration, int] | None:
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


def _read_duration_part(parser: _Parser, i: int) -> tuple[_Duration, int] | None:
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


# ---------------------------------------------------------------------------------------------
# Turning a frame into a value


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


def _to_utc(naive: datetime) -> tuple[datetime, str | None]:
    """Stockholm wall time → UTC, saying so when DST made the wall time odd."""
    aware = naive.replace(tzinfo=STOCKHOLM)
    moment = aware.astimezone(UTC)
    back = moment.astimezone(STOCKHOLM).replace(tzinfo=None)
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
    probe = Recurrence(rule, anchor.replace(tzinfo=STOCKHOLM).astimezone(UTC), "")
    found = probe.occurrences_after(max(parser.now, probe.first - timedelta(seconds=1)), 1)
    if not found:
        raise WhenError("Den upprepningen inträffar aldrig.")
    return Recurrence(rule, found[0], f"{described} {clock_text}")


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
