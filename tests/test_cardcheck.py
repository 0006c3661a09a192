"""tests/cardcheck.py catches what Teams would refuse or render wrong."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity

from bot import House
from tests.cardcheck import assert_valid_card, card_problems, cards_in

COURSE_CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.5",
    "msteams": {"width": "Full"},
    "body": [
        {"type": "TextBlock", "text": "Demens – grundkurs", "weight": "Bolder", "size": "Medium"},
        {
            "type": "FactSet",
            "facts": [
                {"title": "Anordnare", "value": "Region Exempel"},
                {"title": "Längd", "value": "2 h"},
            ],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "slot",
            "style": "expanded",
            "choices": [{"title": "måndag kl. 09.00", "value": "1"}],
        },
    ],
    "actions": [
        {"type": "Action.OpenUrl", "title": "Öppna kursen", "url": "https://example.org/demens"},
        {
            "type": "Action.Submit",
            "title": "Påminn mig",
            "data": {"action": "courses.remind", "id": 7},
        },
    ],
}


def broken(change: Any) -> list[str]:
    card = copy.deepcopy(COURSE_CARD)
    change(card)
    return card_problems(card)


def test_a_teams_course_card_is_valid() -> None:
    assert_valid_card(COURSE_CARD)


def test_cards_are_found_in_a_connector_reply() -> None:
    reply = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": COURSE_CARD}
        ],
    }
    assert cards_in(reply) == [COURSE_CARD]
    assert cards_in({"type": "message", "text": "hej"}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(version="1.6"), "version is '1.6'"),
        (lambda c: c["body"][0].update(size="huge"), "card.body[0].size"),
        (lambda c: c["body"][0].update(type="Text"), "unknown type 'Text'"),
        (lambda c: c["body"][2].pop("id"), "card.body[2]: 'id' is a required property"),
        (lambda c: c["actions"][1].update(data="courses.remind"), "data must be an object"),
        (lambda c: c["actions"][1].update(data={"id": 7}), "'action': '<capability>.<verb>'"),
        (lambda c: c["actions"][0].update(url="/demens"), "absolute http(s)"),
        (lambda c: c["actions"].extend([c["actions"][0]] * 5), "7 buttons"),
        (lambda c: c["body"][0].update(id="slot"), "id 'slot' is also used"),
        (lambda c: c["msteams"].update(colour="red"), "card.msteams"),
        (lambda c: c["body"].append({"type": "TextBlock", "text": "x" * 30_000}), "28 KB"),
    ],
)
def test_problems_are_named_with_their_place(change: Any, expected: str) -> None:
    problems = broken(change)
    assert any(expected in problem for problem in problems), problems


def test_a_datetime_left_in_the_card_is_reported() -> None:
    problems = broken(lambda c: c["actions"][1]["data"].update(when=datetime(2026, 11, 23)))
    assert problems and problems[0].startswith("not JSON")


async def test_the_bots_help_card_is_valid(house: House) -> None:
    replies: list[Activity] = []
    flow = await TestAdapter(house.bot.on_turn).send("hjälp")
    await flow.assert_reply(lambda activity, _=None: replies.append(activity))

    cards = cards_in(replies[0])
    assert cards
    for card in cards:
        assert_valid_card(card)


def test_the_fake_connector_flags_an_invalid_card_the_bot_sends() -> None:
    from tests.fakes import FakeConnector

    fake = FakeConnector()
    bad = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlok", "text": "x"}]}
    fake._check_cards(
        {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": bad}
            ],
        }
    )
    assert fake.invalid_cards


def test_universal_actions_need_a_submit_fallback_and_at_most_60_refreshed_people() -> None:
    from dialogs.buttons import button, refresh

    card = copy.deepcopy(COURSE_CARD)
    card["actions"][1] = button("Påminn mig", "courses.remind", id=7)
    card["refresh"], automatic = refresh("courses.view", [f"29:{n}" for n in range(60)], id=7)
    assert automatic and card_problems(card) == []

    no_fallback = copy.deepcopy(card)
    no_fallback["actions"][1].pop("fallback")
    assert any("Action.Submit fallback" in p for p in card_problems(no_fallback))
    other_data = copy.deepcopy(card)
    other_data["actions"][1]["fallback"]["data"]["id"] = 8
    assert any("Action.Submit fallback" in p for p in card_problems(other_data))
    wrong_verb = copy.deepcopy(card)
    wrong_verb["actions"][1]["verb"] = "courses.other"
    assert any("verb must be" in p for p in card_problems(wrong_verb))
    too_many = copy.deepcopy(card)
    too_many["refresh"]["userIds"].append("29:61")
    assert any("at most 60" in p for p in card_problems(too_many))

    # Beyond 60 people nobody is refreshed automatically (the card needs a button instead).
    clause, automatic = refresh("courses.view", [f"29:{n}" for n in range(61)], id=7)
    assert not automatic and clause["userIds"] == []
