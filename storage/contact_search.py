"""Searching the competence bank: consenting entries by words and by meaning."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session, sessionmaker

from storage import language
from storage.contacts import KIND, SLOTS, ContactDraft, ContactInfo, ContactRepository
from storage.embeddings import Embedder
from storage.meaning import Meanings, Near, Progress, VectorStore, fuse
from storage.municipalities import Municipality, extract_municipality
from storage.search import SearchIndex

logger = logging.getLogger(__name__)

# "words" holds each word of the competences on its own, so a reviewed phrase ("basala
# hygienrutiner", read as hygien) still leaves its words findable ("hygienrutiner").
FIELDS = {"competences": 3.0, "words": 1.0, "role": 1.0}

# Words that ask for a person rather than name a competence ("vem är expert på BPSD?"). Removed
# before analysis: left in, they would count as topics no one has, and "kollega" would even be
# split into kol + lega.
_ASKING_FOR_PEOPLE = re.compile(
    r"\b(?:kontakt(?:a|en|er|erna|person|personen|personer)?|kolleg(?:a|an|or|orna)|"
    r"expert(?:en|er|erna|is|isen)?|specialist(?:en|er|erna|kunskap|kunskaper|kompetens)?|"
    r"sakkunnig[a]?|kunnig[a]?|duktig[a]?|kompetens(?:en|er)?|kompetent[a]?|"
    r"erfaren(?:het|heter|heten)?|hjälp(?:a|er|en)?|stöd|stötta|handledning|"
    r"rådfråga|konsultera|prata|pratar|snacka|tala|ringa|mejla|maila|nå|"
    r"person(?:en|er|erna)?|människa|människor|folk|någon|nån|några|vem|vilka|vilken|"
    r"jobbar|jobba|arbetar|arbeta|kan|kunna|vet|kommun(?:en|er|erna|ens)?|nätverk(?:et)?|"
    r"inom|gällande|angående|kring|rörande|frågor|fråga|sig|är|mycket|bra|mest|extra|"
    r"särskilt|speciellt|kompetensbank(?:en)?|finns|finnas|tips|behöver|söker|letar|"
    r"någonstans|här|där|oss|mig|jag|känner|känna|koll|råd|rådgivning|tipsa|rekommendera|"
    r"patient(?:en|er|erna)?|brukare|brukaren|brukarna|kontaktuppgift(?:er|erna)?|komma|bäst|"
    r"ni|du|vi)\b",
    re.IGNORECASE,
)


# The same in English, removed only from what is embedded (the words' index never had them).
_ASKING_IN_ENGLISH = re.compile(
    r"\b(?:who|whom|anyone|anybody|someone|somebody|knows?|can|could|help|helps|with|about|"
    r"in|at|for|of|on|the|a|an|is|are|there|any|expert|experts|contact|person|people|"
    r"colleague|colleagues|we|us|our|i|me|my|need|needs|looking|find|get|ask|advice)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ContactHit:
    contact: ContactInfo
    score: float


@dataclass(frozen=True)
class ContactAnswer:
    """People for a question: those in the asked municipality, else the nearest elsewhere."""

    question: str
    topic: str  # what was asked for, in the asker's words ("diabetes")
    municipality: Municipality | None
    local: tuple[ContactHit, ...] = ()  # in the municipality asked for; everyone if none asked
    elsewhere: tuple[ContactHit, ...] = ()  # only when local is empty: other municipalities

    @property
    def has_topic(self) -> bool:
        return bool(self.topic)

    @property
    def found(self) -> bool:
        return bool(self.local or self.elsewhere)

    @property
    def people(self) -> tuple[ContactHit, ...]:
        return self.local or self.elsewhere


def competence_query(text: str) -> language.Query:
    """What a people question asks for, as the search index reads it."""
    return language.analyze(_ASKING_FOR_PEOPLE.sub(" ", text))


def _topic(query: language.Query) -> str:
    words = [t.surface for t in query.terms] or sorted(query.audiences)
    return " ".join(words)


# (SLOTS, one vector per competence, is defined with the rows in storage/contacts.py.)
# Measured on the tune half (bench/search_quality.py), as for courses.
ANSWER_Z = 2.9


def passages(contact: ContactInfo) -> dict[int, str]:
    """What a person's vectors are computed from: what they can help with (never who they are)."""
    first = contact.id * SLOTS
    competences = contact.competences[:SLOTS] or (contact.role,)
    return {
        first + n: f"{contact.role}: {competence}" if contact.role else competence
        for n, competence in enumerate(competences)
    }


def _slots(contact_id: int) -> range:
    return range(contact_id * SLOTS, (contact_id + 1) * SLOTS)


def contact_vectors(sessions: sessionmaker[Session], embedder: Embedder) -> Meanings:
    return Meanings(embedder, VectorStore(sessions, KIND), answer_z=ANSWER_Z)


class ContactDirectory:
    """The competence bank as the dialogs use it: consenting entries in a search index.

    The index is built from the database on first use and changed at once on add, change and
    erase. A cheap fingerprint query before each search notices changes made elsewhere (the
    import command, another process) and rebuilds. With ``meanings``, consenting entries also
    have a vector (never anyone else), and a question is answered by words and meaning together.
    """

    def __init__(self, repository: ContactRepository, meanings: Meanings | None = None) -> None:
        self._repository = repository
        self._meanings = meanings
        self._lock = threading.RLock()
        self._index: SearchIndex[ContactInfo] | None = None
        self._fingerprint: tuple[Any, ...] | None = None

    @property
    def repository(self) -> ContactRepository:
        return self._repository

    def warm_up(self) -> None:
        language.warm_up()
        self._current_index()

    def _new_index(self) -> SearchIndex[ContactInfo]:
        return SearchIndex(FIELDS, audience_facet="roles", min_coverage=0.5, relative_cutoff=0.3)

    def _current_index(self) -> SearchIndex[ContactInfo]:
        fingerprint = self._repository.fingerprint()
        with self._lock:
            if self._index is None or fingerprint != self._fingerprint:
                index = self._new_index()
                consenting = self._repository.consenting()
                for contact in consenting:
                    _put(index, contact)
                self._index, self._fingerprint = index, fingerprint
                logger.info("competence bank indexed: %d entries with consent", len(index))
                if self._meanings is not None:
                    texts: dict[int, str] = {}
                    for contact in consenting:
                        if contact.consent:
                            texts.update(passages(contact))
                    self._meanings.want(texts)
            return self._index

    def find(
        self, question: str, limit: int = 3, vector: npt.NDArray[np.float32] | None = None
    ) -> ContactAnswer:
        """People for a question. ``vector``: the whole question's, if already computed."""
        municipality, rest = extract_municipality(question)
        query = competence_query(rest)
        topic = _topic(query)
        index = self._current_index()
        lexical = (
            [hit for hit in index.search(query, limit=0) if hit.item.consent]
            if not query.is_empty
            else []
        )
        ranked = [ContactHit(hit.item, hit.score) for hit in lexical]
        if self._meanings is not None and rest.strip():
            # the municipality is not a competence: without it the question means what it asks
            # nor are the words asking for someone ("vem kan hjälpa oss med"): e5 reads them as
            # a topic of their own, and every person as a bit of a helper
            asked = _ASKING_IN_ENGLISH.sub(" ", _ASKING_FOR_PEOPLE.sub(" ", rest))
            asked = " ".join(asked.replace("?", " ").split())
            given = vector if asked.strip() == question.strip() else None
            query_vector = self._meanings.question_vector(asked or rest, given)
            if query_vector is not None:
                ranked = self._fused(index, lexical, query_vector)
                topic = topic or rest.strip(" ?!.")
        if not topic and not ranked:
            return ContactAnswer(question, topic, municipality)
        hits = [hit for hit in ranked if hit.contact.consent]  # belt and braces
        if municipality is None:
            return ContactAnswer(question, topic, None, tuple(hits[:limit]))
        local = [hit for hit in hits if hit.contact.municipality == municipality]
        if local:
            return ContactAnswer(question, topic, municipality, tuple(local[:limit]))
        # Nearest first: the same county, then the rest, each by rank.
        elsewhere = sorted(hits, key=lambda h: h.contact.municipality.county != municipality.county)
        return ContactAnswer(question, topic, municipality, (), tuple(elsewhere[:limit]))

    def _fused(
        self,
        index: SearchIndex[ContactInfo],
        lexical: Sequence[Any],
        query_vector: npt.NDArray[np.float32],
    ) -> list[ContactHit]:
        assert self._meanings is not None
        keys = [hit.key for hit in lexical]
        slots = [slot for key in keys for slot in _slots(key)]
        near, known = self._meanings.nearest(query_vector, 60, slots)
        # a person's best-matching competence speaks for the person
        best: dict[int, Near] = {}
        for found in [*near, *known.values()]:
            person = found.key // SLOTS
            if person not in best or found.z > best[person].z:
                best[person] = Near(person, found.similarity, found.z)
        ranked_near = sorted(best.values(), key=lambda n: (-n.z, n.key))
        ranked: list[ContactHit] = []
        for fused in fuse(
            [(hit.key, hit.score) for hit in lexical],
            ranked_near,
            {},
            answer_z=self._meanings.answer_z,
        ):
            contact = index.get(fused.key)  # the index holds only entries with consent
            if contact is not None and contact.consent:
                ranked.append(ContactHit(contact, fused.score))
        return ranked

    def count(self) -> int:
        """Entries with consent: the only ones ever counted."""
        return len(self._current_index())

    def of_user(self, aad_object_id: str | None, email: str | None) -> ContactInfo | None:
        return self._repository.of_user(aad_object_id, email)

    def by_email(self, email: str) -> ContactInfo | None:
        return self._repository.by_email(email)

    def conversations_of(self, user_id: str, aad_object_id: str | None) -> list[dict[str, Any]]:
        return self._repository.conversations_of(user_id, aad_object_id)

    def footprint(self, user_id: str, aad_object_id: str | None) -> dict[str, int]:
        return self._repository.footprint(user_id, aad_object_id)

    def save(
        self,
        draft: ContactDraft,
        added_by: str,
        now: datetime,
        *,
        contact_id: int | None = None,
    ) -> ContactInfo:
        saved = self._repository.save(draft, added_by, now, contact_id=contact_id)
        with self._lock:
            index = self._index
            if index is not None:
                if saved.consent:
                    _put(index, saved)
                else:
                    index.remove(saved.id)
            if self._meanings is not None:
                if saved.consent:
                    self._meanings.put(passages(saved), replacing=_slots(saved.id))
                else:
                    self._meanings.drop(_slots(saved.id))
        return saved

    def erase(self, contact: ContactInfo, erased_by: str, reason: str, now: datetime) -> bool:
        with self._lock:
            if self._index is not None:
                self._index.remove(contact.id)  # gone from answers before the commit returns
            if self._meanings is not None:
                self._meanings.index.remove(_slots(contact.id))
        return self._repository.erase(contact.id, erased_by, reason, now)

    def withdraw_consent(self, contact: ContactInfo, now: datetime) -> ContactInfo | None:
        with self._lock:
            if self._index is not None:
                self._index.remove(contact.id)  # out of the index itself, not only filtered
        return self._repository.withdraw_consent(contact.id, now)


def _put(index: SearchIndex[ContactInfo], contact: ContactInfo) -> None:
    index.add(
        contact.id,
        contact,
        {
            "competences": list(contact.competences),
            "words": [word for item in contact.competences for word in item.split()],
            "role": contact.role,
        },
        {"roles": language.audience_keys([contact.role]) & language.role_keys()},
    )


def compute_contact_vectors(
    sessions: sessionmaker[Session], embedder: Embedder, report: Callable[[Progress], None]
) -> Progress:
    """``import contacts`` from the command line: the missing vectors of consenting entries."""
    consenting = ContactRepository(sessions).consenting()
    texts: dict[int, str] = {}
    for contact in consenting:
        if contact.consent:
            texts.update(passages(contact))
    return contact_vectors(sessions, embedder).want(texts, background=False, report=report)
