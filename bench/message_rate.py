"""What the shared message-rate limit costs a turn: python bench/message_rate.py [--rows 200000]

Every activity addressed to the bot is claimed in the ledger (to acknowledge Teams' retries once)
with its sender; the limit (dialogs/limits.py) then counts the sender's and the conversation's
rows of the last minute, whichever process claimed them. On a SQLite file that already holds
--rows claimed activities (a busy day: 1,000 members in 1,000 conversations) it prints, per turn:

- claim: the ledger's claim as the edge makes it (the fast lane on the event loop), p50/p99 µs;
- count: `ActivityLedger.recent` as the guard reads it, p50/p99 µs, for a quiet member and for
  one at the limit (the count stops at the limit, so a flood costs no more);
- the same claim without a sender, for comparison (the two indexes the count reads).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from dialogs.limits import MESSAGES_PER_MINUTE, RATE_WINDOW  # noqa: E402
from storage.conversations import ActivityLedger  # noqa: E402
from storage.db import make_engine, make_sessions, migrate  # noqa: E402
from storage.models import ProcessedActivity  # noqa: E402

CAP = MESSAGES_PER_MINUTE + 2


def micros(timings: list[float]) -> str:
    ordered = sorted(timings)
    p99 = ordered[max(0, round(len(ordered) * 0.99) - 1)]
    return f"p50 {statistics.median(ordered) * 1e6:7.1f} µs  p99 {p99 * 1e6:7.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--turns", type=int, default=2000)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'rate.db'}")
        migrate(engine)
        now = datetime.now(UTC)
        day = timedelta(days=1).total_seconds()
        rows = [
            {
                "conversation_id": f"personal-{n % 1000}",
                "activity_id": f"old-{n}",
                "processed_at": now - timedelta(seconds=day * n / args.rows),
                "sender": f"aad-{n % 1000}",
            }
            for n in range(args.rows)
        ]
        with engine.begin() as connection:
            for start in range(0, len(rows), 10_000):
                connection.execute(insert(ProcessedActivity), rows[start : start + 10_000])
        ledger = ActivityLedger(make_sessions(engine))
        claim, claim_bare, quiet, busy = [], [], [], []
        for turn in range(args.turns):
            at = now + timedelta(milliseconds=turn)
            who = f"aad-{turn % 1000}"
            started = time.perf_counter()
            ledger.claim_without_waiting(f"personal-{turn % 1000}", f"new-{turn}", at, who)
            claim.append(time.perf_counter() - started)
            started = time.perf_counter()
            ledger.claim_without_waiting(f"personal-{turn % 1000}", f"bare-{turn}", at)
            claim_bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            ledger.recent(who, f"personal-{turn % 1000}", at - RATE_WINDOW, CAP)
            quiet.append(time.perf_counter() - started)
            # one member writing all the time: every count reaches the cap
            ledger.claim_without_waiting("personal-flood", f"flood-{turn}", at, "aad-flood")
            started = time.perf_counter()
            ledger.recent("aad-flood", "personal-flood", at - RATE_WINDOW, CAP)
            busy.append(time.perf_counter() - started)
        ledger.close()
        engine.dispose()
    print(f"{args.rows} claimed activities in the ledger, {args.turns} turns")
    print(f"   claim with sender      {micros(claim)}")
    print(f"   claim without sender   {micros(claim_bare)}")
    print(f"   count, quiet member    {micros(quiet)}")
    print(f"   count, member at limit {micros(busy)}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
