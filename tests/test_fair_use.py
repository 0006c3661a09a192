"""Fair use (issue 14.7): one member cannot crowd out the others, nor fill a card or a table."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot import House
from dialogs.limits import (
    CONVERSATION_MESSAGES_PER_MINUTE,
    CONVERSATION_WINDOW,
    DEADLINES_PER_CONVERSATION,
    GROUPS_PER_CONVERSATION,
    GROUPS_PER_MEMBER,
    MESSAGES_PER_MINUTE,
    POLLS_PER_CONVERSATION,
    REMINDERS_PER_CONVERSATION,
    REMINDERS_PER_MEMBER,
)
from scheduler.timing import ReminderTiming
from storage.groups import Member
from storage.reminders import PERSON, NewReminder, Person, ReminderRepository
from storage.tally import Tally
from tests.fakes import FakeClock, FakeConnector
from tests.helpers import TENANT, message

ANNA = Person("29:anna", "Anna Andersson", "aad-anna")
BO = Person("29:bo", "Bo Berg", "aad-bo")
MAX_CARD_BYTES = 28 * 1024  # Teams refuses bigger cards


async def say(
    client: TestClient, connector: FakeConnector, text: str = "", **options: Any
) -> list[Any]:
    connector.clear()
    body = message(text, service_url=connector.url, **options)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201)
    return connector.messages()


def reminders_for(person: Person, count: int, house: House, text: str = "ring") -> None:
    repository = house.nudges.reminders
    due = house.clock.now() + timedelta(days=1)
    for n in range(count):
        repository.add(
            NewReminder(
                owner=person,
                audience=PERSON,
                person=person,
                text=f"{text} {n} " + "x" * 250,
                due_at=due + timedelta(minutes=n),
                tenant_id=TENANT,
            ),
            house.clock.now(),
        )


async def test_too_many_messages_in_a_minute_are_waited_out_politely(
    client: TestClient, connector: FakeConnector, clock: FakeClock
) -> None:
    for _ in range(MESSAGES_PER_MINUTE):
        assert await say(client, connector, "hej")
    [told] = await say(client, connector, "hej")
    assert told.text.startswith("Oj, nu kom det många meddelanden")
    assert await say(client, connector, "hjälp") == []  # told once, then quiet: no work done
    # someone else is answered as usual
    [other] = await say(client, connector, "hej", user="29:bo", aad="aad-bo", name="Bo Berg")
    assert other.text.startswith("Hej Bo")
    clock.advance(minutes=1)
    [again] = await say(client, connector, "hej")
    assert again.text.startswith("Hej Anna")


async def test_a_member_has_at_most_so_many_reminders_and_sees_them_a_page_at_a_time(
    house: House, client: TestClient, connector: FakeConnector
) -> None:
    reminders_for(ANNA, REMINDERS_PER_MEMBER, house)
    [refused] = await say(client, connector, "påminn mig imorgon kl 9 om att skicka enkäten")
    assert refused.text.startswith(f"Du har redan {REMINDERS_PER_MEMBER} kommande påminnelser")

    [page] = await say(client, connector, "mina påminnelser")
    card = page.cards[0]
    assert len(json.dumps(page.body, ensure_ascii=False).encode()) < MAX_CARD_BYTES
    rows = [b for b in card["body"] if b["type"] == "ColumnSet"]
    assert len(rows) == 10
    assert rows[0]["columns"][0]["items"][0]["text"].startswith("1. ")
    [more] = card["actions"]
    assert more["title"] == "Visa fler"

    [second] = await say(client, connector, value=more["data"])
    rows = [b for b in second.cards[0]["body"] if b["type"] == "ColumnSet"]
    assert rows[0]["columns"][0]["items"][0]["text"].startswith("11. ")


async def test_a_member_creates_at_most_so_many_groups(
    house: House, client: TestClient, connector: FakeConnector
) -> None:
    maria = [("29:maria", "Maria Berg")]
    for n in range(GROUPS_PER_MEMBER):
        [made] = await say(client, connector, f"ny arbetsgrupp Grupp {n} med", mentions=maria)
        assert made.text.startswith("Arbetsgruppen")
    [refused] = await say(client, connector, "ny arbetsgrupp En till med", mentions=maria)
    assert refused.text.startswith(f"Du har redan skapat {GROUPS_PER_MEMBER} arbetsgrupper")


async def test_a_mistyped_group_name_offers_a_few_names_not_every_group(
    house: House, client: TestClient, connector: FakeConnector
) -> None:
    creator = Member("29:bo", "Bo Berg", "aad-bo")
    for name in ["Civilsamhälle", *(f"Nätverk {n:03}" for n in range(300))]:
        house.groups.create(
            name,
            tenant_id=TENANT,
            created_by=creator,
            conversation_id=None,
            members=[creator],
            now=house.clock.now(),
        )
    [answer] = await say(
        client, connector, "lägg till @Maria i Civilsamhäll", mentions=[("29:maria", "Maria")]
    )
    assert "Civilsamhälle" in answer.text
    assert answer.text.count("Nätverk") <= 4 and len(answer.text) < 500
    [answer] = await say(client, connector, "påminn gruppen Civlsamhälle imorgon kl 9 om mötet")
    assert "Civilsamhälle" in answer.text and len(answer.text) < 700


def test_due_reminders_are_claimed_round_robin_by_owner(
    any_sessions: sessionmaker[Session],
) -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    repository = ReminderRepository(any_sessions, ReminderTiming())
    for n in range(400):  # Anna's 400, all due at nine
        repository.add(
            NewReminder(owner=ANNA, audience=PERSON, person=ANNA, text=f"a{n}", due_at=now), now
        )
    repository.add(NewReminder(owner=BO, audience=PERSON, person=BO, text="bo", due_at=now), now)
    while repository.expand_due(now):
        pass
    first = repository.claim(now, timedelta(seconds=60), "sender", limit=50)
    # Bo's one reminder goes in the first batch, second in line, not after Anna's 400
    assert [d.text for d in first[:2]] == ["a0", "bo"]
    assert len(first) == 50


# --- per conversation: many members, each within their own limits ---------------------------
GROUP_CHAT = {"conversation": "19:group-fair@thread.v2", "conversation_type": "groupChat"}
MEMBERS = [(f"29:m{n}", f"Medlem {n}", f"aad-m{n}") for n in range(4)]


def in_chat(member: tuple[str, str, str]) -> dict[str, Any]:
    user, name, aad = member
    return {"user": user, "name": name, "aad": aad, "mention_bot": True, **GROUP_CHAT}


async def test_a_busy_group_chat_is_waited_out_while_other_chats_are_answered(
    client: TestClient, connector: FakeConnector, clock: FakeClock
) -> None:
    # people talking among themselves (the bot not mentioned) do not count
    for _ in range(CONVERSATION_MESSAGES_PER_MINUTE + 5):
        assert (
            await say(client, connector, "lunch?", **{**in_chat(MEMBERS[0]), "mention_bot": False})
            == []
        )
    per_member = CONVERSATION_MESSAGES_PER_MINUTE // 3
    assert per_member < MESSAGES_PER_MINUTE
    for member in MEMBERS[:3]:
        for _ in range(per_member):
            assert await say(client, connector, "hej", **in_chat(member))
    # the fourth member has written nothing, but the chat as a whole has had its minute
    [told] = await say(client, connector, "hej", **in_chat(MEMBERS[3]))
    assert told.text.startswith("Oj, nu kom det många meddelanden till mig i den här chatten")
    assert await say(client, connector, "hjälp", **in_chat(MEMBERS[3])) == []  # told once
    # the same member in a personal chat is answered as usual
    [mine] = await say(client, connector, "hej", user="29:m3", aad="aad-m3", name="Medlem 3")
    assert mine.text.startswith("Hej Medlem")
    clock.advance(minutes=1)
    [again] = await say(client, connector, "hej", **in_chat(MEMBERS[3]))
    assert again.text.startswith("Hej Medlem")


async def test_a_group_chat_makes_so_many_reminders_a_day_whoever_asks(
    house: House, client: TestClient, connector: FakeConnector, clock: FakeClock
) -> None:
    tally = Tally(house.sessions)
    for _ in range(REMINDERS_PER_CONVERSATION - 1):  # made earlier today by the chat's members
        assert tally.take(
            "reminder",
            GROUP_CHAT["conversation"],
            REMINDERS_PER_CONVERSATION,
            CONVERSATION_WINDOW,
            clock.now(),
        )
    [made] = await say(client, connector, "påminn oss imorgon kl 9 om mötet", **in_chat(MEMBERS[0]))
    assert "Jag påminner" in made.text
    [refused] = await say(
        client, connector, "påminn mig imorgon kl 10 om att ringa", **in_chat(MEMBERS[1])
    )
    assert refused.text.startswith(
        f"I den här chatten har det redan gjorts {REMINDERS_PER_CONVERSATION} påminnelser"
    )
    # in a personal chat the member is answered as usual
    [mine] = await say(
        client,
        connector,
        "påminn mig imorgon kl 10 om att ringa",
        user="29:m1",
        aad="aad-m1",
        name="Medlem 1",
    )
    assert "Jag påminner" in mine.text
    clock.advance(days=1, minutes=1)
    answers = await say(
        client, connector, "påminn mig imorgon kl 10 om att ringa", **in_chat(MEMBERS[1])
    )
    assert any("Jag påminner" in m.text for m in answers)


async def test_a_group_chat_makes_so_many_groups_and_polls_a_day(
    house: House, client: TestClient, connector: FakeConnector, clock: FakeClock
) -> None:
    coordinator = ("29:coord", "Cecilia Samordnare", "aad-coordinator")
    [made] = await say(
        client,
        connector,
        "ny arbetsgrupp Civilsamhälle med",
        mentions=[("29:maria", "Maria Berg")],
        **in_chat(coordinator),
    )
    assert "är skapad" in made.text
    tally = Tally(house.sessions)
    chat = GROUP_CHAT["conversation"]
    while tally.take("group", chat, GROUPS_PER_CONVERSATION, CONVERSATION_WINDOW, clock.now()):
        pass
    while tally.take("poll", chat, POLLS_PER_CONVERSATION, CONVERSATION_WINDOW, clock.now()):
        pass
    [refused] = await say(
        client,
        connector,
        "ny arbetsgrupp Styrgrupp med",
        mentions=[("29:maria", "Maria Berg")],
        **in_chat(MEMBERS[0]),
    )
    assert refused.text.startswith(
        f"I den här chatten har det redan skapats {GROUPS_PER_CONVERSATION} arbetsgrupper"
    )
    [refused] = await say(
        client, connector, "planera spånarmöte för Civilsamhälle", **in_chat(coordinator)
    )
    assert refused.text.startswith(
        f"I den här chatten har det redan startats {POLLS_PER_CONVERSATION} omröstningar"
    )
    # elsewhere the same member still makes a group
    [made] = await say(
        client,
        connector,
        "ny arbetsgrupp Styrgrupp med",
        mentions=[("29:maria", "Maria Berg")],
        user="29:m0",
        aad="aad-m0",
        name="Medlem 0",
    )
    assert "är skapad" in made.text


async def test_a_group_chat_registers_so_many_deadlines_a_day(
    house: House, client: TestClient, connector: FakeConnector, clock: FakeClock
) -> None:
    coordinator = ("29:coord", "Cecilia Samordnare", "aad-coordinator")
    [made] = await say(
        client,
        connector,
        "ny arbetsgrupp Civilsamhälle med",
        mentions=[("29:maria", "Maria Berg")],
        **in_chat(coordinator),
    )
    assert "är skapad" in made.text
    chat = GROUP_CHAT["conversation"]
    tally = Tally(house.sessions)
    for _ in range(DEADLINES_PER_CONVERSATION - 1):  # registered earlier today in the chat
        assert tally.take(
            "deadline", chat, DEADLINES_PER_CONVERSATION, CONVERSATION_WINDOW, clock.now()
        )
    first = "deadline enkäten 15 december för gruppen Civilsamhälle"
    [set_] = await say(client, connector, first, **in_chat(coordinator))
    assert "enkäten" in set_.text and "I den här chatten" not in set_.text
    second = "deadline budgeten 16 december för gruppen Civilsamhälle"
    [refused] = await say(client, connector, second, **in_chat(coordinator))
    assert refused.text.startswith(
        f"I den här chatten har det redan lagts in {DEADLINES_PER_CONVERSATION} deadlines"
    )
    # nothing was registered by the refused one
    [listing] = await say(
        client, connector, "visa deadlines för gruppen Civilsamhälle", **in_chat(coordinator)
    )
    shown = json.dumps(listing.cards, ensure_ascii=False)
    assert "enkäten" in shown and "budgeten" not in shown
    # from the coordinator's personal chat the same deadline is registered as usual
    personal = {"user": coordinator[0], "name": coordinator[1], "aad": coordinator[2]}
    [elsewhere] = await say(client, connector, second, **personal)
    assert "budgeten" in elsewhere.text and "I den här chatten" not in elsewhere.text
    # and the next day the chat may register again
    clock.advance(days=1, minutes=1)
    third = "deadline rapporten 17 december för gruppen Civilsamhälle"
    [again] = await say(client, connector, third, **in_chat(coordinator))
    assert "rapporten" in again.text and "I den här chatten" not in again.text
