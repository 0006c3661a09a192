"""The competence bank: who in which municipality can share which specialist knowledge.

It holds personal data, so consent is part of the model: only entries with consent are indexed,
shown or counted, and an erased entry leaves nothing behind but a line in the erasure log that
says when and on whose initiative (never who).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import JSON, Boolean, String, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage import language
from storage.embeddings import Embedder
from storage.meaning import Meanings, Near, Progress, VectorStore, forget_entry, fuse
from storage.models import Base, ConversationRef
from storage.municipalities import Municipality, by_code, extract_municipality, find_municipality
from storage.search import SearchIndex
from storage.sheets import Column, Problem, Row, SheetError, read_sheet, write_sheet

logger = logging.getLogger(__name__)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HEADER = ("namn", "kommun", "roll", "kompetenser", "epost", "telefon", "samtycke")
DEMO = Path(__file__).with_name("demo_contacts.csv")
KIND = "contact"  # of its vectors (storage/meaning.py)

YES = frozenset({"ja", "j", "yes", "y", "x", "1", "sant", "true"})
NO = frozenset({"nej", "n", "no", "0", "falskt", "false"})

_EMAIL = re.compile(r"^[^@\s;,<>()]+@[^@\s;,<>()]+\.[^@\s;,<>().]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-()/]{4,24}$")


class ErasedBy:
    """Whose initiative an erasure was; the log keeps this role, never a person."""

    SELF = "self"
    COORDINATOR = "coordinator"  # on request, or by a replacing import


class Contact(Base):
    __tablename__ = "contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality_code: Mapped[str] = mapped_column(String(4), index=True)
    role: Mapped[str] = mapped_column(String(200), default="")
    competences: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower case
    phone: Mapped[str] = mapped_column(String(50), default="")
    teams_aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The e-mail / UPN Teams gave for that account when it was linked: None for a link made
    # before identities were looked up (then the link is not trusted over an import).
    teams_email: Mapped[str | None] = mapped_column(String(320))
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None]
    consent_withdrawn_at: Mapped[datetime | None]  # "nej" in Teams: an import must not undo it
    added_by: Mapped[str] = mapped_column(String(400))  # "import", "demo" or a Teams user id
    added_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class ErasureLog(Base):
    """One row per erased entry. Deliberately without any personal data."""

    __tablename__ = "contact_erasure"
    id: Mapped[int] = mapped_column(primary_key=True)
    erased_at: Mapped[datetime]
    erased_by: Mapped[str] = mapped_column(String(32))  # ErasedBy.SELF / COORDINATOR
    reason: Mapped[str] = mapped_column(String(200))  # non-personal, e.g. "egen begäran"


class ErasureMarker(Base):
    """That someone erased themselves, as a keyed hash of their e-mail: not reversible without
    the secret, and enough for an import to skip them (issue 14.4)."""

    __tablename__ = "contact_erasure_marker"
    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    erased_at: Mapped[datetime]


class ContactSecret(Base):
    """The key of the erasure markers' hash: created once, at random, and never shown."""

    __tablename__ = "contact_secret"
    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))


@dataclass(frozen=True)
class ContactInfo:
    """A contact as the rest of the bot sees it (sessions never leave storage/)."""

    id: int
    name: str
    municipality: Municipality
    role: str
    competences: tuple[str, ...]
    email: str
    phone: str
    consent: bool
    consent_at: datetime | None = None
    teams_aad_object_id: str | None = None
    teams_email: str | None = None
    added_by: str = ""
    added_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ContactDraft:
    """What someone gives us for an entry, before it has an id."""

    name: str
    municipality: Municipality
    role: str
    competences: tuple[str, ...]
    email: str
    phone: str = ""
    consent: bool = False
    teams_aad_object_id: str | None = None
    teams_email: str | None = None  # as looked up in Teams, for a self-service entry
    consent_date: date | None = None  # from a sheet: "ja 2026-12-01"


def _info(row: Contact) -> ContactInfo:
    municipality = by_code(row.municipality_code)
    if municipality is None:  # the data file lost a code; show it rather than crash
        municipality = Municipality(row.municipality_code, "", row.municipality_code)
    return ContactInfo(
        id=row.id,
        name=row.name,
        municipality=municipality,
        role=row.role,
        competences=tuple(row.competences or ()),
        email=row.email,
        phone=row.phone,
        consent=row.consent,
        consent_at=row.consent_at,
        teams_aad_object_id=row.teams_aad_object_id,
        teams_email=row.teams_email,
        added_by=row.added_by,
        added_at=row.added_at,
        updated_at=row.updated_at,
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text.strip()))


def split_competences(text: str) -> tuple[str, ...]:
    """ "diabetes, sårvård och BPSD" -> ("diabetes", "sårvård", "BPSD"), duplicates dropped."""
    parts = re.split(r"\s*(?:[,;\n/]|\boch\b|\bsamt\b)\s*", text.strip())
    seen: dict[str, str] = {}
    for part in parts:
        clean = part.strip(" .-•*")
        if clean and clean.lower() not in seen:
            seen[clean.lower()] = clean
    return tuple(seen.values())


# --- the repository -------------------------------------------------------------------------
class ContactRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(Contact)) or 0

    def fingerprint(self) -> tuple[int, int, datetime | None]:
        """Changes whenever an entry is added, changed or erased, by this process or another."""
        with self._sessions() as session:
            count, last_id, newest = session.execute(
                select(func.count(Contact.id), func.max(Contact.id), func.max(Contact.updated_at))
            ).one()
            return int(count or 0), int(last_id or 0), newest

    def consenting(self) -> list[ContactInfo]:
        with self._sessions() as session:
            rows = session.scalars(select(Contact).where(Contact.consent.is_(True)))
            return [_info(row) for row in rows]

    def everyone(self) -> list[ContactInfo]:
        with self._sessions() as session:
            rows = session.scalars(select(Contact).order_by(Contact.municipality_code, Contact.id))
            return [_info(row) for row in rows]

    def by_email(self, email: str) -> ContactInfo | None:
        with self._sessions() as session:
            row = session.scalar(select(Contact).where(Contact.email == normalise_email(email)))
            return _info(row) if row else None

    def of_user(self, aad_object_id: str | None, email: str | None) -> ContactInfo | None:
        """The entry of a Teams user: by AAD object id first, else by e-mail."""
        conditions = []
        if aad_object_id:
            conditions.append(Contact.teams_aad_object_id == aad_object_id)
        if email:
            conditions.append(Contact.email == normalise_email(email))
        if not conditions:
            return None
        with self._sessions() as session:
            rows = list(session.scalars(select(Contact).where(or_(*conditions))))
            # A link made with the address Teams gave first, then the entry with the address
            # Teams vouches for, then a link by AAD id alone (it may rest on an address someone
            # typed before identities were looked up).
            wanted = normalise_email(email) if email else None

            def rank(row: Contact) -> int:
                linked = bool(aad_object_id) and row.teams_aad_object_id == aad_object_id
                if linked and row.teams_email is not None and row.teams_email == wanted:
                    return 0
                return 1 if row.email == wanted else 2 if linked else 3

            rows.sort(key=rank)
            return _info(rows[0]) if rows else None

    def save(
        self,
        draft: ContactDraft,
        added_by: str,
        now: datetime,
        *,
        contact_id: int | None = None,
    ) -> ContactInfo:
        """Add an entry, or update the given one, or the one with the same e-mail or Teams user."""
        with self._sessions.begin() as session:
            row = session.get(Contact, contact_id) if contact_id is not None else None
            if row is None:
                row = _find_row(session, draft.email, draft.teams_aad_object_id)
            if row is None:
                row = Contact(added_by=added_by, added_at=now, email=normalise_email(draft.email))
                session.add(row)
            _apply(row, draft, now)
            if draft.consent:  # consent given again, in Teams: imports may bring them back
                digest = _email_hash(session, draft.email)
                session.execute(delete(ErasureMarker).where(ErasureMarker.email_hash == digest))
            session.flush()
            return _info(row)

    def erase(
        self, contact_id: int, erased_by: str, reason: str, now: datetime, *, mark: bool = True
    ) -> bool:
        """Deletes the entry; with ``mark`` (the person's own wish, directly or through a
        coordinator) keeps a keyed hash of the e-mail so that imports skip them from now on."""
        with self._sessions.begin() as session:
            row = session.get(Contact, contact_id)
            if row is None:
                return False
            forget_entry(session, KIND, contact_id, SLOTS)  # nothing of it is left behind
            if mark:
                digest = _email_hash(session, row.email)
                marker = session.scalar(
                    select(ErasureMarker).where(ErasureMarker.email_hash == digest)
                )
                if marker is None:
                    session.add(ErasureMarker(email_hash=digest, erased_at=now))
                else:
                    marker.erased_at = now
            session.delete(row)
            session.add(ErasureLog(erased_at=now, erased_by=erased_by, reason=reason))
            return True

    def withdraw_consent(self, contact_id: int, now: datetime) -> ContactInfo | None:
        """Unpublishes the entry at once; an import saying "ja" without a later date keeps it so."""
        with self._sessions.begin() as session:
            row = session.get(Contact, contact_id)
            if row is None:
                return None
            row.consent = False
            row.consent_at = None
            row.consent_withdrawn_at = now
            row.updated_at = now
            session.flush()
            return _info(row)

    def erasures(self) -> list[tuple[datetime, str, str]]:
        with self._sessions() as session:
            rows = session.scalars(select(ErasureLog).order_by(ErasureLog.id))
            return [(r.erased_at, r.erased_by, r.reason) for r in rows]

    def save_all(
        self, drafts: Sequence[ContactDraft], added_by: str, now: datetime
    ) -> ImportReport:
        """One transaction: every row is saved, or (on any error) none is."""
        report = ImportReport()
        with self._sessions.begin() as session:
            markers = {m.email_hash: m for m in session.scalars(select(ErasureMarker))}
            for draft in drafts:
                marker = markers.get(_email_hash(session, draft.email)) if markers else None
                if marker is not None:
                    if not _consented_after(draft, marker.erased_at):
                        report.skipped_erased += 1  # erased themselves; the sheet is older
                        continue
                    session.delete(marker)  # consent given again after the erasure
                row = _find_row(session, draft.email, None)
                if row is not None and _linked_to_someone_else(row, draft.email):
                    # The entry's Teams link does not rest on this address as Teams gave it:
                    # the sheet's person gets the entry, the other account loses the link.
                    row.teams_aad_object_id = None
                    row.teams_email = None
                    report.unlinked += 1
                withdrawn = row.consent_withdrawn_at if row is not None else None
                if withdrawn is not None and not _consented_after(draft, withdrawn):
                    # Said "nej" in Teams after the sheet's consent: stays unpublished.
                    draft = _replace(draft, consent=False)
                if row is None:
                    row = Contact(
                        added_by=added_by, added_at=now, email=normalise_email(draft.email)
                    )
                    session.add(row)
                    report.added += 1
                elif _differs(row, draft):
                    report.updated += 1
                else:
                    report.unchanged += 1
                    continue
                _apply(row, draft, now, keep_teams_user=True)
                session.flush()
        return report

    def footprint(self, user_id: str, aad_object_id: str | None) -> dict[str, int]:
        return footprint_counts(self._sessions, user_id, aad_object_id)

    def conversations_of(self, user_id: str, aad_object_id: str | None) -> list[dict[str, Any]]:
        """What the foundation stores about a user: the conversations the bot can write to."""
        conditions = [ConversationRef.user_id == user_id]
        if aad_object_id:
            conditions.append(ConversationRef.aad_object_id == aad_object_id)
        with self._sessions() as session:
            rows = session.scalars(select(ConversationRef).where(or_(*conditions)))
            return [
                {
                    "conversation_type": row.conversation_type or "personal",
                    "user_name": row.user_name or "",
                    "updated_at": row.updated_at,
                }
                for row in rows
            ]


# Other capabilities' tables that hold rows about a person: (table, user id column, AAD column).
# Read by name, so a capability that is not installed is simply skipped.
FOOTPRINT_TABLES = (
    ("reminder", "owner_id", "owner_aad"),
    ("deadline_member", "user_id", "aad_object_id"),
    ("group_member", "user_id", "aad_object_id"),
    ("topic_watch", "user_id", "aad_object_id"),
)


def footprint_counts(
    sessions: sessionmaker[Session], user_id: str, aad_object_id: str | None
) -> dict[str, int]:
    """How many rows each other capability keeps about a person (for "visa mina uppgifter")."""
    counts: dict[str, int] = {}
    with sessions() as session:
        for name, user_column, aad_column in FOOTPRINT_TABLES:
            table = Base.metadata.tables.get(name)
            if table is None or user_column not in table.c:
                continue
            condition = table.c[user_column] == user_id
            if aad_object_id and aad_column in table.c:
                condition = or_(condition, table.c[aad_column] == aad_object_id)
            count = session.scalar(select(func.count()).select_from(table).where(condition))
            if count:
                counts[name] = int(count)
    return counts


def _email_hash(session: Session, email: str) -> str:
    key = _secret(session)
    return hmac.new(key, normalise_email(email).encode("utf-8"), hashlib.sha256).hexdigest()


def _secret(session: Session) -> bytes:
    """The markers' key: made once at random; a second process racing to make it reads the first."""
    row = session.get(ContactSecret, 1)
    if row is None:
        try:
            with session.begin_nested():
                session.add(ContactSecret(id=1, secret=secrets.token_hex(32)))
        except IntegrityError:
            pass
        row = session.get(ContactSecret, 1, populate_existing=True)
        assert row is not None
    return bytes.fromhex(row.secret)


def _consented_after(draft: ContactDraft, moment: datetime) -> bool:
    """The sheet gives a consent date after the day of ``moment`` (Swedish time)."""
    if not draft.consent or draft.consent_date is None:
        return False
    return draft.consent_date > moment.astimezone(STOCKHOLM).date()


def _linked_to_someone_else(row: Contact, email: str) -> bool:
    if row.teams_aad_object_id is None:
        return False
    return row.teams_email is None or row.teams_email != normalise_email(email)


def _find_row(session: Session, email: str, aad_object_id: str | None) -> Contact | None:
    row = session.scalar(select(Contact).where(Contact.email == normalise_email(email)))
    if row is None and aad_object_id:
        row = session.scalar(select(Contact).where(Contact.teams_aad_object_id == aad_object_id))
    return row


def _differs(row: Contact, draft: ContactDraft) -> bool:
    return (
        row.name != draft.name
        or row.municipality_code != draft.municipality.code
        or row.role != draft.role
        or tuple(row.competences or ()) != draft.competences
        or row.phone != draft.phone
        or row.consent != draft.consent
    )


def _apply(
    row: Contact, draft: ContactDraft, now: datetime, *, keep_teams_user: bool = False
) -> None:
    row.name = draft.name.strip()
    row.municipality_code = draft.municipality.code
    row.role = draft.role.strip()
    row.competences = list(draft.competences)
    row.email = normalise_email(draft.email)
    row.phone = draft.phone.strip()
    if not keep_teams_user or draft.teams_aad_object_id:
        row.teams_aad_object_id = draft.teams_aad_object_id or row.teams_aad_object_id
    if draft.teams_email:
        row.teams_email = normalise_email(draft.teams_email)
    if draft.consent and not row.consent:
        row.consent_at = now
        row.consent_withdrawn_at = None
    elif not draft.consent:
        row.consent_at = None
    row.consent = draft.consent
    row.updated_at = now


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: int = 0
    skipped_erased: int = 0  # people who erased themselves, and the sheet gives no later consent
    unlinked: int = 0  # entries whose Teams link did not rest on the sheet's address
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- search ---------------------------------------------------------------------------------
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


# One vector per competence (the first SLOTS), keyed contact id * SLOTS + n: a question about
# one competence then meets it alone, not diluted by the person's other ones (on the tune half,
# 16 of 19 questions without a word match answered right, against 13 with one vector a person).
SLOTS = 64
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
        for found in fuse(
            [(hit.key, hit.score) for hit in lexical],
            ranked_near,
            {},
            answer_z=self._meanings.answer_z,
        ):
            contact = index.get(found.key)  # the index holds only entries with consent
            if contact is not None and contact.consent:
                ranked.append(ContactHit(contact, found.score))
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


# --- import and export ----------------------------------------------------------------------
def _check_municipality(cell: str) -> str | None:
    return None if find_municipality(cell) else f"okänd kommun ”{cell}”"


def _check_email(cell: str) -> str | None:
    return None if is_email(cell) else f"ogiltig e-postadress ”{cell}”"


def _check_phone(cell: str) -> str | None:
    return None if _PHONE.match(cell) else f"ogiltigt telefonnummer ”{cell}”"


def _check_consent(cell: str) -> str | None:
    if _consent(cell) is not None:
        return None
    return f"ska vara ja, nej eller ”ja ÅÅÅÅ-MM-DD” (dagen samtycket gavs), inte ”{cell}”"


COLUMNS = (
    Column("namn", ("name", "namn på person"), required=True, max_length=200),
    Column("kommun", ("municipality", "kommunnamn"), required=True, check=_check_municipality),
    Column("roll", ("titel", "yrke", "role"), max_length=200),
    Column("kompetenser", ("kompetens", "competences"), is_list=True),
    Column(
        "epost",
        ("e-post", "e-postadress", "mejl", "mail", "email"),
        required=True,
        max_length=320,
        check=_check_email,
    ),
    Column("telefon", ("tel", "telefonnummer", "phone"), max_length=50, check=_check_phone),
    # No default: without the column nobody's consent is known, so nothing is imported.
    Column("samtycke", ("consent",), required=True, check=_check_consent),
)


# "ja 2026-12-01", "ja, 2026-12-01", "ja (2026-12-01)" or the date alone: consent given that day.
_CONSENT_DATED = re.compile(
    r"^(?:(?P<yes>[a-zåäö0-9]+)\s*[,:(]?\s*)?(?P<day>\d{4}-\d{2}-\d{2})\)?$"
)


def _consent(value: str) -> bool | None:
    plain = value.strip().lower()
    if plain in YES:
        return True
    if plain in NO:
        return False
    if _consent_date(plain) is not None:
        return True
    return None


def _consent_date(value: str) -> date | None:
    """The day consent was given, when the cell says it (else None)."""
    match = _CONSENT_DATED.match(value.strip().lower())
    if match is None or (match.group("yes") and match.group("yes") not in YES):
        return None
    try:
        return date.fromisoformat(match.group("day"))
    except ValueError:
        return None


def drafts_from_rows(rows: Sequence[Row]) -> list[ContactDraft]:
    """Drafts from validated rows; SheetError when an e-mail appears twice."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    drafts: list[ContactDraft] = []
    for row in rows:
        email = normalise_email(row.text("epost"))
        if email in seen:
            problems.append(
                Problem(row.number, "epost", f"{email} finns redan på rad {seen[email]}")
            )
            continue
        seen[email] = row.number
        municipality = find_municipality(row.text("kommun"))
        consent = _consent(row.text("samtycke"))
        assert municipality is not None and consent is not None  # the columns checked them
        drafts.append(
            ContactDraft(
                name=row.text("namn"),
                municipality=municipality,
                role=row.text("roll"),
                competences=tuple(dict.fromkeys(row.items("kompetenser"))),
                email=email,
                phone=row.text("telefon"),
                consent=consent,
                consent_date=_consent_date(row.text("samtycke")),
            )
        )
    if problems:
        raise SheetError(problems)
    return drafts


def import_contacts(
    sessions: sessionmaker[Session],
    path: Path | str,
    *,
    now: datetime,
    replace: bool = False,
    added_by: str = "import",
) -> ImportReport:
    """All rows or none; entries are matched on e-mail, so a re-import updates them.

    With ``replace``, entries not in the file are erased (the erasure log says "import").
    """
    stamp = now
    try:
        drafts = drafts_from_rows(read_sheet(path, COLUMNS))
    except SheetError as error:
        return ImportReport(errors=[str(problem) for problem in error.problems])
    repository = ContactRepository(sessions)
    report = repository.save_all(drafts, added_by, stamp)
    if replace:
        keep = {d.email for d in drafts}
        for contact in repository.everyone():
            if contact.email not in keep:
                # Not the person's wish: no marker, so a later sheet with them brings them back.
                repository.erase(
                    contact.id,
                    ErasedBy.COORDINATOR,
                    "ej med vid ersättande import",
                    stamp,
                    mark=False,
                )
                report.erased += 1
    logger.info(
        "contacts imported: %d added, %d updated, %d unchanged, %d erased, "
        "%d skipped as erased by themselves, %d unlinked",
        report.added,
        report.updated,
        report.unchanged,
        report.erased,
        report.skipped_erased,
        report.unlinked,
    )
    return report


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


def export_contacts(sessions: sessionmaker[Session], path: Path | str) -> int:
    """Every entry (with consent or not: the column says which), in the import format."""
    contacts = ContactRepository(sessions).everyone()
    write_sheet(
        path,
        COLUMNS,
        [
            {
                "namn": c.name,
                "kommun": c.municipality.name,
                "roll": c.role,
                "kompetenser": list(c.competences),
                "epost": c.email,
                "telefon": c.phone,
                "samtycke": "ja" if c.consent else "nej",
            }
            for c in contacts
        ],
    )
    return len(contacts)


def load_demo_contacts_if_empty(
    sessions: sessionmaker[Session], *, now: datetime | None = None
) -> int:
    """The invented demo people, on a first start with an empty competence bank."""
    if ContactRepository(sessions).count():
        return 0
    report = import_contacts(sessions, DEMO, now=now, added_by="demo")
    if report.errors:
        raise ContactSheetError(report.errors)
    return report.added


class ContactSheetError(Exception):
    """The demo sheet shipped with the bot did not import (a packaging fault)."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)
