"""Swedish text understanding for the catalogues (courses, competence bank).

Everything a question or a catalogue row goes through before it is matched:

1. ``normalise``: lower case, Unicode NFC, punctuation to spaces; ``fold`` drops diacritics
   (å→a, ä→a, ö→o, é→e) for a last-resort, diacritics-insensitive comparison.
2. ``tokens``: words of the normalised text.
3. ``analyze`` / ``document_terms``: each word becomes a *key*: simplemma's Swedish lemma, then
   the Snowball Swedish stem (PyStemmer) of the lemma, so "undersköterskor", "undersköterskan"
   and "usk" meet on one key. Multi-word expressions from the reviewed domain table ("livets
   slut", "motiverande samtal") are found on keys, so their inflections match too. Compounds are
   split with the Hunspell sv_SE word list (demensutbildning → demens + utbildning,
   läkemedelsgenomgång → läkemedel + genomgång); each part is a key of its own.
4. Filler: the Snowball Swedish stop-word list plus the few words people put around a question
   ("finns det någon gratis kurs om ..."). Generic catalogue words (kurs, utbildning, webbkurs,
   föreläsning, ...) are *soft*: they may help ranking but never decide whether something matches.

Typo tolerance against a catalogue's own vocabulary lives in ``storage.search`` (it needs the
index), using ``is_swedish_word`` here so that a real word is never "corrected" into another.

The language resources are loaded once, lazily, on first use: read-only data, so a
module-level cache is safe to share between threads. Parsing them takes about 3 s (simplemma's
front-coded lemma list, the Hunspell list and its stems), so the first start keeps them in the
user's cache directory (a MARISA trie of the lemmas, a marshal file of the word lists) and every
later start loads them in about 0.2 s; a missing or unwritable cache only costs that time.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import marshal
import os
import re
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import Stemmer
from platformdirs import user_cache_dir
from simplemma import Lemmatizer
from simplemma import __version__ as SIMPLEMMA_VERSION
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries import TrieDictionaryFactory

logger = logging.getLogger(__name__)

# --- word lists ---------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Snowball's Swedish stop-word list (snowballstem.org/algorithms/swedish/stop.txt).
SNOWBALL_STOPWORDS = _words(
    """
    och det att i en jag hon som han på den med var sig för så till är men ett om hade de av
    icke mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde
    något från ut när efter upp vi dem vara vad över än dig kan sina här ha mot alla under
    någon eller allt mycket sedan ju denna själv detta åt utan varit hur ingen mitt ni bli
    blev oss din dessa några deras blir mina samma vilken er sådan vår blivit dess inom
    mellan sådant varför varje vilka ditt vem vilket sitta sådana vart dina vars vårt våra
    ert era vilkas
    """
)

# Words people wrap a question in: asking, wanting, politeness, "free of charge".
FILLER = _words(
    """
    finns finnas fanns nån nåt nåra någonting några hej hejsan tjena hallå tack snälla
    gratis kostnadsfri kostnadsfria kostnadsfritt avgiftsfri avgiftsfria gratiskurs tips
    tipsa tipsar hitta hittar söker söka letar leta vill ville behöver behov önskar undrar
    undra fråga frågor få får fick kunna ge gå går gärna bra lämplig lämpliga lära läsa lär
    mer mera info information veta ta tar del just typ kanske också även ngn ngt sån sånt
    sådär något nånting eventuellt liksom hur jobbar jobba rekommendera rekommenderar
    rekommendation förslag förslagsvis någonstans var skulle kunde kan ska borde vet vem
    vilka vad ny nya nytt nyare grundläggande fördjupning fördjupad fördjupande hos kring
    angående gällande rörande beträffande handlar handla riktad riktar inriktning inriktad
    passar passande bland
    """
)

# Generic catalogue words: a question with only these asks for nothing in particular.
GENERIC = _words(
    """
    kurs kurser kursen utbildning utbildningar utbildningen webbkurs webbkurser
    webbutbildning webbutbildningar föreläsning föreläsningar föreläsningsserie webbinarium
    webbinarier webinar webinarium seminarium seminarier serie e-learning elearning digital
    digitala digitalt webb webben online film filmer podd poddar podcast material
    utbildningsmaterial kompetensutveckling fortbildning vidareutbildning introduktion
    grundkurs grundutbildning modul moduler ämne ämnen område området kunskap kunskaper
    lärande studier studiematerial
    """
)

# The domain's own vocabulary, reviewed: canonical word → what staff also write.
# Multi-word variants are matched on keys, so their inflected forms match too.
SYNONYMS: dict[str, tuple[str, ...]] = {
    # roles, with their English names (the model matches English and Swedish words poorly)
    "undersköterska": (
        "usk",
        "uska",
        "undersköterskor",
        "assistant nurse",
        "assistant nurses",
        "nursing assistant",
        "nursing assistants",
    ),
    "sjuksköterska": ("ssk", "sjuksyster", "sjuksköterskor", "nurse", "nurses"),
    "distriktssköterska": ("dsk", "distriktsköterska"),
    "fysioterapeut": ("sjukgymnast", "fysio", "physiotherapist", "physiotherapists"),
    "arbetsterapeut": (
        "arbetsterapi",
        "occupational therapist",
        "occupational therapists",
    ),
    "mas": ("medicinskt ansvarig sjuksköterska", "medicinskt ansvariga sjuksköterskor"),
    "mar": ("medicinskt ansvarig för rehabilitering",),
    "hsl": ("hälso- och sjukvårdslagen", "hälso och sjukvårdslagen"),
    "kol": ("kronisk obstruktiv lungsjukdom",),
    "bpsd": ("beteendemässiga och psykiska symtom vid demens", "beteendemässiga symtom"),
    "mi": ("motiverande samtal", "motiverande samtalsteknik", "motiverande intervju"),
    "suicid": ("självmord", "suicidalitet", "suicidrisk"),
    "närstående": ("anhörig", "anhöriga", "anhörigstöd"),
    "hygien": ("smitta", "smittskydd", "smittspridning", "basala hygienrutiner"),
    "sårvård": ("svårläkta sår", "sårbehandling", "sårläkning"),
    "palliativ": (
        "livets slut",
        "livets slutskede",
        "palliation",
        "vård i livets slut",
        "döende",
        "end of life",
    ),
    "hjärtsvikt": ("hjärtinsufficiens",),
    "stroke": ("slaganfall", "hjärninfarkt"),
    "demens": ("demenssjukdom", "kognitiv sjukdom"),
    "läkemedel": ("medicin", "mediciner", "medicinering", "tabletter"),
    "nutrition": ("näring", "kost", "malnutrition", "undernäring", "mat och näring"),
    "munhälsa": ("munvård", "tandvård", "mun- och tandvård"),
    "rehabilitering": ("rehab", "rehabiliterande"),
    "psykiatri": ("psykisk ohälsa", "psykisk hälsa", "psykisk sjukdom"),
    "hlr": ("hjärt-lungräddning", "hjärt lungräddning"),
    "dysfagi": ("sväljsvårigheter", "ät- och sväljsvårigheter"),
    "delegering": ("delegation", "delegeringar"),
    "språkstöd": ("svenska som andraspråk", "sfi", "yrkessvenska"),
    "välfärdsteknik": ("e-hälsa", "digital teknik", "digitala hjälpmedel"),
    "lågaffektivt": ("lågaffektivt bemötande",),
    "våld": ("hot och våld",),
    "inkontinens": ("urinläckage",),
    "alla": (
        "all personal",
        "samtliga",
        "alla yrkesgrupper",
        "alla medarbetare",
        "alla roller",
        "all staff",
        "everyone",
    ),
}

# Related, not the same: a question about one also finds the other, ranked below.
RELATED: tuple[tuple[str, str, float], ...] = (
    ("insulin", "diabetes", 0.8),
    ("bpsd", "demens", 0.7),
    ("alzheimer", "demens", 0.8),
    ("hjärtsvikt", "hjärta", 0.6),
    ("kol", "lunga", 0.6),
    ("suicid", "psykiatri", 0.5),
    ("trycksår", "sårvård", 0.8),
    ("bensår", "sårvård", 0.8),
    ("infektion", "hygien", 0.7),
    ("läkemedelsgenomgång", "läkemedel", 0.7),
    ("fall", "fallprevention", 0.9),
    ("smärta", "palliativ", 0.4),
    ("språkombud", "språkstöd", 0.8),
    ("omvårdnad", "vård", 0.8),
    ("vårdsvenska", "språkstöd", 0.8),
)

# Roles a question can ask *for* ("för undersköterskor"): read as an audience, not a topic.
ROLES = _words(
    """
    undersköterska sjuksköterska distriktssköterska specialistsjuksköterska arbetsterapeut
    fysioterapeut läkare vårdbiträde enhetschef chef chefer biståndshandläggare mas mar
    omvårdnadspersonal vårdpersonal omsorgspersonal baspersonal rehabpersonal dietist
    logoped kurator stödassistent boendestödjare personlig assistent alla nyanställd
    nyanställda vikarie vikarier legitimerad
    """
)

_SUBJECTS = frozenset({"man", "jag", "vi", "du", "ni", "en", "de", "dom"})

MIN_PART = 3  # shortest compound part we accept ("sår", "kol")
# Longer "words" are not split: splitting costs the square of the length, and Swedish compounds
# in use stay well below this (sjuksköterskeutbildningsprogrammet is 33).
MAX_SPLIT_CHARS = 60

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_FOLD = str.maketrans("åäöéèêëáàâüúóòôæøíìçñ", "aaoeeeeaaauuoooaoiicn")


# --- normalising --------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, NFC, punctuation to single spaces."""
    text = unicodedata.normalize("NFC", text).lower()
    return " ".join(_WORD.findall(text.replace("&", " och ")))


def fold(text: str) -> str:
    """Diacritics-insensitive form, for the fallback comparison only (å/ä/ö carry meaning)."""
    return text.translate(_FOLD)


def tokens(text: str) -> list[str]:
    """Words of a text; hyphenated words are kept whole and also split by the analyser."""
    return normalise(text).split()


# --- language resources (loaded once, lazily) ---------------------------------------------


@dataclass(frozen=True)
class Lexicon:
    words: frozenset[str]  # Hunspell sv_SE entries (base forms), lower case
    stems: frozenset[str]  # their Snowball stems, to accept inflected forms
    load_seconds: float


def hunspell_dic_path() -> Path:
    """Where pip put hunspell-sv's sv_SE.dic. It is a data file, so it lies under the prefix
    the package was installed to, which is not sys.prefix in a virtual environment that sees
    the system's packages, nor for a --user install: the package's own file list says where."""
    try:
        distribution = importlib.metadata.distribution("hunspell-sv")
    except importlib.metadata.PackageNotFoundError:
        distribution = None
    for file in (distribution.files or ()) if distribution is not None else ():
        if file.name == "sv_SE.dic" and distribution is not None:
            return Path(str(distribution.locate_file(file))).resolve()
    return Path(sys.prefix) / "share" / "hunspell" / "sv_SE.dic"


@cache
def lexicon() -> Lexicon:
    """The Hunspell sv_SE word list and its stems, from the cache when it is current."""
    started = time.perf_counter()
    path = hunspell_dic_path()
    cached = _cache_file(path, "lexicon")
    loaded = _read_cached(cached) if cached else None
    if loaded is None:
        words = _parse_dic(path)
        stems = _stemmer().stemWords(sorted(words))
        loaded = (sorted(words), sorted(set(stems)))
        if cached and words:
            _write_cached(cached, loaded)
    words_list, stems_list = loaded
    result = Lexicon(frozenset(words_list), frozenset(stems_list), time.perf_counter() - started)
    logger.info("loaded %d Swedish words in %.2f s", len(result.words), result.load_seconds)
    return result


def _parse_dic(path: Path) -> set[str]:
    """A .dic file's words (a line is ``word/FLAGS``); empty when the dictionary is missing."""
    words: set[str] = set()
    try:
        with path.open(encoding="utf-8") as dic:
            next(dic, None)  # first line: number of entries
            for line in dic:
                word = line.split("/", 1)[0].strip().lower()
                if len(word) >= 2 and word.isalpha():
                    words.add(word)
    except FileNotFoundError:
        logger.warning("Hunspell sv_SE dictionary missing at %s; compounds are not split", path)
    return words


def cache_dir() -> Path:
    """Where derived language data is kept between starts (platformdirs' user cache)."""
    return Path(user_cache_dir("natverksboten", appauthor=False))


_CACHE_FORMAT = "1"


def _cache_file(source: Path, kind: str) -> Path | None:
    """The cache file for ``source`` as it is now: a changed dictionary or stemmer gets a new
    name, so a stale cache is never read."""
    try:
        stat = source.stat()
    except OSError:
        return None
    stamp = f"{_CACHE_FORMAT}|{source}|{stat.st_size}|{stat.st_mtime_ns}|{Stemmer.version()}"
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    return cache_dir() / f"{kind}-{digest}.marshal"


def _read_cached(path: Path) -> tuple[list[str], list[str]] | None:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not (isinstance(data, tuple) and len(data) == 2 and all(isinstance(d, list) for d in data)):
        return None
    return data


def _write_cached(path: Path, data: tuple[list[str], list[str]]) -> None:
    """Atomically (write, then rename), so a crash or a second process never leaves half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
            out.write(marshal.dumps(data))
        os.replace(out.name, path)
    except OSError as error:
        logger.warning("could not cache the Swedish word list: %s", error)


@cache
def _lemmatizer() -> Lemmatizer:
    """simplemma's default strategy over its Swedish lemmas kept as a MARISA trie on disk."""
    directory = cache_dir() / f"simplemma-{SIMPLEMMA_VERSION}"
    factory = TrieDictionaryFactory(disk_cache_dir=str(directory))
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory))


def lemma(word: str) -> str:
    """simplemma's Swedish lemma of ``word``, lower case."""
    return _lemmatizer().lemmatize(word, "sv").lower()


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("swedish")


def warm_up() -> float:
    """Load every language resource now (at start, not on a user's first question)."""
    started = time.perf_counter()
    lexicon()
    _lemmatizer()
    key("undersköterskor")
    _phrases()
    return time.perf_counter() - started


# --- keys -----------------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def base_key(word: str) -> str:
    """Lemma (simplemma), then Snowball stem: the form words are compared in."""
    return str(_stemmer().stemWord(lemma(word)))


@cache
def _single_synonyms() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, variants in SYNONYMS.items():
        target = base_key(canonical)
        for variant in (canonical, *variants):
            if " " not in variant and "-" not in variant:
                table[base_key(variant)] = target
    return table


@cache
def _phrases() -> dict[tuple[str, ...], str]:
    """Multi-word expressions, as key sequences → canonical key."""
    table: dict[tuple[str, ...], str] = {}
    for canonical, variants in SYNONYMS.items():
        for variant in variants:
            words = re.split(r"[\s-]+", normalise(variant))
            if len(words) > 1:
                table[tuple(base_key(w) for w in words)] = base_key(canonical)
    return table


@cache
def _phrase_starts() -> dict[str, int]:
    """First key of each expression → the longest expression starting with it."""
    starts: dict[str, int] = {}
    for phrase in _phrases():
        starts[phrase[0]] = max(starts.get(phrase[0], 0), len(phrase))
    return starts


@lru_cache(maxsize=200_000)
def key(word: str) -> str:
    """The canonical key of one word: lemma, stem, then the reviewed synonym table."""
    k = base_key(word)
    return _single_synonyms().get(k, k)


@cache
def _keyset(words: frozenset[str]) -> frozenset[str]:
    return frozenset(key(w) for w in words)


def generic_keys() -> frozenset[str]:
    return _keyset(GENERIC)


def role_keys() -> frozenset[str]:
    return _keyset(ROLES)


@cache
def related() -> dict[str, tuple[tuple[str, float], ...]]:
    table: dict[str, list[tuple[str, float]]] = {}
    for a, b, weight in RELATED:
        ka, kb = key(a), key(b)
        table.setdefault(ka, []).append((kb, weight))
        table.setdefault(kb, []).append((ka, weight))
    return {k: tuple(v) for k, v in table.items()}


@lru_cache(maxsize=50_000)
def is_stopword(word: str) -> bool:
    if word in SNOWBALL_STOPWORDS or word in FILLER:
        return True
    base = lemma(word)
    return base in SNOWBALL_STOPWORDS or base in FILLER


@lru_cache(maxsize=200_000)
def is_swedish_word(word: str) -> bool:
    """True for a word of the Hunspell list in any inflection (so not a typo to correct)."""
    lex = lexicon()
    return (
        word in lex.words
        or lemma(word) in lex.words
        or _stemmer().stemWord(word) in lex.stems
        or bool(_best_split_cached(word, True, 3))
    )


# --- compounds -----------------------------------------------------------------------------


def _is_part(part: str, *, strict: bool) -> bool:
    if len(part) < MIN_PART or part in SNOWBALL_STOPWORDS or part in FILLER:
        return False
    lex = lexicon()
    if part in lex.words:
        return True
    return not strict and _stemmer().stemWord(part) in lex.stems


@lru_cache(maxsize=200_000)
def split_compound(word: str) -> tuple[str, ...]:
    """Surface parts of a compound (``("demens", "utbildning")``), or () when it is none.

    Of all splits into known words (at most four parts, Hunspell's COMPOUNDWORDMAX; a linking
    -s- allowed) the one with fewest parts wins, then the most even one. A word that is itself
    in the dictionary is only split into parts that are dictionary words as they stand, so
    "diabetes" stays whole while "sårvård" becomes sår + vård.
    """
    if not 2 * MIN_PART <= len(word) <= MAX_SPLIT_CHARS or not word.isalpha():
        return ()
    strict = word in lexicon().words
    return _best_split(word, strict, 4) or ()


def _best_split(word: str, strict: bool, budget: int) -> tuple[str, ...] | None:
    """The best split of ``word`` into two to ``budget`` parts."""
    candidates: list[tuple[str, ...]] = []
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        head, rest = word[:cut], word[cut:]
        if not _is_part(head, strict=strict):
            continue
        tails = [rest]
        if rest.startswith("s") and len(rest) > MIN_PART and not head.endswith("s"):
            tails.append(rest[1:])  # the linking -s- of läkemedel-s-genomgång
        for tail in tails:
            if _is_part(tail, strict=strict):
                candidates.append((head, tail))
            elif budget > 2 and (found := _best_split_cached(tail, strict, budget - 1)):
                candidates.append((head, *found))
    if not candidates:
        return None
    # Parts that are words as they stand beat parts known only by their stem (läkemedel +
    # hantering, not läk + medelshantering); then, as Swedish compounds put the head word last,
    # the longest last part wins (fall + olyckor, not fallo + lyckor).
    words = lexicon().words
    return min(
        candidates,
        key=lambda parts: (
            len(parts),
            sum(part not in words for part in parts),  # läkemedel+s+genomgång, not läkemedels
            -len(parts[-1]),
            -sum(map(len, parts)),
        ),
    )


@lru_cache(maxsize=200_000)
def _best_split_cached(word: str, strict: bool, budget: int) -> tuple[str, ...] | None:
    return _best_split(word, strict, budget)


# --- analysis ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word (or reviewed multi-word expression) of a text, as keys."""

    surface: str
    key: str  # the whole word's key
    parts: tuple[str, ...] = ()  # keys of the compound's parts, () for a simple word
    after_for: bool = False  # in a "för X och Y" phrase: may name an audience
    words: tuple[str, ...] = ()  # keys of a reviewed expression's own words ("psykisk ohälsa")

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key, *self.parts)


@dataclass(frozen=True)
class Query:
    """What a question asks, after filler is gone."""

    text: str
    terms: tuple[Term, ...]  # content words, in order
    soft: tuple[Term, ...] = ()  # generic words (kurs, webbutbildning): ranking only
    audiences: frozenset[str] = field(default_factory=frozenset)  # role keys (undersköterska)

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.audiences


@lru_cache(maxsize=200_000)
def _word_term(word: str, after_for: bool) -> Term:
    k = key(word)
    if k in generic_keys() or k in role_keys():
        return Term(word, k, (), after_for)
    if "-" in word:
        pieces = [p for p in word.split("-") if p]
        keys = tuple(key(p) for p in pieces if len(p) > 1 and not is_stopword(p))
        if len(keys) > 1:
            return Term(word, "".join(keys), keys, after_for)
        if keys:
            return Term(word, keys[0], (), after_for)
    if k != base_key(word) or k in _canonical_parts():
        return _canonical_term(word, k, after_for)  # a reviewed word: never split further
    parts = split_compound(word)
    if parts:
        keys = tuple(key(p) for p in parts)
        content = tuple(p for p in keys if p not in generic_keys())
        if len(content) == 1 and len(keys) > 1:
            return Term(word, content[0], (), after_for)  # demenskurs: demens (+ kurs)
        return Term(word, k, keys, after_for)
    return Term(word, k, (), after_for)


@cache
def _canonical_parts() -> dict[str, tuple[str, ...]]:
    """Canonical key → keys of its compound parts (sårvård → sår, vård), () if simple."""
    table: dict[str, tuple[str, ...]] = {}
    for canonical in SYNONYMS:
        parts = split_compound(canonical)
        table[base_key(canonical)] = tuple(base_key(p) for p in parts) if parts else ()
    return table


def _canonical_term(surface: str, canonical: str, after_for: bool) -> Term:
    return Term(surface, canonical, _canonical_parts().get(canonical, ()), after_for)


_Analysis = tuple[tuple[Term, ...], tuple[Term, ...], tuple[Term, ...]]


@lru_cache(maxsize=20_000)
def _analyse(text: str) -> _Analysis:
    """(content terms, generic terms, role terms) of a text."""
    return _analyse_words(tuple(tokens(text)))


def _analyse_words(words: tuple[str, ...]) -> _Analysis:
    """``_analyse`` of a text given as its words (``tokens``)."""
    keys = [base_key(w) for w in words]
    phrases = _phrases()
    starts = _phrase_starts()
    generic, roles = generic_keys(), role_keys()
    content: list[Term] = []
    soft: list[Term] = []
    role_terms: list[Term] = []
    after_for = False
    i = 0
    while i < len(words):
        longest = starts.get(keys[i], 0)
        for size in range(min(longest, len(words) - i), 1, -1):
            canonical = phrases.get(tuple(keys[i : i + size]))
            if canonical is not None:
                term = _canonical_term(" ".join(words[i : i + size]), canonical, after_for)
                own = tuple(
                    k
                    for w, k in zip(words[i : i + size], keys[i : i + size], strict=True)
                    if not is_stopword(w) and k != canonical
                )
                term = Term(term.surface, term.key, term.parts, after_for, own)
                (role_terms if canonical in roles else content).append(term)
                i += size
                break
        else:
            word = words[i]
            i += 1
            if word == "för":
                after_for = True
                continue
            if word in ("och", "eller", "samt") or word.isdigit():
                continue
            if len(word) < 2 or is_stopword(word):
                after_for = after_for and word in ("alla", "nya")
                if word == "alla" and after_for:
                    role_terms.append(Term(word, key(word), (), True))
                continue
            term = _word_term(word, after_for)
            previous = words[i - 2] if i >= 2 else ""
            following = words[i] if i < len(words) else ""
            # "hur undviker man smitta": the verb says little, the noun says what.
            is_verb = previous == "hur" and following in _SUBJECTS
            if is_verb and term.key not in _canonical_parts():
                soft.append(term)
            elif term.key in roles:
                role_terms.append(term)
            elif term.key in generic or term.parts and all(p in generic for p in term.parts):
                soft.append(term)
                after_for = False
            else:
                content.append(term)
    return tuple(content), tuple(soft), tuple(role_terms)


def analyze(text: str) -> Query:
    """A question as content terms, generic words and audiences."""
    content, soft, roles = _analyse(text)
    return Query(text, content, soft, frozenset(t.key for t in roles))


# Words that wrap a course question without saying what it is about: with them, a question's
# vector leans toward every course with "utbildning" in its title, and away from its topic.
_WRAPPING = _words(
    """
    finns fanns nån någon något några nåt ngn ngt gratis kostnadsfri kostnadsfria kostnadsfritt
    avgiftsfri avgiftsfria hej hejsan tjena hallå tack snälla tips
    """
)
_LEADING = frozenset({"om", "kring", "angående", "on", "about", "i", "det"})


def meaning_text(text: str) -> str:
    """What a question is about, for the model: the words without the wrapping all catalogue
    questions share (finns det nån kurs om ..., för undersköterskor), which the words' index and
    the audience facet handle. ``"andnöd och inhalatorer, finns utbildning för usk?"`` →
    ``"andnöd och inhalatorer"``."""
    words = tokens(text)
    generic, roles = generic_keys(), role_keys()
    kept: list[str] = []
    for n, word in enumerate(words):
        if word in _WRAPPING or (word == "det" and n and words[n - 1] in ("finns", "fanns")):
            continue
        k = key(word)
        if k in generic or k in roles:
            while kept and kept[-1] in ("för", "for", "till", "om", "och", "som", "en", "a", "as"):
                kept.pop()
            continue
        kept.append(word)
    while kept and kept[0] in _LEADING:
        kept.pop(0)
    while kept and kept[-1] in ("och", "för", "om", "i", "till"):
        kept.pop()
    return " ".join(kept) or " ".join(words) or text


def document_terms(text: str | Sequence[str]) -> list[Term]:
    """Every meaningful term of a catalogue field (list fields: each item on its own)."""
    items = [text] if isinstance(text, str) else list(text)
    terms: list[Term] = []
    for item in items:
        content, soft, roles = _analyse(item)
        terms.extend(content)
        terms.extend(soft)
        terms.extend(roles)
    return terms


def document_words(text: str) -> tuple[str, ...]:
    """The words of a catalogue text as its analysis reads them, numbers all written "0".

    A number is never a term, never part of a reviewed expression (no expression has one, see
    ``_numbers_are_inert``) and never decides a neighbour's reading, so "Demens – Skövde 12" and
    "Demens – Skövde 13" have one analysis: what lets a large catalogue share its analyses.
    """
    if not _numbers_are_inert():
        return tuple(tokens(text))
    words: list[str] = []
    # Tokens never span white space (nor do NFC, lower case and "&" → "och"), so the words of
    # a text are those of its pieces: a catalogue shares far fewer pieces than texts.
    for piece in text.split():
        if piece.isdigit():
            words.append("0")
        else:
            words.extend(_piece_words(piece))
    return tuple(words)


@lru_cache(maxsize=100_000)
def _piece_words(piece: str) -> tuple[str, ...]:
    return tuple("0" if word.isdigit() else word for word in tokens(piece))


@cache
def _numbers_are_inert() -> bool:
    return not any(k.isdigit() for phrase in _phrases() for k in phrase)


def words_terms(words: tuple[str, ...]) -> tuple[Term, ...]:
    """``document_terms`` of one text given as its ``document_words`` (the index caches it)."""
    content, soft, roles = _analyse_words(words)
    return (*content, *soft, *roles)


def audience_keys(values: Iterable[str]) -> frozenset[str]:
    """Keys of an audience list ("undersköterskor", "alla") as the facet values to prefer."""
    return _audience_keys(tuple(values))


@lru_cache(maxsize=10_000)
def _audience_keys(values: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for value in values:
        text = normalise(value)
        if not text:
            continue
        content, soft, roles = _analyse(value)
        if text in ("alla", "alla yrkesgrupper", "all personal"):
            found.add(key("alla"))
        found.update(t.key for t in (*content, *roles))
    return frozenset(found)


def generic_parts(term: Term) -> frozenset[str]:
    """Parts of a compound that ask for nothing themselves (utbildning in demensutbildning)."""
    return frozenset(p for p in term.parts if p in generic_keys())
