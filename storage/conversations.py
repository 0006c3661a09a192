"""Conversation references, handled activity ids and Bot Framework state: the foundation's data."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_fast_lane, rowcount
from storage.models import BotStateItem, ConversationRef, ProcessedActivity


class EtagConflict(Exception):
    """Someone else saved this state since it was read."""


@dataclass(frozen=True)
class Reference:
    conversation_id: str
    channel_id: str
    service_url: str
    tenant_id: str | None
    conversation_type: str | None
    user_id: str | None
    aad_object_id: str | None
    user_name: str | None
    reference: str  # opaque JSON of Bot Framework's ConversationReference


class ConversationRepository:
    # Every incoming activity carries its conversation's reference; most are unchanged since the
    # last one, so the ones this process stored recently are remembered and not written again.
    KNOWN_LIMIT = 10_000

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._known: OrderedDict[str, Reference] = OrderedDict()

    def is_known(self, ref: Reference) -> bool:
        """Stored by this process already, unchanged: no need to write (nor to leave the loop)."""
        return self._known.get(ref.conversation_id) == ref

    def upsert(self, ref: Reference, now: datetime) -> bool:
        """Stores where to write later; True when the conversation is new to the bot."""
        if self._known.get(ref.conversation_id) == ref:
            self._known.move_to_end(ref.conversation_id)
            return False
        created = self._store(ref, now)
        self._known[ref.conversation_id] = ref
        if len(self._known) > self.KNOWN_LIMIT:
            self._known.popitem(last=False)
        return created

    def _store(self, ref: Reference, now: datetime) -> bool:
        with self._sessions.begin() as session:
            row = session.get(ConversationRef, ref.conversation_id)
            if row is None:
                session.add(
                    ConversationRef(
                        conversation_id=ref.conversation_id,
                        channel_id=ref.channel_id,
                        service_url=ref.service_url,
                        tenant_id=ref.tenant_id,
                        conversation_type=ref.conversation_type,
                        user_id=ref.user_id,
                        aad_object_id=ref.aad_object_id,
                        user_name=ref.user_name,
                        reference=ref.reference,
                        updated_at=now,
                    )
                )
                try:
                    session.flush()
                except IntegrityError:
                    # Two first messages at once: the other one stored it.
                    session.rollback()
                    return False
                return True
            if (
                row.reference != ref.reference
                or row.service_url != ref.service_url
                or row.user_id != ref.user_id
            ):
                row.channel_id = ref.channel_id
                row.service_url = ref.service_url
                row.tenant_id = ref.tenant_id or row.tenant_id
                row.conversation_type = ref.conversation_type or row.conversation_type
                row.user_id = ref.user_id or row.user_id
                row.aad_object_id = ref.aad_object_id or row.aad_object_id
                row.user_name = ref.user_name or row.user_name
                row.reference = ref.reference
                row.updated_at = now
            return False

    def mark_welcomed(self, conversation_id: str, now: datetime) -> bool:
        """True for the one caller that gets to welcome this conversation."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ConversationRef)
                .where(
                    ConversationRef.conversation_id == conversation_id,
                    ConversationRef.welcomed_at.is_(None),
                )
                .values(welcomed_at=now)
            )
            return rowcount(result) == 1

    def get(self, conversation_id: str) -> Reference | None:
        with self._sessions() as session:
            row = session.get(ConversationRef, conversation_id)
            return _reference(row) if row else None

    def personal_chat_of(self, aad_object_id: str) -> Reference | None:
        """The user's 1:1 chat with the bot, if they have one."""
        with self._sessions() as session:
            row = session.scalars(
                select(ConversationRef)
                .where(
                    ConversationRef.aad_object_id == aad_object_id,
                    ConversationRef.conversation_type == "personal",
                )
                .order_by(ConversationRef.updated_at.desc())
                .limit(1)
            ).first()
            return _reference(row) if row else None

    def any_in_tenant(self, tenant_id: str | None) -> Reference | None:
        """Any conversation in the tenant: its service URL lets the bot open a new personal chat."""
        with self._sessions() as session:
            query = select(ConversationRef).order_by(ConversationRef.updated_at.desc()).limit(1)
            if tenant_id:
                query = query.where(ConversationRef.tenant_id == tenant_id)
            row = session.scalars(query).first()
            return _reference(row) if row else None


def _engine(sessions: sessionmaker[Session]) -> Engine:
    """The engine a sessionmaker is bound to (``sessionmaker.kw``, as ``configure`` sets it)."""
    bind = sessions.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


# Every turn runs these: statements built once, run on a plain connection. An ORM session and a
# statement built per call cost about 0.5 ms each time; this costs about 0.1 ms (SQLite).
_CLAIM = insert(ProcessedActivity)


def _recent(column: Any, key: str, cap: str) -> Any:
    """How many rows of `column` == :key since :since, counted no further than :cap (a flood
    costs no more to count than the limit)."""
    rows = (
        select(literal(1))
        .where(
            column == bindparam(key),
            ProcessedActivity.processed_at > bindparam("since"),
            ProcessedActivity.sender.is_not(None),  # addressed to the bot
        )
        .limit(bindparam(cap))
        .subquery()
    )
    return select(func.count()).select_from(rows).scalar_subquery()


_RECENT = select(
    _recent(ProcessedActivity.sender, "sender", "sender_cap"),
    _recent(ProcessedActivity.conversation_id, "conversation", "conversation_cap"),
)
_READ_STATE = select(BotStateItem.key, BotStateItem.data, BotStateItem.etag).where(
    BotStateItem.key.in_(bindparam("keys", expanding=True))
)
_UPDATE_STATE = (
    update(BotStateItem)
    .where(BotStateItem.key == bindparam("k"), BotStateItem.etag == bindparam("expected"))
    .values(data=bindparam("data"), etag=bindparam("etag"), updated_at=bindparam("now"))
)


class ActivityLedger:
    """Which activity ids were handled: Teams re-sends an activity when the answer is slow."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._engine = _engine(sessions)
        self._lane = make_fast_lane(self._engine)

    def claim(
        self, conversation_id: str, activity_id: str, now: datetime, sender: str | None = None
    ) -> bool:
        """True for the first caller with this id; False for a retry of a handled or running one.

        `sender` (set when the activity is addressed to the bot) is what `recent` counts."""
        row = {
            "conversation_id": conversation_id,
            "activity_id": activity_id,
            "processed_at": now,
            "sender": sender,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(_CLAIM, row)
            return True
        except IntegrityError:
            return False

    def claim_without_waiting(
        self, conversation_id: str, activity_id: str, now: datetime, sender: str | None = None
    ) -> bool | None:
        """``claim`` made where it cannot wait (an SQLite file whose write lock is free: about
        0.1 ms, so the event loop may make it and a turn saves two thread switches); None when
        it would have to wait or the database is a server: then use ``claim`` on a thread."""
        if self._lane is None:
            return None
        row = {
            "conversation_id": conversation_id,
            "activity_id": activity_id,
            "processed_at": now,
            "sender": sender,
        }
        try:
            with self._lane.begin() as connection:
                connection.execute(_CLAIM, row)
            return True
        except IntegrityError:
            return False
        except OperationalError:  # "database is locked": another connection is writing
            return None

    @property
    def reads_never_wait(self) -> bool:
        """SQLite in WAL mode: a read never waits for a writer (see StateRepository)."""
        return self._engine.dialect.name == "sqlite"

    def recent(
        self, sender: str, conversation_id: str, since: datetime, cap: int
    ) -> tuple[int, int]:
        """Activities claimed after `since`, by any process: (by `sender`, in the conversation),
        each counted up to `cap`. Both include the caller's own activity once it is claimed."""
        with self._engine.connect() as connection:
            row = connection.execute(
                _RECENT,
                {
                    "sender": sender,
                    "conversation": conversation_id,
                    "since": since,
                    "sender_cap": cap,
                    "conversation_cap": cap,
                },
            ).one()
        return int(row[0]), int(row[1])

    def close(self) -> None:
        if self._lane is not None:
            self._lane.dispose()

    def release(self, conversation_id: str, activity_id: str) -> None:
        """The turn failed: a retry may run it again."""
        with self._sessions.begin() as session:
            session.execute(
                delete(ProcessedActivity).where(
                    ProcessedActivity.conversation_id == conversation_id,
                    ProcessedActivity.activity_id == activity_id,
                )
            )

    def purge_older_than(self, cutoff: datetime) -> int:
        with self._sessions.begin() as session:
            result = session.execute(
                delete(ProcessedActivity).where(ProcessedActivity.processed_at < cutoff)
            )
            return rowcount(result)


class StateRepository:
    """Key/value documents with an integer e-tag for optimistic concurrency."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._engine = _engine(sessions)

    @property
    def reads_never_wait(self) -> bool:
        """SQLite in WAL mode: a read never waits for a writer and a key lookup takes about
        0.1 ms, less than handing it to a worker thread and back. A server database answers
        over the network, so its reads belong on a worker thread."""
        return self._engine.dialect.name == "sqlite"

    def read(self, keys: list[str]) -> dict[str, tuple[str, int]]:
        if not keys:
            return {}
        with self._engine.connect() as connection:
            rows = connection.execute(_READ_STATE, {"keys": list(keys)})
            return {key: (data, etag) for key, data, etag in rows}

    def write(self, key: str, data: str, expected_etag: int | None, now: datetime) -> int:
        """Saves one document; `expected_etag` None overwrites. Raises EtagConflict on a race."""
        if expected_etag is None:  # first save, or an overwrite: rare, the ORM is fine here
            with self._sessions.begin() as session:
                row = session.get(BotStateItem, key, with_for_update=True)
                if row is None:
                    session.add(BotStateItem(key=key, data=data, etag=1, updated_at=now))
                    try:
                        session.flush()
                    except IntegrityError as error:
                        raise EtagConflict(key) from error
                    return 1
                row.data, row.etag, row.updated_at = data, row.etag + 1, now
                return row.etag
        with self._engine.begin() as connection:
            result = connection.execute(
                _UPDATE_STATE,
                {
                    "k": key,
                    "expected": expected_etag,
                    "data": data,
                    "etag": expected_etag + 1,
                    "now": now,
                },
            )
            if rowcount(result) != 1:
                raise EtagConflict(key)
            return expected_etag + 1

    def delete(self, keys: list[str]) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(BotStateItem).where(BotStateItem.key.in_(keys)))

    def purge_older_than(self, cutoff: datetime) -> int:
        with self._sessions.begin() as session:
            result = session.execute(delete(BotStateItem).where(BotStateItem.updated_at < cutoff))
            return rowcount(result)


def _reference(row: ConversationRef) -> Reference:
    return Reference(
        conversation_id=row.conversation_id,
        channel_id=row.channel_id,
        service_url=row.service_url,
        tenant_id=row.tenant_id,
        conversation_type=row.conversation_type,
        user_id=row.user_id,
        aad_object_id=row.aad_object_id,
        user_name=row.user_name,
        reference=row.reference,
    )
