"""Tables of the foundation. Each capability keeps its tables in its own module on the same Base."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, MetaData, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which drops the zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class ConversationRef(Base):
    """Where the bot can write later: a row per conversation, the reference as opaque JSON."""

    __tablename__ = "conversation_ref"
    conversation_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    service_url: Mapped[str] = mapped_column(String(400))
    tenant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    conversation_type: Mapped[str | None] = mapped_column(String(32))
    # The user who last wrote here; for a personal chat, the chat's only user.
    user_id: Mapped[str | None] = mapped_column(String(400))
    aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(Text)
    welcomed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ProcessedActivity(Base):
    """Activity ids already handled, so a Teams retry is acknowledged and not handled twice."""

    __tablename__ = "processed_activity"
    conversation_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)
    # Who wrote it, when it was addressed to the bot: every process counts a member's (and a
    # conversation's) messages of the last minute from these rows (dialogs/limits.py).
    sender: Mapped[str | None] = mapped_column(String(400))

    __table_args__ = (
        Index("ix_processed_activity_sender_at", "sender", "processed_at"),
        Index("ix_processed_activity_conversation_at", "conversation_id", "processed_at"),
    )


class BotStateItem(Base):
    """Bot Framework dialog, conversation and user state, with an e-tag for concurrency."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    etag: Mapped[int]
    updated_at: Mapped[datetime]
