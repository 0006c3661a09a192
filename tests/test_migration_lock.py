"""Two processes starting at once on an empty PostgreSQL database (issue 14.9): one migrates,
the other waits for it and finds the schema done, instead of dying on a duplicate key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect, text

from storage.db import make_engine

ROOT = Path(__file__).resolve().parent.parent

# A process that has imported everything, says so, and migrates when told to go.
START_UP = """
import sys
from storage.db import make_engine, migrate
engine = make_engine(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
migrate(engine)
print("migrated", flush=True)
"""


def test_two_processes_migrating_an_empty_postgresql_at_once_both_start(pg_url: str) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", START_UP, pg_url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
        for process in processes:  # both go at once
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err[-2000:]
        assert out == "migrated\n"
    engine = make_engine(pg_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar()
            tables = set(inspect(connection).get_table_names())
        assert {"reminder", "processed_activity", "conversation_ref"} <= tables
    finally:
        engine.dispose()
