"""Someone else presses the button: every owned thing refuses a stranger, over HTTP (issue 18.1).

Each test lets the owner make something, lets another member try to act on it (a forged card
submit or a command), and asserts both what the intruder sees and that the stored state did not
change. Card data is the presser's to write, so the forged values include the ids of others,
bools, floats, infinities, NaN, negative and absurd minutes, and over-long strings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import House
from tests.fakes import FakeClock, FakeConnector
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

# The intruder: a member of the same tenant, in her own personal chat.
EVE = {"user": "29:eve", "name": "Eve Elak", "aad": "aad-eve", "conversation": "personal-29:eve"}
NOT_YOURS = "Den påminnelsen finns inte längre, eller så är det någon annans."
UNKNOWN_BUTTON = "Den knappen känner jag inte igen. Skriv ”mina påminnelser” för att se dina."


def upcoming(house: House, user_id: str) -> list[tuple[str, datetime | None]]:
    return [(r.text, r.due_at) for r in house.nudges.reminders.upcoming_for(user_id)]


async def annas_delivered_reminder(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> dict[str, Any]:
    """Anna's own reminder, delivered to her: returns the snooze button's data."""
    await say(client, connector, "påminn mig om 1 timme att ringa doktor Lind om provsvaret")
    clock.advance(hours=1)
    [sent] = await deliver(house, connector)
    assert sent.conversation_id == "personal-anna"
    snooze = actions(sent)[0]
    assert snooze["data"]["action"] == "reminders.snooze"
    return dict(snooze["data"])


# --- reminders and deliveries ---------------------------------------------------------------


@pytest.mark.parametrize("verb", ["reminders.snooze", "reminders.tomorrow", "reminders.done"])
async def test_a_stranger_cannot_snooze_or_read_someone_elses_delivery(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock, verb: str
) -> None:
    data = await annas_delivered_reminder(client, connector, house, clock)
    replies = await press(client, connector, {**data, "action": verb}, **EVE)
    assert replies == [NOT_YOURS]
    assert "provsvaret" not in "".join(replies)
    assert upcoming(house, "29:eve") == []  # no copy of Anna's reminder for Eve
    assert upcoming(house, "29:anna") == []  # and nothing new for Anna either
    clock.advance(days=2)
    assert await deliver(house, connector) == []


@pytest.mark.parametrize(
    "forged",
    [
        {"delivery": True},
        {"delivery": 1.0},
        {"delivery": "1e3"},
        {"delivery": "9" * 40},
        {"delivery": -1},
        {"delivery": None},
        {"delivery": [1]},
        {"minutes": -30},
        {"minutes": 0},
        {"minutes": 10**12},
        {"minutes": True},
        {"minutes": 2.5},
        {"minutes": "soon"},
    ],
)
async def test_forged_snooze_values_are_refused_and_store_nothing(
    client: TestClient,
    connector: FakeConnector,
    house: House,
    clock: FakeClock,
    forged: dict[str, Any],
) -> None:
    data = await annas_delivered_reminder(client, connector, house, clock)
    replies = await press(client, connector, {**data, **forged})
    assert replies == [UNKNOWN_BUTTON]
    assert upcoming(house, "29:anna") == []


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400"])
async def test_infinities_and_nan_in_a_submit_are_refused(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock, literal: str
) -> None:
    """Python's JSON reader accepts these literals: they must reach no timedelta and no query."""
    data = await annas_delivered_reminder(client, connector, house, clock)
    for key in ("minutes", "delivery"):
        body = json.dumps(
            {**_activity(connector, {**data, key: 0})},
        ).replace(f'"{key}": 0', f'"{key}": {literal}')
        before = len(connector.sent)
        response = await client.post(
            "/api/messages", data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status in (200, 201)
        assert [shown(s) for s in connector.sent[before:]] == [UNKNOWN_BUTTON]
    assert upcoming(house, "29:anna") == []


def _activity(connector: FakeConnector, value: dict[str, Any]) -> dict[str, Any]:
    from tests.helpers import message

    return message("", service_url=connector.url, value=value)


async def test_an_own_snooze_still_works_with_a_sane_number(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    data = await annas_delivered_reminder(client, connector, house, clock)
    [reply] = await press(client, connector, {**data, "minutes": "30"})
    assert reply.startswith("Okej, jag påminner igen måndag 23 november 2026 kl. 11.30")


async def test_a_stranger_cannot_delete_or_stop_someone_elses_reminder(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig imorgon kl 9 om att skicka enkäten")
    await say(client, connector, "varje måndag kl 8 påminn mig om veckomötet")
    before = len(connector.sent)
    await say(client, connector, "mina påminnelser")
    buttons = actions(connector.sent[before])
    ids = [b["data"]["reminder"] for b in buttons]
    stored = upcoming(house, "29:anna")
    assert len(stored) == 2

    for reminder_id in ids:
        assert await press(
            client, connector, {"action": "reminders.delete", "reminder": reminder_id}, **EVE
        ) == [NOT_YOURS]
        assert await press(
            client, connector, {"action": "reminders.stop", "reminder": reminder_id}, **EVE
        ) == [NOT_YOURS]
    # Text commands act on the presser's own list only.
    [none] = await say(client, connector, "ta bort påminnelse 1", **EVE)
    assert "ingen påminnelse nummer 1" in none
    assert upcoming(house, "29:anna") == stored


async def test_a_stranger_cannot_mark_someone_elses_deadline_done_or_read_its_status(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "RSS Dalarna", [MARIA])
    await say(
        client,
        connector,
        "deadline hemlig delredovisning 30 januari 2027 för gruppen RSS Dalarna",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    clock.current = datetime(2027, 1, 16, 7, 0, tzinfo=UTC)
    [nudge] = await deliver(house, connector)
    done = actions(nudge)[0]["data"]
    assert done["action"] == "reminders.deadline_done"

    [reply] = await press(client, connector, done, **EVE)
    assert reply == "Den påminnelsen finns inte längre."
    assert "hemlig" not in reply
    deadline = house.deadlines.get(done["deadline"])
    assert deadline is not None and deadline.done == ()

    replies = await say(client, connector, "status hemlig delredovisning", **EVE)
    assert not any("Maria" in r or "Klara" in r for r in replies)
    # The member herself still can, and the coordinator still sees the status.
    maria = {"user": MARIA[0], "name": MARIA[1], "aad": "aad-maria"}
    [ok] = await press(client, connector, done, conversation="personal-29:maria", **maria)
    assert "klar med **hemlig delredovisning**" in ok
    [status] = await say(
        client,
        connector,
        "status hemlig delredovisning",
        mention_bot=True,
        **COORDINATOR,
        **GROUP_CHAT,
    )
    assert "Klara (1): Maria Berg" in status


# --- courses: "visa fler" ---------------------------------------------------------------------

COURSES_UNKNOWN = (
    "Den knappen känner jag inte igen. Fråga gärna igen, till exempel ”kurser om demens”."
)


@pytest.mark.parametrize(
    "forged",
    [
        '{"action": "courses.more", "q": "demens", "offset": Infinity}',
        '{"action": "courses.more", "q": "demens", "offset": NaN}',
        '{"action": "courses.more", "q": "demens", "offset": 1e400}',
        '{"action": "courses.more", "q": "demens", "offset": true}',
        '{"action": "courses.more", "q": "demens", "offset": -3}',
        '{"action": "courses.more", "q": "demens", "offset": 99999999999999999999}',
        '{"action": "courses.more", "q": ["demens"], "offset": 3}',
        '{"action": "courses.more", "q": "' + "demens " * 1000 + '", "offset": 3}',
        '{"action": "courses.more", "list": "yes", "offset": 3}',
    ],
)
async def test_forged_show_more_buttons_get_a_clear_answer(
    client: TestClient, connector: FakeConnector, forged: str
) -> None:
    body = json.dumps(_activity(connector, {"action": "x"})).replace('{"action": "x"}', forged)
    response = await client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201)
    assert [s.text for s in connector.sent] == [COURSES_UNKNOWN]


# --- invokes ------------------------------------------------------------------------------------


async def invoke(
    client: TestClient, connector: FakeConnector, invoke_name: str, value: Any, **person: Any
) -> tuple[int, Any, list[str]]:
    body = _activity(connector, {})
    body.pop("value")
    body.update({"type": "invoke", "name": invoke_name, "value": value, "text": None})
    if person:
        body["from"] = {"id": person["user"], "name": person["name"], "aadObjectId": person["aad"]}
        body["conversation"]["id"] = person["conversation"]
    before = len(connector.sent)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    answer = await response.json() if response.content_type == "application/json" else None
    # a typing indicator (sent when a turn is slow, as on a loaded machine) shows nothing to read
    seen = [s for s in connector.sent[before:] if s.body.get("type") != "typing"]
    return response.status, answer, [shown(s) for s in seen]


async def test_an_action_execute_gets_the_same_refusal_as_a_submit(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    data = await annas_delivered_reminder(client, connector, house, clock)
    value = {"action": {"type": "Action.Execute", "verb": "reminders.snooze", "data": data}}
    status, answer, replies = await invoke(client, connector, "adaptiveCard/action", value, **EVE)
    assert status == 200
    assert answer["statusCode"] == 200
    assert replies == [NOT_YOURS]
    assert upcoming(house, "29:eve") == []

    # The owner's own Execute works, by verb alone too.
    data.pop("action")
    value = {"action": {"type": "Action.Execute", "verb": "reminders.snooze", "data": data}}
    status, answer, replies = await invoke(client, connector, "adaptiveCard/action", value)
    assert (status, answer["statusCode"]) == (200, 200)
    assert replies[0].startswith("Okej, jag påminner igen")


@pytest.mark.parametrize(
    ("name", "value", "http", "inner"),
    [
        ("adaptiveCard/action", None, 200, 400),
        ("adaptiveCard/action", {"action": "reminders.snooze"}, 200, 400),
        ("adaptiveCard/action", {"action": {"type": "Action.Execute", "data": [1]}}, 200, 400),
        ("composeExtension/query", {"commandId": "x"}, 400, None),
        ("task/fetch", {"data": {}}, 400, None),
        ("signin/verifyState", {"state": "1"}, 400, None),
    ],
)
async def test_unknown_or_malformed_invokes_get_a_4xx_shaped_answer_not_501(
    client: TestClient,
    connector: FakeConnector,
    name: str,
    value: Any,
    http: int,
    inner: int | None,
) -> None:
    status, answer, replies = await invoke(client, connector, name, value)
    assert status == http
    if inner is not None:
        assert answer["statusCode"] == inner
        assert answer["value"]["message"] == "Den knappen känner jag inte igen."
    else:
        assert answer["message"] == "Det här stöder inte Nätverksboten."
    assert replies == []


# --- working groups and coordinator-only commands ---------------------------------------------

EVE_IN_CHAT = {"user": "29:eve", "name": "Eve Elak", "aad": "aad-eve", **GROUP_CHAT}


def roster(house: House, name: str) -> list[str] | None:
    group = house.groups.find(name, "tenant-gr")
    return None if group is None else sorted(m.user_id for m in group.members)


async def test_a_stranger_cannot_change_delete_or_remind_someone_elses_group(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Styrgrupp", [MARIA])
    assert roster(house, "Styrgrupp") == ["29:maria"]
    refused = "Bara samordnare och den som skapade gruppen (Cecilia Samordnare) kan ändra"
    for command, mentions in (
        ("lägg till i Styrgrupp", [("29:eve", "Eve Elak")]),
        ("ta bort från Styrgrupp", [MARIA]),
        ("ta bort arbetsgruppen Styrgrupp", []),
    ):
        [reply] = await say(
            client, connector, command, mention_bot=True, mentions=mentions, **EVE_IN_CHAT
        )
        assert reply.startswith(refused)
    assert roster(house, "Styrgrupp") == ["29:maria"]

    [reply] = await say(
        client, connector, "påminn gruppen Styrgrupp imorgon kl 9 om att betala", **EVE
    )
    assert reply == "Bara medlemmar i Styrgrupp och samordnare kan påminna gruppen."
    [reply] = await say(
        client,
        connector,
        "deadline budget 30 januari 2027 för gruppen Styrgrupp",
        mention_bot=True,
        **EVE_IN_CHAT,
    )
    assert reply == "Bara samordnare och den som skapade gruppen kan lägga in deadlines."
    assert house.deadlines.find("budget", "tenant-gr") is None
    clock.advance(days=2)
    assert await deliver(house, connector) == []  # nobody in the group hears from Eve


async def test_coordinator_only_commands_refuse_a_member(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await say(client, connector, "finns det någon kurs om kvantfysik för hundar?", **EVE)
    [gaps] = await say(client, connector, "obesvarade frågor", **EVE)
    assert gaps == "Det kan bara nätverkets samordnare göra."

    directory = house.contacts
    someone = directory.repository.everyone()[0]
    [erase] = await say(client, connector, f"ta bort kontakt {someone.email}", **EVE)
    assert erase == "Bara nätverkets samordnare kan ta bort någon annan ur kompetensbanken."
    assert directory.by_email(someone.email) is not None


async def test_a_member_cannot_import_a_course_sheet(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from dialogs.courses import FILE_DOWNLOAD

    fetched: list[str] = []

    async def serve(request: web.Request) -> web.Response:
        fetched.append(request.path)
        return web.Response(body=b"titel;anordnare;l\xc3\xa4nk\r\n")

    app = web.Application()
    app.router.add_get("/kurser.csv", serve)
    before = len(house.courses.courses())
    async with TestServer(app, host="127.0.0.1") as files:
        body = _activity(connector, {})
        body.pop("value")
        body["from"] = {"id": EVE["user"], "name": EVE["name"], "aadObjectId": EVE["aad"]}
        body["conversation"]["id"] = EVE["conversation"]
        body["attachments"] = [
            {
                "contentType": FILE_DOWNLOAD,
                "name": "kurser.csv",
                "content": {"downloadUrl": str(files.make_url("/kurser.csv")), "fileType": "csv"},
            }
        ]
        response = await client.post(
            "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert response.status in (200, 201)
    assert connector.texts() == ["Bara nätverkets samordnare kan läsa in kurslistor."]
    assert fetched == []
    assert len(house.courses.courses()) == before


# --- polls ----------------------------------------------------------------------------------


async def open_poll(client: TestClient, connector: FakeConnector, house: House, clock: FakeClock):
    from tests.test_polls import AUGUST, latest_poll, plan
    from tests.test_polls import make_group as make_poll_group

    clock.current = AUGUST
    await make_poll_group(client, connector, [MARIA])
    await plan(client, connector, "tis 31/8 13-15, ons 1/9 9-11")
    return latest_poll(house)


def poll_state(house: House, poll_id: int) -> tuple[str, dict[Any, Any], Any]:
    from storage.polls import PollRepository

    poll = PollRepository(house.sessions).get(poll_id)
    assert poll is not None
    answers = {s.id: poll.choice_of("29:maria", s.id) for s in poll.slots}
    return poll.status, answers, poll.meeting


async def test_a_stranger_cannot_answer_book_cancel_move_or_remind_for_a_poll(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    from tests.test_polls import answer

    poll = await open_poll(client, connector, house, clock)
    before = poll_state(house, poll.id)
    assert before[0] == "open" and before[2] is None
    only = "Bara samordnare och den som skapade **Civilsamhälle** kan planera och boka möten"

    [reply] = await press(client, connector, answer(poll, "yes", "yes"), **EVE)
    assert "Den här omröstningen är för arbetsgruppen **Civilsamhälle**" in reply
    slot = poll.slots[0].id
    [reply] = await press(
        client, connector, {"action": "polls.book", "poll": poll.id, "slot": slot}, **EVE
    )
    assert reply.startswith(only)
    [reply] = await press(client, connector, {"action": "polls.cancel", "poll": poll.id}, **EVE)
    assert reply.startswith(only)
    for command in (
        "påminn de som inte svarat",
        "ställ in mötet",
        "flytta mötet till ons 1/9 13-15",
    ):
        [reply] = await say(client, connector, command, mention_bot=True, **EVE_IN_CHAT)
        assert reply.startswith(only), command
    assert poll_state(house, poll.id) == before


async def test_a_member_pressing_the_organisers_buttons_by_action_execute_changes_nothing(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    """Maria may answer but not book or cancel; her refreshed view has no such buttons, and a
    forged Action.Execute of them is refused as the submit is, with no card to show."""
    from tests.test_universal_actions import execute, executes

    poll = await open_poll(client, connector, house, clock)
    before = poll_state(house, poll.id)
    maria = {"user": MARIA[0], "name": MARIA[1], "aad": "aad-maria", **GROUP_CHAT}
    only = "Bara samordnare och den som skapade **Civilsamhälle** kan planera och boka möten"
    view = {"action": "polls.view", "poll": poll.id}
    answer, _ = await execute(client, connector, view, trigger="automatic", **maria)
    assert sorted(b["verb"] for b in executes(answer["value"])) == ["polls.answer", "polls.view"]
    for forged in (
        {"action": "polls.book", "poll": poll.id, "slot": poll.slots[0].id},
        {"action": "polls.cancel", "poll": poll.id},
    ):
        answer, meanwhile = await execute(client, connector, forged, **maria)
        assert answer["type"] != "application/vnd.microsoft.card.adaptive"  # no card changes
        assert [shown(s) for s in meanwhile] and shown(meanwhile[0]).startswith(only)
    assert poll_state(house, poll.id) == before

    # A refresh from another tenant, with the right poll id, learns nothing and writes nothing.
    answer, meanwhile = await execute(
        client, connector, view, trigger="automatic", tenant="tenant-other", **maria
    )
    assert answer["type"] != "application/vnd.microsoft.card.adaptive"
    assert "Spånarmöte" not in json.dumps(answer) and meanwhile == []


async def test_forged_poll_submits_change_nothing(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    poll = await open_poll(client, connector, house, clock)
    before = poll_state(house, poll.id)
    maria = {"user": MARIA[0], "name": MARIA[1], "aad": "aad-maria"}
    maria_chat = {"conversation": "personal-29:maria"}
    gone = "Den omröstningen finns inte längre."
    no_choices = (
        "Välj Ja, Om det behövs eller Nej för minst en av tiderna och tryck **Skicka svar** igen."
    )
    for forged, expected in (
        ({"poll": True}, gone),
        ({"poll": float(poll.id)}, gone),
        ({"poll": str(poll.id) * 30}, gone),
        ({"poll": poll.id + 1000}, gone),
        ({"poll": poll.id, "slot_999999": "yes"}, no_choices),  # another poll's slot id
        ({"poll": poll.id, f"slot_{poll.slots[0].id}": ["yes"]}, no_choices),
        ({"poll": poll.id, f"slot_{poll.slots[0].id}": "absolutely"}, no_choices),
        ({"poll": poll.id, f"slot_{poll.slots[0].id}.0": "yes"}, no_choices),
    ):
        replies = await press(
            client, connector, {"action": "polls.answer", **forged}, **maria, **maria_chat
        )
        assert replies == [expected], forged
    # A member of another tenant, with the right poll id, learns nothing about it.
    replies = await press(
        client,
        connector,
        {"action": "polls.answer", "poll": poll.id, f"slot_{poll.slots[0].id}": "yes"},
        tenant="tenant-other",
        **maria,
        **maria_chat,
    )
    assert replies == [gone]
    assert poll_state(house, poll.id) == before


# --- teaching (coordinators' card buttons) ----------------------------------------------------


@pytest.mark.parametrize(
    ("forged", "expected"),
    [
        ('{"action": "teaching.undo", "link": Infinity}', "Den kopplingen finns inte längre."),
        ('{"action": "teaching.undo", "link": true}', "Den kopplingen finns inte längre."),
        (
            '{"action": "teaching.link", "ids": [1e400, NaN], "course": 1}',
            "De frågorna är redan kopplade, eller så finns målet inte längre.",
        ),
        (
            '{"action": "teaching.link", "ids": [1], "field": "t", "t": ["x"]}',
            "Skriv kursens titel eller personens namn i rutan och tryck på ”Koppla” igen.",
        ),
    ],
)
async def test_forged_teaching_buttons_from_a_coordinator_change_nothing(
    client: TestClient, connector: FakeConnector, forged: str, expected: str
) -> None:
    body = _activity(connector, {"action": "x"})
    body["from"] = {
        "id": COORDINATOR["user"],
        "name": COORDINATOR["name"],
        "aadObjectId": "aad-coordinator",
    }
    body = json.dumps(body).replace('{"action": "x"}', forged)
    response = await client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status in (200, 201)
    assert connector.texts() == [expected]


async def test_a_stranger_or_a_member_cannot_move_or_cancel_a_deadline(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "RSS Dalarna", [MARIA])
    in_chat = {"mention_bot": True, **COORDINATOR, **GROUP_CHAT}
    await say(
        client, connector, "deadline rapporten 30 januari 2027 för gruppen RSS Dalarna", **in_chat
    )
    [question] = await say(
        client, connector, "deadline rapporten 6 februari 2027 för gruppen RSS Dalarna", **in_chat
    )
    assert "Vill du flytta den" in question
    move, keep = (a["data"] for a in actions(connector.sent[-1]))
    assert (move["action"], keep["action"]) == ("deadlines.move", "deadlines.keep")
    [stored] = house.deadlines.listing("tenant-gr")

    # a stranger's presses: as if it did not exist, and nothing moves
    for data in (move, keep):
        [reply] = await press(client, connector, data, **EVE)
        assert reply == "Den påminnelsen finns inte längre."
    # a member's commands: refused; a stranger's: no such deadline
    maria = {"user": MARIA[0], "name": MARIA[1], "aad": "aad-maria"}
    for text in ("flytta deadline rapporten till 1 mars 2027", "ta bort deadline rapporten"):
        [member] = await say(client, connector, text, conversation="personal-29:maria", **maria)
        assert member == (
            "Bara samordnare och den som skapade gruppen kan flytta eller ta bort deadlines."
        )
        [stranger] = await say(client, connector, text, **EVE)
        assert stranger == "Jag hittar ingen deadline som heter ”rapporten”."
    [group_list] = await say(client, connector, "deadlines för gruppen RSS Dalarna", **EVE)
    assert group_list == "Deadlines för RSS Dalarna kan bara gruppens medlemmar och samordnare se."
    [everything] = await say(client, connector, "alla deadlines", **EVE)
    assert "bara samordnare" in everything

    # forged dates from the coordinator herself: refused, nothing moves
    for day in ("2027-13-45", "1999-01-01", "2099-01-01", 20270206, "x" * 600):
        [forged] = await press(client, connector, {**move, "day": day}, **COORDINATOR)
        assert forged == "Den knappen känner jag inte igen. Skriv ”mina deadlines” för att se dina."
    [after] = house.deadlines.listing("tenant-gr")
    assert after.day == stored.day and after.nudges == stored.nudges and after.is_open


# --- a group's reminders: stop, mute, a day off ---------------------------------------------------


async def test_only_managers_stop_and_only_members_mute_a_group_reminder(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    # Anna, no coordinator, creates the group; Maria sets its reminder.
    [made] = await say(
        client,
        connector,
        "ny arbetsgrupp Läsgrupp med",
        mention_bot=True,
        mentions=[MARIA],
        **GROUP_CHAT,
    )
    assert "är skapad" in made
    maria = {"user": MARIA[0], "name": MARIA[1], "aad": "aad-maria"}
    await say(
        client,
        connector,
        "varje måndag kl 10 påminn gruppen Läsgrupp om bokcirkeln",
        mention_bot=True,
        **maria,
        **GROUP_CHAT,
    )
    group = house.groups.find("Läsgrupp", "tenant-gr")
    assert group is not None
    [reminder] = house.nudges.reminders.of_group(group.id)
    stop = {"action": "reminders.stop", "reminder": reminder.id}
    mute = {"action": "reminders.mute", "reminder": reminder.id}

    assert await press(client, connector, stop, **EVE) == [NOT_YOURS]
    assert await press(client, connector, mute, **EVE) == [NOT_YOURS]
    [listed] = await say(client, connector, "påminnelser för gruppen Läsgrupp", **EVE)
    assert listed.startswith("Bara gruppens skapare och samordnare")
    assert "bokcirkeln" not in listed
    for forged in (True, "1e9", -1, 2**40, None, "bokcirkeln"):
        [reply] = await press(client, connector, {**mute, "reminder": forged}, **EVE)
        assert reply == UNKNOWN_BUTTON
    assert not house.nudges.reminders.is_muted(reminder.id, "29:eve")
    assert [r.id for r in house.nudges.reminders.of_group(group.id)] == [reminder.id]

    # Anna's own personal reminder cannot be muted: it is nobody's group reminder.
    await say(client, connector, "varje tisdag kl 8 påminn mig om posten")
    [own] = upcoming(house, "29:anna")
    own_id = house.nudges.reminders.upcoming_for("29:anna")[0].id
    assert own == ("posten", own[1])
    assert await press(client, connector, {**mute, "reminder": own_id}) == [NOT_YOURS]

    # The group's creator stops it for everyone.
    [stopped] = await press(client, connector, stop)
    assert stopped == "Stoppad: ”bokcirkeln”. Den kommer inte fler gånger."
    assert house.nudges.reminders.of_group(group.id) == []


async def test_a_day_off_choice_is_the_organisers_once_and_only_for_a_real_occurrence(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await make_group(client, connector, "Styrgrupp", [MARIA, CAROLINE])
    maria = {"user": MARIA[0], "name": MARIA[1], "aad": "aad-maria"}
    caroline = {"user": CAROLINE[0], "name": CAROLINE[1], "aad": "aad-caroline"}
    await say(
        client,
        connector,
        "varje måndag kl 10 påminn gruppen Styrgrupp om veckomötet",
        mention_bot=True,
        **maria,
        **GROUP_CHAT,
    )
    group = house.groups.find("Styrgrupp", "tenant-gr")
    assert group is not None
    [reminder] = house.nudges.reminders.of_group(group.id)
    easter_monday = "2027-03-29T08:00:00+00:00"  # annandag påsk, 10.00 CEST
    choice = {
        "action": "reminders.day_off",
        "reminder": reminder.id,
        "occurrence": easter_monday,
        "choice": "skip",
    }
    assert await press(client, connector, choice, **EVE) == [NOT_YOURS]
    assert await press(client, connector, choice, **caroline) == [NOT_YOURS]  # not hers
    for forged in (
        {"occurrence": "2027-03-29T09:00:00+00:00"},  # no occurrence at that time
        {"occurrence": "2027-03-22T09:00:00+00:00"},  # an occurrence, on a working day
        {"occurrence": "2027-03-29T08:00:00"},  # no zone
        {"occurrence": "måndag"},
        {"occurrence": "2" * 60},
        {"choice": "explode"},
        {"reminder": "1e9"},
    ):
        [reply] = await press(client, connector, {**choice, **forged}, **maria)
        assert reply == UNKNOWN_BUTTON, forged
    [done] = await press(client, connector, choice, **maria)
    assert done.startswith("Inställd: ”veckomötet” kommer inte måndag 29 mars 2027")
    for presser in (maria, COORDINATOR):
        [again] = await press(
            client, connector, {**choice, "choice": "earlier"}, **presser, **GROUP_CHAT
        )
        assert again.startswith("Redan bestämt. Inställd:")
    # One choice, no copy moved anywhere.
    assert [r.id for r in house.nudges.reminders.of_group(group.id)] == [reminder.id]
