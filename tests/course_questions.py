"""The question set over the demo catalogue: tests/data/course_questions.tsv.

Each line: question, expected course titles (``|`` between acceptable answers, empty when no
course fits), kind. The same format serves an unseen set over another catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

QUESTIONS = Path(__file__).parent / "data" / "course_questions.tsv"


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
