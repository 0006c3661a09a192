"""A term of deadlines and recurring group reminders on the Swedish calendar (issue 17, items 3, 4
and 6), over HTTP with the fake Bot Connector, on SQLite and PostgreSQL.

The fake clock walks from November 2026 to July 2027: Christmas and New Year, the change to
summer time on 28 March 2027, Easter (påskdagen 28 March 2027, annandag påsk 29 March) and
midsummer (midsommarafton 25 June 2027).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import House, Settings, build_app, compose, prepare
from scheduler.swedish import is_working_day
from scheduler.timing import at_hour, local_day
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.test_reminders import COORDINATOR, GROUP_CHAT, actions, deliver, press, say, shown

MARIA, CAROLINE = ("29:maria", "Maria Berg"), ("29:caroline", "Caroline Ek")


@pytest.fixture
async def term(
    db_url: str, clock: FakeClock, settings: Settings
) -> AsyncIterator[tuple[House, TestClient]]:
    house = compose(replace(settings, database_url=db_url), clock)
    prepare(house)
    async with TestClient(TestServer(build_app(house), host="127.0.0.1")) as client:
        yield house, client
    house.engine.dispose()


async def make_group(
    client: TestClient, connector: FakeConnector, name: str, people: list[tuple[str, str]]
) -> None:
    [reply] = await say(
        client,
        connector,
        f"ny arbetsgrupp {name} med",
        mention_bot=True,
        mentions=people,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "är skapad" in reply


async def walk(
    house: House, connector: FakeConnector, clock: FakeClock, until: date, hour: int = 8
) -> list[tuple[date, Sent]]:
    """Moves the clock a day at a time to `hour` Stockholm time, delivering what is due on time;
    returns each card with the Stockholm day it arrived."""
    arrived: list[tuple[date, Sent]] = []
    day = local_day(clock.now()) + timedelta(days=1)
    while day <= until:
        clock.current = at_hour(day, hour)
        arrived += [(day, sent) for sent in await deliver(house, connector)]
        day += timedelta(days=1)
    return arrived


# --- item 3: working days ----------------------------------------------------------------------


async def test_deadline_nudges_and_summaries_keep_to_working_days_over_a_term(
    term: tuple[House, TestClient], connector: FakeConnector, clock: FakeClock
) -> None:
    house, client = term
    await make_group(client, connector, "RSS Dalarna", [MARIA, CAROLINE])
    for deadline in (
        "deadline julrapport 28 december 2026 för gruppen RSS Dalarna",  # a Monday after Christmas
        "deadline påskrapport 30 mars 2027 för gruppen RSS Dalarna",  # the Tuesday after Easter
        "deadline sommarrapport 28 juni 2027 för gruppen RSS Dalarna",  # Monday after midsummer
    ):
        [reply] = await say(
            client, connector, deadline, mention_bot=True, **COORDINATOR, **GROUP_CHAT
        )
        assert "Deadline" in reply, reply

    arrived = await walk(house, connector, clock, date(2027, 7, 1))

    assert all(is_working_day(day) for day, _ in arrived), [
        day for day, _ in arrived if not is_working_day(day)
    ]

    def days_of(name: str, conversation: str) -> list[date]:
        return sorted(
            {day for day, sent in arrived if sent.conversation_id == conversation}
            & {day for day, sent in arrived if name in shown(sent)}
        )

    # 14, 3 and 1 days before and the day itself, each moved to the working day before
    assert days_of("julrapport", "personal-29:maria") == [
        date(2026, 12, 14),
        date(2026, 12, 23),  # 3 days before is juldagen, 1 day before a Sunday: one nudge
        date(2026, 12, 28),
    ]
    assert days_of("påskrapport", "personal-29:caroline") == [
        date(2027, 3, 16),
        date(2027, 3, 25),  # Saturday 27 and annandag påsk 29 March: skärtorsdagen
        date(2027, 3, 30),
    ]
    assert days_of("sommarrapport", "personal-29:maria") == [
        date(2027, 6, 14),
        date(2027, 6, 24),  # midsommarafton and Sunday: the Thursday
        date(2027, 6, 28),
    ]
    # The coordinator's summaries: the first working morning after each deadline.
    assert days_of("Sammanfattning", "personal-29:coord") == [
        date(2026, 12, 29),
        date(2027, 3, 31),
        date(2027, 6, 29),
    ]
    # Each on time at 08.00 Stockholm time, before and after the change to summer time: a card
    # due an hour off would have arrived a day late and said so.
    assert not [day for day, sent in arrived if "ha kommit" in shown(sent)]


# --- item 6: a group's recurring reminders ------------------------------------------------------

MARIA_AS = {"user": MARIA[0], "name": MARIA[1], "aad": "aad-maria"}
CAROLINE_AS = {"user": CAROLINE[0], "name": CAROLINE[1], "aad": "aad-caroline"}


def to(person: dict[str, str]) -> dict[str, str]:
    """The person, writing in their personal chat with the bot."""
    return {**person, "conversation": f"personal-{person['user']}"}


def buttons(sent: Sent) -> dict[str, dict[str, object]]:
    return {a["title"]: a["data"] for a in actions(sent)}


async def test_members_mute_a_group_reminder_and_managers_list_and_stop_it(
    term: tuple[House, TestClient], connector: FakeConnector, clock: FakeClock
) -> None:
    house, client = term
    await make_group(client, connector, "Styrgruppen", [MARIA, CAROLINE])
    [set_by_maria] = await say(
        client,
        connector,
        "varje tisdag kl 9 påminn styrgruppen om styrgruppsmötet",
        mention_bot=True,
        **MARIA_AS,
        **GROUP_CHAT,
    )
    assert "tisdag 24 november 2026 kl. 09.00" in set_by_maria
    # The same reminder again, for the same group and time: refused, pointing at the first.
    [twice] = await say(
        client,
        connector,
        "varje tisdag kl 9 påminn styrgruppen om Styrgruppsmötet",
        mention_bot=True,
        **CAROLINE_AS,
        **GROUP_CHAT,
    )
    assert "har redan den påminnelsen" in twice and "satt av Maria Berg" in twice
    [twice] = await say(
        client,
        connector,
        "varje tisdag kl 9 påminn styrgruppen om styrgruppsmötet",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "”påminnelser för gruppen Styrgruppen”" in twice
    [other] = await say(
        client,
        connector,
        "varje fredag kl 14 påminn styrgruppen om veckobrevet",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "fredag 27 november 2026 kl. 14.00" in other

    clock.current = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09.00
    cards = {s.conversation_id: s for s in await deliver(house, connector)}
    assert sorted(cards) == ["personal-29:caroline", "personal-29:maria"]
    assert "Sluta påminna" in buttons(cards["personal-29:maria"])  # hers to stop
    assert "Sluta påminna" not in buttons(cards["personal-29:caroline"])
    mute = buttons(cards["personal-29:caroline"])["Tysta för mig"]
    [muted] = await press(client, connector, mute, **to(CAROLINE_AS))
    assert "du får inte fler påminnelser om ”styrgruppsmötet”" in muted
    [again] = await press(client, connector, mute, **to(CAROLINE_AS))
    assert "redan tystat" in again

    # Maria mutes the coordinator's reminder by saying so.
    [muted] = await say(client, connector, "tysta påminnelsen om veckobrevet", **to(MARIA_AS))
    assert "”veckobrevet”" in muted and "Resten av gruppen" in muted
    clock.current = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)  # Friday 14.00
    [letter] = await deliver(house, connector)
    assert letter.conversation_id == "personal-29:caroline"
    clock.current = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the next Tuesday
    [meeting] = await deliver(house, connector)
    assert meeting.conversation_id == "personal-29:maria"  # Caroline muted it

    # A member may not list the whole group's reminders; the coordinator may, and stops one.
    [refused] = await say(
        client, connector, "påminnelser för gruppen Styrgruppen", **to(CAROLINE_AS)
    )
    assert "Bara gruppens skapare och samordnare" in refused
    before = len(connector.sent)
    [listed] = await say(
        client, connector, "påminnelser för gruppen Styrgruppen", **to(COORDINATOR)
    )
    assert "styrgruppsmötet (satt av Maria Berg)" in listed
    assert "veckobrevet (satt av Cecilia Samordnare)" in listed
    meeting_id = meeting_reminder_id(house)
    stop = next(
        a["data"]
        for sent in connector.sent[before:]
        for a in actions(sent)
        if a["data"].get("reminder") == meeting_id
    )
    [stopped] = await press(client, connector, stop, **to(COORDINATOR))
    assert "Stoppad: ”styrgruppsmötet”" in stopped
    clock.current = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # the letter of Friday 4th came
    assert not [s for s in await deliver(house, connector) if "styrgruppsmötet" in shown(s)]


def meeting_reminder_id(house: House) -> int:
    group = house.groups.find("Styrgruppen", "tenant-gr")
    assert group is not None
    [meeting] = [r for r in house.nudges.reminders.of_group(group.id) if "möte" in r.text]
    return meeting.id


# --- item 3: a group's recurring reminder on a day off ------------------------------------------


async def test_the_organiser_is_asked_a_week_ahead_about_a_reminder_on_a_day_off(
    term: tuple[House, TestClient], connector: FakeConnector, clock: FakeClock
) -> None:
    house, client = term
    await make_group(client, connector, "Styrgruppen", [MARIA, CAROLINE])
    for text in (
        "varje torsdag kl 10 påminn styrgruppen om planeringen",
        "varje måndag kl 10 påminn styrgruppen om veckomötet",
    ):
        [reply] = await say(client, connector, text, mention_bot=True, **COORDINATOR, **GROUP_CHAT)
        assert "Okej" in reply

    def asked(arrived: list[tuple[date, Sent]]) -> list[tuple[date, Sent]]:
        return [
            (day, sent)
            for day, sent in arrived
            if sent.conversation_id == "personal-29:coord" and "ledig dag" in shown(sent)
        ]

    # Julafton is a Thursday: asked a week ahead, on Thursday 17 December; kept.
    arrived = await walk(house, connector, clock, date(2026, 12, 17), hour=12)
    [(day, card)] = asked(arrived)
    assert day == date(2026, 12, 17)
    assert "torsdag 24 december 2026 är julafton: flytta eller ställ in?" in shown(card)
    assert "Föregående vardag är onsdag 23 december 2026, nästa måndag 28 december" in shown(card)
    assert list(buttons(card)) == [
        "Föregående vardag",
        "Nästa vardag",
        "Ställ in den gången",
        "Behåll",
    ]
    [kept] = await press(client, connector, buttons(card)["Behåll"], **to(COORDINATOR))
    assert kept == "Behålls: ”planeringen” kommer som vanligt torsdag 24 december 2026 kl. 10.00."

    # Nyårsafton too: asked on julafton, called off.
    arrived = await walk(house, connector, clock, date(2026, 12, 24), hour=12)
    assert [d for d, s in arrived if s.conversation_id == "personal-29:maria"] == [
        date(2026, 12, 21),  # veckomötet
        date(2026, 12, 24),  # planeringen, kept on julafton
    ]
    [(day, card)] = asked(arrived)
    assert "torsdag 31 december 2026 är nyårsafton" in shown(card)
    [skipped] = await press(
        client, connector, buttons(card)["Ställ in den gången"], **to(COORDINATOR)
    )
    assert skipped.startswith("Inställd: ”planeringen” kommer inte torsdag 31 december 2026")

    # Annandag påsk, after the change to summer time: moved to the working day before, which is
    # skärtorsdagen (långfredagen is a holiday). Only the organiser or a manager may choose.
    arrived = await walk(house, connector, clock, date(2027, 3, 22), hour=12)
    [(day, card)] = asked(arrived)
    assert day == date(2027, 3, 22)
    assert "måndag 29 mars 2027 är annandag påsk: flytta eller ställ in?" in shown(card)
    earlier, later = buttons(card)["Föregående vardag"], buttons(card)["Nästa vardag"]
    [refused] = await press(client, connector, earlier, **to(MARIA_AS))
    assert refused == "Den påminnelsen finns inte längre, eller så är det någon annans."
    [moved] = await press(client, connector, earlier, **to(COORDINATOR))
    assert moved == (
        "Flyttad: ”veckomötet” kommer torsdag 25 mars 2027 kl. 10.00 i stället för "
        "måndag 29 mars 2027 (annandag påsk)."
    )
    [again] = await press(client, connector, later, **to(COORDINATOR))  # decided once
    assert again.startswith("Redan bestämt. Flyttad: ”veckomötet” kommer torsdag 25 mars")

    arrived = await walk(house, connector, clock, date(2027, 4, 6), hour=12)
    maria = [(d, shown(s)) for d, s in arrived if s.conversation_id == "personal-29:maria"]
    assert [d for d, text in maria if "veckomötet" in text] == [
        date(2027, 3, 25),  # not on annandag påsk
        date(2027, 4, 5),
    ]
    assert asked(arrived) == []


# --- item 4: after downtime -----------------------------------------------------------------------


def skipped(house: House) -> list[tuple[str, str]]:
    """(reminder text, recipient) of every delivery recorded as skipped."""
    from sqlalchemy import select

    from storage.reminders import Delivery, Reminder

    with house.engine.connect() as connection:
        rows = connection.execute(
            select(Reminder.text, Delivery.recipient)
            .join(Reminder, Reminder.id == Delivery.reminder_id)
            .where(Delivery.skipped_at.is_not(None), Delivery.pending.is_(False))
            .order_by(Delivery.due_at, Delivery.recipient)
        )
        return [(text, recipient) for text, recipient in rows]


async def test_after_downtime_only_a_nudge_that_still_helps_is_sent_once_and_says_what_is_true(
    term: tuple[House, TestClient], connector: FakeConnector, clock: FakeClock
) -> None:
    house, client = term
    await make_group(client, connector, "RSS Dalarna", [MARIA, CAROLINE])
    for deadline in (
        "deadline rapport 4 december 2026 för gruppen RSS Dalarna",  # a Friday
        "deadline enkät 19 december 2026 för gruppen RSS Dalarna",  # a Saturday: nudged Friday
    ):
        await say(client, connector, deadline, mention_bot=True, **COORDINATOR, **GROUP_CHAT)

    clock.current = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 08.00
    cards = await deliver(house, connector)
    assert len(cards) == 2 and all("rapport" in shown(c) for c in cards)

    # Down from Wednesday to Tuesday 8 December 08.30: the deadline "rapport" has passed, so its
    # two missed nudges help nobody; "enkät" is ahead: its missed nudge (of Friday 4 December)
    # comes once, saying how many days are left today; the summary still goes to its owner.
    clock.current = datetime(2026, 12, 8, 7, 30, tzinfo=UTC)
    cards = await deliver(house, connector)
    by_chat = {c.conversation_id: shown(c) for c in cards}
    assert sorted(by_chat) == ["personal-29:caroline", "personal-29:coord", "personal-29:maria"]
    for member in ("personal-29:caroline", "personal-29:maria"):
        assert "enkät" in by_chat[member] and "(om 11 dagar)" in by_chat[member]
        assert "ha kommit fredag 4 december 2026 kl. 08.00" in by_chat[member]
    assert "Sammanfattning: rapport" in by_chat["personal-29:coord"]
    assert skipped(house) == [
        ("rapport", "29:caroline"),
        ("rapport", "29:maria"),
        ("rapport", "29:caroline"),
        ("rapport", "29:maria"),
    ]
    assert await deliver(house, connector) == []

    # Down from Wednesday 16th (after that morning's nudge) to the deadline day itself, Saturday:
    # Friday's "imorgon" arrives on Saturday, so it says "idag".
    clock.current = datetime(2026, 12, 16, 7, 0, tzinfo=UTC)
    assert len(await deliver(house, connector)) == 2
    clock.current = datetime(2026, 12, 19, 9, 0, tzinfo=UTC)
    cards = await deliver(house, connector)
    assert sorted(c.conversation_id for c in cards) == [
        "personal-29:caroline",
        "personal-29:maria",
    ]
    assert all("(idag)" in shown(c) and "imorgon" not in shown(c) for c in cards)
    # The day after, it helps no more: the summary (Monday 21st) is all that follows.
    clock.current = datetime(2026, 12, 21, 7, 0, tzinfo=UTC)
    [summary] = await deliver(house, connector)
    assert summary.conversation_id == "personal-29:coord"


async def test_a_recurring_reminder_posted_in_a_chat_can_still_be_stopped_from_its_card(
    term: tuple[House, TestClient], connector: FakeConnector, clock: FakeClock
) -> None:
    house, client = term
    await say(
        client, connector, "varje måndag kl 11 påminn oss om fikat", mention_bot=True, **GROUP_CHAT
    )
    clock.current = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    [card] = await deliver(house, connector)
    assert card.conversation_id == GROUP_CHAT["conversation"]
    assert "Tysta för mig" not in buttons(card)
    [stopped] = await press(client, connector, buttons(card)["Sluta påminna"], **GROUP_CHAT)
    assert stopped.startswith("Stoppad: ”fikat”")
