"""The question set over the demo catalogue: tests/data/course_questions.tsv.

Each line: question, expected course titles (``|`` between acceptable answers, empty when no
course fits), kind. The same format serves an unseen set over another catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.courses import COLUMNS, DEMO_CATALOGUE, CourseRow, CourseView
from storage.sheets import read_sheet

QUESTIONS = Path(__file__).parent / "data" / "course_questions.tsv"


def demo_courses() -> list[CourseView]:
    """The demo catalogue as the index holds it, numbered from 1 in sheet order."""
    rows = [CourseRow.of(row) for row in read_sheet(DEMO_CATALOGUE, COLUMNS)]
    return [
        CourseView(
            number,
            c.title,
            c.provider,
            c.link,
            tuple(c.audiences),
            tuple(c.topics),
            c.format,
            c.length,
            c.description,
        )
        for number, c in enumerate(rows, start=1)
    ]


@dataclass(frozen=True)
class Question:
    line: int
    text: str
    expected: frozenset[str]
    kind: str


def read_questions(path: Path = QUESTIONS) -> Iterator[Question]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        text, expected, kind = (line.split("\t") + ["", ""])[:3]
        titles = frozenset(t.strip() for t in expected.split("|") if t.strip())
        yield Question(number, text.strip(), titles, kind.strip())
