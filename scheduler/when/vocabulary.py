"""The words: weekdays, months, numbers, parts of the day, holidays, and phrase starters."""

from __future__ import annotations

from dataclasses import dataclass

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
