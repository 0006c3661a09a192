"""One reading, one routing table, conversations that continue (issue 13), over HTTP.

Everything goes through the composed bot (compose() + build_app) with the fake Bot Connector, a
real SQLite database, the real sentence-embedding model and the FakeClock (Monday 23 November
2026, 10.00 in Stockholm).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import House
from dialogs.reading import Intent
from dialogs.routes import missing_capabilities
from scheduler.clock import STOCKHOLM
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.helpers import message
from tests.test_reminders import shown

ANNA = {"user": "29:anna", "name": "Anna Andersson", "aad": "aad-anna"}


async def say(client: TestClient, connector: FakeConnector, text: str, **kwargs: Any) -> list[str]:
    """One message from Anna in her personal chat; what the bot answered (typing left out)."""
    # Who Anna is comes from Teams' member lookup, which the fake connector answers.
    connector.people.setdefault(
        "29:anna", {"aadObjectId": "aad-anna", "email": "anna@kungalv.example.se"}
    )
    before = len(connector.sent)
    person = {**ANNA, **{k: kwargs.pop(k) for k in ("user", "name", "aad") if k in kwargs}}
    body = message(text, service_url=connector.url, **person, **kwargs)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201), await response.text()
    sent = [s for s in connector.sent[before:] if s.method in ("POST", "PUT")]
    return [_seen(s) for s in sent if s.body.get("type") != "typing"]


def _seen(sent: Sent) -> str:
    """What a person sees: text, text blocks and buttons (tests/test_reminders.py), and facts."""
    facts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "FactSet":
                facts.extend(f"{f['title']}: {f['value']}" for f in node.get("facts", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(sent.cards)
    return "\n".join([shown(sent), *facts])


def reminders_of(house: House, user: str = "29:anna") -> list[tuple[str, str]]:
    """(subject, Stockholm wall time) of the user's stored reminders."""
    return [
        (r.text, r.due_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M"))
        for r in house.nudges.reminders.upcoming_for(user)
        if r.due_at is not None
    ]


# --- the README's own words, small talk -----------------------------------------------------


async def test_add_me_from_the_readme_starts_the_dialog(
    client: TestClient, connector: FakeConnector
) -> None:
    [reply] = await say(client, connector, "lägg till mig i kompetensbanken")
    assert "I vilken kommun arbetar du?" in reply
    assert "arbetsgrupp" not in reply


async def test_thanks_greetings_and_what_the_bot_can_do(
    client: TestClient, connector: FakeConnector
) -> None:
    [thanks] = await say(client, connector, "tack!")
    assert thanks.startswith("Varsågod Anna")
    [thanks] = await say(client, connector, "thanks a lot")
    assert thanks.startswith("Varsågod")
    [hello] = await say(client, connector, "hej hej")
    assert hello.startswith("Hej Anna!")
    [menu] = await say(client, connector, "vad kan du göra?")
    assert "Det här kan jag hjälpa till med" in menu and "vem kan diabetes i Kungälv?" in menu
    [menu] = await say(client, connector, "what can you do?")
    assert "Det här kan jag hjälpa till med" in menu
    [about] = await say(client, connector, "vem är du?")
    assert "Nätverksboten" in about and "ingen människa" in about
    [about] = await say(client, connector, "hej, vad gör du?")
    assert "Nätverksboten" in about
    [listing] = await say(client, connector, "vilka kurser finns det?")
    assert "Alla kurser i katalogen" in listing


async def test_every_turn_logs_the_intent_it_was_read_as(
    client: TestClient, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="dialogs.bot"):
        await say(client, connector, "tack så mycket")
        await say(client, connector, "vem kan sårvård i Kungälv?")
        await say(client, connector, "mina påminnelser")
    logged = [r.__dict__.get("capability") for r in caplog.records if r.getMessage() == "turn"]
    assert logged == ["thanks", "find_contact", "list_reminders"]


# --- English --------------------------------------------------------------------------------


async def test_english_reminder_and_people_question(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    [reply] = await say(client, connector, "remind me on Friday at 3pm to call Lena")
    assert "fredag 27 november 2026 kl. 15.00" in reply and "”call Lena”" in reply
    assert reminders_of(house) == [("call Lena", "2026-11-27 15:00")]
    [card] = await say(client, connector, "who can help with diabetes in Kungälv?")
    assert "Lina Bergkvist" in card
    [listing] = await say(client, connector, "show my reminders")
    assert "call Lena" in listing


# --- the bot's own questions take free answers ------------------------------------------------


async def test_an_ambiguous_hour_is_asked_about_and_the_answer_understood(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    [question] = await say(client, connector, "påminn mig kl 3 att ringa Lena")
    assert "kl. 03.00 på natten eller kl. 15.00" in question
    assert reminders_of(house) == []
    [done] = await say(client, connector, "eftermiddag")
    assert "kl. 15.00" in done and "”ringa Lena”" in done
    assert reminders_of(house) == [("ringa Lena", "2026-11-23 15:00")]


async def test_a_missing_time_is_asked_for(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    [question] = await say(client, connector, "påminn mig att beställa broschyrer")
    assert "När ska jag påminna" in question
    await say(client, connector, "på onsdag kl 10")
    assert reminders_of(house) == [("beställa broschyrer", "2026-11-25 10:00")]


async def test_the_reminder_subject_loses_its_wrapping(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await say(client, connector, "kan du påminna mig att beställa broschyrer på måndag kl 10?")
    await say(client, connector, "snälla påminn mig imorgon kl 9 om att skicka enkäten, tack!")
    assert sorted(reminders_of(house)) == [
        ("beställa broschyrer", "2026-11-30 10:00"),
        ("skicka enkäten", "2026-11-24 09:00"),
    ]


async def test_more_ways_to_ask_for_a_reminder_and_to_delete_one(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await say(client, connector, "kan du säga till mig imorgon kl 14 att ringa chefen")
    assert reminders_of(house) == [("ringa chefen", "2026-11-24 14:00")]
    await say(client, connector, "mina påminnelser")
    [deleted] = await say(client, connector, "ta bort den första")
    assert "ringa chefen" in deleted
    assert reminders_of(house) == []


async def test_changing_my_phone_starts_the_change_dialog(
    client: TestClient, connector: FakeConnector
) -> None:
    [reply] = await say(client, connector, "ändra min telefon till 0701234567")
    assert "Jag hittade ingen kurs" not in reply


async def test_the_bot_waits_for_a_time_across_a_question_and_takes_no_for_an_answer(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    [asked] = await say(client, connector, "påminn mig att ringa apoteket")
    assert "När ska jag påminna" in asked
    [people] = await say(client, connector, "vem kan sårvård i Kungälv?")
    assert "Omar Haddad" in people
    await say(client, connector, "i morgon kl 10")
    assert reminders_of(house) == [("ringa apoteket", "2026-11-24 10:00")]
    await say(client, connector, "påminn mig att beställa broschyrer")
    [dropped] = await say(client, connector, "nej, glöm det")
    assert dropped.startswith("Okej, jag avbröt.")
    await say(client, connector, "i morgon kl 11")
    assert reminders_of(house) == [("ringa apoteket", "2026-11-24 10:00")]


async def test_an_english_answer_to_the_hour_question(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await say(client, connector, "remind me at 4 to call Lena")
    await say(client, connector, "in the afternoon")
    assert reminders_of(house) == [("call Lena", "2026-11-23 16:00")]


async def test_acknowledgements_and_leaving_the_bank_in_other_words(
    client: TestClient, connector: FakeConnector
) -> None:
    [thanks] = await say(client, connector, "perfekt!")
    assert thanks.startswith("Varsågod")
    [thumbs] = await say(client, connector, "👍")
    assert thumbs.startswith("Varsågod")
    [leave] = await say(client, connector, "jag vill inte vara med i kompetensbanken längre")
    assert "I vilken kommun" not in leave and "Du finns inte i kompetensbanken" in leave


# --- follow-ups -----------------------------------------------------------------------------


async def test_a_follow_up_keeps_the_topic_and_changes_the_place(
    client: TestClient, connector: FakeConnector, clock: FakeClock
) -> None:
    [first] = await say(client, connector, "vem kan sårvård i Kungälv?")
    assert "Omar Haddad" in first
    [second] = await say(client, connector, "och i Lerum?")
    assert "Petra Lindahl" in second and "Omar Haddad" not in second
    clock.advance(hours=2)  # what was asked is forgotten after a while
    [third] = await say(client, connector, "och i Lerum?")
    assert "Petra Lindahl" not in third


async def test_more_results_and_picking_one(client: TestClient, connector: FakeConnector) -> None:
    [first] = await say(client, connector, "kurser om demens")
    assert "1. " in first and "3. " in first and "Visa fler" in first
    [more] = await say(client, connector, "visa fler")
    assert "4. " in more and "1. " not in more
    [picked] = await say(client, connector, "den andra")
    assert "Kurs nummer 2" in picked


async def test_a_question_about_it_is_about_the_last_answer(
    client: TestClient, connector: FakeConnector
) -> None:
    await say(client, connector, "kurs om diabetes")
    [people] = await say(client, connector, "vem kan det i Kungälv?")
    assert "Lina Bergkvist" in people and "vem kan det" not in people
    [courses] = await say(client, connector, "finns det kurser om det?")
    assert "Diabetes i kommunal vård och omsorg" in courses


async def test_an_english_follow_up_keeps_the_topic(
    client: TestClient, connector: FakeConnector
) -> None:
    [second] = await say(client, connector, "who can help with diabetes in Kungälv?")
    assert "Lina Bergkvist" in second
    [third] = await say(client, connector, "and in Lerum?")
    assert "Lerum" in third and "”diabetes”" in third
    await say(client, connector, "I need a course about dementia")
    [nurses] = await say(client, connector, "anything for nurses?")
    assert "Demens ABC plus för sjuksköterskor" in nurses


async def test_someone_else_after_people_is_more_of_them(
    client: TestClient, connector: FakeConnector
) -> None:
    await say(client, connector, "vem kan sårvård?")
    [more] = await say(client, connector, "någon annan?")
    assert "Kostnadsfria kurser" not in more


async def test_yes_or_no_when_nothing_was_asked_searches_nothing(
    client: TestClient, connector: FakeConnector
) -> None:
    [reply] = await say(client, connector, "ja")
    assert reply.startswith("Okej! Vad kan jag hjälpa dig med?")
    assert "Kostnadsfria kurser" not in reply


async def test_more_without_a_question_says_what_to_do(
    client: TestClient, connector: FakeConnector
) -> None:
    [reply] = await say(client, connector, "visa fler")
    assert reply.startswith("Fler av vad?")


# --- dialogs and "avbryt" -------------------------------------------------------------------


async def test_a_question_inside_the_add_me_dialog_is_answered_and_the_dialog_goes_on(
    client: TestClient, connector: FakeConnector
) -> None:
    [ask] = await say(client, connector, "lägg till mig i kompetensbanken")
    assert "I vilken kommun" in ask
    card, offer, again = await say(client, connector, "vem kan sårvård i Kungälv?")
    assert "Omar Haddad" in card
    assert "Vi var mitt i något" in offer
    assert "I vilken kommun" in again
    [role] = await say(client, connector, "Lerum")
    assert "Vilken roll" in role


async def test_avbryt_works_everywhere_and_says_so(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    [nothing] = await say(client, connector, "avbryt")
    assert nothing == "Det finns inget att avbryta just nu."
    await say(client, connector, "lägg till mig i kompetensbanken")
    [cancelled] = await say(client, connector, "avbryt")
    assert cancelled.startswith("Okej, jag avbröt.")
    [question] = await say(client, connector, "påminn mig kl 4 att ringa Lena")
    assert "kl. 16.00" in question
    [cancelled] = await say(client, connector, "avbryt")
    assert cancelled.startswith("Okej, jag avbröt.")
    await say(client, connector, "eftermiddag")
    assert reminders_of(house) == []


# --- the table ------------------------------------------------------------------------------


async def test_every_capability_and_every_intent_has_a_route(house: House) -> None:
    routes = house.bot.routes
    assert missing_capabilities(routes, house.capabilities) == []
    unrouted = [i.value for i in Intent if routes.find(i) is None and i != Intent.ANSWER]
    assert unrouted == []
    for verb in ("clock", "time", "what", "continue"):
        assert routes.find(Intent.ANSWER, verb) is not None, verb
    for action in (
        "courses.more",
        "reminders.delete",
        "reminders.snooze",
        "reminders.tomorrow",
        "reminders.done",
        "reminders.stop",
        "reminders.deadline_done",
        "polls.answer",
        "polls.book",
        "polls.cancel",
    ):
        found = routes.find(action)
        assert found is not None and found.is_action, action


async def test_conditions_are_data_in_the_table(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    routes = house.bot.routes
    assert routes.find(Intent.ADD_ME).personal_only  # type: ignore[union-attr]
    assert routes.find(Intent.UNANSWERED_QUESTIONS).coordinator_only  # type: ignore[union-attr]
    group = {"conversation": "19:gc@thread.v2", "conversation_type": "groupChat"}
    [reply] = await say(
        client, connector, "lägg till mig i kompetensbanken", mention_bot=True, **group
    )
    assert "personlig chatt" in reply
