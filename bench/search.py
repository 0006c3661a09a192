"""Search speed over generated catalogues: python bench/search.py [SIZES...]

Prints index build time and p50/p99 per question for catalogues of 1k, 10k and 100k courses,
made by recombining the demo catalogue's titles, topics, audiences and descriptions with
generated places and series numbers. Targets (issue 5): p99 < 10 ms at 100k, build < 5 s.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import language  # noqa: E402
from storage.courses import COLUMNS, DEMO_CATALOGUE, CourseRow, CourseView, course_index  # noqa: E402
from storage.sheets import read_sheet  # noqa: E402
from tests.course_questions import read_questions  # noqa: E402

PLACES = ["Skaraborg", "Göteborg", "Kungälv", "Borås", "Skövde", "Lidköping", "Mölndal", "Alingsås"]
EXTRA = ["för nyanställda", "fördjupning", "del 2", "repetition", "i hemtjänsten", "på boende"]


def catalogue(size: int, seed: int = 5) -> list[CourseView]:
    rng = random.Random(seed)
    demo = [CourseRow.of(row) for row in read_sheet(DEMO_CATALOGUE, COLUMNS)]
    courses = []
    for number in range(size):
        base, other = rng.choice(demo), rng.choice(demo)
        title = f"{base.title} {rng.choice(EXTRA)} – {rng.choice(PLACES)} {number}"
        topics = tuple(dict.fromkeys(base.topics + rng.sample(other.topics, 1)))
        description = f"{base.description} {rng.choice(other.description.split('.'))}."
        courses.append(
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
            )
        )
    return courses


def main(sizes: list[int]) -> None:
    started = time.perf_counter()
    language.warm_up()
    print(f"language resources loaded in {time.perf_counter() - started:.2f} s")
    questions = [q.text for q in read_questions()]
    for size in sizes:
        courses = catalogue(size)
        started = time.perf_counter()
        index = course_index(courses)
        build = time.perf_counter() - started
        for question in questions:  # first sight of each word: fill the caches
            index.search(question, 3)
        timings = []
        for _ in range(3):
            for question in questions:
                t0 = time.perf_counter()
                index.search(question, 3)
                timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[int(len(timings) * 0.99) - 1]
        print(
            f"{size:>7} courses: build {build:6.2f} s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms"
            f"   max {timings[-1]:6.2f} ms   ({len(timings)} questions)"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
