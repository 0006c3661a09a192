"""Teams' send budget, shared by every process of the bot through the database.

Teams counts what the bot sends per conversation and per tenant, whichever process sent it; a
limiter in each process would let two processes send twice the limit. Each send takes a slot: a
row (key, time) inserted only when every window of the key has room, in a transaction that holds
the key (PostgreSQL: an advisory lock on its hash; SQLite: its single writer lock). A 429's
Retry-After is kept as a block for the key, so every process waits it out.

Times are seconds since the epoch (the processes' wall clocks; they are NTP-synchronised hosts).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Float, String, delete, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from storage.db import rowcount
from storage.models import Base

Limits = Sequence[tuple[int, float]]  # (sends, within seconds)


class SendSlot(Base):
    __tablename__ = "send_slot"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(450), index=True)  # "c:<conversation>", "t:<tenant>"
    at: Mapped[float] = mapped_column(Float)


class SendBlock(Base):
    __tablename__ = "send_block"
    key: Mapped[str] = mapped_column(String(450), primary_key=True)
    until: Mapped[float] = mapped_column(Float)


def wait_for(times: Sequence[float], limits: Limits, now: float) -> float:
    """Seconds until one more send fits every window, given the sends' times (oldest first)."""
    wait = 0.0
    for count, window in limits:
        inside = [t for t in times if t > now - window]
        if len(inside) >= count:
            wait = max(wait, inside[-count] + window - now)
    if times and limits:
        # Evenly spaced, not in bursts: network jitter packs a burst into one second.
        count, window = min(limits, key=lambda limit: limit[1])
        wait = max(wait, times[-1] + window / count - now)
    return wait


class SendBudget:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def take(self, key: str, limits: Limits, now: float) -> float:
        """Takes a slot and returns 0, or returns how long to wait before asking again."""
        longest = max((window for _, window in limits), default=0.0)
        with self._sessions.begin() as session:
            self._hold(session, key)
            block = session.get(SendBlock, key)
            if block is not None and block.until > now:
                return block.until - now
            session.execute(
                delete(SendSlot).where(SendSlot.key == key, SendSlot.at <= now - longest)
            )
            times = list(
                session.scalars(
                    select(SendSlot.at).where(SendSlot.key == key).order_by(SendSlot.at)
                )
            )
            wait = wait_for(times, limits, now)
            if wait > 0:
                return wait
            session.execute(insert(SendSlot).values(key=key, at=now))
            return 0.0

    def block(self, key: str, until: float) -> None:
        """Nothing more to `key` before `until` (Teams' Retry-After), in any process."""
        with self._sessions.begin() as session:
            self._hold(session, key)
            found = session.get(SendBlock, key)
            if found is None:
                session.add(SendBlock(key=key, until=until))
            elif found.until < until:
                found.until = until

    def purge_older_than(self, cutoff: datetime) -> int:
        """Retention's daily purge. A key's old slots go whenever it sends again; this takes the
        ones of conversations gone quiet."""
        with self._sessions.begin() as session:
            slots = session.execute(delete(SendSlot).where(SendSlot.at < cutoff.timestamp()))
            blocks = session.execute(delete(SendBlock).where(SendBlock.until < cutoff.timestamp()))
            return rowcount(slots) + rowcount(blocks)

    @staticmethod
    def _hold(session: Session, key: str) -> None:
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:a, :b)"),
                {"a": 0x5EED, "b": zlib.crc32(key.encode()) - 2**31},
            )
        else:
            # SQLite: the writer lock up front, so two processes do not both count room.
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
