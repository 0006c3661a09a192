"""Runs the frozen understanding sets (tests/understanding/) through the composed bot over HTTP.

One house on a fresh SQLite file with the demo catalogue, one aiohttp test server, a fake Bot
Connector and a FakeClock at the fixed now of the sets (Wednesday 2 December 2026 09.00 in
Stockholm). Each question and each conversation gets its own conversation id and user, so nothing
one leaves behind is read by the next. The answer is read the way a member would read it:

- the entries shown: course titles and people's names in the order they appear in the reply
  (the Adaptive Cards' text, or the text where no card was sent);
- "no answer": the reply shows no entry and says it found nothing (``FOUND_NOTHING``);
- the route: the ``capability`` field of the bot's one log line per turn;
- reminders: what is stored in the database (subject, due time in Stockholm) after the turn.

bench/understanding.py prints the figures; tests/test_understanding.py asserts floors on the tune
half. Neither ever prints a held-out failure unless asked to for the final report.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot import Settings, build_app, compose
from scheduler.clock import STOCKHOLM
from storage.reminders import Reminder
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.helpers import message

DATA = Path(__file__).with_name("understanding")
DEMO_COURSES = Path(__file__).parent.parent / "storage" / "demo_courses.csv"
DEMO_CONTACTS = Path(__file__).parent.parent / "storage" / "demo_contacts.csv"
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 09.00 in Stockholm
COORDINATOR_AAD = "aad-bench-coordinator"
KINDS = ("course", "contact", "no_course", "no_contact")
HALVES = ("tune", "heldout")

# What a reply that found nothing says (Swedish or English): wide on purpose, the wording is the
# capabilities' to choose; what counts is that it says so and shows no entry.
FOUND_NOTHING = re.compile(
    r"hittade\s+(?:ingen|inget|inga|varken)|hittar\s+(?:ingen|inget|inga|varken)|"
    r"finns\s+(?:ingen|inget|inga)\b|inga\s+(?:kurser|träffar|kollegor|personer)|"
    r"kan\s+inte\s+hitta|could(?:n't| not)\s+find|found\s+no(?:thing)?\b|no\s+(?:courses?|one|"
    r"matches)\b",
    re.IGNORECASE,
)


# --- the sets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    id: str
    split: str
    kind: str
    text: str
    expected: tuple[str, ...]  # empty for no_course / no_contact
    note: str


@dataclass(frozen=True)
class Conversation:
    id: str
    split: str
    chat: str
    role: str
    title: str
    turns: tuple[dict[str, Any], ...]


def _alternatives(value: str) -> tuple[str, ...]:
    value = value.strip()
    if value in ("", "-"):
        return ()
    return tuple(part.strip() for part in value.split(" | ") if part.strip())


def read_questions(data: Path = DATA) -> list[Question]:
    with (data / "questions.tsv").open(encoding="utf-8", newline="") as file:
        rows = csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Question(
                row["id"].strip(),
                row["split"].strip(),
                row["kind"].strip(),
                row["text"].strip(),
                _alternatives(row.get("expected") or ""),
                (row.get("note") or "").strip(),
            )
            for row in rows
            if (row.get("id") or "").strip()
        ]


def read_conversations(data: Path = DATA) -> list[Conversation]:
    items = json.loads((data / "conversations.json").read_text(encoding="utf-8"))
    return [
        Conversation(
            str(item["id"]),
            str(item["split"]),
            str(item.get("chat", "personal")),
            str(item.get("as", "member")),
            str(item.get("title", "")),
            tuple(item["turns"]),
        )
        for item in items
    ]


def frozen_problems(data: Path = DATA) -> list[str]:
    """Files whose sha256 differs from FROZEN.sha256 (empty when the sets are as frozen)."""
    listed = data / "FROZEN.sha256"
    if not listed.is_file():
        return ["FROZEN.sha256 is missing"]
    problems = []
    for line in listed.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        path = data / name.strip().lstrip("*")
        actual = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
        if actual != digest:
            problems.append(f"{path.name} differs from FROZEN.sha256")
    return problems


# --- reading replies ----------------------------------------------------------------------------
def _names(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as file:
        return [row[column].strip() for row in csv.DictReader(file, delimiter=";")]


def _consenting(path: Path) -> tuple[set[str], set[str]]:
    yes, no = set(), set()
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file, delimiter=";"):
            (yes if row["samtycke"].strip().lower() == "ja" else no).add(row["namn"].strip())
    return yes, no


class Catalogue:
    """The demo courses' titles and people's names, to find in a reply in the order shown."""

    def __init__(self) -> None:
        self.courses = set(_names(DEMO_COURSES, "titel"))
        self.people, self.hidden_people = _consenting(DEMO_CONTACTS)
        every = sorted(self.courses | self.people | self.hidden_people, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(name) for name in every), re.IGNORECASE)
        self._canonical = {name.casefold(): name for name in every}

    def shown(self, text: str) -> list[str]:
        found: list[str] = []
        for match in self._pattern.finditer(text):
            name = self._canonical[match.group(0).casefold()]
            if name not in found:
                found.append(name)
        return found


def _card_texts(node: Any) -> Iterator[str]:
    """Every string a member reads on a card, in document order."""
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in ("TextBlock", "TextRun") and isinstance(node.get("text"), str):
            yield node["text"]
        if kind == "FactSet":
            for fact in node.get("facts") or []:
                yield f"{fact.get('title', '')} {fact.get('value', '')}"
            return
        for key in ("body", "items", "columns", "inlines", "card", "actions"):
            if key in node:
                yield from _card_texts(node[key])
        if kind and str(kind).startswith("Action.") and isinstance(node.get("title"), str):
            yield node["title"]
    elif isinstance(node, list):
        for item in node:
            yield from _card_texts(item)


def reply_text(sent: Sequence[Sent]) -> str:
    """What the replies of one turn say, cards read as their text, in the order sent."""
    parts: list[str] = []
    for reply in sent:
        if reply.cards:
            for card in reply.cards:
                parts.extend(_card_texts(card))
        else:
            parts.append(reply.text)
    return "\n".join(parts)


@dataclass
class Answer:
    text: str
    shown: list[str]
    route: str
    seconds: float
    reminders: list[tuple[str, str]]  # (subject, due in Stockholm "YYYY-MM-DD HH:MM") new this turn

    def courses(self, catalogue: Catalogue) -> list[str]:
        return [name for name in self.shown if name in catalogue.courses]

    def people(self, catalogue: Catalogue) -> list[str]:
        return [name for name in self.shown if name not in catalogue.courses]

    @property
    def says_nothing_found(self) -> bool:
        return not self.shown and bool(FOUND_NOTHING.search(self.text))


# --- the run ------------------------------------------------------------------------------------
class _Routes(logging.Handler):
    """Collects the route of each turn from the bot's per-turn log line."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.by_activity: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        capability = getattr(record, "capability", None)
        activity_id = getattr(record, "activity_id", None)
        if capability is not None and activity_id:
            self.by_activity[str(activity_id)] = str(capability)


@contextmanager
def _routes_logged() -> Iterator[_Routes]:
    root = logging.getLogger()
    handler = _Routes()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


class Bench:
    """One composed bot behind one HTTP server; ``ask`` sends a message as a member would."""

    def __init__(self, client: TestClient, connector: FakeConnector, house: Any, routes: _Routes):
        self._client = client
        self._connector = connector
        self._house = house
        self._routes = routes

    async def ask(
        self, text: str, *, conversation: str, user: str, aad: str, group: bool = False
    ) -> Answer:
        activity = message(
            text,
            service_url=self._connector.url,
            conversation=conversation,
            conversation_type="groupChat" if group else "personal",
            user=f"29:{user}",
            name="Bench Användare",
            aad=aad,
            mention_bot=group,
        )
        activity["timestamp"] = NOW.isoformat().replace("+00:00", "Z")
        # Teams knows every member's address; the bot asks the connector for it (self-service).
        self._connector.people[f"29:{user}"] = {
            "aadObjectId": aad,
            "email": f"{user}@natverk.example.se",
        }
        before = len(self._connector.sent)
        last_reminder = self._last_reminder_id()
        started = time.perf_counter()
        response = await self._client.post("/api/messages", json=activity)
        seconds = time.perf_counter() - started
        if response.status >= 300:
            raise RuntimeError(f"the bot answered HTTP {response.status} to {text!r}")
        replies = [
            s
            for s in self._connector.sent[before:]
            if s.conversation_id == conversation and s.method in ("POST", "PUT")
        ]
        text_read = reply_text(replies)
        return Answer(
            text=text_read,
            shown=CATALOGUE.shown(text_read),
            route=self._routes.by_activity.get(activity["id"], "-"),
            seconds=seconds,
            reminders=self._reminders_after(last_reminder),
        )

    def _last_reminder_id(self) -> int:
        with self._house.sessions() as session:
            return max(session.scalars(select(Reminder.id)).all(), default=0)

    def _reminders_after(self, last_id: int) -> list[tuple[str, str]]:
        with self._house.sessions() as session:
            rows = session.scalars(select(Reminder).where(Reminder.id > last_id)).all()
            return [
                (
                    row.text,
                    row.due_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
                    if row.due_at
                    else "-",
                )
                for row in rows
                if row.cancelled_at is None
            ]

    @property
    def invalid_cards(self) -> list[str]:
        return list(self._connector.invalid_cards)


CATALOGUE = Catalogue()


@contextmanager
def _house(directory: Path) -> Iterator[Any]:
    settings = replace(
        Settings(),
        database_url=f"sqlite:///{directory / 'understanding.db'}",
        coordinators=frozenset({COORDINATOR_AAD}),
    )
    house = compose(settings, FakeClock(NOW))
    try:
        yield house
    finally:
        house.engine.dispose()


class running:  # noqa: N801 - used as `async with running() as bench`
    """The composed bot, its HTTP server and a fake Bot Connector, for one run."""

    async def __aenter__(self) -> Bench:
        self._tmp = tempfile.TemporaryDirectory(prefix="natverksboten-understanding-")
        self._house_cm = _house(Path(self._tmp.name))
        house = self._house_cm.__enter__()
        self._routes_cm = _routes_logged()
        routes = self._routes_cm.__enter__()
        self._connector = FakeConnector()
        self._connector_server = TestServer(self._connector.app(), host="127.0.0.1")
        await self._connector_server.start_server()
        self._connector.url = str(self._connector_server.make_url("")).rstrip("/")
        self._client = TestClient(TestServer(build_app(house), host="127.0.0.1"))
        await self._client.start_server()
        return Bench(self._client, self._connector, house, routes)

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._client.close()
            await self._connector_server.close()
        finally:
            self._routes_cm.__exit__(None, None, None)
            self._house_cm.__exit__(None, None, None)
            self._tmp.cleanup()


# --- judging ------------------------------------------------------------------------------------
@dataclass
class QuestionResult:
    question: Question
    answer: Answer
    top1: bool
    top3: bool
    right: bool  # top-1 for course/contact; "said nothing found" for no_* kinds

    def describe(self) -> str:
        q = self.question
        expected = " | ".join(q.expected) or "(inget svar)"
        shown = "; ".join(self.answer.shown[:3]) or _short(self.answer.text)
        return (
            f"{q.id} [{q.kind}{', ' + q.note if q.note else ''}] {q.text!r}\n"
            f"      väntat: {expected}\n      fick:   {shown}  (route {self.answer.route})"
        )


def judge_question(question: Question, answer: Answer) -> QuestionResult:
    if question.kind in ("no_course", "no_contact"):
        ok = answer.says_nothing_found
        return QuestionResult(question, answer, ok, ok, ok)
    shown = answer.courses(CATALOGUE) if question.kind == "course" else answer.people(CATALOGUE)
    top1 = bool(shown) and shown[0] in question.expected
    top3 = any(name in question.expected for name in shown[:3])
    return QuestionResult(question, answer, top1, top3, top1)


@dataclass
class TurnResult:
    text: str
    expect: dict[str, Any]
    answer: Answer
    problems: list[str]

    @property
    def right(self) -> bool:
        return not self.problems


@dataclass
class ConversationResult:
    conversation: Conversation
    turns: list[TurnResult]

    @property
    def right(self) -> bool:
        return all(turn.right for turn in self.turns)

    def describe(self) -> str:
        c = self.conversation
        lines = [f"{c.id} [{c.chat}, {c.role}] {c.title}"]
        for turn in self.turns:
            mark = "ok " if turn.right else "FEL"
            lines.append(f"   {mark} {turn.text!r}  (route {turn.answer.route})")
            for problem in turn.problems:
                lines.append(f"         {problem}")
        return "\n".join(lines)


def judge_turn(text: str, expect: dict[str, Any], answer: Answer) -> TurnResult:
    problems: list[str] = []
    if "intent" in expect and answer.route != expect["intent"]:
        problems.append(f"route {answer.route!r}, väntat {expect['intent']!r}")
    for kind, shown in (
        ("course", answer.courses(CATALOGUE)),
        ("contact", answer.people(CATALOGUE)),
    ):
        if kind in expect:
            wanted = _alternatives(str(expect[kind]))
            if not shown or shown[0] not in wanted:
                got = shown[0] if shown else _short(answer.text)
                problems.append(f"{kind}: fick {got!r}, väntat {' | '.join(wanted)!r}")
    if expect.get("no_answer") and not answer.says_nothing_found:
        problems.append(f"väntat ”hittade inget”, fick {_short(answer.text)!r}")
    if "reminder" in expect:
        wanted_subject = str(expect["reminder"].get("subject", "")).strip().casefold()
        wanted_due = str(expect["reminder"].get("due", "")).strip()
        if not any(
            subject.strip().casefold() == wanted_subject and due == wanted_due
            for subject, due in answer.reminders
        ):
            problems.append(
                f"påminnelse: fick {answer.reminders or 'ingen'}, "
                f"väntat ({wanted_subject!r}, {wanted_due})"
            )
    if "says_any" in expect:
        lowered = answer.text.casefold()
        if not any(str(word).casefold() in lowered for word in expect["says_any"]):
            problems.append(f"svaret nämner inget av {expect['says_any']}: {_short(answer.text)!r}")
    return TurnResult(text, expect, answer, problems)


def _short(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat[:limit] + ("…" if len(flat) > limit else "")


# --- results ------------------------------------------------------------------------------------
@dataclass
class Results:
    questions: list[QuestionResult] = field(default_factory=list)
    conversations: list[ConversationResult] = field(default_factory=list)
    invalid_cards: list[str] = field(default_factory=list)
    hidden_people_shown: list[str] = field(default_factory=list)  # "id: name", privacy breach

    def of(self, half: str, kind: str | None = None) -> list[QuestionResult]:
        return [
            r
            for r in self.questions
            if r.question.split == half and (kind is None or r.question.kind == kind)
        ]

    def conversations_of(self, half: str) -> list[ConversationResult]:
        return [r for r in self.conversations if r.conversation.split == half]

    def figures(self, half: str) -> dict[str, tuple[int, int]]:
        """(right, total) per figure for one half."""
        figures: dict[str, tuple[int, int]] = {}
        for kind in ("course", "contact"):
            results = self.of(half, kind)
            figures[f"{kind} top-1"] = (sum(r.top1 for r in results), len(results))
            figures[f"{kind} top-3"] = (sum(r.top3 for r in results), len(results))
        for kind in ("no_course", "no_contact"):
            results = self.of(half, kind)
            figures[f"{kind} said so"] = (sum(r.right for r in results), len(results))
        conversations = self.conversations_of(half)
        turns = [t for c in conversations for t in c.turns]
        figures["conversations right"] = (sum(c.right for c in conversations), len(conversations))
        figures["turns right"] = (sum(t.right for t in turns), len(turns))
        intents = [t for t in turns if "intent" in t.expect]
        figures["turn routes as expected"] = (
            sum(not _route_wrong(t) for t in intents),
            len(intents),
        )
        # Turns expecting more than a route, judged on that alone (what a member saw, whatever
        # the log line calls the route).
        content = [t for t in turns if set(t.expect) - {"intent"}]
        figures["turn contents right"] = (
            sum(all(p.startswith("route ") for p in t.problems) for t in content),
            len(content),
        )
        return figures

    def latencies(self) -> dict[str, list[float]]:
        """Seconds per answer, by question kind (and "conversation turn"), both halves."""
        by_kind: dict[str, list[float]] = defaultdict(list)
        for r in self.questions:
            by_kind[r.question.kind].append(r.answer.seconds)
        for c in self.conversations:
            by_kind["conversation turn"].extend(t.answer.seconds for t in c.turns)
        return by_kind


def _route_wrong(turn: TurnResult) -> bool:
    return any(p.startswith("route ") for p in turn.problems)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(fraction * 100) - 1]


async def run(
    halves: Iterable[str] = HALVES, data: Path = DATA, *, questions_only: bool = False
) -> Results:
    """Everything in the given halves, through one composed bot over HTTP."""
    wanted = set(halves)
    questions = [q for q in read_questions(data) if q.split in wanted]
    conversations = (
        [] if questions_only else [c for c in read_conversations(data) if c.split in wanted]
    )
    results = Results()
    async with running() as bench:
        # One-time costs (index, language data, a model's first call) are not an answer's latency.
        for warm_up in ("kurs om demens", "vem kan diabetes?"):
            await bench.ask(warm_up, conversation="personal-warm-up", user="warm-up", aad="aad-w")
        for question in questions:
            who = f"bench-{question.id}"
            answer = await bench.ask(
                question.text, conversation=f"personal-{who}", user=who, aad=f"aad-{who}"
            )
            results.questions.append(judge_question(question, answer))
            results.hidden_people_shown += [
                f"{question.id}: {name}" for name in answer.shown if name in CATALOGUE.hidden_people
            ]
        for conversation in conversations:
            who = f"bench-{conversation.id}"
            group = conversation.chat == "group"
            aad = COORDINATOR_AAD if conversation.role == "coordinator" else f"aad-{who}"
            cid = f"{'group' if group else 'personal'}-{who}"
            turns = []
            for turn in conversation.turns:
                answer = await bench.ask(
                    str(turn["text"]), conversation=cid, user=who, aad=aad, group=group
                )
                turns.append(judge_turn(str(turn["text"]), dict(turn.get("expect") or {}), answer))
                results.hidden_people_shown += [
                    f"{conversation.id}: {name}"
                    for name in answer.shown
                    if name in CATALOGUE.hidden_people
                ]
            results.conversations.append(ConversationResult(conversation, turns))
        results.invalid_cards = bench.invalid_cards
    return results


def report(results: Results, *, show_heldout: bool = False) -> str:
    """The figures per half, latencies per kind, and the tune half's failures."""
    lines: list[str] = []
    for half in HALVES:
        figures = results.figures(half)
        if not any(total for _, total in figures.values()):
            continue
        lines.append(f"== {half} ==")
        for name, (right, total) in figures.items():
            share = f"{100 * right / total:5.1f} %" if total else "    – "
            lines.append(f"  {name:<26} {right:>4} / {total:<4} {share}")
    lines.append("== latency per answer (ms, both halves) ==")
    for kind, seconds in results.latencies().items():
        p50, p99 = percentile(seconds, 0.50) * 1000, percentile(seconds, 0.99) * 1000
        lines.append(f"  {kind:<26} p50 {p50:7.1f}   p99 {p99:7.1f}   (n={len(seconds)})")
    lines.append(f"people without consent shown: {len(results.hidden_people_shown)}")
    lines += [f"  {entry}" for entry in results.hidden_people_shown]
    lines.append(f"invalid cards sent: {len(results.invalid_cards)}")
    for half in ("tune", "heldout") if show_heldout else ("tune",):
        failed_q = [r for r in results.of(half) if not r.right]
        failed_c = [r for r in results.conversations_of(half) if not r.right]
        if not failed_q and not failed_c:
            continue
        lines.append(f"== {half}: failures ==")
        lines += [r.describe() for r in failed_q]
        lines += [r.describe() for r in failed_c]
    if not show_heldout:
        lines.append("(held-out failures are counted above, never listed)")
    return "\n".join(lines)
