"""Teams' universal actions over HTTP: buttons are Action.Execute with an Action.Submit fallback,
the `adaptiveCard/action` invoke is answered with the updated card, and a poll card shared in a
group chat refreshes into each member's own view (issue 15.2)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from bot import House
from dialogs.polls.cards import Viewer, poll_card
from storage.groups import Member
from tests.cardcheck import assert_valid_card
from tests.fakes import FakeClock, FakeConnector, Sent
from tests.helpers import message
from tests.test_polls import (
    AUGUST,
    OLLE,
    card_text,
    latest_poll,
    make_group,
    person,
    plan,
)
from tests.test_reminders import CAROLINE, COORDINATOR, GROUP_CHAT, MARIA, deliver, say

CARD = "application/vnd.microsoft.card.adaptive"


def executes(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Execute on a card (buttons and the refresh), outermost first."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def seen(card: dict[str, Any]) -> str:
    return card_text(
        Sent("POST", "", "", {"attachments": [{"contentType": CARD, "content": card}]})
    )


async def execute(
    client: TestClient,
    connector: FakeConnector,
    data: dict[str, Any],
    *,
    trigger: str = "manual",
    reply_to: str | None = None,
    **who: Any,
) -> tuple[dict[str, Any], list[Sent]]:
    """Presses an Action.Execute (or lets Teams refresh a card) as Teams does: an invoke whose
    HTTP answer is the card to show. Returns that answer and what the bot sent meanwhile."""
    body = message("", service_url=connector.url, **who)
    body.update(
        type="invoke",
        name="adaptiveCard/action",
        text=None,
        value={
            "action": {"type": "Action.Execute", "verb": data["action"], "data": data},
            "trigger": trigger,
        },
    )
    if reply_to:
        body["replyToId"] = reply_to
    before = len(connector.sent)
    response = await client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["statusCode"] == 200
    if answer["type"] == CARD:
        assert_valid_card(answer["value"])
    return answer, connector.sent[before:]


# --- reminders ---------------------------------------------------------------------------------


async def test_a_reminder_snoozed_twice_by_action_execute_shows_the_outcome_and_makes_one_reminder(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    await say(client, connector, "påminn mig om 1 timme att ringa doktor Lind")
    clock.advance(hours=1)
    [sent] = await deliver(house, connector)
    [snooze, *_] = executes(sent.cards[0])
    assert snooze["verb"] == "reminders.snooze" and snooze["title"] == "Påminn igen om 1 timme"
    assert snooze["fallback"] == {
        "type": "Action.Submit",
        "title": "Påminn igen om 1 timme",
        "data": snooze["data"],
    }

    for press in (1, 2):
        answer, meanwhile = await execute(client, connector, snooze["data"], reply_to=sent.id)
        assert answer["type"] == CARD, press
        card = answer["value"]
        assert "actions" not in card  # no live buttons after a press
        assert "ringa doktor Lind" in seen(card)
        assert "Påminner igen måndag 23 november 2026 kl. 12.00" in seen(card)
        # In a personal chat Teams shows the answered card; nothing else rewrites it.
        assert [s.method for s in meanwhile] == ["POST"]
    upcoming = house.nudges.reminders.upcoming_for("29:anna")
    assert [(r.text, r.due_at) for r in upcoming] == [
        ("ringa doktor Lind", clock.now().replace(hour=11))
    ]


# --- a poll card with a view per person ---------------------------------------------------------


def choice_values(card: dict[str, Any]) -> list[str | None]:
    return [
        item.get("value")
        for block in card["body"]
        if block.get("type") == "Container"
        for item in block["items"]
        if item["type"] == "Input.ChoiceSet"
    ]


async def test_the_shared_poll_card_refreshes_into_each_members_own_view(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    clock.current = AUGUST
    await make_group(client, connector, [MARIA, CAROLINE])
    connector.clear()
    await plan(client, connector, "tis 31/8 13-15, ons 1/9 9-11")
    poll = latest_poll(house)
    [shared] = [
        s for s in connector.sent if s.conversation_id == GROUP_CHAT["conversation"] and s.cards
    ]
    refresh = shared.cards[0]["refresh"]
    assert refresh["userIds"] == ["29:coord", "29:maria", "29:caroline"]
    assert refresh["action"]["data"] == {"action": "polls.view", "poll": poll.id}
    labels = [
        item["label"]
        for block in shared.cards[0]["body"]
        if block.get("type") == "Container"
        for item in block["items"]
        if item["type"] == "Input.ChoiceSet"
    ]
    assert labels == [
        "Ditt svar för tisdag 31 augusti 2027 kl. 13.00–15.00",
        "Ditt svar för onsdag 1 september 2027 kl. 09.00–11.00",
    ]
    view = refresh["action"]["data"]

    # Maria looks at the card: Teams fetches her view; nothing is written in the chat.
    answer, meanwhile = await execute(
        client, connector, view, trigger="automatic", **person(MARIA), **GROUP_CHAT
    )
    maria = seen(answer["value"])
    assert "Du har inte svarat än." in maria
    assert "Boka den här tiden" not in maria and "Ställ in" not in maria
    assert answer["value"]["refresh"] == refresh  # her view keeps refreshing
    assert meanwhile == []

    # She answers on it: her card acknowledges the answer and keeps her choices; the card in
    # the chat is updated for everyone (without her choices), never with her view.
    data = {
        "action": "polls.answer",
        "poll": poll.id,
        f"slot_{poll.slots[0].id}": "yes",
        f"slot_{poll.slots[1].id}": "no",
    }
    answer, meanwhile = await execute(
        client, connector, data, reply_to=shared.id, **person(MARIA), **GROUP_CHAT
    )
    maria = seen(answer["value"])
    assert "Du har svarat." in maria
    assert "Ditt svar: Ja" in maria and "Ditt svar: Nej" in maria
    assert choice_values(answer["value"]) == ["yes", "no"]
    [update] = [s for s in meanwhile if s.method == "PUT"]
    assert update.path.endswith(f"/activities/{shared.id}")
    assert choice_values(update.cards[0]) == [None, None]
    assert "Ditt svar" not in seen(update.cards[0]).replace("Ditt svar för", "")
    assert "Har inte svarat (1): Caroline Ek" in seen(update.cards[0])
    assert [s for s in meanwhile if s.method == "POST"] == []  # no chatter in the group

    # Caroline's view is her own: not answered, nothing chosen for her.
    answer, _ = await execute(
        client, connector, view, trigger="automatic", **person(CAROLINE), **GROUP_CHAT
    )
    assert "Du har inte svarat än." in seen(answer["value"])
    assert choice_values(answer["value"]) == [None, None]

    # The organiser sees the buttons to book and cancel, one "Boka" per time.
    answer, _ = await execute(
        client, connector, view, trigger="automatic", **COORDINATOR, **GROUP_CHAT
    )
    organiser = [b["data"] for b in executes(answer["value"]) if b["verb"] == "polls.book"]
    assert [d["slot"] for d in organiser] == [s.id for s in poll.slots]
    assert "Ställ in" in seen(answer["value"])

    # Someone outside the group sees what the chat sees: no answers of hers, no buttons to manage.
    answer, meanwhile = await execute(
        client, connector, view, trigger="manual", **OLLE, **GROUP_CHAT
    )
    olle = seen(answer["value"])
    assert "Du har" not in olle and "Boka" not in olle and "Ställ in" not in olle
    assert meanwhile == []


async def test_a_group_over_sixty_refreshes_by_hand(house: House, clock: FakeClock) -> None:
    clock.current = AUGUST
    members = [Member(f"29:m{n}", f"Medlem {n}") for n in range(60)]
    poll = _a_poll(house, members)
    card = poll_card(poll, members, shared=True)
    assert card["refresh"]["userIds"] == []  # 61 with the organiser: Teams would refuse
    assert [b["verb"] for b in executes(card)][-1] == "polls.view"
    assert "Visa mina svar" in seen(card)
    assert_valid_card(card)

    card = poll_card(poll, members[:59], shared=True)
    assert len(card["refresh"]["userIds"]) == 60 and "Visa mina svar" not in seen(card)
    assert_valid_card(poll_card(poll, members, viewer=Viewer("29:m1", manages=True)))


def _a_poll(house: House, members: list[Member]) -> Any:
    from datetime import timedelta

    from storage.polls import NewPoll, PollRepository, Voter

    start = AUGUST + timedelta(days=14)
    return PollRepository(house.sessions).create(
        NewPoll(
            group_id=None,  # type: ignore[arg-type]
            group_name="Stora gruppen",
            tenant_id="tenant-gr",
            title="Storträff",
            length_minutes=60,
            place="Teams-möte",
            deadline=AUGUST + timedelta(days=7),
            creator=Voter("29:coord", "Cecilia Samordnare", None),
            slots=((start, start + timedelta(hours=1)),),
        ),
        AUGUST,
    )


async def test_a_list_button_pressed_twice_deletes_once_and_the_list_card_shows_whats_left(
    client: TestClient, connector: FakeConnector, house: House
) -> None:
    await say(client, connector, "påminn mig imorgon kl 9 om att skicka enkäten")
    await say(client, connector, "påminn mig på fredag kl 10 om att boka lokal")
    before = len(connector.sent)
    await say(client, connector, "mina påminnelser")
    [listed] = [s for s in connector.sent[before:] if s.cards]
    [delete, _] = [b for b in executes(listed.cards[0]) if b["verb"] == "reminders.delete"]

    answer, meanwhile = await execute(client, connector, delete["data"], reply_to=listed.id)
    assert [s.text for s in meanwhile] == ["Borttagen: ”skicka enkäten”."]
    left = seen(answer["value"])
    assert "skicka enkäten" not in left and "boka lokal" in left

    answer, meanwhile = await execute(client, connector, delete["data"], reply_to=listed.id)
    assert [s.text for s in meanwhile] == ["”skicka enkäten” är redan borttagen."]
    assert "boka lokal" in seen(answer["value"])
    assert [r.text for r in house.nudges.reminders.upcoming_for("29:anna")] == ["boka lokal"]


async def test_a_card_looked_at_often_does_not_use_up_what_its_reader_may_write(
    client: TestClient, connector: FakeConnector, house: House, clock: FakeClock
) -> None:
    # Teams refreshes the shared card each time Maria scrolls past it; that is nothing she sent,
    # so after 40 refreshes in a minute she is still answered, not told to slow down.
    clock.current = AUGUST
    await make_group(client, connector, [MARIA, CAROLINE])
    await plan(client, connector, "tis 31/8 13-15, ons 1/9 9-11")
    poll = latest_poll(house)
    view = {"action": "polls.view", "poll": poll.id}
    for _ in range(40):
        answer, meanwhile = await execute(
            client, connector, view, trigger="automatic", **person(MARIA), **GROUP_CHAT
        )
        assert "Du har inte svarat än." in seen(answer["value"]) and meanwhile == []
    before = len(connector.sent)
    await client.post(
        "/api/messages",
        data=json.dumps(message("mina påminnelser", service_url=connector.url, **person(MARIA))),
        headers={"Content-Type": "application/json"},
    )
    replies = [s.text for s in connector.sent[before:] if s.method == "POST" and s.text]
    assert replies and not any("Vänta en minut" in r for r in replies)

    # A press is something she did: pressing "view" 40 times by hand is counted as before.
    for _ in range(40):
        await execute(client, connector, view, trigger="manual", **person(MARIA), **GROUP_CHAT)
    assert any("Vänta en minut" in s.text for s in connector.sent if s.method == "POST")
