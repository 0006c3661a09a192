"""Engine and schema: SQLite with WAL and foreign keys by default, PostgreSQL when configured."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storage.inputs import guard

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_pre_ping=False,
            hide_parameters=True,
        )

        # Python's sqlite3 opens transactions lazily and lets SELECTs run outside them;
        # BEGIN IMMEDIATE on write keeps two writers from deadlocking on lock upgrade.
        _on_connect(
            engine,
            "journal_mode=WAL",
            "foreign_keys=ON",
            "synchronous=NORMAL",
            "busy_timeout=30000",
        )
        return engine
    # hide_parameters: a failed statement's log line and exception must not carry names, phone
    # numbers or message text (the values bound to it).
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


def make_fast_lane(engine: Engine) -> Engine | None:
    """SQLite files only: a one-connection engine for the tiny writes a turn makes on the event
    loop itself. It never waits: when another connection holds the write lock it fails at once
    (busy timeout 0) and the caller takes its usual worker-thread path. It never checkpoints the
    WAL (the pooled connections do), so a commit is a page write, not an fsync."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    lane = create_engine(
        engine.url,
        connect_args={"timeout": 0, "check_same_thread": False},
        poolclass=StaticPool,
        hide_parameters=True,
    )

    _on_connect(lane, "synchronous=NORMAL", "wal_autocheckpoint=0", "busy_timeout=0")
    return lane


def _on_connect(engine: Engine, *pragmas: str) -> None:
    """SQLite pragmas for every new connection of ``engine``."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return guard(sessionmaker(engine, expire_on_commit=False))


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# PostgreSQL advisory lock key of the schema migration (the 05xx "operations" block).
MIGRATION_LOCK = 750_001


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to run on every start.

    On PostgreSQL several processes may start at once on an empty database: one migrates while
    the others wait on an advisory lock, then find the schema up to date (without it, one dies
    on a duplicate key). The lock is held by its own connection and ends with it, so a process
    killed mid-migration holds nobody up."""
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "heads")
        return
    with engine.connect() as lock:
        lock.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        lock.commit()  # the lock is the session's; no transaction is kept open meanwhile
        try:
            command.upgrade(alembic_config(engine), "heads")
        finally:
            lock.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
            lock.commit()


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not answering"
        logger.warning("database did not answer the health check", exc_info=True)
        return False


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched: the result is a CursorResult, though Session.execute is
    typed as the general Result."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)
