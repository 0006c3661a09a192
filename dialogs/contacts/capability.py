"""The competence bank's handlers: find people, more and pick, self-service, erasure by others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from botbuilder.dialogs import Dialog

from dialogs.contacts.answers import SHOWN, no_match_text, reply_with_contacts, with_taught_contact
from dialogs.contacts.self_service import (
    ADD_ME,
    ERASE_ME,
    AddMeDialog,
    EraseMeDialog,
    describe_mine,
    dialog_options,
)
from dialogs.contacts.texts import Texts
from dialogs.reading import Reading
from dialogs.turn import HelpEntry, Turn
from edge.identity import Identities
from scheduler.clock import Clock
from storage.contact_search import ContactAnswer, ContactDirectory
from storage.contacts import ErasedBy, is_email, normalise_email
from storage.municipalities import extract_municipality
from storage.taught import UnansweredQuestions

logger = logging.getLogger(__name__)


def may_see_contacts(turn: Turn) -> bool:
    """Members only: the tenant allow-list is checked on HTTP; here, no tenant means no answer."""
    return not (turn.channel_id == "msteams" and turn.tenant_id is None)


# --- the capability --------------------------------------------------------------------------
class CompetenceBank:
    name = "contacts"
    help: Sequence[HelpEntry] = (Texts.HELP_FIND, Texts.HELP_ADD, Texts.HELP_MINE)

    def __init__(
        self,
        directory: ContactDirectory,
        clock: Clock,
        taught: UnansweredQuestions | None = None,
        *,
        identities: Identities | None = None,
    ) -> None:
        self._directory = directory
        self._clock = clock
        self._taught = taught
        self._identities = identities or Identities(clock)

    def dialogs(self) -> Sequence[Dialog]:
        return (
            AddMeDialog(self._directory, self._clock),
            EraseMeDialog(self._directory, self._clock),
        )

    # --- handlers (reached through dialogs/routes.py) -----------------------------------------
    async def find(self, turn: Turn, reading: Reading) -> None:
        """find_contact: a question or a follow-up ("och i Alingsås?", "den andra")."""
        if not may_see_contacts(turn):
            await turn.reply(Texts.NOT_FOR_YOU)
            return
        if reading.verb == "pick":
            await self._pick(turn, reading.number or 1)
            return
        question = _question(reading)
        answer = await asyncio.to_thread(self._find, question)
        logger.debug("contact question -> %d/%d", len(answer.local), len(answer.elsewhere))
        _remember(turn, reading, question, answer, 0)
        if not answer.has_topic:
            await turn.reply(Texts.NO_TOPIC)
        elif answer.found:
            await reply_with_contacts(turn, answer)
        else:
            if self._taught is not None:  # masked, without who asked: for the coordinators
                await asyncio.to_thread(self._taught.record, turn.text, turn.now)
            await turn.reply(no_match_text(answer))

    def _find(self, question: str) -> ContactAnswer:
        answer = self._directory.find(question, SHOWN)
        if self._taught is None:
            return answer
        return with_taught_contact(answer, self._taught.answer_for(question))

    async def more(self, turn: Turn, reading: Reading) -> None:
        """more_results after a contact answer: the next people for the same question."""
        if not may_see_contacts(turn):
            await turn.reply(Texts.NOT_FOR_YOU)
            return
        memory = turn.memory
        question = _with_place(memory.query, memory.municipality)
        answer = await asyncio.to_thread(self._directory.find, question, memory.offset + SHOWN)
        people = answer.local or answer.elsewhere
        rest = people[memory.offset :]
        if not rest:
            await turn.reply(Texts.NO_MORE.format(topic=answer.topic))
            return
        page = replace(answer, local=rest) if answer.local else replace(answer, elsewhere=rest)
        _remember(turn, reading, memory.query, page, memory.offset, place=memory.municipality)
        await reply_with_contacts(turn, page)

    async def _pick(self, turn: Turn, n: int) -> None:
        memory = turn.memory
        question = _with_place(memory.query, memory.municipality)
        answer = await asyncio.to_thread(self._directory.find, question, max(memory.offset, n))
        people = answer.local or answer.elsewhere
        if not 1 <= n <= len(people):
            await turn.reply(Texts.NO_SUCH.format(count=len(people)))
            return
        one = people[n - 1 : n]
        await reply_with_contacts(
            turn, replace(answer, local=one) if answer.local else replace(answer, elsewhere=one)
        )

    async def add_me(self, turn: Turn, reading: Reading) -> None:
        """add_me and change_my_data: the same dialog, showing current values when changing."""
        await self._self_service(turn, ADD_ME)

    async def show_mine(self, turn: Turn, reading: Reading) -> None:
        await self._show_mine(turn)

    async def erase_me(self, turn: Turn, reading: Reading) -> None:
        await self._self_service(turn, ERASE_ME)

    async def erase_other(self, turn: Turn, reading: Reading) -> None:
        await self._erase_other(turn, reading.slots.get("who"))

    async def _self_service(self, turn: Turn, dialog_id: str) -> None:
        if not may_see_contacts(turn):
            await turn.reply(Texts.NOT_FOR_YOU)
            return
        if not turn.is_personal:
            await turn.reply(Texts.PERSONAL_ONLY)
            return
        # Who this is comes from Teams (the member lookup), never from what is typed.
        identity = await self._identities.of(turn.context)
        if not identity.email:
            await turn.reply(Texts.NO_IDENTITY)
            return
        mine = await asyncio.to_thread(
            self._directory.of_user, identity.aad_object_id, identity.email
        )
        if dialog_id == ERASE_ME and mine is None:
            await turn.reply(Texts.NOT_IN_BANK)
            return
        await turn.begin_dialog(dialog_id, dialog_options(turn, mine, identity))

    async def _show_mine(self, turn: Turn) -> None:
        if not turn.is_personal:
            await turn.reply(Texts.PERSONAL_ONLY)
            return
        identity = await self._identities.of(turn.context)
        mine = await asyncio.to_thread(
            self._directory.of_user, identity.aad_object_id, identity.email
        )
        conversations = await asyncio.to_thread(
            self._directory.conversations_of, turn.user.id, turn.user.aad_object_id
        )
        parts = [f"**{Texts.MINE_TITLE}**", describe_mine(mine, turn.user.id)]
        if conversations:
            kinds = sorted(
                {
                    Texts.KINDS.get(c["conversation_type"], c["conversation_type"])
                    for c in conversations
                }
            )
            names = [c["user_name"] for c in conversations if c["user_name"]]
            parts.append(
                Texts.MINE_CONVERSATIONS.format(
                    count=len(conversations),
                    kinds=", ".join(kinds),
                    name=names[0] if names else turn.user.name,
                )
            )
        footprint = await asyncio.to_thread(
            self._directory.footprint, turn.user.id, turn.user.aad_object_id
        )
        if footprint:
            lines = [
                "• " + Texts.FOOTPRINT.get(kind, kind + ": {count}").format(count=count)
                for kind, count in footprint.items()
            ]
            parts.append("\n".join([Texts.MINE_OTHER, *lines]))
        parts.append(Texts.MINE_FOOTER)
        await turn.reply("\n\n".join(parts))

    async def _erase_other(self, turn: Turn, who: str | None) -> None:
        if not turn.is_coordinator:
            await turn.reply(Texts.COORDINATOR_ONLY)
            return
        if not who or not is_email(who):
            await turn.reply(Texts.COORDINATOR_BAD)
            return
        email = normalise_email(who)
        contact = await asyncio.to_thread(self._directory.by_email, email)
        if contact is None:
            await turn.reply(Texts.COORDINATOR_NOT_FOUND.format(email=email))
            return
        await asyncio.to_thread(
            self._directory.erase,
            contact,
            ErasedBy.COORDINATOR,
            Texts.ERASE_REASON_COORDINATOR,
            turn.now,
        )
        logger.info("a coordinator erased a competence-bank entry")
        await turn.reply(Texts.COORDINATOR_ERASED.format(email=email))


def _question(reading: Reading) -> str:
    """What to search the bank for: the question, or a follow-up read against the last one."""
    place = reading.municipality.name if reading.municipality else ""
    if reading.follow_up or (place and reading.query != reading.text):
        return _with_place(reading.query, place)  # the query was read without the place
    return reading.query or reading.text


def _with_place(question: str, place: str) -> str:
    return f"{question} i {place}" if place else question


def _remember(
    turn: Turn,
    reading: Reading,
    question: str,
    answer: ContactAnswer,
    offset: int,
    *,
    place: str | None = None,
) -> None:
    """What this answer was about; the question is kept without its municipality."""
    municipality, rest = extract_municipality(question)
    people = answer.local or answer.elsewhere
    turn.remember(
        intent="find_contact",
        query=rest,
        municipality=place if place is not None else (municipality.name if municipality else ""),
        audience=reading.audience_words,
        shown=tuple(hit.contact.id for hit in people),
        offset=offset + len(people),
    )
