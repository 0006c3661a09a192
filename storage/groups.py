"""Working groups: named sets of people (issue 8 item 1), used by reminders, deadlines and polls."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz, process
from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, sessionmaker

from storage.db import rowcount
from storage.models import Base
from storage.people import Person

# A typo or two in a name of ten letters still finds the group; "RSS" does not find "Civilsamhälle".
NAME_CUTOFF = 80.0


class GroupExists(Exception):
    """A group of that name already exists in the tenant."""


class GroupNotFound(Exception):
    pass


class WorkingGroup(Base):
    __tablename__ = "working_group"
    __table_args__ = (UniqueConstraint("tenant_key", "name_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    # "" when the tenant is unknown (emulator, playground): unique constraints ignore NULLs.
    tenant_key: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(400))  # Teams user id of the creator
    created_by_aad: Mapped[str | None] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200), default="")
    conversation_id: Mapped[str | None] = mapped_column(String(400))  # the group's chat
    created_at: Mapped[datetime]
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMember.id"
    )


class GroupMember(Base):
    __tablename__ = "group_member"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_group.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(400))  # Teams user id (29:...)
    aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    group: Mapped[WorkingGroup] = relationship(back_populates="members")


Member = Person  # the one person type (storage/people.py); the old name is kept for the tests


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    tenant_id: str | None
    created_by: str
    created_by_aad: str | None
    created_by_name: str
    conversation_id: str | None
    members: tuple[Person, ...]

    def is_creator(self, user_id: str, aad_object_id: str | None) -> bool:
        if user_id and user_id == self.created_by:
            return True
        return bool(aad_object_id) and aad_object_id == self.created_by_aad

    def has_member(self, user_id: str, aad_object_id: str | None = None) -> bool:
        return any(
            m.user_id == user_id or (aad_object_id and m.aad_object_id == aad_object_id)
            for m in self.members
        )


def name_key(name: str) -> str:
    """Case- and accent-folded name for lookups: "Civilsamhälle" == "civilsamhalle"."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(plain.split())


class GroupRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(
        self,
        name: str,
        *,
        tenant_id: str | None,
        created_by: Person,
        conversation_id: str | None,
        members: Sequence[Person],
        now: datetime,
    ) -> Group:
        with self._sessions.begin() as session:
            row = WorkingGroup(
                name=name.strip(),
                name_key=name_key(name),
                tenant_key=tenant_id or "",
                created_by=created_by.user_id,
                created_by_aad=created_by.aad_object_id,
                created_by_name=created_by.name,
                conversation_id=conversation_id,
                created_at=now,
            )
            seen: set[str] = set()
            for member in members:
                if member.user_id in seen:
                    continue
                seen.add(member.user_id)
                row.members.append(
                    GroupMember(
                        user_id=member.user_id,
                        aad_object_id=member.aad_object_id,
                        name=member.name,
                    )
                )
            session.add(row)
            try:
                session.flush()
            except IntegrityError as error:
                raise GroupExists(name) from error
            return _group(row)

    def get(self, group_id: int) -> Group | None:
        with self._sessions() as session:
            row = session.get(WorkingGroup, group_id)
            return _group(row) if row else None

    def all(self, tenant_id: str | None) -> list[Group]:
        with self._sessions() as session:
            rows = session.scalars(
                select(WorkingGroup)
                .where(WorkingGroup.tenant_key == (tenant_id or ""))
                .order_by(WorkingGroup.name_key)
            )
            return [_group(row) for row in rows]

    def find(self, name: str, tenant_id: str | None) -> Group | None:
        """The group whose name is closest to `name`, tolerating case, accents and typos."""
        key = name_key(name)
        if not key:
            return None
        with self._sessions() as session:
            rows = session.execute(
                select(WorkingGroup.id, WorkingGroup.name_key).where(
                    WorkingGroup.tenant_key == (tenant_id or "")
                )
            ).all()
            choices = {row.id: row.name_key for row in rows}
            exact = [gid for gid, k in choices.items() if k == key]
            if exact:
                group_id = exact[0]
            else:
                best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=NAME_CUTOFF)
                if best is None:
                    return None
                group_id = best[2]
            row = session.get(WorkingGroup, group_id)
            return _group(row) if row else None

    def count_created_by(self, user_id: str) -> int:
        with self._sessions() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(WorkingGroup)
                    .where(WorkingGroup.created_by == user_id)
                )
                or 0
            )

    def closest_names(self, name: str, tenant_id: str | None, limit: int = 5) -> list[str]:
        """The names of the groups most like `name` (a mistyped name gets a few, not all)."""
        with self._sessions() as session:
            rows = session.execute(
                select(WorkingGroup.name, WorkingGroup.name_key).where(
                    WorkingGroup.tenant_key == (tenant_id or "")
                )
            ).all()
        choices = {row.name: row.name_key for row in rows}
        best = process.extract(name_key(name), choices, scorer=fuzz.WRatio, limit=limit)
        return [found[2] for found in best]

    def add_members(self, group_id: int, members: Sequence[Person]) -> tuple[Group, list[Person]]:
        """Adds the people not yet in the group; returns the group and who was added."""
        with self._sessions.begin() as session:
            row = session.get(WorkingGroup, group_id, with_for_update=True)
            if row is None:
                raise GroupNotFound(str(group_id))
            present = {m.user_id for m in row.members}
            added: list[Person] = []
            for member in members:
                if member.user_id in present:
                    continue
                present.add(member.user_id)
                row.members.append(
                    GroupMember(
                        user_id=member.user_id,
                        aad_object_id=member.aad_object_id,
                        name=member.name,
                    )
                )
                added.append(member)
            session.flush()
            return _group(row), added

    def remove_members(self, group_id: int, user_ids: Sequence[str]) -> tuple[Group, int]:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(GroupMember).where(
                    GroupMember.group_id == group_id, GroupMember.user_id.in_(list(user_ids))
                )
            )
            row = session.get(WorkingGroup, group_id)
            if row is None:
                raise GroupNotFound(str(group_id))
            session.refresh(row)
            return _group(row), rowcount(result)

    def delete(self, group_id: int) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(delete(WorkingGroup).where(WorkingGroup.id == group_id))
            return rowcount(result) == 1


def _group(row: WorkingGroup) -> Group:
    return Group(
        id=row.id,
        name=row.name,
        tenant_id=row.tenant_key or None,
        created_by=row.created_by,
        created_by_aad=row.created_by_aad,
        created_by_name=row.created_by_name,
        conversation_id=row.conversation_id,
        members=tuple(
            Person(user_id=m.user_id, name=m.name, aad_object_id=m.aad_object_id)
            for m in row.members
        ),
    )
