"""The competence bank: find a consenting colleague by competence and municipality; manage yourself.

Privacy rules live here as much as in storage: only entries with consent are ever shown or
counted (the index holds nothing else), nothing is answered in Teams when the tenant is unknown,
and everything about oneself (add, see, change, erase) happens in a personal chat only.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from botbuilder.core import MessageFactory
from botbuilder.dialogs import (
    Dialog,
    DialogTurnResult,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.schema import ActionTypes, CardAction

from dialogs.cancel_and_help import CancelAndHelpDialog
from dialogs.reading import Reading
from dialogs.turn import HelpEntry, Turn
from edge.identity import Identities, Identity
from scheduler.clock import STOCKHOLM, Clock
from storage.contacts import (
    Contact,
    ContactAnswer,
    ContactDirectory,
    ContactDraft,
    ContactHit,
    ContactInfo,
    ErasedBy,
    ImportReport,
    competence_query,
    is_email,
    normalise_email,
    split_competences,
)
from storage.inputs import column_limit
from storage.municipalities import extract_municipality, find_municipality
from storage.taught import Target, UnansweredQuestions

logger = logging.getLogger(__name__)

ADD_ME = "contacts.add_me"
ERASE_ME = "contacts.erase_me"
SHOWN = 3  # people per answer
# A name or a role: what the competence bank's columns hold (both have the same length).
TEXT_CHARS = min(column_limit(Contact, "name"), column_limit(Contact, "role"))

YES_WORDS = frozenset({"ja", "j", "japp", "jajamen", "ok", "okej", "jag godkänner", "godkänner"})
NO_WORDS = frozenset({"nej", "n", "nä", "nää", "nej tack", "jag godkänner inte"})
KEEP_WORDS = frozenset({"behåll", "samma", "oförändrat", "ingen ändring", "-"})
SKIP_WORDS = frozenset({"hoppa över", "inget", "ingen", "nej", "-", "vill inte", "skippa"})


class Texts:
    HELP_FIND = HelpEntry("Hitta en kollega med rätt kompetens", "vem kan diabetes i Kungälv?")
    HELP_ADD = HelpEntry("Dela din kompetens i kompetensbanken", "lägg till mig i kompetensbanken")
    HELP_MINE = HelpEntry("Se, ändra eller ta bort dina uppgifter", "visa mina uppgifter")

    TITLE_HERE = "Kollegor som kan ”{topic}” i {place}"
    TITLE_ANYWHERE = "Kollegor som kan ”{topic}”"
    NONE_HERE = "Jag hittade ingen i {place} i kompetensbanken som kan ”{topic}”."
    ELSEWHERE = "Närmaste träffar i andra kommuner:"
    ELSEWHERE_TAG = "Annan kommun: {place}"
    NONE = "Jag hittade ingen i kompetensbanken som kan ”{topic}”."
    NONE_HINT = "Prova ett annat ord, eller fråga utan kommun."
    NO_MORE = "Det finns inga fler i kompetensbanken som kan ”{topic}”."
    NO_SUCH = "Jag visade {count}; skriv till exempel ”den första” eller ”nr 2”."
    NO_TOPIC = (
        "Vad ska kollegan kunna? Skriv till exempel ”vem kan diabetes i Kungälv?” eller "
        "”vem är expert på BPSD?”."
    )
    NOT_FOR_YOU = "Kompetensbanken visas bara för medlemmar i nätverket."
    PERSONAL_ONLY = (
        "Det gör vi i en personlig chatt med mig, så att dina uppgifter inte syns för andra. "
        "Skriv till mig direkt."
    )
    ROW = "• **{name}**, {role}, {place}. Kan: {competences}. E-post: {email}{phone}"
    ROW_PHONE = ", telefon: {phone}"
    EMAIL = "E-post"
    PHONE = "Ring"
    CHAT = "Chatta i Teams"
    COMPETENCES = "Kan"
    PHONE_FACT = "Telefon"

    IMPORT_OK = "Kompetensbanken är inläst: {added} nya, {updated} ändrade, {unchanged} oförändrade"
    IMPORT_ERASED = ", {erased} borttagna"
    IMPORT_BAD = "Inget ändrades. Rätta {count} fel i filen och försök igen:"
    IMPORT_MORE_PROBLEMS = "… och {count} till."

    # self-service
    TOO_LONG = "Det får vara högst {limit} tecken. Skriv kortare."
    ASK_NAME = "Vad heter du? (för- och efternamn, så som kollegor ska se det)"
    ASK_MUNICIPALITY = "I vilken kommun arbetar du?"
    ASK_MUNICIPALITY_EDIT = (
        "I vilken kommun arbetar du? (nu: {current} – skriv ”behåll” för att behålla)"
    )
    BAD_MUNICIPALITY = (
        "Den kommunen känner jag inte igen. Skriv kommunens namn, till exempel ”Lerum”."
    )
    ASK_ROLE = "Vilken roll eller titel har du? (till exempel distriktssköterska)"
    ASK_ROLE_EDIT = "Vilken roll har du? (nu: {current} – skriv ”behåll” för att behålla)"
    ASK_COMPETENCES = (
        "Vilka kompetenser vill du dela med kollegor? Skriv dem med kommatecken emellan, till "
        "exempel ”diabetes, sårvård, palliativ vård”."
    )
    ASK_COMPETENCES_EDIT = (
        "Vilka kompetenser vill du dela? (nu: {current} – skriv ”behåll” för att behålla)"
    )
    BAD_COMPETENCES = "Skriv minst en kompetens, till exempel ”diabetes”."
    NO_IDENTITY = (
        "Jag kunde inte få fram din e-postadress från Teams just nu, och det är den som kopplar "
        "kompetensbanken till dig. Försök igen om en stund."
    )
    ASK_PHONE = (
        "Vilket telefonnummer kan kollegor ringa? Skriv ”hoppa över” om du inte vill ange något."
    )
    ASK_PHONE_EDIT = (
        "Telefonnummer? (nu: {current} – skriv ”behåll” för att behålla, ”inget” för att ta bort)"
    )
    BAD_PHONE = "Skriv ett telefonnummer, till exempel ”031-123 45 67”, eller ”hoppa över”."
    CONSENT = (
        "**Samtycke.** Jag samtycker till att mitt namn, min kommun, roll, mina kompetenser, min "
        "e-postadress och mitt telefonnummer sparas i nätverkets kompetensbank och visas för "
        "medlemmar i nätverket som söker kollegor med viss kompetens. Jag kan när som helst se "
        "mina uppgifter (”visa mina uppgifter”), ändra dem (”ändra mina uppgifter”) eller ta "
        "bort dem (”ta bort mig”); då raderas de direkt.\n\n"
        "Samtycker du? Svara **Ja** eller **Nej**. Skriv ”avbryt” om du vill lämna utan att "
        "spara något."
    )
    YES_OR_NO = "Svara **Ja** eller **Nej**, eller skriv ”avbryt” för att lämna utan att spara."
    YES = "Ja"
    NO = "Nej"
    SUMMARY = "• {name}, {role}, {place}\n• Kompetenser: {competences}\n• E-post: {email}{phone}"
    SUMMARY_PHONE = "\n• Telefon: {phone}"
    SAVED = "Tack! Nu finns du i kompetensbanken:\n{summary}"
    UPDATED = "Klart, dina uppgifter är ändrade:\n{summary}"
    NOT_SAVED = "Okej, jag sparade ingenting. Utan samtycke kan du inte finnas i kompetensbanken."
    UNPUBLISHED = (
        "Okej. Utan ditt samtycke visas du inte längre i kompetensbanken, från och med nu. "
        "Ändringarna sparade jag inte. Dina uppgifter finns kvar men syns inte för någon: skriv "
        "”ta bort mig” om du vill att jag raderar dem, eller ”ändra mina uppgifter” om du vill "
        "samtycka igen."
    )
    CANCELLED = "Okej, jag avbröt. Inget ändrades."
    NOT_IN_BANK = (
        "Du finns inte i kompetensbanken. Skriv ”lägg till mig i kompetensbanken” om du vill dela "
        "din kompetens."
    )
    CONFIRM_ERASE = (
        "Vill du att jag tar bort dig ur kompetensbanken? Allt om dig där raderas direkt och kan "
        "inte återställas. Svara **Ja** eller **Nej**."
    )
    ERASED = "Klart. Du är borttagen ur kompetensbanken."
    NOT_ERASED = "Okej, jag tog inte bort något."
    ERASE_REASON_SELF = "egen begäran"
    ERASE_REASON_COORDINATOR = "begäran via samordnare"
    COORDINATOR_ONLY = "Bara nätverkets samordnare kan ta bort någon annan ur kompetensbanken."
    COORDINATOR_ERASED = "Klart. Posten för {email} är borttagen ur kompetensbanken."
    COORDINATOR_NOT_FOUND = "Ingen post i kompetensbanken har e-postadressen {email}."
    COORDINATOR_BAD = "Skriv så här: ”ta bort kontakt namn@kommun.se”."

    # what we store
    MINE_TITLE = "Det här har jag sparat om dig"
    MINE_CONTACT = (
        "**Kompetensbanken**\n• Namn: {name}\n• Kommun: {place}\n• Roll: {role}\n"
        "• Kompetenser: {competences}\n• E-post: {email}\n• Telefon: {phone}\n"
        "• Teams-koppling: {teams}\n• Samtycke: {consent}\n• Tillagd: {added_at} ({added_by})\n"
        "• Senast ändrad: {updated_at}"
    )
    MINE_NO_CONTACT = "**Kompetensbanken**\n• Du finns inte i kompetensbanken."
    MINE_CONVERSATIONS = (
        "**Konversationer**\n• Jag har sparat hur jag når dig i {count} konversation(er) "
        "({kinds}), med ditt visningsnamn ”{name}”, för att kunna svara och påminna."
    )
    MINE_OTHER = "**Annat jag har sparat om dig**"
    FOOTPRINT = {
        "reminder": "påminnelser du har skapat: {count} (skriv ”mina påminnelser”)",
        "deadline_member": "deadlines du är med i: {count}",
        "group_member": "arbetsgrupper du är med i: {count} (skriv ”visa arbetsgrupper”)",
        "topic_watch": "ämnen du bevakar: {count}",
    }
    MINE_FOOTER = "Skriv ”ändra mina uppgifter” eller ”ta bort mig” om du vill ändra eller ta bort."
    CONSENT_YES = "ja, sedan {when}"
    CONSENT_NO = "nej (posten visas inte för någon)"
    TEAMS_YES = "ja"
    TEAMS_NO = "nej"
    NOT_GIVEN = "(inget)"
    BY_SELF = "av dig själv"
    BY_IMPORT = "av samordnare, via import"
    BY_OTHER = "av samordnare"
    KINDS = {"personal": "personlig chatt", "groupChat": "gruppchatt", "channel": "kanal"}


def describe_contact_import(report: ImportReport, limit: int = 40) -> str:
    """The import report, for the CLI (and any chat import later)."""
    if report.ok:
        text = Texts.IMPORT_OK.format(
            added=report.added, updated=report.updated, unchanged=report.unchanged
        )
        if report.erased:
            text += Texts.IMPORT_ERASED.format(erased=report.erased)
        return text + "."
    lines = [Texts.IMPORT_BAD.format(count=len(report.errors))]
    lines += [f"• {problem}" for problem in report.errors[:limit]]
    if len(report.errors) > limit:
        lines.append(Texts.IMPORT_MORE_PROBLEMS.format(count=len(report.errors) - limit))
    return "\n".join(lines)


# --- recognising what is asked ------------------------------------------------------------
def _plain(text: str) -> str:
    return re.sub(r"[!?.,;:]+", " ", text.lower()).strip()


def may_see_contacts(turn: Turn) -> bool:
    """Members only: the tenant allow-list is checked on HTTP; here, no tenant means no answer."""
    return not (turn.channel_id == "msteams" and turn.tenant_id is None)


# --- answers ---------------------------------------------------------------------------------
def teams_chat_url(email: str) -> str:
    return f"https://teams.microsoft.com/l/chat/0/0?users={quote(email, safe='@')}"


def tel_url(phone: str) -> str:
    """tel: wants digits; a Swedish number written 031-123 45 67 becomes +46311234567."""
    digits = re.sub(r"[^\d+]", "", phone)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+46" + digits[1:]
    return f"tel:{digits}"


def _person_items(hit: ContactHit, tag: str | None) -> list[dict[str, Any]]:
    contact = hit.contact
    place = contact.municipality.name
    facts = [{"title": Texts.COMPETENCES, "value": ", ".join(contact.competences)}]
    if contact.phone:
        facts.append({"title": Texts.PHONE_FACT, "value": contact.phone})
    actions: list[dict[str, Any]] = [
        {"type": "Action.OpenUrl", "title": Texts.EMAIL, "url": f"mailto:{contact.email}"},
    ]
    if contact.phone:
        actions.append(
            {"type": "Action.OpenUrl", "title": Texts.PHONE, "url": tel_url(contact.phone)}
        )
    actions.append(
        {"type": "Action.OpenUrl", "title": Texts.CHAT, "url": teams_chat_url(contact.email)}
    )
    items: list[dict[str, Any]] = []
    if tag:
        items.append(
            {
                "type": "TextBlock",
                "text": tag,
                "color": "Attention",
                "size": "Small",
                "weight": "Bolder",
                "wrap": True,
            }
        )
    items += [
        {
            "type": "TextBlock",
            "text": contact.name,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {
            "type": "TextBlock",
            "text": " · ".join(part for part in (contact.role, place) if part),
            "isSubtle": True,
            "spacing": "None",
            "wrap": True,
        },
        {"type": "FactSet", "facts": facts},
        {"type": "ActionSet", "actions": actions},
    ]
    return items


def contact_card(answer: ContactAnswer) -> dict[str, Any]:
    """Adaptive Card 1.5: a heading, then each person with mail, call and chat buttons."""
    body: list[dict[str, Any]] = []
    place = answer.municipality.name if answer.municipality else None
    if answer.local:
        title = (
            Texts.TITLE_HERE.format(topic=answer.topic, place=place)
            if place
            else Texts.TITLE_ANYWHERE.format(topic=answer.topic)
        )
        body.append(
            {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Large", "wrap": True}
        )
        for hit in answer.local:
            body.append(
                {
                    "type": "Container",
                    "separator": True,
                    "spacing": "Medium",
                    "items": _person_items(hit, None),
                }
            )
    else:
        body.append(
            {
                "type": "TextBlock",
                "wrap": True,
                "weight": "Bolder",
                "text": Texts.NONE_HERE.format(place=place, topic=answer.topic),
            }
        )
        body.append(
            {"type": "TextBlock", "text": Texts.ELSEWHERE, "wrap": True, "color": "Attention"}
        )
        for hit in answer.elsewhere:
            tag = Texts.ELSEWHERE_TAG.format(place=hit.contact.municipality.name)
            body.append(
                {
                    "type": "Container",
                    "separator": True,
                    "spacing": "Medium",
                    "style": "emphasis",
                    "items": _person_items(hit, tag),
                }
            )
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }


def _row(hit: ContactHit) -> str:
    c = hit.contact
    phone = Texts.ROW_PHONE.format(phone=c.phone) if c.phone else ""
    return Texts.ROW.format(
        name=c.name,
        role=c.role,
        place=c.municipality.name,
        competences=", ".join(c.competences),
        email=c.email,
        phone=phone,
    )


def contact_text(answer: ContactAnswer) -> str:
    place = answer.municipality.name if answer.municipality else None
    if answer.local:
        title = (
            Texts.TITLE_HERE.format(topic=answer.topic, place=place)
            if place
            else Texts.TITLE_ANYWHERE.format(topic=answer.topic)
        )
        return "\n".join([f"**{title}**", *(_row(hit) for hit in answer.local)])
    lines = [Texts.NONE_HERE.format(place=place, topic=answer.topic), f"**{Texts.ELSEWHERE}**"]
    lines += [_row(hit) for hit in answer.elsewhere]
    return "\n".join(lines)


def no_match_text(answer: ContactAnswer) -> str:
    if answer.municipality is not None:
        return " ".join(
            [
                Texts.NONE_HERE.format(place=answer.municipality.name, topic=answer.topic),
                Texts.NONE_HINT,
            ]
        )
    return " ".join([Texts.NONE.format(topic=answer.topic), Texts.NONE_HINT])


def taught_contact_answer(question: str, contact: ContactInfo) -> ContactAnswer:
    """An answer with the one person a coordinator taught for questions like this."""
    topic = " ".join(t.surface for t in competence_query(question).terms) or question.strip()
    return ContactAnswer(question, topic, None, (ContactHit(contact, 1.0),))


def with_taught_contact(answer: ContactAnswer, taught: Target | None) -> ContactAnswer:
    """The person a coordinator taught for questions like this first, where the question's
    municipality allows: the asked municipality's own people still come before others."""
    if taught is None or taught.contact is None:
        return answer
    person = ContactHit(taught.contact, max((h.score for h in answer.people), default=1.0))
    topic = answer.topic or taught_contact_answer(answer.question, taught.contact).topic
    here = answer.municipality is None or taught.contact.municipality == answer.municipality
    if here:
        local = [h for h in answer.local if h.contact.id != person.contact.id]
        return replace(answer, topic=topic, local=(person, *local)[:SHOWN], elsewhere=())
    if answer.local:
        return answer
    elsewhere = [h for h in answer.elsewhere if h.contact.id != person.contact.id]
    return replace(answer, topic=topic, elsewhere=(person, *elsewhere)[:SHOWN])


async def reply_with_contacts(turn: Turn, answer: ContactAnswer) -> None:
    """The card (or its text) for an answer that found someone."""
    await turn.reply_card(contact_card(answer), contact_text(answer))


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
        await turn.begin_dialog(dialog_id, _options(turn, mine, identity))

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
        parts = [f"**{Texts.MINE_TITLE}**", _describe(mine, turn.user.id)]
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


def _options(turn: Turn, mine: ContactInfo | None, identity: Identity) -> dict[str, Any]:
    """Plain JSON for the dialog state (stored between turns; the retention job purges it when
    a dialog is left unfinished)."""
    options: dict[str, Any] = {
        "user_id": turn.user.id,
        "name": turn.user.name,
        "aad": identity.aad_object_id,
        "email": identity.email,  # the entry's address is the one Teams gives, never a typed one
    }
    if mine is not None:
        options.update(
            {
                "contact_id": mine.id,
                "name": mine.name or turn.user.name,
                "municipality": mine.municipality.code,
                "municipality_name": mine.municipality.name,
                "role": mine.role,
                "competences": list(mine.competences),
                "phone": mine.phone,
            }
        )
    return options


def _when(moment: datetime | None) -> str:
    if moment is None:
        return Texts.NOT_GIVEN
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H.%M")


def _describe(mine: ContactInfo | None, user_id: str) -> str:
    if mine is None:
        return Texts.MINE_NO_CONTACT
    if mine.added_by == user_id:
        by = Texts.BY_SELF
    elif mine.added_by in ("import", "demo"):
        by = Texts.BY_IMPORT
    else:
        by = Texts.BY_OTHER
    return Texts.MINE_CONTACT.format(
        name=mine.name,
        place=mine.municipality.name,
        role=mine.role or Texts.NOT_GIVEN,
        competences=", ".join(mine.competences) or Texts.NOT_GIVEN,
        email=mine.email,
        phone=mine.phone or Texts.NOT_GIVEN,
        teams=Texts.TEAMS_YES if mine.teams_aad_object_id else Texts.TEAMS_NO,
        consent=Texts.CONSENT_YES.format(when=_when(mine.consent_at))
        if mine.consent
        else Texts.CONSENT_NO,
        added_at=_when(mine.added_at),
        added_by=by,
        updated_at=_when(mine.updated_at),
    )


def _summary(contact: ContactInfo) -> str:
    phone = Texts.SUMMARY_PHONE.format(phone=contact.phone) if contact.phone else ""
    return Texts.SUMMARY.format(
        name=contact.name,
        role=contact.role or Texts.NOT_GIVEN,
        place=contact.municipality.name,
        competences=", ".join(contact.competences),
        email=contact.email,
        phone=phone,
    )


# --- dialogs ---------------------------------------------------------------------------------
def _yes_no(text: str) -> bool | None:
    plain = _plain(text)
    if plain in YES_WORDS:
        return True
    if plain in NO_WORDS:
        return False
    return None


def _yes_no_prompt(text: str) -> PromptOptions:
    choices = [
        CardAction(type=ActionTypes.im_back, title=Texts.YES, value=Texts.YES),
        CardAction(type=ActionTypes.im_back, title=Texts.NO, value=Texts.NO),
    ]
    return PromptOptions(
        prompt=MessageFactory.suggested_actions(choices, text),
        retry_prompt=MessageFactory.suggested_actions(choices, Texts.YES_OR_NO),
    )


async def _is_yes_or_no(prompt: PromptValidatorContext) -> bool:
    return prompt.recognized.succeeded and _yes_no(prompt.recognized.value or "") is not None


def _keep(text: str, options: dict[str, Any], key: str) -> bool:
    return key in options and options.get("contact_id") is not None and _plain(text) in KEEP_WORDS


class AddMeDialog(CancelAndHelpDialog):
    """Municipality, role, competences, phone, then explicit consent; the e-mail is Teams'.

    The same steps change an existing entry; each prompt then shows the current value.
    """

    cancelled_text = Texts.CANCELLED

    def __init__(self, directory: ContactDirectory, clock: Clock) -> None:
        super().__init__(ADD_ME)
        self._directory = directory
        self._clock = clock
        self.add_dialog(TextPrompt("contacts.name", self._is_text))
        self.add_dialog(TextPrompt("contacts.municipality", self._is_municipality))
        self.add_dialog(TextPrompt("contacts.role", self._is_text))
        self.add_dialog(TextPrompt("contacts.competences", self._is_competences))
        self.add_dialog(TextPrompt("contacts.phone", self._is_phone))
        self.add_dialog(TextPrompt("contacts.consent", _is_yes_or_no))
        self.add_dialog(
            WaterfallDialog(
                "contacts.add_me.steps",
                [
                    self.ask_name,
                    self.ask_municipality,
                    self.ask_role,
                    self.ask_competences,
                    self.ask_phone,
                    self.ask_consent,
                    self.save,
                ],
            )
        )
        self.initial_dialog_id = "contacts.add_me.steps"

    # validators
    async def _is_municipality(self, prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value or ""
        if _keep(value, prompt.options.validations or {}, "municipality"):
            return True
        return find_municipality(value) is not None

    async def _is_text(self, prompt: PromptValidatorContext) -> bool:
        value = (prompt.recognized.value or "").strip()
        if len(value) > TEXT_CHARS:  # name and role: said why, then asked again
            await prompt.context.send_activity(Texts.TOO_LONG.format(limit=TEXT_CHARS))
            return False
        return bool(value)

    async def _is_competences(self, prompt: PromptValidatorContext) -> bool:
        value = prompt.recognized.value or ""
        if _keep(value, prompt.options.validations or {}, "competences"):
            return True
        return bool(split_competences(value))

    async def _is_phone(self, prompt: PromptValidatorContext) -> bool:
        value = _plain(prompt.recognized.value or "")
        if value in SKIP_WORDS or value in KEEP_WORDS:
            return True
        return bool(re.fullmatch(r"\+?[0-9][0-9 \-()/]{4,24}", value))

    # steps
    async def ask_name(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values.update(dict(step.options or {}))
        if (step.values.get("name") or "").strip():
            return await step.next(step.values["name"])
        return await step.prompt(
            "contacts.name", PromptOptions(prompt=MessageFactory.text(Texts.ASK_NAME))
        )

    async def ask_municipality(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["name"] = " ".join(str(step.result or "").split())
        options: dict[str, Any] = dict(step.values)
        text = (
            Texts.ASK_MUNICIPALITY_EDIT.format(current=options["municipality_name"])
            if options.get("contact_id") is not None
            else Texts.ASK_MUNICIPALITY
        )
        return await step.prompt(
            "contacts.municipality",
            PromptOptions(
                prompt=MessageFactory.text(text),
                retry_prompt=MessageFactory.text(Texts.BAD_MUNICIPALITY),
                validations=options,
            ),
        )

    async def ask_role(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = str(step.result or "")
        if not _keep(answer, step.values, "municipality"):
            found = find_municipality(answer)
            assert found is not None  # the validator let only names through
            step.values["municipality"] = found.code
            step.values["municipality_name"] = found.name
        text = (
            Texts.ASK_ROLE_EDIT.format(current=step.values.get("role") or Texts.NOT_GIVEN)
            if step.values.get("contact_id") is not None
            else Texts.ASK_ROLE
        )
        return await step.prompt("contacts.role", PromptOptions(prompt=MessageFactory.text(text)))

    async def ask_competences(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = str(step.result or "").strip()
        if not _keep(answer, step.values, "role"):
            step.values["role"] = answer
        text = (
            Texts.ASK_COMPETENCES_EDIT.format(current=", ".join(step.values["competences"]))
            if step.values.get("contact_id") is not None
            else Texts.ASK_COMPETENCES
        )
        return await step.prompt(
            "contacts.competences",
            PromptOptions(
                prompt=MessageFactory.text(text),
                retry_prompt=MessageFactory.text(Texts.BAD_COMPETENCES),
                validations=dict(step.values),
            ),
        )

    async def ask_phone(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = str(step.result or "")
        if not _keep(answer, step.values, "competences"):
            step.values["competences"] = list(split_competences(answer))
        text = (
            Texts.ASK_PHONE_EDIT.format(current=step.values.get("phone") or Texts.NOT_GIVEN)
            if step.values.get("contact_id") is not None
            else Texts.ASK_PHONE
        )
        return await step.prompt(
            "contacts.phone",
            PromptOptions(
                prompt=MessageFactory.text(text),
                retry_prompt=MessageFactory.text(Texts.BAD_PHONE),
            ),
        )

    async def ask_consent(self, step: WaterfallStepContext) -> DialogTurnResult:
        answer = str(step.result or "").strip()
        plain = _plain(answer)
        if plain in KEEP_WORDS and step.values.get("contact_id") is not None:
            pass
        elif plain in SKIP_WORDS:
            step.values["phone"] = ""
        else:
            step.values["phone"] = answer
        return await step.prompt("contacts.consent", _yes_no_prompt(Texts.CONSENT))

    async def save(self, step: WaterfallStepContext) -> DialogTurnResult:
        values = step.values
        if not _yes_no(str(step.result or "")):
            mine = await asyncio.to_thread(
                self._directory.of_user, values.get("aad"), values.get("email")
            )
            if values.get("contact_id") is not None and mine is not None:
                # "Nej" withdraws consent: the entry is unpublished at once, as we say it is.
                await asyncio.to_thread(self._directory.withdraw_consent, mine, self._clock.now())
                logger.info("a competence-bank entry's consent was withdrawn by its owner")
                await step.context.send_activity(Texts.UNPUBLISHED)
            else:
                await step.context.send_activity(Texts.NOT_SAVED)
            return await step.end_dialog(False)
        municipality = find_municipality(values["municipality_name"])
        assert municipality is not None
        draft = ContactDraft(
            name=values.get("name") or "",
            municipality=municipality,
            role=values.get("role") or "",
            competences=tuple(values.get("competences") or ()),
            email=values["email"],
            phone=values.get("phone") or "",
            consent=True,
            teams_aad_object_id=values.get("aad"),
            teams_email=values["email"],
        )
        now = self._clock.now()
        existed = values.get("contact_id") is not None
        saved = await asyncio.to_thread(
            self._directory.save,
            draft,
            values.get("user_id") or "self",
            now,
            contact_id=values.get("contact_id"),
        )
        logger.info(
            "a competence-bank entry was %s by its owner", "changed" if existed else "added"
        )
        text = Texts.UPDATED if existed else Texts.SAVED
        await step.context.send_activity(text.format(summary=_summary(saved)))
        return await step.end_dialog(True)


class EraseMeDialog(CancelAndHelpDialog):
    """Asks once more, then erases the asker's entry from the database and the index at once."""

    cancelled_text = Texts.CANCELLED

    def __init__(self, directory: ContactDirectory, clock: Clock) -> None:
        super().__init__(ERASE_ME)
        self._directory = directory
        self._clock = clock
        self.add_dialog(TextPrompt("contacts.erase.confirm", _is_yes_or_no))
        self.add_dialog(
            WaterfallDialog("contacts.erase_me.steps", [self.ask_confirmation, self.erase])
        )
        self.initial_dialog_id = "contacts.erase_me.steps"

    async def ask_confirmation(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values.update(dict(step.options or {}))
        return await step.prompt("contacts.erase.confirm", _yes_no_prompt(Texts.CONFIRM_ERASE))

    async def erase(self, step: WaterfallStepContext) -> DialogTurnResult:
        if not _yes_no(str(step.result or "")):
            await step.context.send_activity(Texts.NOT_ERASED)
            return await step.end_dialog(False)
        values = step.values
        mine = await asyncio.to_thread(
            self._directory.of_user, values.get("aad"), values.get("email")
        )
        if mine is not None:
            await asyncio.to_thread(
                self._directory.erase,
                mine,
                ErasedBy.SELF,
                Texts.ERASE_REASON_SELF,
                self._clock.now(),
            )
            logger.info("a competence-bank entry was erased by its owner")
        await step.context.send_activity(Texts.ERASED)
        return await step.end_dialog(True)
