"""Questions that may be about courses and people at once: "något om demens?".

Asked after the capabilities that recognise their own commands and before the course capability:
explicit people questions ("vem kan ...") are the competence bank's, explicit course questions
("kurs om ...", "lista kurser", sheets, "Visa fler") stay with the course capability. The rest
is searched in both catalogues at once and answered courses first, then people.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from botbuilder.dialogs import Dialog

from dialogs.contacts import CompetenceBank, is_people_question, reply_with_contacts
from dialogs.turn import HelpEntry, Turn
from storage import language
from storage.contacts import ContactAnswer
from storage.municipalities import extract_municipality

logger = logging.getLogger(__name__)

SHOWN = 3


class Texts:
    NONE = "Jag hittade varken någon kurs eller någon kollega om ”{q}”."
    NONE_HINT = "Prova ett annat eller kortare ord, till exempel ”demens”, ”sårvård” eller ”KOL”."


class CourseFinder(Protocol):
    """What dialogs/courses.py's CourseQuestions offers for combined answers."""

    def find(self, text: str, limit: int = ..., offset: int = ...) -> Sequence[Any]: ...

    def render(
        self, question: str, hits: Sequence[Any], *, offset: int = 0, more: bool = False
    ) -> tuple[dict[str, Any], str]: ...

    def record_unanswered(self, question: str, now: datetime) -> None: ...


_COURSE_WORDS = re.compile(
    r"\b(?:kurs\w*|utbildning\w*|webbutbildning\w*|föreläsning\w*|webbinari\w*|e-learning|"
    r"lära mig|lista|obesvarade)\b"
)
# Words that make a message a question about a topic, so a miss deserves a "found nothing".
_ASKS_ABOUT = re.compile(r"\?|\b(?:om|kring|inom|angående|gällande|något|nåt|info|tips)\b")


def asks_for_course(text: str) -> bool:
    return bool(language.analyze(text).soft) or bool(_COURSE_WORDS.search(text.lower()))


class Questions:
    name = "questions"
    help: Sequence[HelpEntry] = ()  # the course and competence-bank entries cover it

    def __init__(self, courses: CourseFinder, bank: CompetenceBank) -> None:
        self._courses = courses
        self._bank = bank

    def dialogs(self) -> Sequence[Dialog]:
        return ()

    async def handle(self, turn: Turn) -> bool:
        if turn.value is not None or turn.attachments:
            return False
        text = turn.text.strip()
        if not text or asks_for_course(text) or is_people_question(text):
            return False
        _, topic = extract_municipality(text)
        query = language.analyze(topic)
        if query.is_empty:
            return False
        courses, people = await asyncio.gather(
            asyncio.to_thread(self._courses.find, topic, SHOWN + 1),
            self._bank.find(turn),
        )
        found_people = people is not None and people.found
        logger.debug("combined question: %d courses, people %s", len(courses), found_people)
        if courses:
            card, fallback = self._courses.render(
                topic, list(courses[:SHOWN]), more=len(courses) > SHOWN
            )
            await turn.reply_card(card, fallback)
        if found_people:
            assert isinstance(people, ContactAnswer)
            await reply_with_contacts(turn, people)
        if courses or found_people:
            return True
        if not _ASKS_ABOUT.search(text.lower()):
            return False  # not obviously a question: the bot's "didn't understand" helps more
        asked = " ".join(term.surface for term in query.terms) or topic
        # A situation in everyday words is what coordinators can teach: kept for them (masked).
        await asyncio.to_thread(self._courses.record_unanswered, text, turn.now)
        await turn.reply(f"{Texts.NONE.format(q=_quote(asked))} {Texts.NONE_HINT}")
        return True


def _quote(text: str) -> str:
    clean = " ".join(text.split()).strip(" ?!.")
    return clean[:80] + ("…" if len(clean) > 80 else "")
