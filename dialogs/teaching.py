"""Unanswered questions, and coordinators teaching the bot from them (issue 13 item 5).

"obesvarade frågor" shows a coordinator the last 30 days' questions that found nothing, masked
and grouped by meaning. From that card a group is linked to the course or person that answers it
(typed by title or name; a card asks which one when several fit) or marked as not covered.
Linked questions answer similar questions from then on (storage/taught.py). "kopplade frågor"
lists the links, each with a button to undo it. Everything here is for coordinators only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.dialogs import Dialog
from rapidfuzz import fuzz

from dialogs.buttons import button
from dialogs.reading import Reading
from dialogs.turn import HelpEntry, Turn
from dialogs.values import card_id, card_text
from storage.contact_search import ContactDirectory
from storage.contacts import ContactInfo
from storage.courses import CourseCatalogue, CourseView
from storage.taught import LinkView, QuestionGroup, Target, UnansweredQuestions

logger = logging.getLogger(__name__)

LINK = "teaching.link"
NOT_COVERED = "teaching.none"
UNDO = "teaching.undo"
LINKS = "teaching.links"
GAPS = "teaching.gaps"
MAX_IDS = 200  # questions one card button links at most; the rest come back in the next list


class Texts:
    HELP_GAPS = HelpEntry(
        "Se obesvarade frågor och lär mig svaren (samordnare)", "obesvarade frågor"
    )
    GAPS_TITLE = "Obesvarade frågor de senaste 30 dagarna"
    GAPS_INTRO = (
        "Liknande frågor är samlade. Koppla en grupp till kursen eller personen som svarar på "
        "den, så får liknande frågor det svaret först. Personnummer och telefonnummer är dolda."
    )
    GAPS_ROW = "• ”{text}” – {count} {times}"
    GAPS_ALSO = "Också: {wordings}"
    GAPS_NONE = "Inga obesvarade frågor de senaste 30 dagarna."
    GAPS_TEXT_HINT = "Öppna listan i Teams för att koppla frågorna till en kurs eller person."
    ONCE, TIMES = "gång", "gånger"
    TARGET_PLACEHOLDER = "Kursens titel eller personens namn"
    LINK = "Koppla"
    MARK_NOT_COVERED = "Finns inte"
    SHOW_LINKS = "Visa kopplingar"

    COORDINATORS_ONLY = "Det kan bara nätverkets samordnare göra."
    NO_TARGET = "Skriv kursens titel eller personens namn i rutan och tryck på ”Koppla” igen."
    NOT_FOUND = (
        "Jag hittade ingen kurs eller person som heter ”{text}”. Skriv kursens titel eller "
        "personens namn som de står i katalogen."
    )
    WHICH = "Vilken menar du med ”{text}”?"
    COURSE_CHOICE = "Kurs: {title}"
    PERSON_CHOICE = "Person: {name}, {place}"
    ALREADY = "De frågorna är redan kopplade, eller så finns målet inte längre."
    LINKED = (
        "Klart: {count} {questions} kopplade till {target}. "
        "Liknande frågor får nu det svaret först."
    )
    MARKED = (
        "Klart: {count} {questions} markerade som inte täckta av någon kurs eller person. "
        "Liknande frågor visas inte längre i listan."
    )
    QUESTION, QUESTIONS = "fråga", "frågor"
    UNDO = "Ångra"
    UNDONE = "Kopplingen är borttagen: {count} {questions} finns åter bland obesvarade frågor."
    UNDO_GONE = "Den kopplingen finns inte längre."
    LINKS_TITLE = "Kopplade frågor"
    LINKS_NONE = "Inga frågor är kopplade än. Skriv ”obesvarade frågor” för att börja."
    LINK_ROW = "• ”{text}”{more} → {target}"
    LINK_MORE = " (+{count})"
    TARGET_COURSE = "kursen ”{title}”"
    TARGET_PERSON = "{name} ({place})"
    TARGET_NONE = "inte täckt"
    TARGET_GONE = "(finns inte längre)"


class Teaching:
    name = "teaching"
    help: Sequence[HelpEntry] = (Texts.HELP_GAPS,)

    def __init__(
        self,
        questions: UnansweredQuestions,
        courses: CourseCatalogue,
        contacts: ContactDirectory,
    ) -> None:
        self._questions = questions
        self._courses = courses
        self._contacts = contacts

    def dialogs(self) -> Sequence[Dialog]:
        return ()

    # --- handlers (reached through dialogs/routes.py; coordinators only, said there) -----
    async def gaps(self, turn: Turn, reading: Reading) -> None:
        """ "obesvarade frågor" and the card's button back to the list."""
        await self._gaps(turn)

    async def links(self, turn: Turn, reading: Reading) -> None:
        """ "kopplade frågor": what was taught, with buttons to undo."""
        await self._links(turn)

    async def on_action(self, turn: Turn, reading: Reading) -> None:
        """The teaching card's buttons: link, not covered, undo."""
        await self._act(turn, turn.action or "", turn.value or {})

    async def _act(self, turn: Turn, action: str, value: dict[str, Any]) -> None:
        if action == GAPS:
            await self._gaps(turn)
        elif action == LINKS:
            await self._links(turn)
        elif action == UNDO:
            await self._undo(turn, _int(value.get("link")))
        elif action == NOT_COVERED:
            await self._link(turn, _ids(value), None)
        elif action == LINK:
            await self._link_to_typed(turn, value)

    # --- the list -------------------------------------------------------------------------
    async def _gaps(self, turn: Turn) -> None:
        groups = await asyncio.to_thread(self._questions.groups, turn.now)
        if not groups:
            await turn.reply(Texts.GAPS_NONE)
            return
        await turn.reply_card(_gaps_card(groups), _gaps_text(groups))

    async def _links(self, turn: Turn) -> None:
        links = await asyncio.to_thread(self._questions.links)
        if not links:
            await turn.reply(Texts.LINKS_NONE)
            return
        await turn.reply_card(_links_card(links), _links_text(links))

    # --- teaching -------------------------------------------------------------------------
    async def _link_to_typed(self, turn: Turn, value: dict[str, Any]) -> None:
        ids = _ids(value)
        if value.get("course") is not None:
            await self._link(turn, ids, ("course", _int(value.get("course"))))
            return
        if value.get("contact") is not None:
            await self._link(turn, ids, ("contact", _int(value.get("contact"))))
            return
        field = card_text(value.get("field"), max_length=40) or ""
        typed = (
            " ".join((card_text(value.get(field), max_length=300) or "").split()) if field else ""
        )
        if not typed:
            await turn.reply(Texts.NO_TARGET)
            return
        courses, people = await asyncio.to_thread(self._candidates, typed)
        exact_courses = [c for c in courses if c.title.casefold() == typed.casefold()]
        exact_people = [p for p in people if p.name.casefold() == typed.casefold()]
        if len(exact_courses) + len(exact_people) == 1:
            if exact_courses:
                await self._link(turn, ids, ("course", exact_courses[0].id))
            else:
                await self._link(turn, ids, ("contact", exact_people[0].id))
            return
        if not courses and not people:
            await turn.reply(Texts.NOT_FOUND.format(text=_quote(typed)))
            return
        if len(courses) + len(people) == 1:
            target = ("course", courses[0].id) if courses else ("contact", people[0].id)
            await self._link(turn, ids, target)
            return
        card = _which_card(typed, ids, courses, people)
        await turn.reply_card(card, Texts.WHICH.format(text=_quote(typed)))

    def _candidates(self, typed: str) -> tuple[list[CourseView], list[ContactInfo]]:
        """Courses and consenting people the coordinator may have meant, best first."""
        wanted = typed.casefold()
        titles = [c for c in self._courses.courses() if c.title.casefold() == wanted]
        courses = titles or [hit.item for hit in self._courses.search(typed, 3)]
        people = sorted(
            (
                (fuzz.WRatio(wanted, p.name.casefold()), p)
                for p in self._contacts.repository.consenting()
            ),
            key=lambda scored: -scored[0],
        )
        return courses[:3], [p for score, p in people if score >= 85][:3]

    async def _link(self, turn: Turn, ids: list[int], target: tuple[str, int] | None) -> None:
        course_id = target[1] if target and target[0] == "course" else None
        contact_id = target[1] if target and target[0] == "contact" else None
        view = await asyncio.to_thread(
            self._questions.link,
            ids,
            by=turn.user.aad_object_id or turn.user.id,
            now=turn.now,
            course_id=course_id,
            contact_id=contact_id,
        )
        if view is None:
            await turn.reply(Texts.ALREADY)
            return
        count = len(view.questions)
        questions = Texts.QUESTION if count == 1 else Texts.QUESTIONS
        if target is None:
            text = Texts.MARKED.format(count=count, questions=questions)
        else:
            text = Texts.LINKED.format(
                count=count, questions=questions, target=_describe(view.target)
            )
        logger.info("coordinator linked unanswered questions", extra={"status": count})
        await turn.reply_card(_done_card(text, view.id), text)

    async def _undo(self, turn: Turn, link_id: int) -> None:
        view = await asyncio.to_thread(self._questions.undo, link_id)
        if view is None:
            await turn.reply(Texts.UNDO_GONE)
            return
        count = len(view.questions)
        questions = Texts.QUESTION if count == 1 else Texts.QUESTIONS
        await turn.reply(Texts.UNDONE.format(count=count, questions=questions))


# --- cards and text -----------------------------------------------------------------------------
def _card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _title(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "weight": "Bolder", "size": "Medium", "wrap": True}


def _times(count: int) -> str:
    return Texts.ONCE if count == 1 else Texts.TIMES


def _gaps_card(groups: Sequence[QuestionGroup]) -> dict[str, Any]:
    body = [
        _title(Texts.GAPS_TITLE),
        {"type": "TextBlock", "text": Texts.GAPS_INTRO, "wrap": True, "isSubtle": True},
    ]
    for n, group in enumerate(groups, start=1):
        ids = list(group.ids[:MAX_IDS])
        items: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": f"”{group.text}” – {group.count} {_times(group.count)}",
                "weight": "Bolder",
                "wrap": True,
            }
        ]
        if group.wordings:
            also = ", ".join(f"”{w}”" for w in group.wordings)
            items.append(
                {
                    "type": "TextBlock",
                    "text": Texts.GAPS_ALSO.format(wordings=also),
                    "isSubtle": True,
                    "spacing": "None",
                    "wrap": True,
                }
            )
        field = f"target{n}"
        items += [
            {
                "type": "Input.Text",
                "id": field,
                "placeholder": Texts.TARGET_PLACEHOLDER,
                "label": Texts.TARGET_PLACEHOLDER,
                "maxLength": 300,
            },
            {
                "type": "ActionSet",
                "actions": [
                    button(Texts.LINK, LINK, ids=ids, field=field),
                    button(Texts.MARK_NOT_COVERED, NOT_COVERED, ids=ids),
                ],
            },
        ]
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": items})
    return _card(body, [button(Texts.SHOW_LINKS, LINKS)])


def _gaps_text(groups: Sequence[QuestionGroup]) -> str:
    lines = [Texts.GAPS_TITLE]
    lines += [
        Texts.GAPS_ROW.format(text=g.text, count=g.count, times=_times(g.count)) for g in groups
    ]
    lines.append(Texts.GAPS_TEXT_HINT)
    return "\n".join(lines)


def _which_card(
    typed: str, ids: list[int], courses: Sequence[CourseView], people: Sequence[ContactInfo]
) -> dict[str, Any]:
    actions = [
        button(Texts.COURSE_CHOICE.format(title=c.title), LINK, ids=ids, course=c.id)
        for c in courses
    ] + [
        button(
            Texts.PERSON_CHOICE.format(name=p.name, place=p.municipality.name),
            LINK,
            ids=ids,
            contact=p.id,
        )
        for p in people
    ]
    return _card(
        [
            {"type": "TextBlock", "text": Texts.WHICH.format(text=_quote(typed)), "wrap": True},
            {"type": "ActionSet", "actions": actions},
        ]
    )


def _describe(target: Target) -> str:
    if target.course is not None:
        return Texts.TARGET_COURSE.format(title=target.course.title)
    if target.contact is not None:
        return Texts.TARGET_PERSON.format(
            name=target.contact.name, place=target.contact.municipality.name
        )
    return Texts.TARGET_NONE


def _link_line(link: LinkView) -> str:
    first = link.questions[0] if link.questions else ""
    more = Texts.LINK_MORE.format(count=len(link.questions) - 1) if len(link.questions) > 1 else ""
    target = Texts.TARGET_GONE if link.target_gone else _describe(link.target)
    return Texts.LINK_ROW.format(text=first, more=more, target=target)


def _links_card(links: Sequence[LinkView]) -> dict[str, Any]:
    body = [_title(Texts.LINKS_TITLE)]
    for link in links:
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [
                    {"type": "TextBlock", "text": _link_line(link), "wrap": True},
                    {
                        "type": "ActionSet",
                        "actions": [button(Texts.UNDO, UNDO, link=link.id)],
                    },
                ],
            }
        )
    return _card(body)


def _links_text(links: Sequence[LinkView]) -> str:
    return "\n".join([Texts.LINKS_TITLE, *(_link_line(link) for link in links)])


def _done_card(text: str, link_id: int) -> dict[str, Any]:
    return _card(
        [{"type": "TextBlock", "text": text, "wrap": True}],
        [button(Texts.UNDO, UNDO, link=link_id)],
    )


# --- helpers ------------------------------------------------------------------------------------
def _ids(value: dict[str, Any]) -> list[int]:
    raw = value.get("ids")
    if not isinstance(raw, list):
        return []
    return [i for i in (_int(item) for item in raw[:MAX_IDS]) if i > 0]


def _int(value: Any) -> int:
    """A row id from card data, or 0 (never a bool, float, infinity or a number past our ids)."""
    return card_id(value) or 0


def _quote(text: str) -> str:
    clean = " ".join(text.split()).strip(" ?!.")
    return clean[:80] + ("…" if len(clean) > 80 else "")
