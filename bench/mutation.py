"""Mutation scores of the modules that hold rules (issue 18 item 3). A bench script, not CI.

    PYTHONPATH=. python bench/mutation.py [--only polls] [--postgresql] [--keep] [--commit REV]
                                          [--minutes M]
    PYTHONPATH=. python bench/mutation.py --report /tmp/mutation-polls-...   # a kept copy

For each target below, the tracked files (`git ls-files`: as in this worktree, or as in
`--commit REV`) are copied to a temporary directory, a `[tool.mutmut]` section naming that
target's files and tests is appended to the copy's pyproject.toml (the repository's stays
clean), and mutmut runs there under `nice -n 19` with one worker. Then the score per file is
printed: killed / total (a timeout counts as killed, a mutant no selected test reaches counts as not
killed), and every survivor with file:line, the function and the mutation. Survivors judged not
to matter (equivalent mutants, texts only a log reads) are listed in EXPLAINED with the reason
and marked as such; docs/MUTATION.md keeps the figures.

Why mutmut and not a mutator of our own: mutmut forks per mutant from a process that has already
imported everything and run the tests once, and runs only the tests that reached the mutated
function, so a mutant costs the few tests that concern it (about a second here) rather than a
fresh interpreter and import (10-20 s on this shared machine). What it does not mutate:
module-level code and class bodies (constants, column definitions) and functions with a
decorator other than staticmethod/classmethod (properties).

By default the tests run on SQLite only (`-k "not postgresql"`): each mutant's pytest session
would start its own PostgreSQL server, several seconds each. `--postgresql` includes them; code
that runs only on PostgreSQL (advisory locks) is reached only then.

`--minutes M` stops each module after M minutes (Ctrl-C to mutmut, which keeps its results). mutmut
tries the mutants with the cheapest tests first, so the unchecked rest are the costly ones; the
score is then killed / checked and the headline says how many were left.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Not product code: everything else at the top of the tree is copied into mutmut's mutants/.
NOT_SOURCE = {"tests", "bench", "docs"}


@dataclass(frozen=True)
class Target:
    name: str
    files: tuple[str, ...]  # those that do not exist (yet) are left out, and said so
    tests: tuple[str, ...]  # test files or node ids; storage-level, seconds not minutes


TARGETS = (
    Target(
        "reminders",
        # Storage, its rows, the deadlines, the PostgreSQL liveness/leader locks.
        (
            "storage/reminders.py",
            "storage/deliveries.py",
            "storage/group_reminders.py",
            "storage/reminder_rows.py",
            "storage/deadlines.py",
            "storage/locks.py",
        ),
        (
            "tests/test_reminders_storage.py",
            "tests/test_reminders_rules.py",
            "tests/test_boundaries.py",
        ),
    ),
    Target(
        "timing",
        # Every Stockholm wall-time rule: recurrences, nudge and snooze times, poll deadlines.
        ("scheduler/timing.py",),
        ("tests/test_timing.py", "tests/test_reminders_rules.py", "tests/test_boundaries.py"),
    ),
    Target(
        "polls",
        ("storage/polls.py",),
        (
            "tests/test_boundaries.py",
            "tests/test_polls_storage.py",
            "tests/test_polls_concurrency.py::test_repository_counts_parallel_and_repeated_submits_once",
            "tests/test_polls.py::test_ranking_ties_go_to_the_earlier_slot_and_old_polls_are_forgotten",
        ),
    ),
    Target(
        "contacts",
        ("storage/contacts.py", "storage/contact_search.py", "storage/contact_sheets.py"),
        (
            "tests/test_contacts_storage.py",
            *(
                f"tests/test_contacts.py::{name}"
                for name in (
                    "test_save_and_read_back",
                    "test_split_competences",
                    "test_import_export_round_trip",
                    "test_reimport_updates_by_email",
                    "test_bad_sheet_is_refused_whole_with_row_numbers",
                    "test_missing_consent_column_is_refused",
                    "test_replacing_import_erases_the_rest_and_logs_no_names",
                    "test_only_consenting_people_are_found_or_counted",
                    "test_erase_removes_from_index_at_once",
                    "test_withdrawn_consent_leaves_the_index_at_once",
                    "test_changes_by_another_process_are_noticed",
                    "test_none_in_the_municipality_offers_others_marked",
                    "test_import_report_for_the_cli",
                    "test_storage_on_sqlite_and_postgresql",
                )
            ),
        ),
    ),
    Target(
        "sheets",
        ("storage/sheets.py",),
        (
            "tests/test_sheets.py",
            "tests/test_courses.py::test_export_and_import_round_trip_without_loss",
            "tests/test_courses.py::test_bad_sheet_reports_every_problem_and_changes_nothing",
            "tests/test_courses.py::test_duplicate_rows_and_missing_columns_are_reported",
            "tests/test_courses.py::test_csv_as_excel_writes_it",
            "tests/test_courses.py::test_xlsx_with_columns_in_any_order",
        ),
    ),
    Target(
        "authorization and routing",
        # Who may manage a group's things, and the routing table with its conditions: the
        # composed bot over HTTP (each mutant runs the tests that reach it: minutes, not seconds).
        ("dialogs/routes.py", "dialogs/access.py"),
        (
            "tests/test_access.py",
            "tests/test_routes_table.py",
            "tests/test_routing.py",
            "tests/test_refusals.py",
        ),
    ),
    Target(
        "group lookup",
        # dialogs/access.py alone with its fast tests (a minute): the lookup of a group by the
        # name a person writes, and may_manage on real Turns.
        ("dialogs/access.py",),
        ("tests/test_access.py", "tests/test_routes_table.py"),
    ),
)

# Loaded into every pytest run of a mutant (`-p`): an SQLite test database is a copy of one
# migrated once per process instead of a fresh Alembic run (0.01 s instead of 0.3-0.5 s per test;
# most of a mutant's cost). The schema is the same; PostgreSQL still migrates.
FAST_SQLITE = """
import shutil
import tempfile
from pathlib import Path

import storage.db

_migrate = storage.db.migrate
_template = []


def migrate(engine):
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return _migrate(engine)
    target = Path(database)
    if target.exists() and target.stat().st_size:
        return _migrate(engine)
    if not _template:
        path = Path(tempfile.mkdtemp(prefix="template-db-", dir=Path.cwd())) / "template.db"
        template = storage.db.make_engine(f"sqlite:///{path}")
        _migrate(template)
        template.dispose()
        _template.append(path)
    engine.dispose()
    shutil.copyfile(_template[0], target)


storage.db.migrate = migrate
"""

# Lines mutmut should leave alone: what only a log reads.
DO_NOT_MUTATE = (r"\blogger\.", r"\blogging\.")


@dataclass(frozen=True)
class Explained:
    """A survivor that does not matter: matched by file, function and the mutated line."""

    file: str
    function: str
    mutated: str  # a substring of the mutant's changed line(s)
    reason: str
    original: str = ""  # a substring of the original line(s), where the mutant alone is vague


def _same(file: str, function: str, reason: str, *mutated: str) -> tuple[Explained, ...]:
    return tuple(Explained(file, function, m, reason) for m in mutated)


SPEED_ONLY = "read_only changes only openpyxl's speed and memory, not what is read"
SAME_CODEC = "the same codec or the default value, spelled differently"
EXPLAINED: tuple[Explained, ...] = (
    *_same(
        "storage/sheets.py",
        "header_of",
        SPEED_ONLY,
        "read_only=False",
        "read_only=None",
        "load_workbook(io.BytesIO(data), )",
    ),
    *_same(
        "storage/sheets.py",
        "_xlsx_table",
        SPEED_ONLY,
        "read_only=False,",
        "read_only=None,",
        "load_workbook(io.BytesIO(data), data_only=True)",
    ),
    *_same(
        "storage/sheets.py",
        "header_of",
        "normalise_header removes a byte order mark anyway; [0] of a split is the same for any"
        " maxsplit; a header row is never 2,000 bytes long",
        'lstrip("XX\\ufeffXX")',
        ".lstrip(None)",
        '.rstrip("\\ufeff")',
        'split("\\n", )',
        'split("\\n", 2)',
        "data[:2001]",
        'decode("UTF-8"',
    ),
    Explained("storage/sheets.py", "header_of", 'decode(errors="replace")', SAME_CODEC),
    Explained(
        "dialogs/access.py",
        "group_named",
        "closest_names, name, tenant_id, )",
        "closest_names' default limit is 5, the same as NAMES_OFFERED",
    ),
    Explained(
        "dialogs/access.py",
        "stripped_group_name",
        "(?:ARBETS)?GRUPPEN",
        "the pattern is matched case-insensitively (re.I), so its own case changes nothing",
    ),
    *_same(
        "storage/polls.py",
        "PollRepository.booked_meetings",
        "SQLAlchemy joins on the one foreign key by itself",
        ".join(Poll, )",
        ".join(Poll, None)",
    ),
    *(
        Explained(
            "storage/polls.py",
            "PollRepository.booked_meetings",
            "(removed)",
            "a cancelled poll's meeting is always cancelled too (cancel() sets both), so each"
            " of the two guards alone excludes it",
            original,
        )
        for original in ("Poll.status == BOOKED,", "Meeting.cancelled_at.is_(None),")
    ),
    *(
        Explained(
            "storage/locks.py",
            function,
            "",
            "runs only on PostgreSQL (advisory locks): measured with --postgresql, tested by"
            " test_reminders_storage.py and test_several_processes.py there",
        )
        for function in (
            "Liveness.__init__",
            "Liveness._key",
            "Liveness.hold",
            "Liveness.release",
            "Liveness.is_gone",
            "LeaderLock.__init__",
            "LeaderLock.try_acquire",
            "LeaderLock.release",
        )
    ),
    Explained(
        "storage/sheets.py",
        "_xlsx_table",
        "Problem(None, None,",
        "row 0 and no row both mean the file as a whole: the same text",
    ),
    Explained(
        "scheduler/timing.py",
        "next_occurrence",
        'XX\\nXX".join(',
        "after DTSTART is dropped, the rules we store are one line: nothing to join",
    ),
    *_same(
        "scheduler/timing.py",
        "default_poll_deadline",
        "one day further back only finds a 17.00 already before now, which is never taken",
        "timedelta(days=2)",
        "day >= local_day(now)",
    ),
    *_same(
        "scheduler/timing.py",
        "deadline_nudges",
        "without a time of its own the deadline's end only bounds nudge times (on or before its"
        " day) and a now on its day: any end after the day's last minute gives the same",
        "at_hour(day + timedelta(days=1), 1)",
        "at_hour(day + timedelta(days=2), 0)",
    ),
    Explained(
        "dialogs/routes.py",
        "Routes.dispatch_action",
        'turn.action or "XXXX"',
        'no route has the key "" either: a submit without an action finds none in both',
    ),
    Explained(
        "storage/locks.py",
        "new_lease_owner",
        "gethostname()[:31]",
        "this machine's host name is shorter than 30 characters",
    ),
    *_same(
        "storage/contacts.py",
        "footprint_counts",
        "every table FOOTPRINT_TABLES names is installed in this build: the guard is for a"
        " capability left out",
        "if table is None and user_column not in table.c:",
        "break",
    ),
    *_same(
        "storage/sheets.py",
        "_csv_table",
        SAME_CODEC,
        'decode("utf-8", )',
        'decode(errors="strict")',
        'decode("UTF-8"',
    ),
    *_same(
        "storage/sheets.py",
        "write_sheet",
        SAME_CODEC + " (csv's default quoting; StringIO translates no newline on Linux)",
        'encode("UTF-8")',
        'lineterminator="\\r\\n", )',
        "io.StringIO(newline=None)",
    ),
)

KILLED = {1, 3, 36, 24, -24, 152, 255}  # failed tests, a pytest error, a timeout
STATUS = {0: "survived", 33: "no tests", 5: "no tests", None: "not checked", 34: "skipped"}


@dataclass(frozen=True)
class Survivor:
    file: str
    line: int
    function: str
    before: str
    after: str
    status: str
    why: str | None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", action="append", default=[], help="a target name (repeatable)")
    parser.add_argument("--postgresql", action="store_true", help="also the PostgreSQL runs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies")
    parser.add_argument("--commit", help="measure this commit's tree (default: the worktree)")
    parser.add_argument(
        "--minutes", type=float, help="stop each module after this long; the rest is not checked"
    )
    parser.add_argument(
        "--report", nargs="+", metavar="DIR", help="only report kept copies (from --keep)"
    )
    args = parser.parse_args()
    if args.report:
        for work in map(Path, args.report):
            config = tomllib.loads((work / "pyproject.toml").read_text(encoding="utf-8"))
            print(f"\n== {work}")
            for file in config["tool"]["mutmut"]["only_mutate"]:
                _report(work, file, 0)
        return
    mutmut = shutil.which("mutmut") or str(Path(sys.executable).parent / "mutmut")
    commit = _git("rev-parse", "--short", args.commit or "HEAD").strip()
    changes = not args.commit and _git("status", "--porcelain", "--untracked-files=no")
    dirty = " (with uncommitted changes)" if changes else ""
    databases = "SQLite and PostgreSQL" if args.postgresql else "SQLite"
    print(f"mutation scores at {commit}{dirty}, tests on {databases}")
    wanted = [t for t in TARGETS if not args.only or t.name in args.only]
    summary: list[str] = []
    for target in wanted:
        work = Path(tempfile.mkdtemp(prefix=f"mutation-{target.name.split()[0]}-"))
        try:
            _copy_tree(work, args.commit)
            files = [f for f in target.files if (work / f).exists()]
            tests = [t for t in target.tests if (work / t.split("::")[0]).exists()]
            missing = [f for f in target.files if f not in files]
            print(f"\n== {target.name}: {', '.join(files) or 'no file yet'}")
            if missing:
                print(f"   not there (yet), left out: {', '.join(missing)}")
            if not files or not tests:
                reason = "no module" if not files else "no test file"
                print(f"   skipped: {reason} ({', '.join(target.files)})")
                summary.append(f"{target.name}: skipped ({reason})")
                continue
            print(f"   tests: {' '.join(tests)}")
            started = time.monotonic()
            log = _run(mutmut, work, files, tests, args.postgresql, args.minutes)
            seconds = time.monotonic() - started
            for file in files:
                line = _report(work, file, seconds)
                summary.append(line)
            print(f"   ({seconds / 60:.1f} min; mutmut's log: {log if args.keep else 'removed'})")
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    print("\n== summary")
    for line in summary:
        print(f"   {line}")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def _copy_tree(work: Path, commit: str | None) -> None:
    """The tracked files, as in the worktree or as in ``commit``."""
    if commit:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
        return
    for name in _git("ls-files", "-z").split("\0"):
        if name and (ROOT / name).is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, work / name)


def _source_paths(work: Path) -> list[str]:
    """The top-level modules and packages the tests may import (bot.py, storage/, host/, ...)."""
    return sorted(
        path.name
        for path in work.iterdir()
        if path.name not in NOT_SOURCE
        and ((path.is_file() and path.suffix == ".py") or (path / "__init__.py").exists())
    )


def _run(
    mutmut: str,
    work: Path,
    files: list[str],
    tests: list[str],
    postgresql: bool,
    minutes: float | None,
) -> Path:
    selection = [*tests] if postgresql else [*tests, "-k", "not postgresql"]
    # mutmut puts mutants/ first on sys.path, before pytest reads its own settings.
    (work / "mutants").mkdir()
    (work / "mutants" / "mutation_fast_sqlite.py").write_text(FAST_SQLITE, encoding="utf-8")
    config = {
        "source_paths": _source_paths(work),
        "only_mutate": files,
        "pytest_add_cli_args": ["-p", "mutation_fast_sqlite"],
        "pytest_add_cli_args_test_selection": selection,
        "do_not_mutate_patterns": list(DO_NOT_MUTATE),
        "use_git_change_detection": False,
    }
    with open(work / "pyproject.toml", "a", encoding="utf-8") as out:
        out.write("\n[tool.mutmut]\n")
        for key, value in config.items():
            out.write(f"{key} = {json.dumps(value, ensure_ascii=False)}\n")
    log = work / "mutmut.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.Popen(
            ["nice", "-n", "19", mutmut, "run", "--max-children", "1"],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # A job started in the background inherits an ignored SIGINT, and then Python
            # never raises KeyboardInterrupt: the budget below would not stop mutmut.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            done.wait(timeout=minutes * 60 if minutes else None)
        except subprocess.TimeoutExpired:
            # mutmut stops its worker on Ctrl-C and keeps every result it has.
            done.send_signal(signal.SIGINT)
            done.wait()
            return log
    if done.returncode == -signal.SIGTERM:
        return log  # stopped by hand: report what was checked
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
        print("\n".join(line for line in tail.splitlines()[-30:] if line.strip()))
        raise SystemExit(f"mutmut failed ({done.returncode}); its log: {log}")
    return log


def _report(work: Path, file: str, seconds: float) -> str:
    meta = json.loads((work / "mutants" / f"{file}.meta").read_text(encoding="utf-8"))
    spans = json.loads((work / "mutants" / f"{file}.spans").read_text(encoding="utf-8"))["spans"]
    mutated_lines = (work / "mutants" / file).read_text(encoding="utf-8").splitlines()
    source = (work / file).read_text(encoding="utf-8")
    functions = _function_lines(source)
    codes: dict[str, int | None] = meta["exit_code_by_key"]
    total = len(codes)
    killed = sum(1 for code in codes.values() if code in KILLED)
    survivors: list[Survivor] = []
    for key, code in codes.items():
        if code in KILLED or code is None:
            continue
        mangled = key.rsplit(".", 1)[1]
        base = mangled.rsplit("__mutmut_", 1)[0]
        function = base.removeprefix("x_").removeprefix("xǁ").replace("ǁ", ".")
        orig = _span(mutated_lines, spans.get(f"{base}__mutmut_orig"))
        mutant = _span(mutated_lines, spans.get(mangled))
        line, before, after = _difference(orig, mutant, source, functions.get(function))
        status = STATUS.get(code, f"exit {code}")
        why = next(
            (
                e.reason
                for e in EXPLAINED
                if e.file == file
                and e.function == function
                and e.mutated in after
                and e.original in before
            ),
            None,
        )
        survivors.append(Survivor(file, line, function, before, after, status, why))
    survivors.sort(key=lambda s: (s.line, s.after))
    explained = sum(1 for s in survivors if s.why)
    untested = sum(1 for s in survivors if s.status == "no tests")
    unchecked = sum(1 for code in codes.values() if code is None)
    checked = total - unchecked
    score = 100 * killed / checked if checked else 100.0
    headline = (
        f"{file}: {killed} killed / {checked} = {score:.1f} %"
        f" ({len(survivors) - untested} survived, {untested} reached by no selected test,"
        f" {explained} of those explained"
        + (f"; {unchecked} of {total} not checked: time budget)" if unchecked else ")")
    )
    print(f"   {headline}")
    for s in survivors:
        print(f"   {s.file}:{s.line} {s.function} [{s.status}]")
        print(f"       - {s.before}")
        print(f"       + {s.after}")
        if s.why:
            print(f"       explained: {s.why}")
    return headline


def _span(lines: list[str], span: list[int] | None) -> list[str]:
    if span is None:
        return []
    start, end = span
    return lines[start - 1 : end]


def _function_lines(source: str) -> dict[str, tuple[int, int]]:
    """'Class.method' or 'function' -> (first, last) line in the original file."""
    found: dict[str, tuple[int, int]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = (node.lineno, node.end_lineno or node.lineno)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[f"{node.name}.{item.name}"] = (item.lineno, item.end_lineno or 0)
    return found


def _difference(
    orig: list[str], mutant: list[str], source: str, where: tuple[int, int] | None
) -> tuple[int, str, str]:
    """(line in the original file, the original text, the mutated text) of a mutant."""
    # The generated copies carry their own names on the def line: compare without them.
    clean = [_unnamed(_strip_marker(line)) for line in orig]
    changed = [_unnamed(_strip_marker(line)) for line in mutant]
    matcher = difflib.SequenceMatcher(a=clean, b=changed, autojunk=False)
    ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not ops:
        return (where[0] if where else 0), "(no difference in the body)", ""
    _, a1, a2, b1, b2 = ops[0]
    a2, b2 = ops[-1][2], ops[-1][4]
    before = " ⏎ ".join(line.strip() for line in clean[a1:a2]) or "(nothing)"
    after = " ⏎ ".join(line.strip() for line in changed[b1:b2]) or "(removed)"
    line = 0
    if where:
        first, last = where
        lines = source.splitlines()
        target = clean[a1].strip() if a1 < len(clean) else ""
        line = next(
            (n for n in range(first, last + 1) if lines[n - 1].strip() == target), first + a1
        )
    return line, before, after


def _unnamed(line: str) -> str:
    head, _, rest = line.partition("(")
    if not head.lstrip().startswith(("def x", "async def x")):
        return line
    return head.rsplit(" ", 1)[0] + " " + "(" + rest


def _strip_marker(line: str) -> str:
    return line.replace("# type: ignore # mutmut generated", "").rstrip()


if __name__ == "__main__":
    main()
