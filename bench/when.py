"""Time the parser over the test corpus: mean and p99 per expression, in microseconds.

Run from the repository root: `python bench/when.py [rounds]`. Prints figures, asserts nothing.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler.clock import STOCKHOLM  # noqa: E402
from scheduler.when import WhenError, parse  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "when_corpus.tsv"
NOWS = {
    "A": datetime(2026, 11, 23, 10, 0, tzinfo=STOCKHOLM),
    "Y": datetime(2026, 12, 30, 15, 0, tzinfo=STOCKHOLM),
    "S": datetime(2027, 3, 27, 12, 0, tzinfo=STOCKHOLM),
    "F": datetime(2027, 10, 30, 12, 0, tzinfo=STOCKHOLM),
    "M": datetime(2027, 5, 3, 8, 0, tzinfo=STOCKHOLM),
}


def load() -> list[tuple[str, datetime]]:
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            now, text = line.split("\t")[:2]
            rows.append((text, NOWS[now]))
    return rows


def parse_once(text: str, now: datetime) -> None:
    # Refusals are answers too, and cost the same to reach.
    with contextlib.suppress(WhenError):
        parse(text, now)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rows = load()
    for text, now in rows:  # warm caches (holiday tables, regexes) as a running bot would
        parse_once(text, now)
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for text, now in rows:
            started = clock()
            parse_once(text, now)
            samples.append((clock() - started) / 1000)
    samples.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"expressions: {len(rows)}, rounds: {rounds}, parses: {len(samples)}")
    print(f"mean: {statistics.fmean(samples):.1f} µs")
    print(f"median: {statistics.median(samples):.1f} µs")
    print(f"p99: {p99:.1f} µs")
    print(f"max: {samples[-1]:.1f} µs")


if __name__ == "__main__":
    main()
