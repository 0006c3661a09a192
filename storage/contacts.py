"""The competence bank: who in which municipality can share which specialist knowledge.

This module holds its rows and the repository; searching is storage/contact_search.py, the
sheet (import, export, demo data) storage/contact_sheets.py.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, String, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage.meaning import forget_entry
from storage.models import Base, ConversationRef
from storage.municipalities import Municipality, by_code

logger = logging.getLogger(__name__)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KIND = "contact"  # of its vectors (storage/meaning.py)
# One vector per competence (the first SLOTS), keyed contact id * SLOTS + n: a question about
# one competence then meets it alone (storage/contact_search.py).
SLOTS = 64

_EMAIL = re.compile(r"^[^@\s;,<>()]+@[^@\s;,<>()]+\.[^@\s;,<>().]{2,}$")


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
