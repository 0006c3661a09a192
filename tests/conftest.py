"""Shared fixtures: real SQLite files, a throwaway PostgreSQL server, a fake Bot Connector."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import House, Settings, build_app, compose, prepare
from storage.db import make_engine, make_sessions, migrate
from tests.fakes import FakeClock, FakeConnector

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10.00 in Stockholm


@pytest.fixture(scope="session", autouse=True)
def _model_loaded() -> None:
    """The process's reader (model and intent examples) loaded once, before any test's clock
    runs: a test that asserts exact replies must not see the typing indicator of a cold start."""
    from dialogs.reading import shared_reader

    shared_reader().warm_up()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


# --- SQLite --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per run. Each test's database starts as a copy of it: the
    schema a fresh migration gives, without a fresh Alembic run per test. The migration itself
    runs here, in the CLI tests and in the migration tests; `migrate` on the copy is a no-op."""
    path = tmp_path_factory.mktemp("migrated") / "natverksboten.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def _migrated_copy(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "natverksboten.db"
    if not target.exists():  # `db_url` and `settings` of one test share the file, as before
        shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    return _migrated_copy(migrated_sqlite, tmp_path)


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


# --- PostgreSQL ----------------------------------------------------------------------------
def _pg_ctl() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version_key)
    if found:
        return found[-1]
    return shutil.which("pg_ctl")


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parent.parent.name)
    except ValueError:
        return 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[dict[str, Any]]:
    """A throwaway PostgreSQL server for the whole test run (pytest-postgresql's executor)."""
    pg_ctl = _pg_ctl()
    if pg_ctl is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package 'postgresql')")
    from pytest_postgresql.executors.proc import PostgreSQLExecutor

    base = Path(tempfile.mkdtemp(prefix="natverksboten-pg-"))
    executable = pg_ctl
    if os.geteuid() == 0:
        # initdb refuses root: run pg_ctl as the postgres user in a directory it owns.
        shutil.chown(base, "postgres", "postgres")
        os.environ["PG_CTL_REAL"] = pg_ctl
        executable = str(Path(__file__).parent / "pg" / "pg_ctl_as_postgres")
    port = _free_port()
    executor = PostgreSQLExecutor(
        executable=executable,
        host="127.0.0.1",
        port=port,
        datadir=str(base / "data"),
        unixsocketdir=str(base),
        logfile=str(base / "postgresql.log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",
        timeout=120,
    )
    executor.start()
    executor.wait_for_postgres()
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "version": executor.version}
    finally:
        executor.stop()
        shutil.rmtree(base, ignore_errors=True)


def _pg_database(server: dict[str, Any], template: str | None = None) -> Iterator[str]:
    from pytest_postgresql.janitor import DatabaseJanitor

    name = f"test_{uuid.uuid4().hex[:12]}"
    janitor = DatabaseJanitor(
        user=server["user"],
        host=server["host"],
        port=server["port"],
        version=server["version"],
        dbname=name,
        template_dbname=template,
    )
    janitor.init()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{server['port']}/{name}"
    finally:
        janitor.drop()


@pytest.fixture(scope="session")
def pg_migrated(pg_server: dict[str, Any]) -> str:
    """A database migrated once per run: each migrated test database is created from it
    (CREATE DATABASE ... TEMPLATE, a file copy) instead of a fresh Alembic run per test."""
    from pytest_postgresql.janitor import DatabaseJanitor

    name = "natverksboten_migrated"
    DatabaseJanitor(
        user=pg_server["user"],
        host=pg_server["host"],
        port=pg_server["port"],
        version=pg_server["version"],
        dbname=name,
    ).init()
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{pg_server['port']}/{name}")
    migrate(engine)
    engine.dispose()  # a template database must have no connections
    return name


@pytest.fixture
def pg_url(pg_server: dict[str, Any]) -> Iterator[str]:
    """An empty database: for what starts from nothing (the migration lock, several processes
    starting at once)."""
    yield from _pg_database(pg_server)


@pytest.fixture
def pg_migrated_url(pg_server: dict[str, Any], pg_migrated: str) -> Iterator[str]:
    yield from _pg_database(pg_server, pg_migrated)


@pytest.fixture
def pg_engine(pg_migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_migrated_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_sessions(pg_engine: Engine) -> sessionmaker[Session]:
    return make_sessions(pg_engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test once on an SQLite file and once on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        return _migrated_copy(request.getfixturevalue("migrated_sqlite"), tmp_path)
    return str(request.getfixturevalue("pg_migrated_url"))


@pytest.fixture
def any_sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


# --- the bot -------------------------------------------------------------------------------
@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()
    assert not fake.invalid_cards, "the bot sent invalid Adaptive Cards:\n" + "\n".join(
        fake.invalid_cards
    )


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return replace(
        Settings(),
        database_url=sqlite_url,
        coordinators=frozenset({"aad-coordinator", "samordnare@example.org"}),
    )


@pytest.fixture
def house(settings: Settings, clock: FakeClock) -> Iterator[House]:
    house = compose(settings, clock)
    prepare(house)
    yield house
    house.engine.dispose()


@pytest.fixture
async def client(house: House) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(build_app(house), host="127.0.0.1")) as test_client:
        yield test_client
