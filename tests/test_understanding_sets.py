"""The understanding evaluation sets (tests/understanding/) are well-formed and frozen.

These checks read only the sets and the demo catalogue; they never import the bot, so they say
nothing about how well it understands (bench/understanding.py does). They make sure every expected
answer names a real demo entry, that no expected person lacks consent, and that any change to the
frozen files shows up as a failing test.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT / "tests" / "understanding"
QUESTIONS = SETS / "questions.tsv"
CONVERSATIONS = SETS / "conversations.json"
FROZEN = SETS / "FROZEN.sha256"

NOW = datetime(2026, 12, 2, 9, 0)  # the bench's fixed now, Europe/Stockholm local time
SPLITS = {"tune", "heldout"}
KINDS = {"course", "contact", "no_course", "no_contact"}
INTENTS = {
    "find_course",
    "find_contact",
    "more_results",
    "add_me",
    "show_my_data",
    "change_my_data",
    "erase_me",
    "set_reminder",
    "list_reminders",
    "delete_reminder",
    "set_deadline",
    "deadline_status",
    "watch_courses",
    "manage_group",
    "plan_meeting",
    "unanswered_questions",
    "help",
    "thanks",
    "greeting",
    "about_bot",
    "cancel",
    "answer",
    "unknown",
}
EXPECT_KEYS = {"intent", "course", "contact", "no_answer", "reminder", "says_any"}
MINIMUM = {"course": 75, "contact": 55, "no_course": 30, "no_contact": 20}


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(ROOT / "storage" / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


@pytest.fixture(scope="module")
def titles() -> set[str]:
    return {row["titel"].strip() for row in _read_csv("demo_courses.csv")}


@pytest.fixture(scope="module")
def people() -> dict[str, bool]:
    """Name -> has consented."""
    return {
        row["namn"].strip(): row["samtycke"].strip().lower() == "ja"
        for row in _read_csv("demo_contacts.csv")
    }


@pytest.fixture(scope="module")
def questions() -> list[dict[str, str]]:
    text = QUESTIONS.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "id\tsplit\tkind\ttext\texpected\tnote"
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        assert len(cells) == 6, f"line {number}: {len(cells)} cells, not 6"
        rows.append(dict(zip(lines[0].split("\t"), cells, strict=True)))
    return rows


@pytest.fixture(scope="module")
def conversations() -> list[dict]:
    return json.loads(CONVERSATIONS.read_text(encoding="utf-8"))


def _alternatives(expected: str) -> list[str]:
    return [part.strip() for part in expected.split(" | ")]


def _check_course(title: str, titles: set[str], where: str) -> None:
    for alternative in _alternatives(title):
        assert alternative in titles, f"{where}: no demo course titled {alternative!r}"


def _check_contact(name: str, people: dict[str, bool], where: str) -> None:
    for alternative in _alternatives(name):
        assert alternative in people, f"{where}: no demo person named {alternative!r}"
        assert people[alternative], f"{where}: {alternative!r} has not consented"


def test_questions_follow_the_format(questions, titles, people):
    ids = [row["id"] for row in questions]
    assert len(ids) == len(set(ids)), "question ids repeat"
    for row in questions:
        where = row["id"]
        assert re.fullmatch(r"q\d{3}", row["id"]), where
        assert row["split"] in SPLITS, where
        assert row["kind"] in KINDS, where
        assert row["text"].strip(), f"{where}: empty text"
        if row["kind"] == "course":
            _check_course(row["expected"], titles, where)
        elif row["kind"] == "contact":
            _check_contact(row["expected"], people, where)
        else:
            assert row["expected"] == "-", f"{where}: a no-answer item expects '-'"
    texts = [row["text"].strip().lower() for row in questions]
    assert len(texts) == len(set(texts)), "a question text repeats"


def test_questions_are_enough_and_both_halves_have_every_kind(questions):
    per_kind = Counter(row["kind"] for row in questions)
    for kind, least in MINIMUM.items():
        assert per_kind[kind] >= least, f"{kind}: {per_kind[kind]} < {least}"
    per_half = Counter((row["kind"], row["split"]) for row in questions)
    for kind in KINDS:
        for split in SPLITS:
            assert per_half[(kind, split)] > 0, f"no {kind} item in {split}"


def test_conversations_follow_the_format(conversations, titles, people):
    assert len(conversations) >= 44
    ids = [conversation["id"] for conversation in conversations]
    assert len(ids) == len(set(ids)), "conversation ids repeat"
    assert {c["split"] for c in conversations} == SPLITS
    for conversation in conversations:
        where = conversation["id"]
        assert re.fullmatch(r"c\d{2,3}", where), where
        assert conversation["split"] in SPLITS, where
        assert conversation["chat"] in {"personal", "group"}, where
        assert conversation["as"] in {"member", "coordinator"}, where
        assert conversation["title"].strip(), where
        assert 2 <= len(conversation["turns"]) <= 5, f"{where}: 2–5 turns"
        for number, turn in enumerate(conversation["turns"], start=1):
            here = f"{where} turn {number}"
            assert turn["text"].strip(), here
            expect = turn["expect"]
            assert set(expect) <= EXPECT_KEYS, f"{here}: unknown key {set(expect) - EXPECT_KEYS}"
            assert expect.get("intent") in INTENTS, f"{here}: intent {expect.get('intent')!r}"
            if "course" in expect:
                _check_course(expect["course"], titles, here)
            if "contact" in expect:
                _check_contact(expect["contact"], people, here)
            if "no_answer" in expect:
                assert expect["no_answer"] is True, here
                assert "course" not in expect and "contact" not in expect, here
            if "reminder" in expect:
                reminder = expect["reminder"]
                assert set(reminder) == {"subject", "due"}, here
                assert reminder["subject"].strip(), here
                due = datetime.strptime(reminder["due"], "%Y-%m-%d %H:%M")
                assert due > NOW, f"{here}: due {due} is not after the fixed now"
            if "says_any" in expect:
                assert expect["says_any"], here
                assert all(isinstance(s, str) and s for s in expect["says_any"]), here


def test_frozen_hash_matches():
    expected = {}
    for line in FROZEN.read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        expected[name.lstrip("*")] = digest
    assert set(expected) == {"questions.tsv", "conversations.json"}
    for name, digest in expected.items():
        actual = hashlib.sha256((SETS / name).read_bytes()).hexdigest()
        assert actual == digest, f"{name} changed after it was frozen (see tests/understanding)"
