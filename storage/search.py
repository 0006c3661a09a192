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

The postings follow the same sharing. A document's weights are those of two chunks, its first
field's and its other fields' joined, except for the words both have (its own weights). So the
index keeps the documents of each such chunk, the chunks of each word and the documents' own
weights; a word's document count and best-first postings are worked out on first use. Adding a
document costs a few list and dict entries, not one per word.
"""

from __future__ import annotations

import heapq
import math
import threading
from array import array
from bisect import bisect_left
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
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
_NO_WEIGHTS: Mapping[str, float] = MappingProxyType({})
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
    """Contributions ready to add: a field's value (a text or a list of texts) at the field's
    weight, or several fields' values of a document in field order (see ``joined``).

    ``sums``: every key's contributions summed in order from 0.0, exactly what adding them one
    by one gives; ``repeated``: the single addends of keys contributed more than once, for a
    document whose other fields have the key too; ``weights``: the saturated sums, a
    document's weights for the keys none of its other fields has.
    """

    __slots__ = ("surfaces", "sums", "repeated", "weights")

    def __init__(
        self,
        sums: dict[str, float],
        repeated: dict[str, tuple[float, ...]],
        surfaces: tuple[str, ...],
        saturation: _Saturation,
    ) -> None:
        self.surfaces = surfaces  # distinct surface words, in order of appearance
        self.sums = sums
        self.repeated = repeated
        self.weights = dict(zip(sums, map(saturation.__getitem__, sums.values()), strict=True))

    @classmethod
    def of(cls, texts: tuple[_Text, ...], weight: float, saturation: _Saturation) -> _Chunk:
        sums: dict[str, float] = {}
        addends: dict[str, list[float]] = {}
        for text in texts:
            for term_key, share in text.contributions:
                sums[term_key] = sums.get(term_key, 0.0) + weight * share
                addends.setdefault(term_key, []).append(weight * share)
        repeated = {k: tuple(v) for k, v in addends.items() if len(v) > 1}
        surfaces = tuple(dict.fromkeys(word for text in texts for word in text.surfaces))
        return cls(sums, repeated, surfaces, saturation)

    @classmethod
    def joined(cls, chunks: Sequence[_Chunk], saturation: _Saturation) -> _Chunk:
        """Chunks one after the other as one chunk, as if its addends came in that order."""
        sums: dict[str, float] = {}
        repeated: dict[str, tuple[float, ...]] = {}
        for chunk in chunks:
            both: dict[str, tuple[float, tuple[float, ...]]] = {}
            for term_key in sums.keys() & chunk.sums.keys():
                total = sums[term_key]
                later = chunk.repeated.get(term_key) or (chunk.sums[term_key],)
                for addend in later:
                    total += addend
                both[term_key] = (total, (repeated.get(term_key) or (sums[term_key],)) + later)
            sums.update(chunk.sums)
            repeated.update(chunk.repeated)
            for term_key, (total, addends) in both.items():
                sums[term_key] = total
                repeated[term_key] = addends
        surfaces = tuple(dict.fromkeys(word for chunk in chunks for word in chunk.surfaces))
        return cls(sums, repeated, surfaces, saturation)

    def shared_weights(self, tail: _Chunk, saturation: _Saturation) -> dict[str, float]:
        """A document's weights for the keys both this chunk and ``tail`` (the chunk of its
        later fields) have: ``tail``'s addends added one by one to this one's sums."""
        sums, tail_sums, repeated = self.sums, tail.sums, tail.repeated
        weights: dict[str, float] = {}
        for term_key in sums.keys() & tail_sums.keys():
            total = sums[term_key]
            addends = repeated.get(term_key)
            if addends is None:
                total += tail_sums[term_key]
            else:
                for addend in addends:
                    total += addend
            weights[term_key] = saturation[total]
        return weights


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


_NO_PART = _Chunk({}, {}, (), _Saturation())  # of a document with fewer than two fields


@dataclass(slots=True)
class _Doc(Generic[T]):
    key: Hashable
    item: T
    seq: int  # when its key came: ranks equal scores
    position: int  # when this version came: the earliest of equal postings goes first
    head: _Chunk  # its first field's chunk
    tail: _Chunk  # its other fields' chunks joined
    own: Mapping[str, float]  # its weights for the keys both parts have
    facets: dict[str, frozenset[str]]

    def weight(self, term_key: str) -> float | None:
        weight = self.head.weights.get(term_key)
        if weight is None:
            return self.tail.weights.get(term_key)
        return self.own.get(term_key, weight)


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
        self._docs: dict[Hashable, _Doc[T]] = {}  # by key, in the order keys came
        self._at: dict[int, _Doc[T]] = {}  # by position
        # The postings, by shared chunk: the positions of the documents having each part
        # (ascending; arrays, which the cyclic garbage collector need not walk), the parts
        # having each word, and documents' own weights per word.
        self._members: dict[_Chunk, array[int]] = {}
        self._holders: dict[str, dict[_Chunk, None]] = {}
        self._own: dict[str, dict[int, float]] = {}
        # Per word, worked out on first use, forgotten on any change.
        self._df: dict[str, int] = {}
        self._best: dict[str, list[tuple[int, float]]] = {}  # best first, MAX_POSTINGS at most
        self._facet_values: dict[str, dict[str, int]] = {}
        # Surface words for typo correction, counted once per distinct live part (see _Doc):
        # only whether a word is there (and when it came) matters.
        self._live: dict[_Chunk, int] = {}
        self._surfaces: dict[str, int] = {}
        self._saturation = _Saturation()
        # Per field: its values' contributions at its weight, by value and by analysis.
        self._values: dict[str, dict[Hashable, _Chunk]] = {name: {} for name in self._fields}
        self._chunks: dict[str, dict[tuple[str, ...], _Chunk]] = {name: {} for name in self._fields}
        self._tails: dict[tuple[_Chunk, ...], _Chunk] = {}  # a document's fields after the first
        self._facet_sets: dict[tuple[tuple[str, frozenset[str]], ...], dict[str, frozenset[str]]]
        self._facet_sets = {}
        self._seq = 0
        self._positions = 0
        self._lock = threading.RLock()
        self._vocabulary: dict[int, list[str]] | None = None
        self._folded: dict[str, str] = {}
        self._corrections: dict[str, str | None] = {}

    # --- documents ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._docs

    def get(self, key: Hashable) -> T | None:
        doc = self._docs.get(key)
        return doc.item if doc is not None else None

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
        head, tail, own = self._parts(self._field_chunks(fields))
        doc_facets = self._shared_facets(facets)
        with self._lock:
            old = self._docs.get(key)
            seq = old.seq if old else self._seq
            if old:
                self._unlink(old)
            else:
                self._seq += 1
            position = self._positions
            self._positions += 1
            doc = _Doc(key, item, seq, position, head, tail, own, doc_facets)
            self._docs[key] = self._at[position] = doc
            self._link(doc)

    update = add

    def _field_chunks(self, fields: Mapping[str, str | Sequence[str] | None]) -> tuple[_Chunk, ...]:
        chunks: list[_Chunk] = []
        for name, value in fields.items():
            weight = self._fields.get(name)
            if not weight or not value:
                continue
            if not isinstance(value, str):
                value = tuple(value)
            chunk = self._values[name].get(value)
            chunks.append(self._chunk(name, weight, value) if chunk is None else chunk)
        return tuple(chunks)

    def _parts(self, chunks: tuple[_Chunk, ...]) -> tuple[_Chunk, _Chunk, Mapping[str, float]]:
        """A document's weights: its first field's chunk, its other fields' chunks joined, and
        its own weights for the keys both have.

        The first field (a title) is mostly a document's own; the others (topics, audiences,
        format, description) come in far fewer combinations, so their joined chunk is shared.
        """
        if len(chunks) < 2:
            return (chunks[0] if chunks else _NO_PART), _NO_PART, _NO_WEIGHTS
        head, rest = chunks[0], chunks[1:]
        tail = rest[0] if len(rest) == 1 else self._tails.get(rest)
        if tail is None:
            if len(self._tails) >= MAX_CHUNKS:
                self._tails.clear()
            tail = self._tails[rest] = _Chunk.joined(rest, self._saturation)
        return head, tail, head.shared_weights(tail, self._saturation) or _NO_WEIGHTS

    def _link(self, doc: _Doc[T]) -> None:
        """A new document into the postings, the facet counts and the surface words."""
        position = doc.position
        self._df.clear()
        self._best.clear()
        members, holders = self._members, self._holders
        for part in (doc.head, doc.tail):
            found = members.get(part)
            if found is not None:
                found.append(position)
                continue
            members[part] = array("q", (position,))
            for term_key in part.weights:
                having = holders.get(term_key)
                if having is None:
                    holders[term_key] = {part: None}
                else:
                    having[part] = None
        for term_key, weight in doc.own.items():
            exceptions = self._own.get(term_key)
            if exceptions is None:
                self._own[term_key] = {position: weight}
            else:
                exceptions[position] = weight
        for name, values in doc.facets.items():
            counts = self._facet_values.get(name)
            if counts is None:
                counts = self._facet_values[name] = {}
            for value in values:
                counts[value] = counts.get(value, 0) + 1
        live, surfaces = self._live, self._surfaces
        for chunk in (doc.head, doc.tail):
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

    def _chunk(self, name: str, weight: float, value: str | tuple[str, ...]) -> _Chunk:
        """A field value's contributions, shared with every document having the same value."""
        if isinstance(value, str):
            words = language.document_words(value)
            by_words = self._chunks[name]
            chunk = by_words.get(words)  # titles differing in a number share it
            if chunk is None:
                if len(by_words) >= MAX_CHUNKS:
                    by_words.clear()
                text = _words_text(words)
                chunk = by_words[words] = _Chunk.of((text,), weight, self._saturation)
        else:
            texts = tuple(_words_text(language.document_words(v)) for v in value)
            chunk = _Chunk.of(texts, weight, self._saturation)
        by_value = self._values[name]
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
        facets = facets or {}
        signature = tuple(zip(facets, map(frozenset, facets.values()), strict=True))
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
                self._unlink(doc)

    def _unlink(self, doc: _Doc[T]) -> None:
        position = doc.position
        del self._at[position]
        self._df.clear()
        self._best.clear()
        for part in (doc.head, doc.tail):
            found = self._members[part]
            del found[bisect_left(found, position)]
            if found:
                continue
            del self._members[part]
            for term_key in part.weights:
                having = self._holders[term_key]
                del having[part]
                if not having:
                    del self._holders[term_key]
        for term_key in doc.own:
            exceptions = self._own[term_key]
            del exceptions[position]
            if not exceptions:
                del self._own[term_key]
        for name, values in doc.facets.items():
            counts = self._facet_values[name]
            for value in values:
                left = counts.get(value, 0) - 1
                if left <= 0:
                    counts.pop(value, None)
                else:
                    counts[value] = left
        live, surfaces = self._live, self._surfaces
        for chunk in (doc.head, doc.tail):
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
        docs = self._at
        boosts = [(term.key, SOFT_WEIGHT * self._idf(term.key)) for term in soft]
        facet = self._audience_facet if audiences else None
        everyone = self._everyone
        hits: list[tuple[float, int, int, float]] = []
        for position, credit in credits.items():
            coverage = credit / total
            if coverage < least:
                continue
            doc = docs[position]
            score = scores[position] * coverage * coverage
            for term_key, boost in boosts:
                weight = doc.weight(term_key)
                if weight:
                    score += boost * weight
            if facet is not None:
                values = doc.facets.get(facet, _NO_VALUES)
                if values & audiences:
                    score *= self._audience_boost
                elif everyone in values:
                    score *= self._everyone_boost
            hits.append((score, -doc.seq, position, coverage))
        if not hits:
            return []
        # Hits are totally ordered (no two documents share a seq): the first `want` of all.
        best = heapq.nlargest(want if limit else max(want, 200), hits)
        lowest = best[0][0] * self._relative_cutoff
        best = best[offset : offset + limit] if limit else best[offset:]
        return [
            Hit(docs[p].item, round(score, 4), round(coverage, 3), docs[p].key)
            for score, _, p, coverage in best
            if score >= lowest
        ]

    def _coverage_floor(self, slots: int) -> float:
        # A long question describes more than any one course covers ("oro och utåtagerande
        # vid demens, bpsd"): the more words, the smaller the share a document must answer.
        return self._min_coverage * {1: 1.0, 2: 0.9, 3: 0.8}.get(slots, 0.7)

    def _match(self, slots: list[_Slot], floor: float) -> tuple[dict[int, float], dict[int, float]]:
        """Credit (importance answered) and score per candidate document (by position)."""
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
        credits: dict[int, float] = {}
        scores: dict[int, float] = {}
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
        docs = self._at
        for slot in order[len(leading) :]:
            importance = slot.importance
            for doc_key in credits:
                found_one = self._slot_match_one(slot, docs[doc_key])
                if found_one is not None:
                    credits[doc_key] += found_one[0] * importance
                    scores[doc_key] += found_one[1]
        return credits, scores

    def _posting(self, term_key: str) -> list[tuple[int, float]]:
        """(position, weight) of the word's documents, best first, MAX_POSTINGS at most.

        Of a word found in very many documents only the best-matching are scored, of equals
        the earliest: keeps a question fast on a 100k catalogue (real catalogues hold
        hundreds) at no cost to the top.
        """
        if term_key not in self._holders:
            return []
        best = self._best.get(term_key)
        if best is None:
            best = self._best[term_key] = self._best_first(term_key)
        return best

    def _best_first(self, term_key: str) -> list[tuple[int, float]]:
        """A weight at a time, highest first: the documents of the parts having the word at
        that weight, and those whose own weight it is, merged in position order."""
        members = self._members
        by_weight: dict[float, list[Iterable[int]]] = {}
        for part in self._holders[term_key]:
            by_weight.setdefault(part.weights[term_key], []).append(members[part])
        own = self._own.get(term_key, {})
        own_by_weight: dict[float, list[int]] = {}
        for position, weight in own.items():
            own_by_weight.setdefault(weight, []).append(position)
        for weight, positions in own_by_weight.items():
            by_weight.setdefault(weight, []).append(positions)
        best: list[tuple[int, float]] = []
        for weight in sorted(by_weight, reverse=True):
            previous = -1
            for position in heapq.merge(*by_weight[weight]):  # each ascending: stops early
                # at a document's own weight (not its parts'), and once
                if position != previous and own.get(position, weight) == weight:
                    best.append((position, weight))
                    previous = position
                    if len(best) == MAX_POSTINGS:
                        return best
        return best

    def _document_count(self, term_key: str) -> int:
        count = self._df.get(term_key)
        if count is None:
            having = self._holders.get(term_key)
            if not having:
                return 0
            members = self._members
            # a document with the word in both parts is a member of both
            count = sum(map(len, map(members.__getitem__, having)))
            count -= len(self._own.get(term_key, ()))
            self._df[term_key] = count
        return count

    def _slot_matches(self, slot: _Slot) -> dict[int, tuple[float, float]]:
        found: dict[int, tuple[float, float]] = {}
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
            partial: dict[int, list[float]] = {}
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

    def _slot_match_one(self, slot: _Slot, doc: _Doc[T]) -> tuple[float, float] | None:
        # _Doc.weight, inline: this runs for every candidate of every slot but the leading ones
        head, tail, own = doc.head.weights, doc.tail.weights, doc.own
        best: tuple[float, float] | None = None
        for alt, weight in slot.alternatives:
            tw = head.get(alt)
            tw = tail.get(alt) if tw is None else own.get(alt, tw)
            if tw:
                candidate = (weight, weight * slot.importance * tw)
                if best is None or candidate[1] > best[1]:
                    best = (max(candidate[0], best[0]) if best else candidate[0], candidate[1])
        if slot.parts:
            share = sum(imp for _, imp in slot.parts)
            matched = tw_sum = 0.0
            modifier = False
            for position, (part, imp) in enumerate(slot.parts):
                tw = head.get(part)
                tw = tail.get(part) if tw is None else own.get(part, tw)
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
        known = [self._idf(k) for k, _ in alternatives[:1] if k in self._holders]
        if known:
            importance = known[0]
        elif parts:
            importance = max(imp for _, imp in parts)
        else:
            importance = self._importance(term.key)
        return _Slot(importance, alternatives, parts)

    def _importance(self, term_key: str) -> float:
        return self._idf(term_key) if term_key in self._holders else self._unknown_idf()

    def _idf(self, term_key: str) -> float:
        n = len(self._docs)
        df = self._document_count(term_key)
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
        if term.key in self._holders:
            return term
        if term.parts and all(p in self._holders for p in term.parts):
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
