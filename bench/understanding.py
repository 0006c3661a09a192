"""Understanding: the frozen question and conversation sets through the composed bot over HTTP.

    PYTHONPATH=. python bench/understanding.py [--half tune|heldout|both] [--data DIR]
                                              [--show-heldout]

Prints, per half, top-1 and top-3 for course and contact questions, how often a question without
an answer was answered as such, conversations and turns right, routes as expected; p50/p99 answer
latency per kind; people without consent shown (must be 0); and the tune half's failures.

Held-out failures are counted, never listed, so nobody tunes to them. ``--show-heldout`` lists
them too: for the final report of issue 13 only, after all tuning is done.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.understanding_harness import DATA, HALVES, frozen_problems, report, run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=[*HALVES, "both"], default="both")
    parser.add_argument("--data", type=Path, default=DATA, help="directory of the sets")
    parser.add_argument(
        "--show-heldout",
        action="store_true",
        help="also list held-out failures (final report only: never tune to them)",
    )
    args = parser.parse_args()
    halves = HALVES if args.half == "both" else (args.half,)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"understanding sets: {args.data}  commit {commit or '?'}")
    for problem in frozen_problems(args.data):
        print(f"WARNING: {problem}")
    started = time.perf_counter()
    results = asyncio.run(run(halves, args.data))
    print(report(results, show_heldout=args.show_heldout))
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
