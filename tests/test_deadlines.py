"""Deadlines over a term, as a coordinator and members live them (issue 17 items 1, 2, 5, 7, 8):
over HTTP with the fake Bot Connector, a fake clock moved over weeks, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import House, Settings
from scheduler.swedish import MONTHS
from scheduler.timing import local_day
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.test_reminders import (
    CAROLINE,
    COORDINATOR,
    GROUP_CHAT,
    MARIA,
    actions,
    deliver,
    make_group,
    press,
    say,
    shown,
)

MARIA_HERE = {"user": "29:maria", "name": "Maria Berg", "aad": "aad-maria"}
MARIA_ALONE = {**MARIA_HERE, "conversation": "personal-29:maria"}
CAROLINE_HERE = {"user": "29:caroline", "name": "Caroline Ek", "aad": "aad-caroline"}
CAROLINE_ALONE = {**CAROLINE_HERE, "conversation": "personal-29:caroline"}
EVA = ("29:eva", "Eva Lund")


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Every test here runs on an SQLite file and on a throwaway PostgreSQL database."""
    return replace(
        Settings(),
        database_url=db_url,
        coordinators=frozenset({"aad-coordinator", "samordnare@example.org"}),
    )


async def coordinator(client: TestClient, connector: FakeConnector, text: str) -> list[str]:
    """The coordinator writes in the group's chat, mentioning the bot; the bot's answers there.
    (A member's notice sent meanwhile by the background goes to that member, not to this chat.)"""
    before = len(connector.sent)
    await say(client, connector, text, mention_bot=True, **COORDINATOR, **GROUP_CHAT)
    return [
        shown(s)
        for s in connector.sent[before:]
        if s.conversation_id == GROUP_CHAT["conversation"]
        and s.method in ("POST", "PUT")
        and s.body.get("type") == "message"
    ]


def to(sent: list[Sent], conversation: str) -> list[str]:
    return [shown(s) for s in sent if s.conversation_id == conversation]


def at(year: int, month: int, day: int, hour: int = 7) -> datetime:
    """A moment in UTC (07.00 UTC is 08.00 in Stockholm in winter, the nudges' hour)."""
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


# --- item 1: deadlines a coordinator manages ----------------------------------------------------
async def test_a_term_of_deadlines_listed_moved_cancelled_joined_and_closed(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Civilsamhälle", [MARIA, CAROLINE])
    [reply] = await coordinator(
        client, connector, "deadline verksamhetsberättelsen 11 december för gruppen Civilsamhälle"
    )
    assert reply.startswith(
        "Deadline **verksamhetsberättelsen** fredag 11 december 2026 för **Civilsamhälle** "
        "(2 personer), satt av Cecilia Samordnare."
    )
    assert (
        "Jag påminner var och en fredag 27 november 2026 kl. 08.00, tisdag 8 december 2026 "
        "kl. 08.00, torsdag 10 december 2026 kl. 08.00 och fredag 11 december 2026 kl. 08.00"
    ) in reply
    await coordinator(client, connector, "deadline budgeten 15 december för gruppen Civilsamhälle")

    # lists: mine, the group's, everything (coordinators only)
    [mine] = await say(client, connector, "mina deadlines", **MARIA_ALONE)
    assert (
        "verksamhetsberättelsen – fredag 11 december 2026, Civilsamhälle "
        "(satt av Cecilia Samordnare): 0 av 2 klara"
    ) in mine
    assert "budgeten" in mine
    [shown_group] = await coordinator(client, connector, "visa deadlines för gruppen Civilsamhälle")
    assert "Deadlines för Civilsamhälle" in shown_group and "budgeten" in shown_group
    [refused] = await say(client, connector, "alla deadlines", **MARIA_ALONE)
    assert refused == "Alla deadlines kan bara samordnare se. Skriv ”mina deadlines”."
    [everything] = await coordinator(client, connector, "visa alla deadlines")
    assert "Alla öppna deadlines" in everything and "verksamhetsberättelsen" in everything

    # cancel: only those who manage the group; members are told once, no nudge follows
    [not_hers] = await say(client, connector, "ta bort deadline budgeten", **MARIA_ALONE)
    assert not_hers == (
        "Bara samordnare och den som skapade gruppen kan flytta eller ta bort deadlines."
    )
    [cancelled] = await coordinator(client, connector, "ta bort deadline budgeten")
    assert cancelled == (
        "Borttagen: **budgeten** för **Civilsamhälle**. Jag har sagt till 2 personer som var med."
    )
    told = await deliver(house, connector)
    assert sorted(s.conversation_id for s in told) == [
        "personal-29:caroline",
        "personal-29:maria",
    ]
    assert all("**budgeten**" in shown(s) and "borttagen" in shown(s) for s in told)
    [again] = await coordinator(client, connector, "ta bort deadline budgeten")
    assert "redan avslutad" in again
    assert await deliver(house, connector) == []

    # the first nudge; Maria presses Klar
    clock.current = at(2026, 11, 27)
    first = await deliver(house, connector)
    [for_maria] = [s for s in first if s.conversation_id == "personal-29:maria"]
    assert len(first) == 2 and "budgeten" not in "".join(shown(s) for s in first)
    [done] = await press(client, connector, actions(for_maria)[0]["data"], **MARIA_ALONE)
    assert done == "Tack! Jag har noterat att du är klar med **verksamhetsberättelsen**."

    # registering the same name again asks; "ja" moves it, Maria's "klar" stays
    [question] = await coordinator(
        client, connector, "deadline verksamhetsberättelsen 18 december för gruppen Civilsamhälle"
    )
    assert (
        "Det finns redan en deadline **verksamhetsberättelsen** för **Civilsamhälle**, fredag 11 "
        "december 2026. Vill du flytta den till fredag 18 december 2026? Svara ja eller nej."
    ) in question
    assert "Ja, flytta" in question and "Nej, behåll" in question
    [moved] = await coordinator(client, connector, "ja")
    assert moved.startswith(
        "Flyttad: **verksamhetsberättelsen** för **Civilsamhälle** är nu fredag 18 december 2026."
    )
    assert "De som redan svarat Klar (1) står kvar som klara." in moved

    clock.current = at(2026, 12, 4)  # 14 days before the new day: Caroline only
    [second] = await deliver(house, connector)
    assert second.conversation_id == "personal-29:caroline"
    assert "fredag 18 december 2026 (om 14 dagar)" in shown(second)
    clock.current = at(2026, 12, 8)  # the old day's nudge is gone
    assert await deliver(house, connector) == []

    # moved by command, with a time; a member added joins, one removed leaves
    [by_command] = await coordinator(
        client, connector, "flytta deadline verksamhetsberättelsen till 17 december kl 12"
    )
    assert "är nu torsdag 17 december 2026 kl. 12.00" in by_command
    await say(
        client,
        connector,
        "lägg till i Civilsamhälle",
        mention_bot=True,
        mentions=[EVA],
        **COORDINATOR,
        **GROUP_CHAT,
    )
    clock.current = at(2026, 12, 14)
    sent = await deliver(house, connector)
    assert sorted(s.conversation_id for s in sent) == ["personal-29:caroline", "personal-29:eva"]
    assert all("torsdag 17 december 2026 kl. 12.00 (om 3 dagar)" in shown(s) for s in sent)
    await say(
        client,
        connector,
        "ta bort från Civilsamhälle",
        mention_bot=True,
        mentions=[CAROLINE],
        **COORDINATOR,
        **GROUP_CHAT,
    )
    clock.current = at(2026, 12, 16)
    [only_eva] = await deliver(house, connector)
    assert only_eva.conversation_id == "personal-29:eva"

    [status] = await coordinator(client, connector, "status verksamhetsberättelsen")
    assert (
        "Deadline är torsdag 17 december 2026 kl. 12.00 för Civilsamhälle, "
        "satt av Cecilia Samordnare."
    ) in status
    assert "Klara (1): Maria Berg" in status and "Inte klara (1): Eva Lund" in status

    # the morning after: the summary, and the deadline is closed
    clock.current = at(2026, 12, 18)
    sent = await deliver(house, connector)
    [summary] = to(sent, "personal-29:coord")
    assert "Deadline var torsdag 17 december 2026 kl. 12.00" in summary
    [none_left] = await say(client, connector, "mina deadlines", **MARIA_ALONE)
    assert none_left.startswith("Det finns inga öppna deadlines här.")
    [closed] = await coordinator(
        client, connector, "flytta deadline verksamhetsberättelsen till 20 januari"
    )
    assert closed == "**verksamhetsberättelsen** är redan avslutad och kan inte ändras."


# --- item 2: honest schedules -------------------------------------------------------------------
async def test_the_confirmation_lists_the_nudges_that_will_really_be_sent(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Styrgrupp", [MARIA])
    # Monday 23 November, 10.00: two days ahead, the 14- and 3-day nudges have passed
    [two_days] = await coordinator(
        client, connector, "deadline rapporten 25 november för gruppen Styrgrupp"
    )
    assert (
        "Jag påminner var och en tisdag 24 november 2026 kl. 08.00 och onsdag 25 november 2026 "
        "kl. 08.00, tills de svarar **Klar**."
    ) in two_days
    assert "14 dagar" not in two_days and "3 dagar" not in two_days

    # "idag" after the morning's nudge hour: accepted, one nudge right away
    [today] = await coordinator(client, connector, "deadline enkäten idag för gruppen Styrgrupp")
    assert "**enkäten** måndag 23 november 2026 för" in today
    assert "Jag påminner var och en nu direkt" in today
    [now_sent] = await deliver(house, connector)
    assert "”enkäten” ska vara klar måndag 23 november 2026 (idag)." in shown(now_sent)

    # a time of day is kept, and shown to the members
    [noon] = await coordinator(
        client, connector, "deadline underlaget imorgon kl 12 för gruppen Styrgrupp"
    )
    assert "**underlaget** tisdag 24 november 2026 kl. 12.00 för" in noon
    assert "Jag påminner var och en tisdag 24 november 2026 kl. 08.00," in noon
    clock.current = at(2026, 11, 24)
    cards = [shown(s) for s in await deliver(house, connector)]
    assert any(
        "”underlaget” ska vara klart tisdag 24 november 2026 kl. 12.00 (idag)." in c for c in cards
    )
    assert any("”rapporten” ska vara klar onsdag 25 november 2026 (imorgon)." in c for c in cards)

    # a time already past today is refused, in words
    [past] = await coordinator(
        client, connector, "deadline protokollet idag kl 8 för gruppen Styrgrupp"
    )
    assert past.startswith("Den tiden har redan varit (tisdag 24 november 2026 kl. 08.00).")

    # the tense follows the date
    [ahead] = await coordinator(
        client, connector, "deadline årsrapporten 15 mars för gruppen Styrgrupp"
    )
    assert "måndag 15 mars 2027" in ahead
    [status] = await coordinator(client, connector, "status årsrapporten")
    assert "Deadline är måndag 15 mars 2027" in status and "Deadline var" not in status

    # the how-to example is a date ahead of the clock
    [howto] = await coordinator(client, connector, "deadline")
    found = re.search(r"deadline delredovisning (\d+) (\w+) (\d{4})", howto)
    assert found is not None
    example = date(int(found[3]), MONTHS.index(found[2]) + 1, int(found[1]))
    assert example > local_day(clock.now())


# --- item 5: "klar" means what the person meant ----------------------------------------------
async def test_klar_settles_only_a_deadline_the_person_was_nudged_about(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Styrgrupp", [MARIA, CAROLINE])
    for text in (
        "deadline enkäten 2 december för gruppen Styrgrupp",
        "deadline underlaget 3 december för gruppen Styrgrupp",
        "deadline årsplanen 30 september 2027 för gruppen Styrgrupp",
    ):
        await coordinator(client, connector, text)

    # nothing nudged yet: a plain "klar" settles nothing
    [nothing] = await say(client, connector, "klar", **MARIA_ALONE)
    assert nothing.startswith("Jag har inte påmint dig om någon deadline")

    clock.current = at(2026, 12, 2)
    sent = await deliver(house, connector)
    assert to(sent, "personal-29:maria") and to(sent, "personal-29:caroline")

    # two nudged and open: which one? (never the one ten months away)
    [which] = await say(client, connector, "klar", **MARIA_ALONE)
    assert which.startswith("Vilken deadline är du klar med?")
    which_card = connector.sent[-1]
    buttons = {a["title"]: a["data"] for a in actions(which_card)}
    assert set(buttons) == {"enkäten", "underlaget"}
    [pressed] = await press(client, connector, buttons["underlaget"], **MARIA_ALONE)
    assert pressed == "Tack! Jag har noterat att du är klar med **underlaget**."
    [klart] = await say(client, connector, "klart", **MARIA_ALONE)
    assert klart == "Tack! Jag har noterat att du är klar med **enkäten**."

    # in the group chat, "klar" (under a meeting reminder, say) marks nothing
    [in_chat] = await say(
        client, connector, "klar", mention_bot=True, **CAROLINE_HERE, **GROUP_CHAT
    )
    assert in_chat.startswith("Jag har inte påmint dig om någon deadline")
    # a reply to one particular nudge settles that one
    nudge = next(
        s
        for s in connector.sent
        if s.conversation_id == "personal-29:caroline" and "”underlaget”" in shown(s)
    )
    reply = {**CAROLINE_ALONE}
    body_reply = await _say_replying(client, connector, "klar", nudge.id, **reply)
    assert body_reply == ["Tack! Jag har noterat att du är klar med **underlaget**."]
    [last] = await say(client, connector, "jag är klar", **CAROLINE_ALONE)
    assert last == "Tack! Jag har noterat att du är klar med **enkäten**."

    [status] = await coordinator(client, connector, "status årsplanen")
    assert "Klara (0): ingen" in status and "Inte klara (2)" in status


async def _say_replying(
    client: TestClient, connector: FakeConnector, text: str, reply_to: str, **person: Any
) -> list[str]:
    import json

    from tests.helpers import message

    before = len(connector.sent)
    body = message(text, service_url=connector.url, **person)
    body["replyToId"] = reply_to
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201)
    return [
        shown(s)
        for s in connector.sent[before:]
        if s.method == "POST" and s.body.get("type") == "message"
    ]


# --- items 7 and 8: the ways coordinators write it; what the cards say ------------------------
async def test_deadlines_as_coordinators_write_them_and_cards_that_say_who_and_which_group(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Civilsamhälle", [MARIA])
    [due] = await coordinator(client, connector, "Civilsamhälle ska lämna in enkäten senast fredag")
    assert due.startswith("Deadline **enkäten** fredag 27 november 2026 för **Civilsamhälle**")
    # no group named: the group whose chat this is
    [last_day] = await coordinator(client, connector, "sista dag för nomineringen är 15 mars")
    assert last_day.startswith(
        "Deadline **nomineringen** måndag 15 mars 2027 för **Civilsamhälle**"
    )
    [english] = await coordinator(
        client, connector, "deadline for the budget report is Friday 4 December"
    )
    assert english.startswith(
        "Deadline **the budget report** fredag 4 december 2026 för **Civilsamhälle**"
    )
    [usual] = await coordinator(
        client, connector, "deadline underlaget 30 november för gruppen Civilsamhälle"
    )
    assert usual.startswith("Deadline **underlaget** måndag 30 november 2026")

    clock.current = at(2026, 11, 27)
    cards = to(await deliver(house, connector), "personal-29:maria")
    [enkaten] = [c for c in cards if "”enkäten” ska vara klar fredag 27 november 2026 (idag)." in c]
    assert "Satt av Cecilia Samordnare för arbetsgruppen Civilsamhälle." in enkaten
    underlaget = next(c for c in cards if "Deadline: underlaget" in c)
    assert "”underlaget” ska vara klart måndag 30 november 2026 (om 3 dagar)." in underlaget


async def test_a_deadline_across_the_spring_clock_change_keeps_its_hours_and_can_move(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    """March 2027: summer time begins on Easter Sunday 28 March; nudges stay at 08.00 local."""
    clock.current = datetime(2027, 3, 15, 9, 0, tzinfo=UTC)  # Monday, 10.00 CET
    await make_group(client, connector, "Styrgrupp", [MARIA])
    [reply] = await coordinator(
        client, connector, "deadline årsredovisningen 31 mars för gruppen Styrgrupp"
    )
    assert "**årsredovisningen** onsdag 31 mars 2027 för" in reply
    assert "tisdag 30 mars 2027 kl. 08.00" in reply  # after the change: 06.00 UTC

    clock.current = datetime(2027, 3, 30, 5, 59, tzinfo=UTC)
    before = to(await deliver(house, connector), "personal-29:maria")
    assert not any("(imorgon)" in card for card in before)
    clock.current = datetime(2027, 3, 30, 6, 0, tzinfo=UTC)  # 08.00 CEST
    [tomorrow] = to(await deliver(house, connector), "personal-29:maria")
    assert "”årsredovisningen” ska vara klar onsdag 31 mars 2027 (imorgon)." in tomorrow

    # moved a week on: the nudges follow, still at 08.00 local
    [moved] = await coordinator(client, connector, "flytta deadline årsredovisningen till 7 april")
    assert "är nu onsdag 7 april 2027." in moved
    clock.current = datetime(2027, 3, 31, 6, 0, tzinfo=UTC)
    assert to(await deliver(house, connector), "personal-29:maria") == []  # the old day: nothing
    clock.current = datetime(2027, 4, 7, 6, 0, tzinfo=UTC)
    cards = to(await deliver(house, connector), "personal-29:maria")
    assert any("onsdag 7 april 2027 (idag)" in card for card in cards)


async def test_klar_with_a_name_finds_the_persons_own_deadline_of_that_name(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await make_group(client, connector, "Styrgrupp", [MARIA, CAROLINE])
    await make_group(client, connector, "Civilsamhälle", [CAROLINE])
    await coordinator(client, connector, "deadline enkäten 2 december för gruppen Styrgrupp")
    # a later one of the same name for a group Maria is not in
    await coordinator(client, connector, "deadline enkäten 10 december för gruppen Civilsamhälle")
    [done] = await say(client, connector, "klar med enkäten", **MARIA_ALONE)
    assert done == "Tack! Jag har noterat att du är klar med **enkäten**."
    [mine] = await say(client, connector, "mina deadlines", **MARIA_ALONE)
    assert (
        "enkäten – onsdag 2 december 2026, Styrgrupp (satt av Cecilia Samordnare): 1 av 2" in mine
    )


async def test_a_move_or_cancel_can_name_the_group_when_two_have_a_deadline_of_that_name(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await make_group(client, connector, "Styrgrupp", [MARIA])
    await make_group(client, connector, "Civilsamhälle", [CAROLINE])
    await coordinator(client, connector, "deadline enkäten 2 december för gruppen Styrgrupp")
    await coordinator(client, connector, "deadline enkäten 10 december för gruppen Civilsamhälle")
    [moved] = await coordinator(
        client, connector, "flytta deadline enkäten för gruppen Styrgrupp till 4 december"
    )
    assert moved.startswith("Flyttad: **enkäten** för **Styrgrupp** är nu fredag 4 december 2026.")
    [cancelled] = await coordinator(
        client, connector, "ta bort deadline enkäten för gruppen Civilsamhälle"
    )
    assert cancelled.startswith("Borttagen: **enkäten** för **Civilsamhälle**.")
    [left] = await coordinator(client, connector, "alla deadlines")
    assert "enkäten – fredag 4 december 2026, Styrgrupp" in left and "Civilsamhälle" not in left
