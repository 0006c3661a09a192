"""A generic in-memory search index over documents with weighted text fields.

Built for the course catalogue and reused by the competence bank: a document is any object
(``T``) with a key, named text fields (a weight per field name) and optional facets (sets of
keys, e.g. the audiences a course is for). Text goes through ``storage.language``, so questions
and documents meet on lemma/stem keys, compound parts and the reviewed synonyms.

Scoring is BM25-like per question *slot* (one per content word of the question). A document
must cover at least ``min_coverage`` of the question, with each slot weighted by how rare its
word is in the index (a word no document has counts as rarest of all): that is what keeps
unrelated documents out of an answer. The question's audience ("för undersköterskor") never
filters; it ranks documents for that audience first, then those for everyone.

A big catalogue repeats itself (the same topics, formats, audiences, sentences, title words), so
a field value is analysed once and its weighted contributions (a ``_Chunk``) are shared by every
document with that value; a document only sums its fields' chunks, in the same order and with
the same float additions as adding word by word, so scores do not change by a single bit.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from storage import language
from storage.language import Query, Term

T = TypeVar("T")

PART_WEIGHT = 0.8  # a compound's part found in a document counts a little less than the word
PART_CREDIT = 0.9  # a question's compound answered by its parts (demens for demensutbildning)
SOFT_WEIGHT = 0.15  # generic words (webbkurs, föreläsning) only tip the ranking
K1 = 1.2
# Of a word found in very many documents, only the best-matching ones are scored: keeps a
# question fast on a 100k catalogue (real catalogues hold hundreds) at no cost to the top.
MAX_POSTINGS = 300
_NO_VALUES: frozenset[str] = frozenset()
MAX_CHUNKS = 100_000  # remembered field values per field (a big catalogue shares most of them)


@dataclass(frozen=True)
class Hit(Generic[T]):
    item: T
    score: float
    coverage: float  # share of the question the document answers, 0..1
    key: Hashable


class _Text:
    """One field text as documents use it, shared by every document with the same words."""

    __slots__ = ("contributions", "surfaces")

    def __init__(self, contributions: tuple[tuple[str, float], ...], surfaces: tuple[str, ...]):
        self.contributions = contributions  # (key, share), in the text's order
        self.surfaces = surfaces  # distinct surface words, in order of appearance


class _Chunk:
    """A field's value (a text or a list of texts) at the field's weight, ready to add.

    ``sums``: every (key, weight × share) contribution summed in order from 0.0, exactly what
    adding them one by one gives; ``repeated``: the single addends of keys contributed more
    than once, for a document whose other fields have the key too.
    """

    __slots__ = ("surfaces", "sums", "repeated")

    def __init__(self, texts: tuple[_Text, ...], weight: float) -> None:
        sums: dict[str, float] = {}
        addends: dict[str, list[float]] = {}
        for text in texts:
            for term_key, share in text.contributions:
                sums[term_key] = sums.get(term_key, 0.0) + weight * share
                addends.setdefault(term_key, []).append(weight * share)
        # its texts' surface words, in order of appearance
        self.surfaces = tuple(dict.fromkeys(word for text in texts for word in text.surfaces))
        self.sums = sums
        self.repeated = {k: tuple(v) for k, v in addends.items() if len(v) > 1}


@lru_cache(maxsize=100_000)
def _words_text(words: tuple[str, ...]) -> _Text:
    contributions: list[tuple[str, float]] = []
    surfaces: list[str] = []
    for term in language.words_terms(words):
        contributions.append((term.key, 1.0))
        contributions.extend((part, PART_WEIGHT) for part in (*term.parts, *term.words))
        surfaces.extend(term.surface.replace("-", " ").split())
    return _Text(tuple(contributions), tuple(dict.fromkeys(surfaces)))


class _Saturation(dict[float, float]):
    """BM25's term-frequency saturation, remembered per raw frequency (few distinct ones)."""

    def __missing__(self, tf: float) -> float:
        weight = self[tf] = tf * (K1 + 1) / (tf + K1)
        return weight


@dataclass(slots=True)
class _Doc(Generic[T]):
    item: T
    seq: int
    weights: dict[str, float]
    chunks: tuple[_Chunk, ...]
    facets: dict[str, frozenset[str]]


@dataclass
class _Slot:
    importance: float
    alternatives: list[tuple[str, float]]
    parts: list[tuple[str, float]] = field(default_factory=list)  # (key, importance)


def _part_credit(
    matched: float, tw_sum: float, importance: float, modifier: bool
) -> tuple[float, float]:
    """A compound of the question answered by some of its parts (``matched``: their share).

    Swedish compounds end in the general word and start with the specific one: "demensvård" is
    well answered by "demens" alone (the square root), poorly by "vård" alone (halved).
    """
    share = min(matched, 1.0)
    credit = PART_CREDIT * (math.sqrt(share) if modifier else share / 2)
    return credit, credit * importance * tw_sum / max(matched, 1e-9)


class SearchIndex(Generic[T]):
    """Documents in, best-first hits out; add/update/remove one document at a time."""

    def __init__(
        self,
        fields: Mapping[str, float],
        *,
        audience_facet: str | None = None,
        everyone: str = "alla",
        min_coverage: float = 0.5,
        relative_cutoff: float = 0.2,
        audience_boost: float = 1.5,
        everyone_boost: float = 1.25,
    ) -> None:
        self._fields = dict(fields)
        self._audience_facet = audience_facet
        self._everyone = language.key(everyone)
        self._min_coverage = min_coverage
        self._relative_cutoff = relative_cutoff
        self._audience_boost = audience_boost
        self._everyone_boost = everyone_boost
        self._docs: dict[Hashable, _Doc[T]] = {}
        self._postings: dict[str, dict[Hashable, float]] = {}
        self._best: dict[str, list[tuple[Hashable, float]]] = {}  # long postings, best first
        self._facet_values: dict[str, dict[str, int]] = {}
        # Surface words for typo correction, counted once per distinct live field value:
        # only whether a word is there (and when it came) matters.
        self._live: dict[_Chunk, int] = {}
        self._surfaces: dict[str, int] = {}
        self._saturation = _Saturation()
        # Per field: its values' contributions at its weight, by value and by analysis.
        self._values: dict[str, dict[Hashable, _Chunk]] = {name: {} for name in self._fields}
        self._chunks: dict[str, dict[_Text, _Chunk]] = {name: {} for name in self._fields}
        self._facet_sets: dict[tuple[tuple[str, frozenset[str]], ...], dict[str, frozenset[str]]]
        self._facet_sets = {}
        self._seq = 0
        self._lock = threading.RLock()
        self._vocabulary: dict[int, list[str]] | None = None
        self._folded: dict[str, str] = {}
        self._corrections: dict[str, str | None] = {}

    # --- documents ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._docs

    def items(self) -> list[T]:
        with self._lock:
            return [doc.item for doc in sorted(self._docs.values(), key=lambda d: d.seq)]

    def add(
        self,
        key: Hashable,
        item: T,
        fields: Mapping[str, str | Sequence[str] | None],
        facets: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Add a document, or replace the one with the same key."""
        raw: dict[str, float] = {}
        chunks: list[_Chunk] = []
        by_field = self._values
        for name, value in fields.items():
            weight = self._fields.get(name)
            if not weight or not value:
                continue
            chunk = by_field[name].get(value if isinstance(value, str) else tuple(value))
            if chunk is None:
                chunk = self._chunk(name, weight, value)
            chunks.append(chunk)
            if not raw:
                raw = chunk.sums.copy()
                continue
            if raw.keys().isdisjoint(chunk.sums):
                raw.update(chunk.sums)
                continue
            common = raw.keys() & chunk.sums.keys()
            # A key other fields have too is added one addend at a time, in order: exactly
            # the float sum of adding every contribution one by one.
            before = {term_key: raw[term_key] for term_key in common}
            raw.update(chunk.sums)
            repeated = chunk.repeated
            for term_key, total in before.items():
                addends = repeated.get(term_key)
                if addends is None:
                    raw[term_key] = total + chunk.sums[term_key]
                else:
                    for addend in addends:
                        total += addend
                    raw[term_key] = total
        weights = dict(zip(raw, map(self._saturation.__getitem__, raw.values()), strict=False))
        doc_facets = self._shared_facets(facets)
        with self._lock:
            old = self._docs.get(key)
            seq = old.seq if old else self._seq
            if old:
                self._unlink(key, old)
            else:
                self._seq += 1
            self._docs[key] = _Doc(item, seq, weights, tuple(chunks), doc_facets)
            postings, best = self._postings, self._best
            for term_key, weight in weights.items():
                try:
                    postings[term_key][key] = weight
                except KeyError:
                    postings[term_key] = {key: weight}
            if best:
                for term_key in weights.keys() & best.keys():
                    del best[term_key]
            for name, values in doc_facets.items():
                counts = self._facet_values.get(name)
                if counts is None:
                    counts = self._facet_values[name] = {}
                for value in values:
                    counts[value] = counts.get(value, 0) + 1
            live, surfaces = self._live, self._surfaces
            for chunk in chunks:
                if chunk in live:
                    live[chunk] += 1
                    continue
                live[chunk] = 1
                for word in chunk.surfaces:
                    if word in surfaces:
                        surfaces[word] += 1
                    else:
                        surfaces[word] = 1
                        self._vocabulary = None

    update = add

    def _chunk(self, name: str, weight: float, value: str | Sequence[str]) -> _Chunk:
        """A field value's contributions, shared with every document having the same value."""
        if isinstance(value, str):
            by_value = self._values[name]
            chunk = by_value.get(value)
            if chunk is not None:
                return chunk
            text = _words_text(language.document_words(value))
            by_text = self._chunks[name]
            chunk = by_text.get(text)  # titles differing in a number share it
            if chunk is None:
                if len(by_text) >= MAX_CHUNKS:
                    by_text.clear()
                chunk = by_text[text] = _Chunk((text,), weight)
        else:
            values = tuple(value)
            by_value = self._values[name]
            chunk = by_value.get(values)
            if chunk is not None:
                return chunk
            chunk = _Chunk(tuple(_words_text(language.document_words(v)) for v in values), weight)
            value = values
        if len(by_value) >= MAX_CHUNKS:
            by_value.clear()
        by_value[value] = chunk
        return chunk

    def _shared_facets(
        self, facets: Mapping[str, Iterable[str]] | None
    ) -> dict[str, frozenset[str]]:
        """The document's facets as a read-only mapping shared by every document with the same.

        Fewer objects for the cyclic garbage collector to walk on a big catalogue.
        """
        signature = tuple((name, frozenset(values)) for name, values in (facets or {}).items())
        shared = self._facet_sets.get(signature)
        if shared is None:
            if len(self._facet_sets) > MAX_CHUNKS:
                self._facet_sets.clear()
            shared = self._facet_sets[signature] = dict(signature)
        return shared

    def remove(self, key: Hashable) -> None:
        with self._lock:
            doc = self._docs.pop(key, None)
            if doc is not None:
                self._unlink(key, doc)

    def _unlink(self, key: Hashable, doc: _Doc[T]) -> None:
        for term_key in doc.weights:
            self._best.pop(term_key, None)
            posting = self._postings.get(term_key)
            if posting is not None:
                posting.pop(key, None)
                if not posting:
                    del self._postings[term_key]
        for name, values in doc.facets.items():
            counts = self._facet_values[name]
            for value in values:
                left = counts.get(value, 0) - 1
                if left <= 0:
                    counts.pop(value, None)
                else:
                    counts[value] = left
        live, surfaces = self._live, self._surfaces
        for chunk in doc.chunks:
            left = live[chunk] - 1
            if left:
                live[chunk] = left
                continue
            del live[chunk]
            for word in chunk.surfaces:
                if surfaces[word] > 1:
                    surfaces[word] -= 1
                else:
                    del surfaces[word]
                    self._vocabulary = None

    # --- searching ----------------------------------------------------------------------
    def search(self, question: str | Query, limit: int = 3, offset: int = 0) -> list[Hit[T]]:
        """The best documents for a question, best first; [] when nothing really fits."""
        query = language.analyze(question) if isinstance(question, str) else question
        with self._lock:
            return self._rank(query, limit, offset)

    def _rank(self, query: Query, limit: int, offset: int) -> list[Hit[T]]:
        want = offset + limit if limit else 200
        audiences = set(query.audiences)
        facet_values = (
            self._facet_values.get(self._audience_facet, {}) if self._audience_facet else {}
        )
        content: list[Term] = []
        soft = list(query.soft)
        soft += [Term(a, a) for a in query.audiences]  # "för undersköterskor" in a title helps
        for term in query.terms:
            if term.after_for and term.key in facet_values:
                audiences.add(term.key)  # "för anhöriga": a catalogue audience, not a topic
                soft.append(term)
            else:
                content.append(self._resolve(term))
        slots = [self._slot(term) for term in content]
        if not slots:
            found = self._for_audience(audiences, want) if audiences else []
            return found[offset : offset + limit] if limit else found[offset:]
        floor = self._coverage_floor(len(slots))
        credits, scores = self._match(slots, floor)
        if not credits:
            return []
        total = sum(slot.importance for slot in slots)
        least = floor - 1e-9
        docs = self._docs
        boosts = [(term.key, SOFT_WEIGHT * self._idf(term.key)) for term in soft]
        facet = self._audience_facet if audiences else None
        everyone = self._everyone
        hits: list[tuple[float, int, Hashable, float]] = []
        for doc_key, credit in credits.items():
            coverage = credit / total
            if coverage < least:
                continue
            doc = docs[doc_key]
            score = scores[doc_key] * coverage * coverage
            if boosts:
                weights = doc.weights
                for term_key, boost in boosts:
                    weight = weights.get(term_key)
                    if weight:
                        score += boost * weight
            if facet is not None:
                values = doc.facets.get(facet, _NO_VALUES)
                if values & audiences:
                    score *= self._audience_boost
                elif everyone in values:
                    score *= self._everyone_boost
            hits.append((score, -doc.seq, doc_key, coverage))
        if not hits:
            return []
        # Hits are totally ordered (no two documents share a seq): the first `want` of all.
        best = heapq.nlargest(want if limit else max(want, 200), hits)
        lowest = best[0][0] * self._relative_cutoff
        best = best[offset : offset + limit] if limit else best[offset:]
        return [
            Hit(docs[k].item, round(score, 4), round(coverage, 3), k)
            for score, _, k, coverage in best
            if score >= lowest
        ]

    def _coverage_floor(self, slots: int) -> float:
        # A long question describes more than any one course covers ("oro och utåtagerande
        # vid demens, bpsd"): the more words, the smaller the share a document must answer.
        return self._min_coverage * {1: 1.0, 2: 0.9, 3: 0.8}.get(slots, 0.7)

    def _match(
        self, slots: list[_Slot], floor: float
    ) -> tuple[dict[Hashable, float], dict[Hashable, float]]:
        """Credit (importance answered) and score per candidate document."""
        total = sum(slot.importance for slot in slots)
        order = sorted(slots, key=lambda s: -s.importance)
        # Only documents matching one of the leading slots can reach the coverage floor;
        # the others are looked up for those candidates alone (fast on big catalogues).
        leading: list[_Slot] = []
        rest = total
        for slot in order:
            if rest < floor * total - 1e-9:
                break
            leading.append(slot)
            rest -= slot.importance
        credits: dict[Hashable, float] = {}
        scores: dict[Hashable, float] = {}
        for slot in leading:
            importance = slot.importance
            found = self._slot_matches(slot)
            if not credits:
                credits = {k: 0.0 + credit * importance for k, (credit, _) in found.items()}
                scores = {k: 0.0 + score for k, (_, score) in found.items()}
                continue
            for doc_key, (credit, score) in found.items():
                credits[doc_key] = credits.get(doc_key, 0.0) + credit * importance
                scores[doc_key] = scores.get(doc_key, 0.0) + score
        docs = self._docs
        for slot in order[len(leading) :]:
            importance = slot.importance
            for doc_key in credits:
                found_one = self._slot_match_one(slot, docs[doc_key].weights)
                if found_one is not None:
                    credits[doc_key] += found_one[0] * importance
                    scores[doc_key] += found_one[1]
        return credits, scores

    def _posting(self, term_key: str) -> Iterable[tuple[Hashable, float]]:
        posting = self._postings.get(term_key)
        if not posting:
            return ()
        if len(posting) <= MAX_POSTINGS:
            return posting.items()
        best = self._best.get(term_key)
        if best is None:
            best = heapq.nlargest(MAX_POSTINGS, posting.items(), key=lambda kv: kv[1])
            self._best[term_key] = best
        return best

    def _slot_matches(self, slot: _Slot) -> dict[Hashable, tuple[float, float]]:
        found: dict[Hashable, tuple[float, float]] = {}
        idf = slot.importance  # a related word counts as rare as the word asked for
        for alt, weight in slot.alternatives:
            factor = weight * idf
            if not found:
                found = {doc_key: (weight, factor * tw) for doc_key, tw in self._posting(alt)}
                continue
            for doc_key, tw in self._posting(alt):
                score = factor * tw
                old = found.get(doc_key)
                if old is None:
                    found[doc_key] = (weight, score)
                elif score > old[1]:
                    found[doc_key] = (max(weight, old[0]), score)
        if slot.parts:
            share = sum(imp for _, imp in slot.parts)
            partial: dict[Hashable, list[float]] = {}
            last = len(slot.parts) - 1
            for position, (part, imp) in enumerate(slot.parts):
                fraction = imp / share
                is_modifier = float(position < last)
                for doc_key, tw in self._posting(part):
                    acc = partial.get(doc_key)
                    if acc is None:
                        partial[doc_key] = [0.0 + fraction, 0.0 + fraction * tw, is_modifier]
                    else:
                        acc[0] += fraction
                        acc[1] += fraction * tw
                        acc[2] = acc[2] or is_modifier
            sqrt = math.sqrt
            for doc_key, (matched, tw_sum, modifier) in partial.items():
                # _part_credit, inline: it runs for every candidate of a compound
                part_share = min(matched, 1.0)
                credit = PART_CREDIT * (sqrt(part_share) if modifier else part_share / 2)
                score = credit * idf * tw_sum / max(matched, 1e-9)
                old = found.get(doc_key)
                if old is None:
                    found[doc_key] = (credit, score)
                else:
                    found[doc_key] = (max(old[0], credit), max(old[1], score))
        return found

    def _slot_match_one(self, slot: _Slot, weights: dict[str, float]) -> tuple[float, float] | None:
        best: tuple[float, float] | None = None
        for alt, weight in slot.alternatives:
            tw = weights.get(alt)
            if tw:
                candidate = (weight, weight * slot.importance * tw)
                if best is None or candidate[1] > best[1]:
                    best = (max(candidate[0], best[0]) if best else candidate[0], candidate[1])
        if slot.parts:
            share = sum(imp for _, imp in slot.parts)
            matched = tw_sum = 0.0
            modifier = False
            for position, (part, imp) in enumerate(slot.parts):
                tw = weights.get(part)
                if tw:
                    matched += imp / share
                    tw_sum += imp / share * tw
                    modifier = modifier or position < len(slot.parts) - 1
            if matched:
                credit, score = _part_credit(matched, tw_sum, slot.importance, modifier)
                if best is None or credit > best[0]:
                    best = (credit, max(score, best[1] if best else 0.0))
        return best

    def _slot(self, term: Term) -> _Slot:
        alternatives = [(term.key, 1.0)]
        alternatives += list(language.related().get(term.key, ()))
        generic = language.generic_parts(term)
        parts = [(p, self._importance(p)) for p in dict.fromkeys(term.parts) if p not in generic]
        if len(parts) == 1 and parts[0][0] == term.key:
            parts = []
        known = [self._idf(k) for k, _ in alternatives[:1] if k in self._postings]
        if known:
            importance = known[0]
        elif parts:
            importance = max(imp for _, imp in parts)
        else:
            importance = self._importance(term.key)
        return _Slot(importance, alternatives, parts)

    def _importance(self, term_key: str) -> float:
        return self._idf(term_key) if term_key in self._postings else self._unknown_idf()

    def _idf(self, term_key: str) -> float:
        n = len(self._docs)
        df = len(self._postings.get(term_key, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _unknown_idf(self) -> float:
        n = len(self._docs)
        return math.log(1 + (n - 0.5) / 1.5)  # as rare as the rarest word of the index

    def _for_audience(self, audiences: set[str], want: int) -> list[Hit[T]]:
        if not self._audience_facet:
            return []
        wanted = audiences - {self._everyone}
        found: list[Hit[T]] = []
        for k, doc in self._docs.items():  # insertion order
            values = doc.facets.get(self._audience_facet, frozenset())
            if (values & wanted) or (not wanted and self._everyone in values):
                found.append(Hit(doc.item, 1.0, 1.0, k))
                if len(found) >= want:
                    break
        return found

    # --- typos --------------------------------------------------------------------------
    def _resolve(self, term: Term) -> Term:
        """The term itself if the index knows it, else its closest word in the index."""
        if term.key in self._postings:
            return term
        if term.parts and all(p in self._postings for p in term.parts):
            return term
        if " " in term.surface:
            return term
        corrected = self._correct(term.surface)
        if corrected is None:
            return term
        fixed = language.document_terms(corrected)
        return Term(term.surface, fixed[0].key, fixed[0].parts, term.after_for) if fixed else term

    def _correct(self, word: str) -> str | None:
        if self._vocabulary is None:
            self._build_vocabulary()
        if word in self._corrections:
            return self._corrections[word]
        result: str | None = None
        folded = language.fold(word)
        if folded == word and word in self._folded and self._folded[word] != word:
            result = self._folded[word]  # "hjartsvikt" typed without å/ä/ö
        elif len(word) >= 4 and not language.is_swedish_word(word):
            cutoff = 80.0 if len(word) >= 5 else 85.0
            candidates: list[str] = []
            assert self._vocabulary is not None
            for size in range(len(word) - 2, len(word) + 3):
                candidates.extend(self._vocabulary.get(size, ()))
            found = process.extractOne(word, candidates, scorer=fuzz.ratio, score_cutoff=cutoff)
            if found is not None:
                result = found[0]
        if len(self._corrections) > 10_000:
            self._corrections.clear()
        self._corrections[word] = result
        return result

    def _build_vocabulary(self) -> None:
        vocabulary: dict[int, list[str]] = {}
        folded: dict[str, str] = {}
        for word in self._surfaces:
            if len(word) >= 3 and word.isalpha():
                vocabulary.setdefault(len(word), []).append(word)
                folded.setdefault(language.fold(word), word)
        self._vocabulary = vocabulary
        self._folded = folded
        self._corrections = {}
