"""The routing table's rules and who may manage a group's things, one rule per test.

The composed bot's conversations (tests/test_routing.py, tests/test_refusals.py) show these rules
to a user; here each is checked where it turns, on real Turns (botbuilder's TestAdapter carries
the activity) and a table of recording handlers: which route answers, which refusal is said,
where a declined turn goes, what a capability without a route is called.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from dialogs.access import may_manage
from dialogs.reading import Intent, Reading
from dialogs.routes import Action, Routes, Texts, missing_capabilities, route
from dialogs.turn import HelpEntry, Turn
from storage.groups import Group, Member

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COORDINATOR = "aad-coordinator"


def turn(
    user: str = "29:anna",
    aad: str | None = "aad-anna",
    *,
    personal: bool = True,
    value: dict[str, object] | None = None,
) -> tuple[Turn, TestAdapter]:
    adapter = TestAdapter()
    sender = ChannelAccount(id=user, name="Anna", aad_object_id=aad)
    activity = Activity(
        type="message",
        text="",
        channel_id="msteams",
        from_property=sender,
        recipient=ChannelAccount(id="28:bot", name="Nätverksboten"),
        conversation=ConversationAccount(
            id="personal-anna" if personal else "19:group@thread.v2",
            conversation_type="personal" if personal else "groupChat",
        ),
        service_url="https://example.invalid",
        value=value,
    )
    context = TurnContext(adapter, activity)
    return Turn(context, now=NOW, coordinators=frozenset({COORDINATOR})), adapter


def replies(adapter: TestAdapter) -> list[str]:
    return [a.text for a in adapter.activity_buffer]


def reading(
    intent: str, verb: str = "", alternatives: tuple[tuple[str, float], ...] = ()
) -> Reading:
    return Reading(
        text="", intent=intent, confidence=1.0, by="rule", verb=verb, alternatives=alternatives
    )


class Capability:
    """Handlers that say who answered; `declines` answers False (not mine after all)."""

    def __init__(self, name: str, help: tuple[HelpEntry, ...] = ()) -> None:
        self.name = name
        self.help = help
        self.answered: list[str] = []

    async def first(self, turn: Turn, reading: Reading) -> None:
        self.answered.append("first")

    async def second(self, turn: Turn, reading: Reading) -> None:
        self.answered.append("second")

    async def declines(self, turn: Turn, reading: Reading) -> bool:
        self.answered.append("declined")
        return False

    async def fallback(self, turn: Turn, reading: Reading) -> None:
        self.answered.append("fallback")
        await turn.reply("Jag förstod inte riktigt.")


# --- who may manage a group's things ------------------------------------------------------------


def group(created_by: str = "29:cecilia", created_by_aad: str | None = "aad-cecilia") -> Group:
    return Group(
        id=1,
        name="RSS Dalarna",
        tenant_id="t",
        created_by=created_by,
        created_by_aad=created_by_aad,
        created_by_name="Cecilia",
        conversation_id=None,
        members=(Member("29:anna", "Anna", "aad-anna"),),
    )


def test_the_groups_creator_manages_it_known_by_teams_id_or_by_azure_id() -> None:
    cecilia, _ = turn("29:cecilia", "aad-cecilia")
    assert may_manage(cecilia, group())
    # the same person from another Teams client: another Teams id, the same Azure AD object
    elsewhere, _ = turn("29:cecilia-web", "aad-cecilia")
    assert may_manage(elsewhere, group())
    # an Azure AD object unknown for the group: the Teams id alone decides
    assert may_manage(turn("29:cecilia", None)[0], group())
    assert may_manage(turn("29:cecilia", "aad-other")[0], group())


def test_a_member_or_a_stranger_does_not_manage_and_no_group_is_nobodys() -> None:
    anna, _ = turn("29:anna", "aad-anna")
    assert not may_manage(anna, group())
    assert not may_manage(anna, None)
    # a group whose creator's Azure AD object was never known matches no missing one
    assert not may_manage(turn("29:anna", None)[0], group(created_by_aad=None))


def test_a_coordinator_manages_every_group_and_the_planner_their_own_poll() -> None:
    coordinator, _ = turn("29:samordnare", COORDINATOR)
    assert may_manage(coordinator, group()) and may_manage(coordinator, None)
    anna, _ = turn("29:anna", "aad-anna")
    assert may_manage(anna, group(), planned_by="29:anna")
    assert may_manage(anna, None, planned_by="29:anna")
    assert not may_manage(anna, group(), planned_by="29:cecilia")


# --- the table ----------------------------------------------------------------------------------


def test_a_verb_of_its_own_beats_the_general_route_and_an_unknown_verb_gets_the_general() -> None:
    cap = Capability("kurser")
    routes = Routes(
        route(Intent.FIND_COURSE, cap.first),
        route(Intent.FIND_COURSE, cap.second, verb="more"),
        route(Intent.GREETING, cap.second, verb="only"),
        fallback=cap.fallback,
    )
    assert routes.find(Intent.FIND_COURSE, "more").handler == cap.second  # type: ignore[union-attr]
    assert routes.find(Intent.FIND_COURSE, "other").handler == cap.first  # type: ignore[union-attr]
    assert routes.find(Intent.FIND_COURSE).handler == cap.first  # type: ignore[union-attr]
    assert routes.find(Intent.GREETING) is None  # no general route for it
    assert routes.find(Intent.THANKS) is None
    assert routes.keys() == {str(Intent.FIND_COURSE), str(Intent.GREETING)}


def test_a_table_with_two_routes_for_one_verb_or_an_owner_rule_without_check_is_refused() -> None:
    cap = Capability("kurser")
    with pytest.raises(ValueError, match="same verb"):
        Routes(
            route(Intent.FIND_COURSE, cap.first),
            route(Intent.FIND_COURSE, cap.second),
            fallback=cap.fallback,
        )
    with pytest.raises(ValueError, match="owner"):
        route(Intent.FIND_COURSE, cap.first, owner_only=True)


def test_of_the_readings_other_intents_the_likeliest_answers_and_priority_breaks_a_tie() -> None:
    cap = Capability("kurser")
    routes = Routes(
        route(Intent.FIND_COURSE, cap.first, priority=1),
        route(Intent.FIND_CONTACT, cap.second),
        route(Action("courses.more"), cap.second),
        fallback=cap.fallback,
    )
    tie = ((Intent.FIND_CONTACT, 0.5), (Intent.FIND_COURSE, 0.5))
    assert routes.for_reading(reading(Intent.UNKNOWN, alternatives=tie)).handler == cap.first  # type: ignore[union-attr]
    likelier = ((Intent.FIND_COURSE, 0.4), (Intent.FIND_CONTACT, 0.6))
    assert routes.for_reading(reading(Intent.UNKNOWN, alternatives=likelier)).handler == cap.second  # type: ignore[union-attr]
    # the same score and priority: the reading's order decides
    same = ((Intent.FIND_CONTACT, 0.5), (Intent.FIND_COURSE, 0.5))
    even = Routes(
        route(Intent.FIND_COURSE, cap.first),
        route(Intent.FIND_CONTACT, cap.second),
        fallback=cap.fallback,
    )
    assert even.for_reading(reading(Intent.UNKNOWN, alternatives=same)).handler == cap.second  # type: ignore[union-attr]
    # a card action is never the answer to a message
    assert (
        routes.for_reading(reading(Intent.UNKNOWN, alternatives=(("courses.more", 0.9),))) is None
    )
    assert routes.for_reading(reading(Intent.UNKNOWN)) is None


async def test_conditions_refuse_with_the_routes_own_words_or_the_common_ones() -> None:
    cap = Capability("kompetensbanken")

    async def owner(t: Turn) -> bool:
        return t.user.id == "29:owner"

    routes = Routes(
        route(Intent.ADD_ME, cap.first, personal_only=True),
        route(Intent.ADD_ME, cap.first, verb="own", personal_only=True, refusal="Skriv privat."),
        route(Intent.UNANSWERED_QUESTIONS, cap.first, coordinator_only=True),
        route(Intent.IMPORT_CATALOGUE, cap.first, coordinator_only=True, refusal="Inte du."),
        route(Action("reminders.delete"), cap.first, owner_only=True, owner=owner),
        route(Action("reminders.stop"), cap.first, owner_only=True, owner=owner, refusal="Nej."),
        fallback=cap.fallback,
    )
    asked = [
        (turn(personal=False), reading(Intent.ADD_ME), Texts.PERSONAL_ONLY),
        (turn(personal=False), reading(Intent.ADD_ME, "own"), "Skriv privat."),
        (turn(), reading(Intent.UNANSWERED_QUESTIONS), Texts.COORDINATORS_ONLY),
        (turn(), reading(Intent.IMPORT_CATALOGUE), "Inte du."),
    ]
    for (t, adapter), r, refusal in asked:
        assert await routes.dispatch(t, r) == r.intent
        assert replies(adapter) == [refusal]
    for action, refusal in (("reminders.delete", Texts.OWNER_ONLY), ("reminders.stop", "Nej.")):
        t, adapter = turn(value={"action": action})
        assert await routes.dispatch_action(t, reading(Intent.UNKNOWN)) == action
        assert replies(adapter) == [refusal]
    assert cap.answered == []

    # the conditions met: the handler answers, and nothing is refused
    coordinator, adapter = turn("29:samordnare", COORDINATOR, personal=False)
    assert await routes.dispatch(coordinator, reading(Intent.UNANSWERED_QUESTIONS)) == str(
        Intent.UNANSWERED_QUESTIONS
    )
    owner_turn, owner_adapter = turn("29:owner", None, value={"action": "reminders.delete"})
    assert await routes.dispatch_action(owner_turn, reading(Intent.UNKNOWN)) == "reminders.delete"
    private, private_adapter = turn()
    await routes.dispatch(private, reading(Intent.ADD_ME))
    assert cap.answered == ["first"] * 3
    assert replies(adapter) == replies(owner_adapter) == replies(private_adapter) == []


async def test_a_declined_turn_goes_to_the_named_route_else_to_the_fallback() -> None:
    cap = Capability("kurser")
    routes = Routes(
        route(Intent.FIND_COURSE, cap.declines, otherwise=Intent.FIND_CONTACT),
        route(Intent.FIND_CONTACT, cap.second),
        route(Intent.GREETING, cap.declines),
        route(Intent.THANKS, cap.declines, otherwise=Intent.THANKS),
        fallback=cap.fallback,
    )
    assert await routes.dispatch(turn()[0], reading(Intent.FIND_COURSE)) == str(Intent.FIND_CONTACT)
    assert cap.answered == ["declined", "second"]
    cap.answered.clear()
    assert await routes.dispatch(turn()[0], reading(Intent.GREETING)) == Intent.UNKNOWN
    assert cap.answered == ["declined", "fallback"]
    cap.answered.clear()
    # a route that names itself does not loop
    assert await routes.dispatch(turn()[0], reading(Intent.THANKS)) == Intent.UNKNOWN
    assert cap.answered == ["declined", "fallback"]


async def test_what_no_route_answers_goes_to_the_fallback_under_its_own_name() -> None:
    cap = Capability("kurser")
    routes = Routes(
        route(Intent.FIND_COURSE, cap.first),
        route(Action("courses.more"), cap.second),
        fallback=cap.fallback,
    )
    assert await routes.dispatch(turn()[0], reading(Intent.THANKS)) == Intent.UNKNOWN
    # an unknown button, and a button naming a message intent, are not routed as such
    t, _ = turn(value={"action": "courses.forged"})
    assert await routes.dispatch_action(t, reading(Intent.UNKNOWN)) == "courses.forged"
    t, _ = turn(value={"action": str(Intent.FIND_COURSE)})
    assert await routes.dispatch_action(t, reading(Intent.UNKNOWN)) == str(Intent.FIND_COURSE)
    t, _ = turn(value={"verb": "no action"})
    assert await routes.dispatch_action(t, reading(Intent.UNKNOWN)) == Intent.UNKNOWN
    assert cap.answered == ["fallback"] * 4
    t, _ = turn(value={"action": "courses.more"})
    assert await routes.dispatch_action(t, reading(Intent.UNKNOWN)) == "courses.more"
    assert cap.answered[-1] == "second"


def test_a_capability_without_a_route_is_named_and_help_follows_the_tables_order() -> None:
    courses = Capability("kurser", (HelpEntry("Kurser", "kurs i demens"),))
    bank = Capability("kompetensbanken", (HelpEntry("Kollegor", "vem kan diabetes"),))
    quiet = Capability("småprat")
    routes = Routes(
        route(Intent.FIND_CONTACT, bank.first),
        route(Intent.FIND_COURSE, courses.first),
        route(Intent.MORE_RESULTS, courses.second, verb=Intent.FIND_COURSE),
        route(Intent.GREETING, quiet.first),
        fallback=quiet.fallback,
    )
    reminders = Capability("påminnelser")
    assert missing_capabilities(routes, [courses, bank, reminders, "kalender"]) == [
        "påminnelser",
        "kalender",
    ]
    assert missing_capabilities(routes, [courses, bank, quiet, "småprat"]) == []
    assert routes.capabilities() == {"kurser", "kompetensbanken", "småprat"}
    assert [name for name, _ in routes.menu()] == ["kompetensbanken", "kurser"]
    assert [e.what for e in routes.help_entries()] == ["Kollegor", "Kurser"]
