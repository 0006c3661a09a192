"""What the database cannot hold as given, refused before it reaches the driver.

PostgreSQL refuses a NUL character in any text and a string longer than its column; SQLite stores
both. Either way the turn would fail (or keep damaged data) with the values in the error. Every
ORM flush is checked against the columns' own lengths, so a path that forgot to check its input
gets our exception (which the bot turns into a Swedish answer), never a driver error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session, sessionmaker


class InputRejected(Exception):
    """A value too long for its column, or with a character no text column may hold."""

    def __init__(self, field: str, limit: int | None) -> None:
        super().__init__(field)
        self.field = field
        self.limit = limit  # None: a forbidden character, not a length


def has_forbidden_character(value: str) -> bool:
    """NUL: PostgreSQL's text types cannot hold it, and no one types it on purpose."""
    return "\x00" in value


def column_limit(model: type[Any], attribute: str) -> int:
    """The length of a String column, for checks made before anything is stored."""
    column = inspect(model).columns[attribute]
    length = getattr(column.type, "length", None)
    if not isinstance(length, int):
        raise ValueError(f"{model.__name__}.{attribute} has no length")
    return length


def check_row(row: Any) -> None:
    """Raises InputRejected for the first string value `row`'s columns cannot hold."""
    mapper = inspect(type(row))
    for column in mapper.columns:
        value = row.__dict__.get(mapper.get_property_by_column(column).key)
        if not isinstance(value, str):
            continue
        field = f"{column.table.name}.{column.name}"
        if has_forbidden_character(value):
            raise InputRejected(field, None)
        length = column.type.length if isinstance(column.type, String) else None
        if length is not None and len(value) > length:
            raise InputRejected(field, length)


def guard(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Checks every new or changed row of `sessions` before it is flushed."""

    @event.listens_for(sessions, "before_flush")
    def _check(session: Session, _context: Any, _instances: Any) -> None:
        for row in (*session.new, *session.dirty):
            check_row(row)

    return sessions
