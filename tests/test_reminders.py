"""Reminders in Swedish over the real HTTP endpoint, a fake Bot Connector and a fake clock."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import House
from tests.cardcheck import assert_valid_card
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.helpers import message

ANNA = {"user": "29:anna", "name": "Anna Andersson", "aad": "aad-anna"}
COORDINATOR = {"user": "29:coord", "name": "Cecilia Samordnare", "aad": "aad-coordinator"}
GROUP_CHAT = {"conversation": "19:group-rss@thread.v2", "conversation_type": "groupChat"}


def shown(sent: Sent) -> str:
    """What a person sees: the text, or every text block and button of the card."""
    for card in sent.cards:
        assert_valid_card(card)  # renders in Teams
    parts = [sent.text]
    for card in sent.cards:
        parts += [block.get("text", "") for block in _blocks(card.get("body", []))]
        parts += [action.get("title", "") for action in card.get("actions", [])]
    return "\n".join(p for p in parts if p)


def _blocks(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for item in items:
        if item.get("type") == "TextBlock":
            found.append(item)
        for key in ("items", "columns"):
            found += _blocks(item.get(key, []))
    return found


def actions(sent: Sent) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for card in sent.cards:
        walk(card)
    return found


async def say(
    client: TestClient, connector: FakeConnector, text: str = "", **kwargs: Any
) -> list[str]:
    """Sends one message as a user; returns what the bot answered in that conversation."""
    before = len(connector.sent)
    person = {**ANNA, **{k: kwargs.pop(k) for k in ("user", "name", "aad") if k in kwargs}}
    body = message(text, service_url=connector.url, **person, **kwargs)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201), await response.text()
    # A turn slowed by a loaded machine also sends a typing indicator: not an answer.
    return [
        shown(s)
        for s in connector.sent[before:]
        if s.method in ("POST", "PUT") and s.body.get("type") == "message"
    ]


async def press(
    client: TestClient, connector: FakeConnector, data: dict[str, Any], **kwargs: Any
) -> list[str]:
    return await say(client, connector, "", value=data, **kwargs)


async def deliver(house: House, connector: FakeConnector) -> list[Sent]:
    before = len(connector.sent)
    await house.nudges.deliver_due()
    return [s for s in connector.sent[before:] if s.method == "POST"]


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


MARIA, CAROLINE = ("29:maria", "Maria Berg"), ("29:caroline", "Caroline Ek")


# --- setting --------------------------------------------------------------------------------


async def test_remind_me_tomorrow_is_confirmed_and_arrives_on_time(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    [reply] = await say(client, connector, "påminn mig imorgon kl 9 om att skicka enkäten")
    assert reply == "Okej! Jag påminner dig tisdag 24 november 2026 kl. 09.00: ”skicka enkäten”."

    clock.current = datetime(2026, 11, 24, 7, 59, tzinfo=UTC)
    assert await deliver(house, connector) == []
    clock.current = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    [sent] = await deliver(house, connector)
    assert sent.conversation_id == "personal-anna"
    assert "skicka enkäten" in shown(sent)
    assert "skulle ha kommit" not in shown(sent)
    assert [a["title"] for a in actions(sent)] == [
        "Påminn igen om 1 timme",
        "Imorgon kl. 9",
        "Klar",
    ]
    assert await deliver(house, connector) == []  # never twice


async def test_remind_me_in_two_hours(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    [reply] = await say(client, connector, "påminn mig om 2 timmar att ringa Lena")
    assert "måndag 23 november 2026 kl. 12.00" in reply and "ringa Lena" in reply
    clock.advance(hours=2)
    [sent] = await deliver(house, connector)
    assert "ringa Lena" in shown(sent)


async def test_remind_us_posts_in_the_chat(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    [reply] = await say(
        client,
        connector,
        "påminn oss den 30 september kl 9 om delredovisningen",
        mention_bot=True,
        **GROUP_CHAT,
    )
    assert "torsdag 30 september 2027 kl. 09.00" in reply and "i chatten" in reply
    clock.current = datetime(2027, 9, 30, 7, 0, tzinfo=UTC)
    [sent] = await deliver(house, connector)
    assert sent.conversation_id == GROUP_CHAT["conversation"]
    assert "delredovisningen" in shown(sent)


async def test_remind_the_group_reaches_each_member_personally(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Civilsamhälle", [MARIA, CAROLINE])
    [reply] = await say(
        client,
        connector,
        "påminn gruppen civilsamhalle på fredag kl 10 om spånarmötet",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "Civilsamhälle" in reply and "fredag 27 november 2026 kl. 10.00" in reply
    clock.current = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    sent = await deliver(house, connector)
    assert sorted(s.conversation_id for s in sent) == ["personal-29:caroline", "personal-29:maria"]
    assert all("spånarmötet" in shown(s) for s in sent)
    creates = [s for s in connector.sent if s.method == "CREATE"]
    assert len(creates) == 2  # personal chats opened for members the bot had not met


async def test_monthly_reminder_keeps_local_time_across_daylight_saving(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Styrgruppen", [MARIA])
    [reply] = await say(
        client,
        connector,
        "varje första måndag i månaden kl 10 påminn styrgruppen om mötet",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "varje första måndag i månaden" in reply and "måndag 7 december 2026" in reply
    expected = [
        datetime(2026, 12, 7, 9, 0, tzinfo=UTC),  # CET
        datetime(2027, 1, 4, 9, 0, tzinfo=UTC),
        datetime(2027, 2, 1, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
        datetime(2027, 4, 5, 8, 0, tzinfo=UTC),  # CEST: still 10.00 in Stockholm
    ]
    for due in expected:
        clock.current = due  # exactly on time
        [sent] = await deliver(house, connector)
        assert "mötet" in shown(sent) and "skulle ha kommit" not in shown(sent)
        assert "Tysta för mig" in shown(sent)  # Maria did not set it: she can mute it
    # The coordinator who set it stops it from the list of her reminders.
    before = len(connector.sent)
    await say(client, connector, "mina påminnelser", mention_bot=True, **COORDINATOR, **GROUP_CHAT)
    [stop] = [a for s in connector.sent[before:] for a in actions(s)]
    [reply] = await press(client, connector, stop["data"], **COORDINATOR, **GROUP_CHAT)
    assert "Stoppad" in reply
    clock.current = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)
    assert await deliver(house, connector) == []


async def test_past_or_unclear_times_get_examples_and_store_nothing(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    [past] = await say(client, connector, "påminn mig igår kl 9 om att skicka enkäten")
    assert "redan varit" in past and "”imorgon kl 9”" in past
    [unclear] = await say(client, connector, "påminn mig om att skicka enkäten")
    assert "När ska jag påminna" in unclear and "skicka enkäten" in unclear
    [nothing] = await say(client, connector, "påminn mig")
    assert "förstod inte när" in nothing and "påminn mig imorgon kl 9" in nothing
    # One example close to what was written, not a list of every kind of reminder.
    for reply in (past, unclear, nothing):
        assert "gruppen Civilsamhälle" not in reply and reply.count("”påminn") <= 1
    [empty] = await say(client, connector, "mina påminnelser")
    assert "inga kommande påminnelser" in empty


# --- managing -------------------------------------------------------------------------------


async def test_list_delete_by_number_and_button_and_move(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig imorgon kl 9 om att skicka enkäten")
    await say(client, connector, "påminn mig om 2 timmar att ringa Lena")
    await say(client, connector, "påminn mig på fredag kl 10 om att boka lokal")
    [listing] = await say(client, connector, "mina påminnelser")
    assert listing.index("1. måndag 23 november 2026 kl. 12.00 – ringa Lena") < listing.index(
        "2. tisdag 24 november 2026 kl. 09.00 – skicka enkäten"
    )
    assert "3. fredag 27 november 2026 kl. 10.00 – boka lokal" in listing
    card_message = connector.messages()[-1]
    buttons = actions(card_message)
    assert [b["title"] for b in buttons] == ["Ta bort"] * 3

    [deleted] = await say(client, connector, "ta bort påminnelse 2")
    assert deleted == "Borttagen: ”skicka enkäten”."
    [deleted] = await press(client, connector, buttons[0]["data"])
    assert deleted == "Borttagen: ”ringa Lena”."
    [missing] = await say(client, connector, "ta bort påminnelse 7")
    assert "ingen påminnelse nummer 7" in missing

    [moved] = await say(client, connector, "ändra påminnelse 1 till lördag kl 11")
    assert moved == "Flyttad: ”boka lokal” kommer lördag 28 november 2026 kl. 11.00."
    clock.current = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    [sent] = await deliver(house, connector)  # only the moved one is left
    assert "boka lokal" in shown(sent)


async def press_on(
    client: TestClient, connector: FakeConnector, card: Sent, data: dict[str, Any]
) -> tuple[list[str], list[Sent]]:
    """A button press on a card the bot sent, as Teams sends it (with `replyToId`): the
    replies, and the cards the bot updated in place."""
    before = len(connector.sent)
    body = message("", service_url=connector.url, **ANNA, value=data)
    body["replyToId"] = card.id
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201), await response.text()
    new = connector.sent[before:]
    replies = [shown(s) for s in new if s.method == "POST" and s.body.get("type") == "message"]
    updates = [s for s in new if s.method == "PUT"]
    return replies, updates


async def test_snooze_tomorrow_and_done_buttons(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig om 1 timme att ringa Lena")
    clock.advance(hours=1)
    [sent] = await deliver(house, connector)
    snooze, tomorrow, done = actions(sent)
    [reply] = await press(client, connector, snooze["data"])
    assert reply == "Okej, jag påminner igen måndag 23 november 2026 kl. 12.00: ”ringa Lena”."
    # The card's outcome is decided: "Imorgon kl. 9" on it now changes nothing.
    [reply] = await press(client, connector, tomorrow["data"])
    assert "Redan" in reply and "måndag 23 november 2026 kl. 12.00" in reply
    clock.advance(hours=1)
    [again] = await deliver(house, connector)
    assert "ringa Lena" in shown(again)

    # On the card that came back: "Imorgon kl. 9"; it arrives once the next morning.
    [reply] = await press(client, connector, actions(again)[1]["data"])
    assert "tisdag 24 november 2026 kl. 09.00" in reply
    clock.current = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    [next_day] = await deliver(house, connector)
    assert "ringa Lena" in shown(next_day)
    [reply] = await press(client, connector, actions(next_day)[2]["data"])
    assert "klar" in reply.lower()


async def test_double_press_on_tomorrow_makes_one_reminder_and_the_card_shows_it(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig om 1 timme att ringa Lena")
    clock.advance(hours=1)
    [card] = await deliver(house, connector)
    tomorrow = actions(card)[1]["data"]
    first, [updated] = await press_on(client, connector, card, tomorrow)
    second, [updated_again] = await press_on(client, connector, card, tomorrow)

    assert first == ["Okej, jag påminner igen tisdag 24 november 2026 kl. 09.00: ”ringa Lena”."]
    assert "Redan" in second[0] and "tisdag 24 november 2026 kl. 09.00" in second[0]
    assert updated.path.endswith(f"/activities/{card.id}")
    for put in (updated, updated_again):
        view = shown(put)
        assert "ringa Lena" in view
        assert "Påminner igen tisdag 24 november 2026 kl. 09.00" in view
        assert actions(put) == []  # no live buttons left
    [listing] = await say(client, connector, "mina påminnelser")
    assert listing.count("ringa Lena") == 1
    clock.current = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    [arrived] = await deliver(house, connector)  # one, not two
    assert "ringa Lena" in shown(arrived)


async def test_done_after_a_snooze_cancels_the_snoozed_copy(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig om 1 timme att ringa Lena")
    clock.advance(hours=1)
    [card] = await deliver(house, connector)
    hour, _, done = actions(card)
    await press_on(client, connector, card, hour["data"])
    replies, [updated] = await press_on(client, connector, card, done["data"])
    assert replies == ["Bra! Markerad som klar."]
    assert "Klar ✓" in shown(updated) and actions(updated) == []

    [again], _ = await press_on(client, connector, card, hour["data"])  # too late: it is done
    assert again == "Den är redan markerad som klar."
    [listing] = await say(client, connector, "mina påminnelser")
    assert listing.startswith("Du har inga")  # nothing pending
    clock.advance(hours=2)
    assert await deliver(house, connector) == []  # the snoozed copy never arrives


async def test_done_on_the_snoozed_copy_stops_its_own_snooze_too(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig om 1 timme att ringa Lena")
    clock.advance(hours=1)
    [card] = await deliver(house, connector)
    await press_on(client, connector, card, actions(card)[0]["data"])
    clock.advance(hours=1)
    [copy] = await deliver(house, connector)
    await press_on(client, connector, copy, actions(copy)[1]["data"])  # tomorrow at 9
    # "Klar" on the first card: the reminder is done, every snoozed copy included.
    replies, [updated] = await press_on(client, connector, card, actions(card)[2]["data"])
    assert "Klar ✓" in shown(updated)
    clock.current = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert await deliver(house, connector) == []


async def test_text_fallback_where_cards_are_not_rendered(
    client: TestClient, connector: FakeConnector
) -> None:
    await say(
        client, connector, "påminn mig imorgon kl 9 om att skicka enkäten", channel_id="slack"
    )
    before = len(connector.messages())
    await say(client, connector, "mina påminnelser", channel_id="slack")
    [listing] = connector.messages()[before:]
    assert listing.cards == [] and "1. tisdag 24 november 2026 kl. 09.00" in listing.text


# --- delivery promises ----------------------------------------------------------------------


async def test_missed_while_down_is_sent_late_once(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig imorgon kl 9 om att skicka enkäten")
    clock.current = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # the bot was down all morning
    [sent] = await deliver(house, connector)
    assert "skulle ha kommit tisdag 24 november 2026 kl. 09.00" in shown(sent)
    assert await deliver(house, connector) == []


async def test_meeting_reminder_after_the_start_is_dropped(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Civilsamhälle", [MARIA])
    group = house.groups.find("Civilsamhälle", "tenant-gr")
    from storage.reminders import Person

    start = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # Thursday 13.00
    made = await house.nudges.add_meeting_reminders(
        key="meeting:1",
        title="Spånarmöte",
        start=start,
        owner=Person("29:coord", "Cecilia"),
        group_id=group.id,
        group_name=group.name,
        tenant_id="tenant-gr",
    )
    assert [m.due_at for m in made] == [
        datetime(2026, 11, 25, 15, 0, tzinfo=UTC),  # 16.00 the day before
        datetime(2026, 11, 26, 11, 0, tzinfo=UTC),  # one hour before
    ]
    clock.current = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    [sent] = await deliver(house, connector)
    assert "Möte torsdag 26 november 2026 kl. 13.00: Spånarmöte" in shown(sent)
    clock.current = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)  # down until after the start
    assert await deliver(house, connector) == []


async def test_forbidden_delivery_is_failed_and_the_owner_told(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn oss imorgon kl 9 om mötet", mention_bot=True, **GROUP_CHAT)
    await say(client, connector, "hej")  # Anna's personal chat exists
    connector.failures[GROUP_CHAT["conversation"]].append((403, {}))
    clock.current = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    [notice] = await deliver(house, connector)
    assert notice.conversation_id == "personal-anna"
    assert "kunde inte leverera" in shown(notice) and "mötet" in shown(notice)
    assert await deliver(house, connector) == []  # no retrying forever


async def test_429_waits_as_told_then_delivers(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig om 1 timme att ringa Lena")
    connector.failures["personal-anna"].append((429, {"Retry-After": "120"}))
    clock.advance(hours=1)
    assert await deliver(house, connector) == []  # too long to hold the lease: back to the db
    clock.advance(seconds=60)
    assert await deliver(house, connector) == []
    clock.advance(seconds=61)
    [sent] = await deliver(house, connector)
    assert "ringa Lena" in shown(sent)


# --- deadlines ------------------------------------------------------------------------------


async def test_deadline_escalation_done_status_and_summary(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "RSS Dalarna", [MARIA, CAROLINE])
    [reply] = await say(
        client,
        connector,
        "deadline delredovisning 28 januari 2027 för gruppen RSS Dalarna",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "torsdag 28 januari 2027" in reply
    assert (
        "Jag påminner var och en torsdag 14 januari 2027 kl. 08.00, måndag 25 januari 2027 kl. "
        "08.00, onsdag 27 januari 2027 kl. 08.00 och torsdag 28 januari 2027 kl. 08.00"
    ) in reply

    clock.current = datetime(2027, 1, 14, 7, 0, tzinfo=UTC)  # 14 days before, 08.00
    first = await deliver(house, connector)
    assert len(first) == 2 and all("om 14 dagar" in shown(s) for s in first)
    done_button = actions(first[0])[0]
    assert done_button["title"] == "Klar"

    maria = {"user": MARIA[0], "name": MARIA[1], "aad": "aad-maria"}
    [reply] = await say(client, connector, "klar", conversation="personal-29:maria", **maria)
    assert "klar med **delredovisning**" in reply

    clock.current = datetime(2027, 1, 25, 7, 0, tzinfo=UTC)
    [second] = await deliver(house, connector)
    assert second.conversation_id == "personal-29:caroline" and "om 3 dagar" in shown(second)

    [status] = await say(
        client, connector, "status delredovisning", mention_bot=True, **COORDINATOR, **GROUP_CHAT
    )
    assert "Klara (1): Maria Berg" in status and "Inte klara (1): Caroline Ek" in status

    caroline = {"user": CAROLINE[0], "name": CAROLINE[1], "aad": "aad-caroline"}
    clock.current = datetime(2027, 1, 27, 7, 0, tzinfo=UTC)
    [third] = await deliver(house, connector)
    assert "imorgon" in shown(third)
    clock.current = datetime(2027, 1, 28, 7, 0, tzinfo=UTC)
    [fourth] = await deliver(house, connector)
    assert "idag" in shown(fourth)
    [reply] = await press(
        client,
        connector,
        actions(fourth)[0]["data"],
        conversation="personal-29:caroline",
        **caroline,
    )
    assert "klar med **delredovisning**" in reply

    clock.current = datetime(2027, 1, 29, 7, 0, tzinfo=UTC)  # the morning after
    [summary] = await deliver(house, connector)
    assert summary.conversation_id == "personal-29:coord"
    assert "Klara (2)" in shown(summary) and "Inte klara (0): ingen" in shown(summary)


async def test_deadline_needs_a_coordinator(client: TestClient, connector: FakeConnector) -> None:
    await make_group(client, connector, "RSS Dalarna", [MARIA])
    [reply] = await say(
        client,
        connector,
        "deadline delredovisning 28 januari 2027 för gruppen RSS Dalarna",
        mention_bot=True,
        **GROUP_CHAT,
    )
    assert "Bara samordnare" in reply


# --- watches --------------------------------------------------------------------------------


async def test_watch_a_topic_and_hear_about_new_courses(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    [reply] = await say(client, connector, "bevaka kurser om demens")
    assert "demens" in reply and "ny utbildning" in reply
    [again] = await say(client, connector, "bevaka kurser om demens")
    assert "redan" in again
    [listing] = await say(client, connector, "mina bevakningar")
    assert "• demens" in listing

    ids = {course.title: course.id for course in house.courses.courses()}
    dementia = ids["Demens ABC – grundkurs om demenssjukdomar"]
    diabetes = ids["Diabetes i kommunal vård och omsorg"]
    told = await house.nudges.on_courses_imported([dementia, diabetes])
    assert told == 1
    [sent] = await deliver(house, connector)
    assert "Demens ABC" in shown(sent) and "Diabetes" not in shown(sent)

    [reply] = await say(client, connector, "sluta bevaka demens")
    assert "inte ”demens” längre" in reply
    assert await house.nudges.on_courses_imported([dementia]) == 0


async def test_watch_uses_the_course_search_itself(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    catalogue = house.courses
    every = [course.id for course in catalogue.courses()]
    # Written out, not asked of the search under test: the demo courses about dementia.
    expected = {
        "Demens ABC – grundkurs om demenssjukdomar",
        "Demens ABC plus för sjuksköterskor",
        "Demensutbildning för undersköterskor i hemtjänsten",
        "BPSD i praktiken",
    }
    await say(client, connector, "bevaka kurser om demens")
    assert await house.nudges.on_courses_imported(every) == 1
    [sent] = await deliver(house, connector)
    assert all(title in shown(sent) for title in expected)
    assert "Diabetes i kommunal vård och omsorg" not in shown(sent)


async def test_a_course_import_from_the_command_line_tells_the_watchers(
    client: TestClient,
    connector: FakeConnector,
    house: House,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot as bot_module

    await say(client, connector, "bevaka kurser om demens")
    sheet = tmp_path / "nya.csv"
    sheet.write_text(
        "titel;anordnare;länk;målgrupp;ämnen;format;längd;beskrivning\n"
        "Demens i vardagen;Kommunförbundet;https://example.org/demens-vardag;alla;demens;"
        "webbutbildning;1 timme;Om bemötande vid demenssjukdom\n"
        "Sårvård steg 1;Regionen;https://example.org/sar-1;usk;sårvård;webbutbildning;2 timmar;"
        "Grunderna i sårvård\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DATABASE_URL", house.settings.database_url)
    command = ["import", "courses", str(sheet)]
    assert await asyncio.to_thread(lambda: bot_module.main(command, clock=clock)) == 0
    sent = await deliver(house, connector)
    assert any("Demens i vardagen" in shown(s) for s in sent)
    assert not any("Sårvård steg 1" in shown(s) for s in sent)


async def test_every_other_tuesday_starts_on_the_coming_tuesday(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday
    [reply] = await say(client, connector, "påminn mig varannan tisdag kl 13 om att läsa rapporten")
    assert "första gången tisdag 1 december 2026 kl. 13.00" in reply
    clock.current = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    [first] = await deliver(house, connector)
    assert "läsa rapporten" in shown(first)
    clock.current = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    assert await deliver(house, connector) == []  # not the week after
    clock.current = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
    [second] = await deliver(house, connector)
    assert "läsa rapporten" in shown(second)
