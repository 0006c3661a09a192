"""The competence bank as a sheet: import (all rows or none, matched on e-mail), export, demo."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from storage.contacts import (
    ContactDraft,
    ContactRepository,
    ErasedBy,
    ImportReport,
    is_email,
    normalise_email,
)
from storage.municipalities import find_municipality
from storage.sheets import Column, Problem, Row, SheetError, read_sheet, write_sheet

logger = logging.getLogger(__name__)

HEADER = ("namn", "kommun", "roll", "kompetenser", "epost", "telefon", "samtycke")
DEMO = Path(__file__).with_name("demo_contacts.csv")
YES = frozenset({"ja", "j", "yes", "y", "x", "1", "sant", "true"})
NO = frozenset({"nej", "n", "no", "0", "falskt", "false"})
_PHONE = re.compile(r"^\+?[0-9][0-9 \-()/]{4,24}$")


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


def load_demo_contacts_if_empty(sessions: sessionmaker[Session], *, now: datetime) -> int:
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
