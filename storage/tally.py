"""What a conversation has created lately, counted by every process alike (issue 14.7).

A member's own limits (reminders to come, groups made) are counts of standing rows. A shared
conversation (a group chat, a channel) has many members, each within their own limits, so it gets
limits of its own: so many reminders, working groups and polls created in it per day. Each
creation takes a mark (key, time) inserted only while the window has room, in a transaction that
holds the key (PostgreSQL: an advisory lock on its hash; SQLite: its single writer lock), so two
processes cannot both take the last one.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage.db import rowcount
from storage.models import Base

KEY_CHARS = 450


class TallyMark(Base):
    __tablename__ = "tally_mark"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_CHARS))  # "<what>:<conversation id>"
    at: Mapped[datetime]

    __table_args__ = (Index("ix_tally_mark_key_at", "key", "at"),)


class Tally:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def take(
        self, what: str, conversation_id: str, limit: int, window: timedelta, now: datetime
    ) -> bool:
        """Marks one more `what` in the conversation if fewer than `limit` were made within
        `window`; False (and nothing marked) when the conversation has reached its limit."""
        key = f"{what}:{conversation_id}"[:KEY_CHARS]
        with self._sessions.begin() as session:
            _hold(session, key)
            made = session.scalar(
                select(func.count())
                .select_from(TallyMark)
                .where(TallyMark.key == key, TallyMark.at > now - window)
            )
            if (made or 0) >= limit:
                return False
            session.execute(insert(TallyMark).values(key=key, at=now))
            return True

    def purge_older_than(self, cutoff: datetime) -> int:
        """Retention's daily purge (windows are a day at most)."""
        with self._sessions.begin() as session:
            result = session.execute(delete(TallyMark).where(TallyMark.at < cutoff))
            return rowcount(result)


def _hold(session: Session, key: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:a, :b)"),
            {"a": 0x7A11, "b": zlib.crc32(key.encode()) - 2**31},
        )
    else:
        # SQLite: the writer lock up front, so two processes do not both count room.
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
