"""Sweden's 290 municipalities as data, and finding one in what people write.

"i Kungälv", "Kungälvs kommun", "kungalv", "Gbg", "Göteborgs stad" and "Gøteborg" all name one
municipality. A misspelt name counts only when exactly one municipality is close to it, and only
where the words around it say a place is meant ("i Kungelv"), because several municipalities are
also ordinary Swedish words ("vara", "mark", "berg", "boden").
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz

DATA = Path(__file__).with_name("municipalities.csv")
COUNT = 290


@dataclass(frozen=True, order=True)
class Municipality:
    name: str  # "Kungälv"
    county: str  # "Västra Götalands län"
    code: str  # "1482", SCB's kommunkod


# Short forms people write; keys are folded (see fold()).
ABBREVIATIONS = {
    "gbg": "Göteborg",
    "gbgs": "Göteborg",
    "gtb": "Göteborg",
    "goteborg": "Göteborg",
    "gothenburg": "Göteborg",
    "sthlm": "Stockholm",
    "sthml": "Stockholm",
    "sthlms": "Stockholm",
    "sthlmstad": "Stockholm",
    "hbg": "Helsingborg",
    "jkpg": "Jönköping",
    "lkpg": "Linköping",
    "nkpg": "Norrköping",
    "ovik": "Örnsköldsvik",
    "o-vik": "Örnsköldsvik",
    "thn": "Trollhättan",
    "vbg": "Varberg",
    "kba": "Kungsbacka",
    "uppsala stad": "Uppsala",
    "malung": "Malung-Sälen",
    "salen": "Malung-Sälen",
    "upplands bro": "Upplands-Bro",
    "upplandsbro": "Upplands-Bro",
    "dals ed": "Dals-Ed",
    "dalsed": "Dals-Ed",
    "lilla-edet": "Lilla Edet",
    "lillaedet": "Lilla Edet",
    "vasby": "Upplands Väsby",
    "upplands-vasby": "Upplands Väsby",
    "ostra-goinge": "Östra Göinge",
    "goinge": "Östra Göinge",
    "region gotland": "Gotland",
    "visby": "Gotland",
}

# Names that are also everyday words: found only with a cue ("i Vara", "Vara kommun").
COMMON_WORDS = frozenset(
    {
        "vara",
        "mark",
        "berg",
        "kil",
        "boden",
        "skara",
        "kinda",
        "trosa",
        "nora",
        "mora",
        "sala",
        "mala",
        "are",
        "ange",
    }
)

# Places that are not municipalities; a misspelling closer to one of these is not a municipality.
OTHER_PLACES = (
    "stockholms lan",
    "uppsala lan",
    "sodermanland",
    "ostergotland",
    "jonkopings lan",
    "kronoberg",
    "kalmar lan",
    "blekinge",
    "skane",
    "halland",
    "vastra gotaland",
    "vastra",
    "gotaland",
    "varmland",
    "orebro lan",
    "vastmanland",
    "dalarna",
    "gavleborg",
    "vasternorrland",
    "jamtland",
    "vasterbotten",
    "norrbotten",
    "skaraborg",
    "sjuharad",
    "fyrbodal",
    "goteborgsregionen",
    "sverige",
    "norge",
    "danmark",
    "finland",
    "norrland",
    "svealand",
    "regionen",
    "kommunen",
    "lanet",
    "staden",
    "narheten",
    "omradet",
)

# Words before a place name ("i Lerum") and after it ("Lerums kommun").
PREPOSITIONS = frozenset({"i", "från", "fran", "inom", "kring", "runt", "nära", "nara", "vid"})
SUFFIXES = frozenset(
    {"kommun", "kommuns", "kommunen", "kommunens", "stad", "stads", "staden", "stadens"}
)
REGION_WORDS = frozenset({"region", "regionen"})

_TOKEN = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿ]+(?:-[0-9A-Za-zÀ-ÖØ-öø-ÿ]+)*")
_EXTRA_LETTERS = str.maketrans({"ø": "o", "æ": "a", "œ": "o", "ß": "ss", "ð": "d", "þ": "th"})
FUZZY_MIN = 80.0  # rapidfuzz ratio for a misspelt name ...
FUZZY_MARGIN = 6.0  # ... and how far ahead of the next municipality it must be
FUZZY_MIN_LENGTH = 4  # shorter misspellings are too often other words
FUZZY_MIN_SHORT = 88.0  # a four-letter misspelling must be closer still ("Lerm")


def fold(text: str) -> str:
    """Lower case without diacritics: "Gøteborgs" -> "goteborgs", "Malå" -> "mala"."""
    lowered = text.lower().translate(_EXTRA_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def all_municipalities() -> tuple[Municipality, ...]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    return tuple(Municipality(row["kommun"], row["län"], row["kod"]) for row in rows)


def by_code(code: str) -> Municipality | None:
    return _Tables.get().by_code.get(code.strip().zfill(4))


def by_name(name: str) -> Municipality | None:
    """Exactly the stored name (case-insensitive), for data we wrote ourselves."""
    return _Tables.get().by_lower.get(name.strip().lower())


class _Tables:
    """Lookup tables built once from the data file."""

    _instance: _Tables | None = None

    def __init__(self, municipalities: Sequence[Municipality]) -> None:
        self.by_code = {m.code: m for m in municipalities}
        self.by_lower = {m.name.lower(): m for m in municipalities}
        # Exact spelling (with diacritics), folded spelling: several entries mean ambiguous.
        self.exact: dict[str, set[Municipality]] = {}
        self.folded: dict[str, set[Municipality]] = {}
        for m in municipalities:
            for form in _forms(m.name):
                self.exact.setdefault(_squash(form.lower()), set()).add(m)
                self.folded.setdefault(_squash(fold(form)), set()).add(m)
        for short, name in ABBREVIATIONS.items():
            self.folded.setdefault(_squash(short), set()).add(self.by_lower[name.lower()])
        self.max_words = max(len(key.split()) for key in self.folded)
        self.fuzzy_keys: list[tuple[str, Municipality | None]] = [
            (fold(m.name), m) for m in municipalities
        ]
        self.fuzzy_keys += [(place, None) for place in OTHER_PLACES]

    @classmethod
    def get(cls) -> _Tables:
        if cls._instance is None:
            cls._instance = cls(all_municipalities())
        return cls._instance


def _forms(name: str) -> Iterable[str]:
    yield name
    if not name.endswith(("s", "x", "z")):
        yield name + "s"  # genitive: "Kungälvs kommun"
    if "-" in name:
        yield name.replace("-", " ")
        yield name.replace("-", "")
    if " " in name:
        yield name.replace(" ", "-")
        yield name.replace(" ", "")


def _squash(text: str) -> str:
    return " ".join(text.replace("-", " - ").split()).replace(" - ", "-")


def _lookup(words: Sequence[str]) -> Municipality | None:
    """Exact, then diacritics-insensitive; None when nothing or more than one matches."""
    tables = _Tables.get()
    phrase = _squash(" ".join(words))
    exact = tables.exact.get(phrase.lower())
    if exact is not None and len(exact) == 1:
        return next(iter(exact))
    folded = tables.folded.get(fold(phrase))
    if folded is not None and len(folded) == 1:
        return next(iter(folded))
    return None


def _fuzzy(word: str) -> Municipality | None:
    """A misspelt name, when exactly one municipality is clearly the closest."""
    key = fold(word)
    if len(key) < FUZZY_MIN_LENGTH:
        return None
    scored: list[tuple[float, Municipality | None]] = []
    for name, municipality in _Tables.get().fuzzy_keys:
        score = max(fuzz.ratio(key, name), fuzz.ratio(key, name + "s"))
        scored.append((score, municipality))
    scored.sort(key=lambda item: item[0], reverse=True)
    (best_score, best), (runner_up_score, _) = scored[0], scored[1]
    needed = FUZZY_MIN_SHORT if len(key) < 5 else FUZZY_MIN
    if best_score < needed or best_score - runner_up_score < FUZZY_MARGIN:
        return None
    return best


def find_municipality(text: str) -> Municipality | None:
    """The one municipality a short text names ("i Kungälv", "Gbg", "Göteborgs stad"), or None."""
    words = [w for w in _TOKEN.findall(text)]
    while words and fold(words[0]) in PREPOSITIONS | REGION_WORDS:
        words = words[1:]
    while words and fold(words[-1]) in SUFFIXES:
        words = words[:-1]
    if not words:
        return None
    found = _lookup(words)
    if found is not None:
        return found
    if len(words) == 1:
        return _fuzzy(words[0])
    return None


@dataclass(frozen=True)
class _Span:
    start: int  # index of the first token of the place, cue words included
    end: int  # index after the last token, suffix included
    municipality: Municipality
    cued: bool


def extract_municipality(question: str) -> tuple[Municipality | None, str]:
    """The municipality a question is about, and the question without it.

    "vem kan diabetes i Kungälv?" -> (Kungälv, "vem kan diabetes?"). When two different
    municipalities are named, the one with a cue ("i", "kommun") wins; if that does not decide,
    the question is treated as naming none.
    """
    matches = list(_TOKEN.finditer(question))
    words = [m.group(0) for m in matches]
    spans = _spans(words)
    if not spans:
        return None, question.strip()
    chosen = {span.municipality for span in spans}
    if len(chosen) > 1:
        cued = [span for span in spans if span.cued]
        if len({span.municipality for span in cued}) != 1:
            return None, question.strip()
        spans = [span for span in spans if span.municipality == cued[0].municipality]
    rest = question
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        begin = matches[span.start].start()
        finish = matches[span.end - 1].end()
        rest = rest[:begin] + " " + rest[finish:]
    return spans[0].municipality, _tidy(rest)


def _spans(words: Sequence[str]) -> list[_Span]:
    tables = _Tables.get()
    found: list[_Span] = []
    index = 0
    while index < len(words):
        span = None
        for size in range(min(tables.max_words, len(words) - index), 0, -1):
            span = _span_at(words, index, size)
            if span is not None:
                break
        if span is None:
            index += 1
            continue
        found.append(span)
        index = span.end
    return found


def _span_at(words: Sequence[str], index: int, size: int) -> _Span | None:
    piece = words[index : index + size]
    before = fold(words[index - 1]) if index > 0 else ""
    after = fold(words[index + size]) if index + size < len(words) else ""
    has_preposition = before in PREPOSITIONS or before in REGION_WORDS
    has_suffix = after in SUFFIXES
    cued = has_preposition or has_suffix
    municipality = _lookup(piece)
    if municipality is None and size == 1 and cued:
        municipality = _fuzzy(piece[0])
    if municipality is None:
        return None
    key = fold(" ".join(piece))
    if not cued and _is_common_word(key):
        return None
    if not cued and len(key) <= 3 and key not in ABBREVIATIONS:
        return None
    start = index - 1 if has_preposition else index
    end = index + size + 1 if has_suffix else index + size
    return _Span(start, end, municipality, cued)


def _is_common_word(key: str) -> bool:
    return key in COMMON_WORDS or (key.endswith("s") and key[:-1] in COMMON_WORDS)


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([?!.,;:])")


def _tidy(text: str) -> str:
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))
    return text.strip(" ,;:")
