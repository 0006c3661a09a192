"""The competence bank's answers: who was found, as a card and as text."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from dialogs.contacts.texts import Texts
from dialogs.turn import Turn
from storage.contact_search import ContactAnswer, ContactHit, competence_query
from storage.contacts import ContactInfo
from storage.taught import Target

SHOWN = 3  # people per answer


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
