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
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import Counter
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


@dataclass(frozen=True)
class Hit(Generic[T]):
    item: T
    score: float
    coverage: float  # share of the question the document answers, 0..1
    key: Hashable


@dataclass
class _Doc(Generic[T]):
    item: T
    seq: int
    weights: dict[str, float]
    surfaces: Counter[str]
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


@lru_cache(maxsize=50_000)
def _contributions(text: str) -> tuple[tuple[tuple[str, float], ...], tuple[str, ...]]:
    """What one field text adds to a document: (key, share) pairs and its surface words."""
    contributions: list[tuple[str, float]] = []
    words: list[str] = []
    for term in language.document_terms(text):
        contributions.append((term.key, 1.0))
        contributions.extend((part, PART_WEIGHT) for part in (*term.parts, *term.words))
        words.extend(term.surface.replace("-", " ").split())
    return tuple(contributions), tuple(words)


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
        self._facet_values: dict[str, Counter[str]] = {}
        self._surfaces: Counter[str] = Counter()
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
        seen: list[str] = []
        for name, value in fields.items():
            weight = self._fields.get(name)
            if not weight or not value:
                continue
            for text in [value] if isinstance(value, str) else value:
                contributions, words = _contributions(text)
                for term_key, share in contributions:
                    raw[term_key] = raw.get(term_key, 0.0) + weight * share
                seen.extend(words)
        surfaces = Counter(seen)
        weights = {k: tf * (K1 + 1) / (tf + K1) for k, tf in raw.items()}
        doc_facets = {name: frozenset(values) for name, values in (facets or {}).items()}
        with self._lock:
            old = self._docs.get(key)
            seq = old.seq if old else self._seq
            if old:
                self._unlink(key, old)
            else:
                self._seq += 1
            doc = _Doc(item, seq, weights, surfaces, doc_facets)
            self._docs[key] = doc
            postings, best = self._postings, self._best
            for term_key, weight in weights.items():
                posting = postings.get(term_key)
                if posting is None:
                    postings[term_key] = {key: weight}
                else:
                    posting[key] = weight
                if term_key in best:
                    del best[term_key]
            for name, values in doc_facets.items():
                self._facet_values.setdefault(name, Counter()).update(values)
            self._surfaces.update(surfaces)
            self._vocabulary = None

    update = add

    def remove(self, key: Hashable) -> None:
        with self._lock:
            doc = self._docs.pop(key, None)
            if doc is not None:
                self._unlink(key, doc)
                self._vocabulary = None

    def _unlink(self, key: Hashable, doc: _Doc[T]) -> None:
        for term_key in doc.weights:
            self._best.pop(term_key, None)
            posting = self._postings.get(term_key)
            if posting is not None:
                posting.pop(key, None)
                if not posting:
                    del self._postings[term_key]
        for name, values in doc.facets.items():
            counter = self._facet_values[name]
            counter.subtract(values)
            for value in values:
                if counter[value] <= 0:
                    del counter[value]
        self._surfaces.subtract(doc.surfaces)
        for word in doc.surfaces:
            if self._surfaces[word] <= 0:
                del self._surfaces[word]

    # --- searching ----------------------------------------------------------------------
    def search(self, question: str | Query, limit: int = 3, offset: int = 0) -> list[Hit[T]]:
        """The best documents for a question, best first; [] when nothing really fits."""
        query = language.analyze(question) if isinstance(question, str) else question
        with self._lock:
            ranked = self._rank(query, offset + limit if limit else 200)
        return ranked[offset : offset + limit] if limit else ranked[offset:]

    def _rank(self, query: Query, want: int) -> list[Hit[T]]:
        audiences = set(query.audiences)
        facet_values = (
            self._facet_values.get(self._audience_facet, Counter())
            if self._audience_facet
            else Counter()
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
        slots = [slot for term in content if (slot := self._slot(term)) is not None]
        if not slots:
            return self._for_audience(audiences, want) if audiences else []
        floor = self._coverage_floor(len(slots))
        credits, scores = self._match(slots, floor)
        if not credits:
            return []
        total = sum(slot.importance for slot in slots)
        hits: list[tuple[float, int, Hashable, float]] = []
        for doc_key, credit in credits.items():
            coverage = credit / total
            if coverage < floor - 1e-9:
                continue
            doc = self._docs[doc_key]
            score = scores[doc_key] * coverage * coverage
            for term in soft:
                weight = doc.weights.get(term.key)
                if weight:
                    score += SOFT_WEIGHT * self._idf(term.key) * weight
            score *= self._audience_factor(doc, audiences)
            hits.append((score, -doc.seq, doc_key, coverage))
        if not hits:
            return []
        best = heapq.nlargest(max(want, 200), hits)
        lowest = best[0][0] * self._relative_cutoff
        return [
            Hit(self._docs[k].item, round(score, 4), round(coverage, 3), k)
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
            for doc_key, (credit, score) in self._slot_matches(slot).items():
                credits[doc_key] = credits.get(doc_key, 0.0) + credit * slot.importance
                scores[doc_key] = scores.get(doc_key, 0.0) + score
        for slot in order[len(leading) :]:
            for doc_key in credits:
                found = self._slot_match_one(slot, self._docs[doc_key])
                if found is not None:
                    credits[doc_key] += found[0] * slot.importance
                    scores[doc_key] += found[1]
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
        for alt, weight in slot.alternatives:
            idf = slot.importance  # a related word counts as rare as the word asked for
            for doc_key, tw in self._posting(alt):
                score = weight * idf * tw
                old = found.get(doc_key)
                if old is None or score > old[1]:
                    found[doc_key] = (max(weight, old[0]) if old else weight, score)
        if slot.parts:
            share = sum(imp for _, imp in slot.parts)
            partial: dict[Hashable, list[float]] = {}
            last = len(slot.parts) - 1
            for position, (part, imp) in enumerate(slot.parts):
                for doc_key, tw in self._posting(part):
                    acc = partial.setdefault(doc_key, [0.0, 0.0, 0.0])
                    acc[0] += imp / share
                    acc[1] += imp / share * tw
                    acc[2] = acc[2] or float(position < last)
            for doc_key, (matched, tw_sum, modifier) in partial.items():
                credit, score = _part_credit(matched, tw_sum, slot.importance, bool(modifier))
                old = found.get(doc_key)
                if old is None:
                    found[doc_key] = (credit, score)
                else:
                    found[doc_key] = (max(old[0], credit), max(old[1], score))
        return found

    def _slot_match_one(self, slot: _Slot, doc: _Doc[T]) -> tuple[float, float] | None:
        best: tuple[float, float] | None = None
        for alt, weight in slot.alternatives:
            tw = doc.weights.get(alt)
            if tw:
                candidate = (weight, weight * slot.importance * tw)
                if best is None or candidate[1] > best[1]:
                    best = (max(candidate[0], best[0]) if best else candidate[0], candidate[1])
        if slot.parts:
            share = sum(imp for _, imp in slot.parts)
            matched = tw_sum = 0.0
            modifier = False
            for position, (part, imp) in enumerate(slot.parts):
                tw = doc.weights.get(part)
                if tw:
                    matched += imp / share
                    tw_sum += imp / share * tw
                    modifier = modifier or position < len(slot.parts) - 1
            if matched:
                credit, score = _part_credit(matched, tw_sum, slot.importance, modifier)
                if best is None or credit > best[0]:
                    best = (credit, max(score, best[1] if best else 0.0))
        return best

    def _slot(self, term: Term) -> _Slot | None:
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

    def _audience_factor(self, doc: _Doc[T], audiences: set[str]) -> float:
        if not audiences or not self._audience_facet:
            return 1.0
        values = doc.facets.get(self._audience_facet, frozenset())
        if values & audiences:
            return self._audience_boost
        if self._everyone in values:
            return self._everyone_boost
        return 1.0

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
