"""Availability polls, the whole story over HTTP: group, poll, answers, nudges, result, booking,
the .ics, reminders, move and cancel; the fake Bot Connector records what members would see."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from icalendar import Calendar
from sqlalchemy import select

from bot import House
from storage.polls import Poll, PollRepository, PollView
from tests.cardcheck import assert_valid_card
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.test_reminders import CAROLINE, COORDINATOR, GROUP_CHAT, MARIA, deliver, say

MARIE = ("29:marie", "Marie Lund")
OLLE = {"user": "29:olle", "name": "Olle Ström", "aad": "aad-olle"}
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Monday 16 August 2027, 10.00 in Stockholm: "ett första spånarmöte efter sommaren". A date after
# the real one, so no scheduler job meant for a fake time fires for real during the test.
AUGUST = datetime(2027, 8, 16, 8, 0, tzinfo=UTC)


def person(who: tuple[str, str]) -> dict[str, str]:
    user, name = who
    return {"user": user, "name": name, "aad": f"aad-{user.split(':')[-1]}"}


def personal_chat(who: tuple[str, str]) -> dict[str, str]:
    # The fake connector names a personal chat the bot opens "personal-<user id>".
    return {"conversation": f"personal-{who[0]}", "conversation_type": "personal"}


def card_text(sent: Sent) -> str:
    """Everything a person reads on a card: text blocks, facts and buttons."""
    parts = [sent.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                parts.append(str(node.get("text", "")))
            if node.get("type") == "FactSet":
                parts.extend(f"{f['title']}: {f['value']}" for f in node.get("facts", []))
            if str(node.get("type", "")).startswith("Action."):
                parts.append(str(node.get("title", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for card in sent.cards:
        walk(card)
    return "\n".join(p for p in parts if p)


def slot_texts(sent: Sent) -> list[str]:
    """Per slot on the poll card: its heading and answer rows, one string per slot."""
    [card] = sent.cards
    return [
        "\n".join(item["text"] for item in block["items"] if item.get("type") == "TextBlock")
        for block in card["body"]
        if block.get("type") == "Container"
    ]


def submits(sent: Sent) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node["data"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for card in sent.cards:
        walk(card)
    return found


def open_urls(sent: Sent) -> dict[str, str]:
    [card] = sent.cards
    return {a["title"]: a["url"] for a in card.get("actions", []) if a["type"] == "Action.OpenUrl"}


async def in_group(client: TestClient, connector: FakeConnector, text: str, **kw: Any) -> list[str]:
    who = kw.pop("who", COORDINATOR)
    return await say(client, connector, text, mention_bot=True, **who, **GROUP_CHAT, **kw)


async def post(client: TestClient, connector: FakeConnector, body: dict[str, Any]) -> None:
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201), await response.text()


def latest_poll(house: House) -> PollView:
    with house.sessions() as session:
        poll_id = session.scalar(select(Poll.id).order_by(Poll.id.desc()).limit(1))
    view = PollRepository(house.sessions).get(poll_id)
    assert view is not None
    return view


def answer(poll: PollView, *choices: str) -> dict[str, Any]:
    value: dict[str, Any] = {"action": "polls.answer", "poll": poll.id}
    for slot, choice in zip(poll.slots, choices, strict=True):
        value[f"slot_{slot.id}"] = choice
    return value


async def make_group(
    client: TestClient, connector: FakeConnector, people: list[tuple[str, str]]
) -> None:
    [reply] = await in_group(client, connector, "ny arbetsgrupp Civilsamhälle med", mentions=people)
    assert "är skapad" in reply


async def plan(
    client: TestClient, connector: FakeConnector, slots: str, deadline: str = "fre 27/8"
) -> list[str]:
    """The planning dialog in the group's chat; returns what the last answer brought."""
    [ask_title] = await in_group(client, connector, "planera spånarmöte för Civilsamhälle")
    assert "Vad ska mötet heta?" in ask_title and "”Spånarmöte”" in ask_title
    [ask_length] = await in_group(client, connector, "ok")
    assert "Hur långt blir mötet?" in ask_length
    [ask_place] = await in_group(client, connector, "ok")
    assert "Var ses ni?" in ask_place
    [ask_slots] = await in_group(client, connector, "Teams-möte")
    assert "Vilka tider" in ask_slots
    [ask_deadline] = await in_group(client, connector, slots)
    assert "sista dagen att svara" in ask_deadline
    return await in_group(client, connector, deadline)


# --- the whole story ------------------------------------------------------------------------


async def test_from_poll_to_booked_moved_and_cancelled_meeting(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = AUGUST
    await make_group(client, connector, [MARIA, CAROLINE, MARIE])
    # Teams' member lookup knows Maria's and Caroline's addresses (Marie's it does not give).
    for who, email in (
        (MARIA, "maria.berg@kungalv.example.se"),
        (CAROLINE, "CAROLINE@Ale.example"),
    ):
        connector.people[who[0]] = {"aadObjectId": person(who)["aad"], "email": email}
    connector.people["29:coord"] = {"aadObjectId": "aad-coordinator", "email": "cecilia@gr.example"}
    connector.clear()

    # The coordinator plans in the group's chat with slots written in Swedish.
    await plan(client, connector, "tis 31/8 13-15, ons 1/9 9-11, tors 2/9 13-15")
    poll = latest_poll(house)
    assert [s.start.astimezone(STOCKHOLM).strftime("%d/%m %H") for s in poll.slots] == [
        "31/08 13",
        "01/09 09",
        "02/09 13",
    ]
    assert poll.deadline == datetime(2027, 8, 27, 15, 0, tzinfo=UTC)  # fredag 17.00
    [shared] = [
        s for s in connector.sent if s.conversation_id == GROUP_CHAT["conversation"] and s.cards
    ]
    assert_valid_card(shared.cards[0])
    text = card_text(shared)
    assert "Spånarmöte – Civilsamhälle" in text
    assert "Plats: Teams-möte" in text and "Längd: 2 timmar" in text
    assert "Svara senast: fredag 27 augusti 2027 kl. 17.00" in text
    assert "Har inte svarat (3): Maria Berg, Caroline Ek och Marie Lund" in text
    assert submits(shared) == [{"action": "polls.answer", "poll": poll.id}]
    choice_sets = [
        item
        for block in shared.cards[0]["body"]
        if block.get("type") == "Container"
        for item in block["items"]
        if item["type"] == "Input.ChoiceSet"
    ]
    assert [[c["title"] for c in cs["choices"]] for cs in choice_sets] == [
        ["Ja", "Om det behövs", "Nej"]
    ] * 3
    assert "tisdag 31 augusti 2027 kl. 13.00–15.00" in text
    confirmation = connector.sent[-1].text
    assert "till 3 personer i **Civilsamhälle**" in confirmation
    # ... and each member got the card personally, in a personal chat the bot opened.
    for who in (MARIA, CAROLINE, MARIE):
        [card] = [
            s for s in connector.sent if s.conversation_id == f"personal-{who[0]}" and s.cards
        ]
        assert "Spånarmöte – Civilsamhälle" in card_text(card)
    shared_id = poll.activity_id
    assert shared_id == (latest_poll(house).activity_id) and shared_id is not None

    # Maria answers from her personal chat; the shared card changes in place.
    connector.clear()
    replies = await say(
        client,
        connector,
        value=answer(poll, "yes", "if_needed", "no"),
        **person(MARIA),
        **personal_chat(MARIA),
    )
    assert any("Tack Maria! Ditt svar för **Spånarmöte** är sparat" in r for r in replies)
    assert any("• onsdag 1 september 2027 kl. 09.00–11.00: Om det behövs" in r for r in replies)
    [update] = [s for s in connector.sent if s.method == "PUT"]
    assert update.conversation_id == GROUP_CHAT["conversation"]
    assert update.path.endswith(f"/activities/{shared_id}")
    first, second, third = slot_texts(update)
    assert "Ja (1): Maria Berg" in first and "Om det behövs (1): Maria Berg" in second
    assert "Nej (1): Maria Berg" in third
    assert "Har inte svarat (2): Caroline Ek och Marie Lund" in card_text(update)

    # She changes her mind about Thursday.
    connector.clear()
    await say(
        client,
        connector,
        value=answer(poll, "yes", "if_needed", "yes"),
        **person(MARIA),
        **personal_chat(MARIA),
    )
    [update] = [s for s in connector.sent if s.method == "PUT"]
    third = slot_texts(update)[2]
    assert "Ja (1): Maria Berg" in third and "Nej (0): –" in third

    # Someone outside the group is told politely.
    [refused] = await say(client, connector, value=answer(poll, "yes", "yes", "yes"), **OLLE)
    assert "Den här omröstningen är för arbetsgruppen **Civilsamhälle**" in refused
    assert len(latest_poll(house).answered()) == 1

    # Two days before the deadline, 09.00: a nudge to those who have not answered, not Maria.
    clock.current = datetime(2027, 8, 25, 6, 59, tzinfo=UTC)
    assert await deliver(house, connector) == []
    clock.current = datetime(2027, 8, 25, 7, 0, tzinfo=UTC)
    nudged = await deliver(house, connector)
    assert sorted(s.conversation_id for s in nudged) == [
        "personal-29:caroline",
        "personal-29:marie",
    ]
    assert all("Du har inte svarat på tidsförslagen för **Spånarmöte**" in s.text for s in nudged)

    # The coordinator can nudge by hand too: the card again, personally.
    connector.clear()
    replies = await in_group(client, connector, "påminn de som inte svarat")
    assert "Jag påminde 2 personer: Caroline Ek och Marie Lund." in replies
    resent = [s for s in connector.sent if s.cards and s.conversation_id.startswith("personal-")]
    assert sorted(s.conversation_id for s in resent) == [
        "personal-29:caroline",
        "personal-29:marie",
    ]
    assert all("Påminnelse från Cecilia Samordnare" in card_text(s) for s in resent)

    # Caroline answers on the shared card in the group's chat: no chatter there, the card changes.
    connector.clear()
    replies = await say(
        client,
        connector,
        value=answer(poll, "if_needed", "yes", "yes"),
        **person(CAROLINE),
        **GROUP_CHAT,
    )
    assert [s.method for s in connector.sent if s.body.get("type") == "message"] == ["PUT"]
    assert "Ja (2): Maria Berg och Caroline Ek" in slot_texts(connector.sent[-1])[2]

    # The morning of the deadline: only Marie is left.
    clock.current = datetime(2027, 8, 27, 6, 0, tzinfo=UTC)
    [morning] = await deliver(house, connector)
    assert morning.conversation_id == "personal-29:marie"

    # The deadline passes: the poll closes and the coordinator gets the ranked result.
    clock.current = datetime(2027, 8, 27, 15, 0, tzinfo=UTC)
    connector.clear()
    assert await house.polls.close_due() == 1
    assert await house.polls.close_due() == 0  # once
    [result] = [s for s in connector.sent if s.conversation_id == "personal-29:coord" and s.cards]
    assert_valid_card(result.cards[0])
    text = card_text(result)
    assert "Svarstiden gick ut fredag 27 augusti 2027 kl. 17.00. 2 av 3 har svarat." in text
    rows = [line for line in text.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert rows == [
        "1. torsdag 2 september 2027 kl. 13.00–15.00: Ja 2, Om det behövs 0, Nej 0",
        "2. tisdag 31 augusti 2027 kl. 13.00–15.00: Ja 1, Om det behövs 1, Nej 0",
        "3. onsdag 1 september 2027 kl. 09.00–11.00: Ja 1, Om det behövs 1, Nej 0",
    ]
    book = [d for d in submits(result) if d["action"] == "polls.book"]
    assert [d["slot"] for d in book] == [poll.slots[2].id, poll.slots[0].id, poll.slots[1].id]
    [closed] = [
        s
        for s in connector.sent
        if s.method == "PUT" and s.conversation_id == GROUP_CHAT["conversation"]
    ]
    assert "Svarstiden är slut." in card_text(closed) and submits(closed) == []
    # ... and so does each member's own card, the latest one each got.
    personal = [s for s in connector.sent if s.method == "PUT" and s is not closed]
    assert sorted(s.conversation_id for s in personal) == [
        "personal-29:caroline",
        "personal-29:maria",
        "personal-29:marie",
    ]
    assert all("Svarstiden är slut." in card_text(s) and submits(s) == [] for s in personal)

    # Marie is too late: refused, with the result so far.
    [late] = await say(
        client,
        connector,
        value=answer(poll, "yes", "yes", "yes"),
        **person(MARIE),
        **personal_chat(MARIE),
    )
    assert "Svarstiden för **Spånarmöte** gick ut fredag 27 augusti 2027 kl. 17.00" in late
    assert "1. torsdag 2 september 2027 kl. 13.00–15.00: Ja 2" in late

    # Only a coordinator books; Maria pressing the button is refused.
    [no] = await say(client, connector, value=book[0], **person(MARIA), **personal_chat(MARIA))
    assert "Bara samordnare" in no

    # The coordinator books Thursday.
    connector.clear()
    replies = await say(
        client,
        connector,
        value=book[0],
        **COORDINATOR,
        conversation="personal-29:coord",
        conversation_type="personal",
    )
    assert any(
        "Bokat! **Spånarmöte** blir torsdag 2 september 2027 kl. 13.00–15.00, Teams-möte. "
        "Jag har skickat inbjudan till 3 personer" in r
        for r in replies
    )
    announced = [
        s
        for s in connector.sent
        if s.conversation_id == GROUP_CHAT["conversation"] and s.method == "POST"
    ]
    assert [s.text for s in announced] == [
        "**Spånarmöte** för Civilsamhälle är bokat: torsdag 2 september 2027 kl. 13.00–15.00, "
        "Teams-möte. Inbjudan kommer personligen."
    ]
    [booked_card] = [
        s
        for s in connector.sent
        if s.method == "PUT" and s.conversation_id == GROUP_CHAT["conversation"]
    ]
    assert "Bokat: torsdag 2 september 2027 kl. 13.00–15.00, Teams-möte." in card_text(booked_card)
    invites = [s for s in connector.sent if s.cards and "Inbjudan: Spånarmöte" in card_text(s)]
    assert sorted(s.conversation_id for s in invites) == [
        "personal-29:caroline",
        "personal-29:maria",
        "personal-29:marie",
    ]
    for invite in invites:
        assert_valid_card(invite.cards[0])
    links = open_urls(invites[0])
    ics_url = links["Lägg till i kalendern (.ics)"]
    assert ics_url.startswith("http://127.0.0.1:3978/ics/") and ics_url.endswith(".ics")
    token = ics_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 40  # secrets.token_urlsafe(32)
    outlook = links["Öppna i Outlook"]
    assert outlook.startswith("https://outlook.office.com/calendar/0/deeplink/compose?")
    assert "startdt=2027-09-02T13%3A00%3A00%2B02%3A00" in outlook
    assert "enddt=2027-09-02T15%3A00%3A00%2B02%3A00" in outlook
    assert "subject=Sp%C3%A5narm%C3%B6te" in outlook and "location=Teams-m%C3%B6te" in outlook

    # A second press (Teams re-sent it with a new id) books nothing new.
    connector.clear()
    [again] = await say(
        client,
        connector,
        value=book[0],
        **COORDINATOR,
        conversation="personal-29:coord",
        conversation_type="personal",
    )
    assert "är redan bokat" in again and len(connector.sent) == 1

    # The .ics: valid, Stockholm times, named after the meeting, every member Teams gave an
    # address for an attendee by that address (never an Entra or Teams id).
    event, calendar = await fetch_ics(client, ics_url)
    response = await client.get("/ics/" + ics_url.split("/ics/", 1)[1])
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Spanarmote.ics\"; filename*=UTF-8''Sp%C3%A5narm%C3%B6te.ics"
    )
    assert "urn:" not in (await response.text())
    assert calendar["METHOD"] == "PUBLISH"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    assert event.decoded("DTSTART") == datetime(2027, 9, 2, 13, 0, tzinfo=STOCKHOLM)
    assert event.decoded("DTEND") == datetime(2027, 9, 2, 15, 0, tzinfo=STOCKHOLM)
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert sorted((str(a), a.params["CN"]) for a in event["ATTENDEE"]) == [
        ("mailto:caroline@ale.example", "Caroline Ek"),
        ("mailto:maria.berg@kungalv.example.se", "Maria Berg"),
    ]
    assert str(event["ORGANIZER"]) == "mailto:cecilia@gr.example"
    assert event["SUMMARY"] == "Spånarmöte – Civilsamhälle" and event["LOCATION"] == "Teams-möte"
    assert int(event["SEQUENCE"]) == 0 and event["STATUS"] == "CONFIRMED"
    uid = str(event["UID"])
    missing = await client.get("/ics/not-a-token.ics")
    assert missing.status == 404

    # Meeting reminders are scheduled: the afternoon before and an hour before.
    planned = [r.due_at for r in _meeting_reminders(house, poll.id)]
    assert planned == [
        datetime(2027, 9, 1, 14, 0, tzinfo=UTC),
        datetime(2027, 9, 2, 10, 0, tzinfo=UTC),
    ]

    # The coordinator moves it to Friday morning: everyone is told, the reminders follow.
    connector.clear()
    *_, moved = await in_group(client, connector, "flytta spånarmötet till fre 3/9 9-11")
    assert moved.startswith(
        "Okej, **Spånarmöte** är flyttat till fredag 3 september 2027 kl. 09.00–11.00."
    )
    assert any(
        "är flyttat till fredag 3 september 2027 kl. 09.00–11.00" in s.text for s in connector.sent
    )
    new_invites = [s for s in connector.sent if s.cards and "Ny tid: Spånarmöte" in card_text(s)]
    assert len(new_invites) == 3
    assert [r.due_at for r in _meeting_reminders(house, poll.id)] == [
        datetime(2027, 9, 2, 14, 0, tzinfo=UTC),
        datetime(2027, 9, 3, 6, 0, tzinfo=UTC),
    ]
    event, _ = await fetch_ics(client, ics_url)
    assert event.decoded("DTSTART") == datetime(2027, 9, 3, 9, 0, tzinfo=STOCKHOLM)
    assert int(event["SEQUENCE"]) == 1 and str(event["UID"]) == uid

    clock.current = datetime(2027, 9, 1, 14, 0, tzinfo=UTC)  # the old afternoon-before: nothing
    assert await deliver(house, connector) == []
    clock.current = datetime(2027, 9, 2, 14, 0, tzinfo=UTC)
    reminded = await deliver(house, connector)
    assert sorted(s.conversation_id for s in reminded) == [
        "personal-29:caroline",
        "personal-29:maria",
        "personal-29:marie",
    ]
    assert all(
        "Möte fredag 3 september 2027 kl. 09.00: Spånarmöte" in card_text(s) for s in reminded
    )

    # And cancels it: the calendar file says so, the last reminder is not sent.
    connector.clear()
    # One message in the group's chat, where it was cancelled: the announcement.
    await in_group(client, connector, "ställ in spånarmötet")
    in_chat = [
        s.text
        for s in connector.sent
        if s.method == "POST"
        and s.conversation_id == GROUP_CHAT["conversation"]
        and s.body.get("type") == "message"  # not a typing indicator on a slow machine
    ]
    assert in_chat == ["**Spånarmöte** för Civilsamhälle är inställt."]
    told = [
        s.conversation_id
        for s in connector.sent
        if s.text.startswith("**Spånarmöte** för Civilsamhälle är inställt.")
    ]
    assert sorted(told) == [
        GROUP_CHAT["conversation"],
        "personal-29:caroline",
        "personal-29:maria",
        "personal-29:marie",
    ]
    event, calendar = await fetch_ics(client, ics_url)
    assert calendar["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2
    clock.current = datetime(2027, 9, 3, 6, 0, tzinfo=UTC)
    assert await deliver(house, connector) == []


async def fetch_ics(client: TestClient, url: str) -> tuple[Any, Calendar]:
    path = url.split("/ics/", 1)[1]
    response = await client.get(f"/ics/{path}")
    assert response.status == 200
    assert response.content_type == "text/calendar"
    calendar = Calendar.from_ical(await response.read())
    [event] = calendar.walk("VEVENT")
    return event, calendar


def _meeting_reminders(house: House, poll_id: int) -> list[Any]:
    from storage.reminders import Reminder

    with house.sessions() as session:
        return list(
            session.scalars(
                select(Reminder)
                .where(Reminder.key == f"poll:{poll_id}:meeting", Reminder.cancelled_at.is_(None))
                .order_by(Reminder.due_at)
            )
        )


# --- proposals ------------------------------------------------------------------------------


async def test_proposals_skip_ascension_day_its_klamdag_and_midsummer_eve(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = datetime(2027, 4, 1, 8, 0, tzinfo=UTC)
    await make_group(client, connector, [MARIA, CAROLINE])
    await in_group(client, connector, "planera spånarmöte för Civilsamhälle")
    for text in ("ok", "ok", "Teams-möte"):
        await in_group(client, connector, text)
    # Week 18 of 2027: Kristi himmelsfärdsdag Thursday 6 May, klämdag Friday 7 May.
    [proposed] = await in_group(client, connector, "föreslå tre tider vecka 18 på förmiddagen")
    assert "Jag föreslår:" in proposed
    assert [line for line in proposed.splitlines() if line.startswith("•")] == [
        "• måndag 3 maj 2027 kl. 09.00–11.00",
        "• tisdag 4 maj 2027 kl. 09.00–11.00",
        "• onsdag 5 maj 2027 kl. 09.00–11.00",
    ]
    [cancelled] = await in_group(client, connector, "avbryt")
    assert "avbröt" in cancelled

    # Week 25: midsommarafton is Friday 25 June; four working days remain.
    await in_group(client, connector, "planera spånarmöte för Civilsamhälle")
    for text in ("ok", "90 minuter", "Kommunhuset, sal 3"):
        await in_group(client, connector, text)
    [proposed] = await in_group(client, connector, "föreslå fyra tider vecka 25 på eftermiddagen")
    assert [line for line in proposed.splitlines() if line.startswith("•")] == [
        "• måndag 21 juni 2027 kl. 13.00–14.30",
        "• tisdag 22 juni 2027 kl. 13.00–14.30",
        "• onsdag 23 juni 2027 kl. 13.00–14.30",
        "• torsdag 24 juni 2027 kl. 13.00–14.30",
    ]
    *_, opened = await in_group(client, connector, "ok")  # the default last day to answer
    assert "Svar senast torsdag 17 juni 2027 kl. 17.00" in opened
    poll = latest_poll(house)
    assert poll.place == "Kommunhuset, sal 3" and poll.length_minutes == 90


async def test_proposals_avoid_the_groups_booked_meetings(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = AUGUST
    await make_group(client, connector, [MARIA])
    await plan(client, connector, "mån 30/8 9-11")
    poll = latest_poll(house)
    await say(client, connector, value=answer(poll, "yes"), **person(MARIA), **personal_chat(MARIA))
    # Everyone (Maria) has answered: the coordinator gets the result at once.
    [result] = [s for s in connector.sent if s.conversation_id == "personal-29:coord" and s.cards]
    assert "Alla 1 har svarat." in card_text(result)
    book = [d for d in submits(result) if d["action"] == "polls.book"]
    await say(client, connector, value=book[0], **COORDINATOR, conversation="personal-29:coord")

    await in_group(client, connector, "planera uppföljning för Civilsamhälle")
    for text in ("ok", "ok", "ok"):
        await in_group(client, connector, text)
    [proposed] = await in_group(client, connector, "föreslå en tid vecka 35 på förmiddagen")
    rows = [line for line in proposed.splitlines() if line.startswith("•")]
    # Monday morning has no free two hours beside the booked 09.00–11.00; Tuesday is first.
    assert rows == ["• tisdag 31 augusti 2027 kl. 09.00–11.00"]


async def test_planning_is_for_coordinators_and_bad_input_is_explained(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = AUGUST
    await make_group(client, connector, [MARIA])
    [refused] = await in_group(client, connector, "planera spånarmöte för Civilsamhälle", who=OLLE)
    assert "Bara samordnare och den som skapade **Civilsamhälle**" in refused
    [unknown] = await in_group(client, connector, "planera spånarmöte för Okänd")
    assert "Jag hittar ingen arbetsgrupp som heter ”Okänd”" in unknown
    await in_group(client, connector, "planera spånarmöte för Civilsamhälle")
    await in_group(client, connector, "ok")
    [bad] = await in_group(client, connector, "en evighet")
    assert "Jag förstod inte hur långt mötet blir" in bad
    await in_group(client, connector, "2 timmar")
    await in_group(client, connector, "Teams")
    [bad] = await in_group(client, connector, "någon gång")
    assert "Skriv till exempel ”tis 1/9 13-15, ons 2/9 9-11”" in bad
    await in_group(client, connector, "tis 31/8 13-15")
    [late] = await in_group(client, connector, "fre 3/9")
    assert "måste vara före den första tiden" in late
    *_, opened = await in_group(client, connector, "mån 30/8")
    assert "Svar senast måndag 30 augusti 2027 kl. 17.00" in opened
    # From the coordinator's personal chat: the poll they started.
    *_, reminded = await say(client, connector, "påminn de som inte svarat", **COORDINATOR)
    assert reminded == "Jag påminde 1 person: Maria Berg."


# --- the repository ---------------------------------------------------------------------------


def test_ranking_ties_go_to_the_earlier_slot_and_old_polls_are_forgotten(
    sessions: Any,
) -> None:
    from datetime import timedelta

    from storage.groups import GroupRepository, Member
    from storage.polls import IF_NEEDED, YES, NewPoll, Voter

    now = AUGUST
    group = GroupRepository(sessions).create(
        "Civilsamhälle",
        tenant_id="t",
        created_by=Member("29:coord", "Cecilia"),
        conversation_id=None,
        members=[Member("29:maria", "Maria"), Member("29:caroline", "Caroline")],
        now=now,
    )
    polls = PollRepository(sessions)
    start = now + timedelta(days=14)
    slots = tuple(
        (start + timedelta(days=d), start + timedelta(days=d, hours=2)) for d in (2, 0, 1)
    )

    def new_poll() -> PollView:
        return polls.create(
            NewPoll(
                group_id=group.id,
                group_name=group.name,
                tenant_id="t",
                title="Spånarmöte",
                length_minutes=120,
                place="Teams-möte",
                deadline=now + timedelta(days=7),
                creator=Voter("29:coord", "Cecilia"),
                slots=slots,
            ),
            now,
        )

    poll = new_poll()
    first, second, third = (s.id for s in poll.slots)  # stored earliest first
    polls.submit(
        poll.id, Voter("29:maria", "Maria"), {first: YES, second: YES, third: IF_NEEDED}, now
    )
    polls.submit(poll.id, Voter("29:caroline", "Caroline"), {third: YES, second: IF_NEEDED}, now)
    ranked = [r.slot.id for r in polls.get(poll.id).ranked()]  # type: ignore[union-attr]
    # second: Ja 1 + 1; third: Ja 1 + 1; first: Ja 1 -> ties go to the earlier slot.
    assert ranked == [second, third, first]

    booked, _ = polls.book(poll.id, second, now)
    cancelled = polls.cancel(new_poll().id, now)
    assert booked.meeting is not None and cancelled.status == "cancelled"
    later = now + timedelta(days=10)
    assert polls.purge_older_than(later) == 1  # the cancelled one; the meeting is still to come
    assert polls.get(cancelled.id) is None and polls.get(poll.id) is not None
    assert polls.purge_older_than(now + timedelta(days=400)) == 1


async def test_a_result_lost_to_a_crash_is_sent_later_and_once(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    """The bot closed the poll (and claimed its result) and died before sending it: the next
    watch round after the claim's lease sends it, once."""
    clock.current = AUGUST
    await make_group(client, connector, [MARIA, CAROLINE, MARIE])
    await plan(client, connector, "tis 31/8 13-15, ons 1/9 9-11, tors 2/9 13-15")
    poll = latest_poll(house)
    clock.current = datetime(2027, 8, 27, 15, 0, tzinfo=UTC)
    # What the crashed process got done: the poll closed, its result claimed, nothing sent.
    [(closed, needs_result)] = PollRepository(house.sessions).close_due(clock.now())
    assert closed.id == poll.id and needs_result
    connector.clear()
    polls = house.polls

    def results() -> list[Sent]:
        return [s for s in connector.sent if s.conversation_id == "personal-29:coord" and s.cards]

    assert await polls.close_due() == 0
    assert results() == []  # the claim is fresh: the sender may still be at it
    clock.advance(minutes=6)
    await polls.close_due()
    [result] = results()
    assert "Svarstiden gick ut fredag 27 augusti 2027 kl. 17.00. 0 av 3 har svarat." in card_text(
        result
    )
    clock.advance(minutes=30)
    await polls.close_due()
    assert len(results()) == 1


async def test_shared_card_updates_keep_teams_limits_and_survive_a_429(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    """The shared card is updated through the one Sender (issue 14.10): a 429 on the update is
    waited out as Teams asks, and the group still sees the answer."""
    clock.current = AUGUST
    await make_group(client, connector, [MARIA, CAROLINE, MARIE])
    await plan(client, connector, "tis 31/8 13-15, ons 1/9 9-11, tors 2/9 13-15")
    poll = latest_poll(house)
    connector.clear()
    connector.failures[GROUP_CHAT["conversation"]].append((429, {"Retry-After": "0"}))
    await say(
        client,
        connector,
        value=answer(poll, "yes", "if_needed", "no"),
        **person(MARIA),
        **personal_chat(MARIA),
    )
    assert connector.failures[GROUP_CHAT["conversation"]] == []  # Teams said 429 once
    [update] = [s for s in connector.sent if s.method == "PUT"]
    assert update.path.endswith(f"/activities/{poll.activity_id}")
    assert "Ja (1): Maria Berg" in slot_texts(update)[0]


# --- cards that follow the poll (issue 15.3) -----------------------------------------------------


async def press_on(
    client: TestClient, connector: FakeConnector, card: Sent, value: dict[str, Any], **who: Any
) -> list[Sent]:
    """A submit pressed on a card the bot sent (Teams names the card in `replyToId`)."""
    from tests.helpers import message

    body = message("", service_url=connector.url, value=value, **who)
    body["replyToId"] = card.id
    before = len(connector.sent)
    await post(client, connector, body)
    return connector.sent[before:]


async def test_personal_cards_keep_answers_follow_the_booking_and_the_result_names_the_time(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = AUGUST
    await make_group(client, connector, [MARIA, CAROLINE])
    connector.clear()
    replies = await plan(client, connector, "tis 31/8 13-15, ons 1/9 9-11")
    assert any(
        "Jag påminner dem som inte svarat två dagar före och på morgonen sista dagen." in r
        for r in replies
    )
    poll = latest_poll(house)
    mine = {
        who[0]: next(
            s for s in connector.sent if s.conversation_id == f"personal-{who[0]}" and s.cards
        )
        for who in (MARIA, CAROLINE)
    }
    assert "Du har inte svarat än." in card_text(mine["29:maria"])

    # Maria answers on her card: it acknowledges the answer and keeps her choices.
    sent = await press_on(
        client,
        connector,
        mine["29:maria"],
        answer(poll, "yes", "no"),
        **person(MARIA),
        **personal_chat(MARIA),
    )
    [own] = [s for s in sent if s.method == "PUT" and s.conversation_id == "personal-29:maria"]
    assert own.path.endswith(f"/activities/{mine['29:maria'].id}")
    assert "Du har svarat." in card_text(own)
    assert "Ditt svar: Ja" in card_text(own) and "Ditt svar: Nej" in card_text(own)
    values = [
        item.get("value")
        for block in own.cards[0]["body"]
        if block.get("type") == "Container"
        for item in block["items"]
        if item["type"] == "Input.ChoiceSet"
    ]
    assert values == ["yes", "no"]

    # The organiser books Tuesday from her personal chat: every personal card shows the booking
    # and offers nothing to answer any more; the pressed card shows it too.
    book = {"action": "polls.book", "poll": poll.id, "slot": poll.slots[0].id}
    connector.clear()
    await say(
        client,
        connector,
        value=book,
        **COORDINATOR,
        conversation="personal-29:coord",
        conversation_type="personal",
    )
    for who, card in mine.items():
        [updated] = [
            s
            for s in connector.sent
            if s.method == "PUT" and s.path.endswith(f"/activities/{card.id}")
        ]
        text = card_text(updated)
        assert "Bokat: tisdag 31 augusti 2027 kl. 13.00–15.00, Teams-möte." in text, who
        assert submits(updated) == [], who
    assert ("Ditt svar: Ja" in card_text(updated)) is False  # Caroline never answered

    # "visa resultatet" names the booked time.
    connector.clear()
    await in_group(client, connector, "visa resultatet")
    [result] = [s for s in connector.sent if s.cards]
    assert "Bokat: tisdag 31 augusti 2027 kl. 13.00–15.00, Teams-möte. 1 av 2 svarade." in (
        card_text(result)
    )


async def test_a_short_answer_time_promises_only_the_nudges_it_has_room_for(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = AUGUST  # Monday 10.00; the last day to answer is tomorrow
    await make_group(client, connector, [MARIA])
    replies = await plan(client, connector, "tors 19/8 13-15", deadline="tis 17/8")
    [opened] = [r for r in replies if "Svar senast" in r]
    assert opened.endswith("Jag påminner dem som inte svarat på morgonen sista dagen.")
    assert "två dagar före" not in opened
