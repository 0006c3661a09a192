"""PostgreSQL advisory locks of the reminder pipeline: which delivering processes are alive.

A process that delivers reminders is alive while it holds its `Liveness` lock; a peer that can
take a lease owner's lock knows that owner died and hands its deliveries back. The lock lives on a
dedicated connection, so a dead process's lock goes with its connection. SQLite is one process
by design and needs none.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker


def new_lease_owner() -> str:
    """Host, process id and a random part: an operator (or the crash bench) can tell from a
    lease which process holds it; the random part keeps a reused pid from matching."""
    host = socket.gethostname()[:30]
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


_HOLD = text("SELECT pg_advisory_lock(CAST(:k AS integer), CAST(:o AS integer))")
_PROBE = text("SELECT pg_try_advisory_xact_lock(CAST(:k AS integer), CAST(:o AS integer))")


class Liveness:
    """PostgreSQL: a process holds an advisory lock named after its lease owner, on a
    dedicated connection, for as long as it lives; when it dies its connection closes and the
    lock goes with it. Another process that can take the lock knows the owner is gone."""

    KEY = 730_002  # ours: "reminders" block 03xx

    def __init__(self, sessions: sessionmaker[Session], owner: str) -> None:
        self._engine = sessions.kw["bind"]
        self._owner = owner
        self._connection: Any = None

    @staticmethod
    def _key(owner: str) -> int:
        return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:4], "big", signed=True)

    def hold(self) -> None:
        if self._engine.dialect.name != "postgresql" or self._connection is not None:
            return
        connection = self._engine.connect()
        try:
            connection.execute(_HOLD, {"k": self.KEY, "o": self._key(self._owner)})
            connection.commit()
        except Exception:
            connection.close()
            raise
        self._connection = connection

    def release(self) -> None:
        if self._connection is not None:
            try:  # not back to the pool, where the lock would live on: the session ends
                self._connection.invalidate()
                self._connection.close()
            finally:
                self._connection = None

    @classmethod
    def is_gone(cls, session: Session, owner: str) -> bool:
        """True when nobody holds ``owner``'s lock (checked by taking it, then letting go)."""
        key = {"k": cls.KEY, "o": cls._key(owner)}
        # a transaction-level lock: it goes when the caller's transaction ends
        return bool(session.execute(_PROBE, key).scalar())
