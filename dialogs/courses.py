"""Free courses: answer everyday Swedish questions from the catalogue, import sheets, learn gaps.

In a personal chat any question may be a course question; in groups the bot only sees messages
that @mention it. A question with hits is answered here; one without hits is answered ("Jag
hittade ingen kurs ...") and kept as unanswered only when it asks for a course, so other
capabilities and the bot's "didn't understand" still get the rest.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from botbuilder.dialogs import Dialog

from dialogs.buttons import button
from dialogs.contacts import may_see_contacts, reply_with_contacts, taught_contact_answer
from dialogs.reading import Reading, asks_for_course
from dialogs.turn import HelpEntry, Turn
from dialogs.values import card_int, card_text
from storage import language
from storage.courses import CourseCatalogue, CourseView, ImportReport
from storage.search import Hit
from storage.sheets import header_of
from storage.taught import Target, UnansweredQuestions

logger = logging.getLogger(__name__)

MORE = "courses.more"
SHOWN = 3  # courses per answer
LISTED = 10  # courses per page of "lista kurser"
MAX_OFFSET = 10_000  # "visa fler" never pages further than a catalogue holds
MAX_QUESTION = 500
MAX_FILE_BYTES = 5_000_000
FILE_DOWNLOAD = "application/vnd.microsoft.teams.file.download.info"
SHEET_TYPES = frozenset({"csv", "xlsx"})

Fetch = Callable[[str], Awaitable[bytes]]


class Texts:
    HELP_ASK = HelpEntry(
        "Hitta kostnadsfria kurser och föreläsningar", "finns det någon gratis kurs om demens?"
    )
    HELP_BROWSE = HelpEntry("Bläddra bland kurserna", "kurser om diabetes, lista kurser")

    TITLE = "Kostnadsfria kurser om ”{q}”"
    TITLE_ALL = "Alla kurser i katalogen ({count} st)"
    OPEN = "Öppna kursen"
    MORE = "Visa fler"
    FORMAT = "Format"
    LENGTH = "Längd"
    AUDIENCE = "Målgrupp"
    EVERYONE = "alla"
    ROW = "{n}. {title} – {provider}\n   {details}\n   {link}"
    MORE_TEXT = "Det finns {count} till. Skriv ”kurser om {q}” för att se fler."
    MORE_LIST_TEXT = "Det finns {count} till."

    NONE = "Jag hittade ingen kurs om ”{q}”."
    NONE_HINT = (
        "Prova ett annat eller kortare ord, till exempel ”demens”, ”sårvård” eller ”KOL”, "
        "eller skriv ”lista kurser” för att se alla. Frågan sparas (utan ditt namn) så att "
        "samordnarna ser vilka kurser som saknas."
    )
    NO_TOPIC = (
        "Vilket ämne letar du efter? Skriv till exempel ”kurs om demens för undersköterskor” "
        "eller ”lista kurser”."
    )
    UNKNOWN_BUTTON = (
        "Den knappen känner jag inte igen. Fråga gärna igen, till exempel ”kurser om demens”."
    )
    NO_MORE = "Det finns inga fler kurser om ”{q}”."
    NO_SUCH = "Jag visade {count} kurser; skriv till exempel ”den första” eller ”nr 2”."
    PICKED = "Kurs nummer {n}"
    EMPTY = "Kurskatalogen är tom än så länge."

    IMPORT_COORDINATORS_ONLY = "Bara nätverkets samordnare kan läsa in kurslistor."
    IMPORT_FAILED_DOWNLOAD = "Jag kunde inte hämta filen. Försök skicka den igen."
    IMPORT_TOO_BIG = "Filen är för stor (högst 5 MB)."

    IMPORT_OK = "Kurslistan är inläst: {added} nya, {updated} ändrade, {unchanged} oförändrade"
    IMPORT_REMOVED = ", {removed} borttagna"
    IMPORT_MEANING = (
        "Sökning på betydelse: {done} av {total} kurser klara. Resten räknas fram i bakgrunden; "
        "alla kurser går redan att hitta på sina ord."
    )
    IMPORT_BAD = "Inget ändrades. Rätta {count} {problems} i filen och försök igen:"
    PROBLEMS = "fel"
    IMPORT_MORE_PROBLEMS = "… och {count} till."


def describe_import(report: ImportReport, limit: int = 40) -> str:
    """The import report, the same for the CLI and the chat."""
    if report.ok:
        text = Texts.IMPORT_OK.format(
            added=report.added, updated=report.updated, unchanged=report.unchanged
        )
        if report.removed:
            text += Texts.IMPORT_REMOVED.format(removed=report.removed)
        return text + "."
    count = len(report.problems)
    lines = [Texts.IMPORT_BAD.format(count=count, problems=Texts.PROBLEMS)]
    lines += [f"• {problem}" for problem in report.problems[:limit]]
    if count > limit:
        lines.append(Texts.IMPORT_MORE_PROBLEMS.format(count=count - limit))
    return "\n".join(lines)


_REPLACE = re.compile(r"\b(?:ersätt|--replace)\b")


class CourseQuestions:
    """The courses capability: ``handle`` answers; ``find``/``render`` serve combined answers."""

    name = "courses"
    help: Sequence[HelpEntry] = (Texts.HELP_ASK, Texts.HELP_BROWSE)

    def __init__(
        self,
        catalogue: CourseCatalogue,
        fetch: Fetch | None = None,
        *,
        on_imported: Callable[[Sequence[int]], Awaitable[Any]] | None = None,
        taught: UnansweredQuestions | None = None,
    ) -> None:
        self._catalogue = catalogue
        self._fetch = fetch or download
        self._on_imported = on_imported
        self._taught = taught

    def dialogs(self) -> Sequence[Dialog]:
        return ()

    # --- rendering ----------------------------------------------------------------------
    def render(
        self, question: str, hits: Sequence[Hit[CourseView]], *, offset: int = 0, more: bool = False
    ) -> tuple[dict[str, Any], str]:
        """An Adaptive Card and the same content as text, for hits of ``find``."""
        title = Texts.TITLE.format(q=_topic(question))
        courses = [hit.item for hit in hits]
        data = {"action": MORE, "q": question, "offset": offset + len(hits)} if more else None
        return _answer_card(title, courses, offset, data), _answer_text(title, courses, offset)

    # --- handlers (reached through dialogs/routes.py) -----------------------------------------
    async def find(self, turn: Turn, reading: Reading) -> bool:
        """find_course: a question, a follow-up, "lista kurser" or "den andra"."""
        if reading.verb == "list":
            await self._list_all(turn, 0)
            return True
        if reading.verb == "pick":
            return await self._pick(turn, reading.number or 1)
        asked = (
            reading.by in ("rule", "memory")
            or asks_for_course(reading.text)
            or _asks_for_course(reading.text)
            or any(language.is_swedish_word(w) for w in reading.topic.split())
        )
        return await self._answer(turn, reading, asked=asked)

    async def more(self, turn: Turn, reading: Reading) -> None:
        """more_results after a course answer: the next page of the same question."""
        memory = turn.memory
        question = _with_place(memory.query, memory.municipality)
        hits = await asyncio.to_thread(self._search, question, SHOWN + 1, memory.offset, None)
        if not hits:
            await turn.reply(Texts.NO_MORE.format(q=_quote(_topic(question))))
            return
        await self._send_page(turn, question, hits, memory.offset)

    async def more_card(self, turn: Turn, reading: Reading) -> None:
        """The card's "Visa fler" button."""
        await self._more(turn)

    async def import_sheet(self, turn: Turn, reading: Reading) -> bool:
        sheet = _sheet_attachment(turn)
        if sheet is None:
            return False
        return await self._import(turn, sheet)

    def _search(self, question: str, limit: int, offset: int, vector: Any) -> list[Hit[CourseView]]:
        return self._catalogue.search(question, limit, offset)

    async def _answer(self, turn: Turn, reading: Reading, *, asked: bool) -> bool:
        question = _with_place(reading.query, "") if reading.query else reading.text
        if reading.follow_up and reading.municipality is not None:
            question = _with_place(reading.query, reading.municipality.name)
        query = language.analyze(question)
        if query.is_empty:
            if not asked:
                return False
            await turn.reply(Texts.NO_TOPIC)
            return True
        taught = await asyncio.to_thread(self._taught_answer, question)
        hits = await asyncio.to_thread(self._search, question, SHOWN + 1, 0, reading.vector)
        hits = taught_first(hits, taught, SHOWN + 1)
        if taught is not None and taught.contact is not None and may_see_contacts(turn):
            # A coordinator taught that a person answers this: they come first.
            await reply_with_contacts(turn, taught_contact_answer(question, taught.contact))
            if hits:
                await self._send_page(turn, question, hits, 0)
            return True
        if not hits:
            if not asked:
                return False
            await asyncio.to_thread(self.record_unanswered, question, turn.now)
            turn.remember(intent="find_course", query=question, audience=reading.audience_words)
            await turn.reply(f"{Texts.NONE.format(q=_quote(question))}\n\n{Texts.NONE_HINT}")
            return True
        await self._send_page(turn, question, hits, 0)
        return True

    def _taught_answer(self, question: str) -> Target | None:
        return self._taught.answer_for(question) if self._taught is not None else None

    def record_unanswered(self, question: str, now: datetime) -> None:
        """Keeps a question nothing answered for the coordinators (masked). Blocking."""
        if self._taught is not None:
            self._taught.record(question, now)
        else:
            self._catalogue.repository.record_unanswered(question, now)

    async def _pick(self, turn: Turn, n: int) -> bool:
        memory = turn.memory
        shown = {c.id: c for c in await asyncio.to_thread(self._catalogue.courses)}
        ids = list(memory.shown)
        if not 1 <= n <= len(ids) or ids[n - 1] not in shown:
            await turn.reply(Texts.NO_SUCH.format(n=n, count=len(ids)))
            return True
        course = shown[ids[n - 1]]
        title = Texts.PICKED.format(n=n)
        card = _answer_card(title, [course], n - 1, None)
        text = _answer_text(title, [course], n - 1) + "\n\n" + course.description
        await turn.reply_card(card, text)
        return True

    async def _send_page(
        self, turn: Turn, question: str, hits: Sequence[Hit[CourseView]], offset: int
    ) -> None:
        shown = list(hits[:SHOWN])
        more = len(hits) > SHOWN
        turn.remember(
            intent="find_course",
            query=question,
            shown=tuple(hit.item.id for hit in shown),
            offset=offset + len(shown),
            audience=turn.reading.audience_words if turn.reading is not None else "",
        )
        card, text = self.render(question, shown, offset=offset, more=more)
        if more:
            rest = len(await asyncio.to_thread(self._catalogue.search, question, 0, offset))
            text += "\n\n" + Texts.MORE_TEXT.format(count=rest - len(shown), q=_quote(question))
        await turn.reply_card(card, text)

    async def _more(self, turn: Turn) -> None:
        # The button's data is the presser's to write: a page number and a question of ours.
        value = turn.value or {}
        offset = card_int(value.get("offset", 0), low=0, high=MAX_OFFSET)
        listing = value.get("list", False)
        question = card_text(value.get("q", ""), max_length=MAX_QUESTION)
        if offset is None or not isinstance(listing, bool) or question is None:
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        if listing:
            await self._list_all(turn, offset)
            return
        if not question.strip():
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        hits = await asyncio.to_thread(self._catalogue.search, question, SHOWN + 1, offset)
        if not hits:
            await turn.reply(Texts.NO_MORE.format(q=_quote(question)))
            return
        await self._send_page(turn, question, hits, offset)

    async def _list_all(self, turn: Turn, offset: int) -> None:
        courses = await asyncio.to_thread(self._catalogue.courses)
        if not courses:
            await turn.reply(Texts.EMPTY)
            return
        page = courses[offset : offset + LISTED]
        rest = len(courses) - offset - len(page)
        title = Texts.TITLE_ALL.format(count=len(courses))
        more = {"action": MORE, "list": True, "offset": offset + len(page)} if rest > 0 else None
        card = _answer_card(title, page, offset, more)
        text = _answer_text(title, page, offset)
        if rest > 0:
            text += "\n\n" + Texts.MORE_LIST_TEXT.format(count=rest)
        await turn.reply_card(card, text)

    async def _import(self, turn: Turn, sheet: tuple[str, str]) -> bool:
        name, url = sheet
        if not turn.is_personal:
            return False
        if not turn.is_coordinator:
            await turn.reply(Texts.IMPORT_COORDINATORS_ONLY)
            return True
        try:
            data = await self._fetch(url)
        except FileTooBig:
            await turn.reply(Texts.IMPORT_TOO_BIG)
            return True
        except (aiohttp.ClientError, TimeoutError):
            logger.warning("could not download a sheet sent in chat", exc_info=True)
            await turn.reply(Texts.IMPORT_FAILED_DOWNLOAD)
            return True
        if not _is_course_sheet(data, name):
            return False  # another catalogue's sheet (the competence bank's)
        replace = bool(_REPLACE.search(language.normalise(turn.text)))
        report = await asyncio.to_thread(
            self._catalogue.import_bytes, data, name, replace=replace, now=turn.now
        )
        text = describe_import(report)
        vectors = self._catalogue.vectors() if report.ok else None
        if vectors is not None and vectors.pending:
            text += "\n" + Texts.IMPORT_MEANING.format(done=vectors.done, total=vectors.total)
        await turn.reply(text)
        if report.ok and report.added_ids and self._on_imported is not None:
            await self._on_imported(report.added_ids)  # tells those watching these topics
        return True


# --- cards and text ---------------------------------------------------------------------


def _audience(course: CourseView) -> str:
    return ", ".join(course.audiences) or Texts.EVERYONE


def _details(course: CourseView) -> str:
    parts = [p for p in (course.format, course.length) if p]
    parts.append(f"{Texts.AUDIENCE.lower()}: {_audience(course)}")
    return ", ".join(parts)


def _answer_card(
    title: str, courses: Sequence[CourseView], offset: int, more: dict[str, Any] | None
) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True}
    ]
    for n, course in enumerate(courses, start=offset + 1):
        facts = [
            {"title": label, "value": value}
            for label, value in (
                (Texts.FORMAT, course.format),
                (Texts.LENGTH, course.length),
                (Texts.AUDIENCE, _audience(course)),
            )
            if value
        ]
        body.append(
            {
                "type": "Container",
                "separator": True,
                "spacing": "Medium",
                "items": [
                    {
                        "type": "TextBlock",
                        "text": f"{n}. {course.title}",
                        "weight": "Bolder",
                        "wrap": True,
                    },
                    {
                        "type": "TextBlock",
                        "text": course.provider,
                        "isSubtle": True,
                        "spacing": "None",
                        "wrap": True,
                    },
                    {"type": "FactSet", "facts": facts},
                    {
                        "type": "ActionSet",
                        "actions": [
                            {"type": "Action.OpenUrl", "title": Texts.OPEN, "url": course.link}
                        ],
                    },
                ],
            }
        )
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if more:
        card["actions"] = [button(Texts.MORE, **more)]
    return card


def _answer_text(title: str, courses: Sequence[CourseView], offset: int) -> str:
    rows = [
        Texts.ROW.format(n=n, title=c.title, provider=c.provider, details=_details(c), link=c.link)
        for n, c in enumerate(courses, start=offset + 1)
    ]
    return "\n\n".join([title, *rows])


# --- helpers ----------------------------------------------------------------------------


def taught_first(
    hits: Sequence[Hit[CourseView]], taught: Target | None, limit: int
) -> list[Hit[CourseView]]:
    """The course a coordinator taught for questions like this one first, then the rest."""
    if taught is None or taught.course is None:
        return list(hits)
    course = taught.course
    first = Hit(course, max((h.score for h in hits), default=1.0), 1.0, course.id)
    rest = [hit for hit in hits if hit.item.id != course.id]
    return [first, *rest][: limit or None]


def _topic(question: str) -> str:
    """What the question is about, in the user's words ("demens"), for the card's title."""
    surfaces = [term.surface for term in language.analyze(question).terms]
    return " ".join(surfaces) if surfaces else _quote(question)


def _quote(question: str) -> str:
    text = " ".join(question.split()).strip(" ?!.")
    return text[:80] + ("…" if len(text) > 80 else "")


def _with_place(question: str, place: str) -> str:
    return f"{question} i {place}" if place else question


def _asks_for_course(text: str) -> bool:
    """Does the message ask for a course at all (so a miss is worth an answer and a note)?"""
    query = language.analyze(text)
    return bool(query.soft) or bool(
        re.search(r"\b(?:kurs|utbildning|föreläsning|webbinari|lära mig)", text.lower())
    )


def _sheet_attachment(turn: Turn) -> tuple[str, str] | None:
    for attachment in turn.attachments:
        if attachment.content_type != FILE_DOWNLOAD:
            continue
        content = attachment.content if isinstance(attachment.content, dict) else {}
        url = content.get("downloadUrl")
        name = attachment.name or ""
        kind = str(content.get("fileType") or Path(name).suffix.lstrip(".")).lower()
        if isinstance(url, str) and kind in SHEET_TYPES:
            return (name or f"kurser.{kind}", url)
    return None


def _is_course_sheet(data: bytes, name: str) -> bool:
    """A sheet with the course columns, judged from its first row."""
    header = header_of(data, name)
    if header is None:
        return True  # not a workbook: let the import report say so
    return "titel" in header or ("lank" in header and "anordnare" in header)


class FileTooBig(Exception):
    pass


async def download(url: str) -> bytes:
    """A file a user sent in Teams: its downloadUrl is pre-authenticated and short-lived."""
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        response.raise_for_status()
        data = await response.content.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise FileTooBig
    return data
