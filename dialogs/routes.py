"""One routing table: who handles which intent and which card action, in one place.

Each route names an intent (optionally one verb of it, "watch_courses"/"stop") or a card action
("reminders.snooze"), the handler, and its conditions as data: `personal_only`,
`coordinator_only`, `owner_only`. A reading goes to the route of its intent with the most
specific verb; when the reading offers several intents (alternatives), `priority` breaks ties.
Help is built from the same table, in its order. Nothing else decides who answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dialogs.reading import Intent, Reading
from dialogs.turn import HelpEntry, Turn

if TYPE_CHECKING:
    from dialogs.contacts import CompetenceBank
    from dialogs.courses import CourseQuestions
    from dialogs.deadlines import Deadlines
    from dialogs.groups import WorkingGroups
    from dialogs.polls import Polls
    from dialogs.reminders import RemindMe
    from dialogs.small_talk import SmallTalk
    from dialogs.teaching import Teaching

logger = logging.getLogger(__name__)

# A handler answers; returning False means "not mine after all" and the fallback answers.
Handler = Callable[[Turn, Reading], Awaitable[bool | None]]
OwnerCheck = Callable[[Turn], Awaitable[bool]]


class Texts:
    PERSONAL_ONLY = (
        "Det gör vi i en personlig chatt med mig, så att dina uppgifter inte syns för andra. "
        "Skriv till mig direkt."
    )
    COORDINATORS_ONLY = "Det kan bara nätverkets samordnare göra."
    OWNER_ONLY = "Det kan bara den som skapade det göra."


@dataclass(frozen=True)
class Action:
    """A card submit's `action` ("reminders.snooze")."""

    name: str


@dataclass(frozen=True)
class Route:
    key: str  # an intent name or a card action
    handler: Handler
    verb: str = ""  # "" handles every verb the more specific routes do not
    priority: int = 0
    personal_only: bool = False
    coordinator_only: bool = False
    owner_only: bool = False
    owner: OwnerCheck | None = None  # how owner_only is checked for this route
    refusal: str = ""  # what to say when a condition is not met (default: Texts above)
    otherwise: str = ""  # the intent whose route answers when this handler declines (False)
    capability: str = ""  # the capability the handler belongs to
    help: tuple[HelpEntry, ...] = ()  # that capability's help entries
    is_action: bool = False


def route(
    key: Intent | Action | str,
    handler: Handler,
    *,
    verb: str = "",
    priority: int = 0,
    personal_only: bool = False,
    coordinator_only: bool = False,
    owner_only: bool = False,
    owner: OwnerCheck | None = None,
    refusal: str = "",
    otherwise: Intent | str = "",
) -> Route:
    if owner_only and owner is None:
        raise ValueError(f"route {key}: owner_only needs an owner check")
    name = key.name if isinstance(key, Action) else str(key)
    return Route(
        name,
        handler,
        verb=verb,
        priority=priority,
        personal_only=personal_only,
        coordinator_only=coordinator_only,
        owner_only=owner_only,
        owner=owner,
        refusal=refusal,
        otherwise=str(otherwise),
        capability=_capability_of(handler),
        help=tuple(getattr(getattr(handler, "__self__", None), "help", ())),
        is_action=isinstance(key, Action),
    )


@dataclass
class Routes:
    routes: list[Route]
    fallback: Handler
    _by_key: dict[str, list[Route]] = field(default_factory=dict)

    def __init__(self, *routes: Route, fallback: Handler) -> None:
        self.routes = list(routes)
        self.fallback = fallback
        self._by_key = {}
        for r in self.routes:
            self._by_key.setdefault(r.key, []).append(r)
        for key, group in self._by_key.items():
            verbs = [r.verb for r in group]
            if len(verbs) != len(set(verbs)):
                raise ValueError(f"two routes for {key} with the same verb")

    def find(self, key: str, verb: str = "") -> Route | None:
        group = self._by_key.get(key) or []
        exact = [r for r in group if r.verb == verb]
        if exact:
            return exact[0]
        general = [r for r in group if r.verb == ""]
        return general[0] if general else None

    def for_reading(self, reading: Reading) -> Route | None:
        found = self.find(reading.intent, reading.verb)
        if found is not None:
            return found
        # the reading's next-best intents that have a route, highest priority first on a tie
        candidates = [
            (score, r.priority, r)
            for intent, score in reading.alternatives
            if (r := self.find(intent)) is not None and not r.is_action
        ]
        if not candidates:
            return None
        candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
        return candidates[0][2]

    def keys(self) -> set[str]:
        return set(self._by_key)

    def capabilities(self) -> set[str]:
        return {r.capability for r in self.routes}

    def menu(self) -> list[tuple[str, list[HelpEntry]]]:
        """Each capability's help entries, capabilities in the order the table names them."""
        grouped: dict[str, list[HelpEntry]] = {}
        for r in self.routes:
            if r.capability not in grouped:
                grouped[r.capability] = list(r.help)
        return [(name, entries) for name, entries in grouped.items() if entries]

    def help_entries(self) -> list[HelpEntry]:
        return [entry for _, entries in self.menu() for entry in entries]

    async def dispatch(self, turn: Turn, reading: Reading, found: Route | None = None) -> str:
        """Answers the turn; returns the route's name (the log's `capability`)."""
        chosen = found or self.for_reading(reading)
        if chosen is None:
            await self.fallback(turn, reading)
            return Intent.UNKNOWN if not turn.action else turn.action
        refusal = await self._refusal(turn, chosen)
        if refusal:
            await turn.reply(refusal)
            return chosen.key
        handled = await chosen.handler(turn, reading)
        if handled is False:
            otherwise = self.find(chosen.otherwise) if chosen.otherwise else None
            if otherwise is not None and otherwise is not chosen:
                return await self.dispatch(turn, reading, otherwise)
            await self.fallback(turn, reading)
            return Intent.UNKNOWN
        return chosen.key

    async def dispatch_action(self, turn: Turn, reading: Reading) -> str:
        found = self.find(turn.action or "")
        if found is None or not found.is_action:
            await self.fallback(turn, reading)
            return turn.action or Intent.UNKNOWN
        return await self.dispatch(turn, reading, found)

    async def _refusal(self, turn: Turn, r: Route) -> str:
        if r.personal_only and not turn.is_personal:
            return r.refusal or Texts.PERSONAL_ONLY
        if r.coordinator_only and not turn.is_coordinator:
            return r.refusal or Texts.COORDINATORS_ONLY
        if r.owner_only and r.owner is not None and not await r.owner(turn):
            return r.refusal or Texts.OWNER_ONLY
        return ""


def _capability_of(handler: Handler) -> str:
    owner = getattr(handler, "__self__", None)
    return str(getattr(owner, "name", "")) if owner is not None else ""


def missing_capabilities(routes: Routes, capabilities: Iterable[object]) -> list[str]:
    """Names of capabilities no route reaches (a composed bot must have none)."""
    reached = routes.capabilities()
    return [
        str(getattr(c, "name", c)) for c in capabilities if getattr(c, "name", c) not in reached
    ]


# --- the table ---------------------------------------------------------------------------------
def build_routes(
    *,
    small_talk: SmallTalk,
    courses: CourseQuestions | None = None,
    teaching: Teaching | None = None,
    bank: CompetenceBank | None = None,
    reminders: RemindMe | None = None,
    deadlines: Deadlines | None = None,
    groups: WorkingGroups | None = None,
    polls: Polls | None = None,
) -> Routes:
    """Who answers what, in one table; help lists the entries in this order.

    compose() passes every capability (tests/test_routing.py checks that none is left out); a
    test of one capability may pass only that one.
    """
    from dialogs import contacts, reminder_cards
    from dialogs import courses as course_texts
    from dialogs import deadlines as deadline_module
    from dialogs import reminders as reminder_module
    from dialogs import teaching as teaching_texts
    from dialogs.polls import cards as poll_cards

    C = contacts.Texts
    table: list[Route] = []
    if courses is not None:
        table += [
            route(Intent.FIND_COURSE, courses.find, priority=1),
            route(Intent.MORE_RESULTS, courses.more, verb=Intent.FIND_COURSE),
            route(Action(course_texts.MORE), courses.more_card),
            route(Intent.IMPORT_CATALOGUE, courses.import_sheet),
        ]
    if teaching is not None:
        T = teaching_texts.Texts
        table += [
            route(
                Intent.UNANSWERED_QUESTIONS,
                teaching.gaps,
                coordinator_only=True,
                refusal=T.COORDINATORS_ONLY,
            ),
            route(
                Intent.UNANSWERED_QUESTIONS,
                teaching.links,
                verb="links",
                coordinator_only=True,
                refusal=T.COORDINATORS_ONLY,
            ),
            *(
                route(Action(action), handler, coordinator_only=True, refusal=T.COORDINATORS_ONLY)
                for action, handler in (
                    (teaching_texts.GAPS, teaching.gaps),
                    (teaching_texts.LINKS, teaching.links),
                    (teaching_texts.LINK, teaching.on_action),
                    (teaching_texts.NOT_COVERED, teaching.on_action),
                    (teaching_texts.UNDO, teaching.on_action),
                )
            ),
        ]
    if bank is not None:
        table += [
            route(Intent.FIND_CONTACT, bank.find, priority=2),
            route(Intent.MORE_RESULTS, bank.more, verb=Intent.FIND_CONTACT),
            # the competence bank about oneself: personal chats only
            *(
                route(intent, handler, personal_only=True, refusal=C.PERSONAL_ONLY)
                for intent, handler in (
                    (Intent.ADD_ME, bank.add_me),
                    (Intent.CHANGE_MY_DATA, bank.add_me),
                    (Intent.SHOW_MY_DATA, bank.show_mine),
                    (Intent.ERASE_ME, bank.erase_me),
                )
            ),
            route(
                Intent.ERASE_ME,
                bank.erase_other,
                verb="other",
                coordinator_only=True,
                refusal=C.COORDINATOR_ONLY,
            ),
        ]
    if reminders is not None:
        table += [
            route(Intent.SET_REMINDER, reminders.remind),
            route(Intent.SET_REMINDER, reminders.move, verb="move"),
            route(Intent.ANSWER, reminders.answer, verb="clock"),
            route(Intent.ANSWER, reminders.answer, verb="time"),
            route(Intent.ANSWER, reminders.answer, verb="what"),
            route(Intent.LIST_REMINDERS, reminders.list),
            route(Intent.LIST_REMINDERS, reminders.list_group, verb="group"),
            route(Intent.DELETE_REMINDER, reminders.delete),
            route(Intent.DELETE_REMINDER, reminders.mute, verb="mute"),
            route(Action(reminder_cards.MUTE), reminders.on_mute),
            route(Action(reminder_cards.DAY_OFF_CHOICE), reminders.on_day_off),
            route(Action(reminder_cards.DELETE), reminders.on_delete),
            route(Action(reminder_module.MORE), reminders.on_more),
            route(Action(reminder_cards.SNOOZE), reminders.on_snooze),
            route(Action(reminder_cards.TOMORROW), reminders.on_tomorrow),
            route(Action(reminder_cards.DONE), reminders.on_done),
            route(Action(reminder_cards.STOP), reminders.on_stop),
            route(Intent.WATCH_COURSES, reminders.watch),
            route(Intent.WATCH_COURSES, reminders.watches, verb="list"),
            route(Intent.WATCH_COURSES, reminders.unwatch, verb="stop"),
        ]
    if deadlines is not None:
        table += [
            route(Intent.SET_DEADLINE, deadlines.register),
            route(Intent.SET_DEADLINE, deadlines.howto, verb="howto"),
            route(Intent.SET_DEADLINE, deadlines.move, verb="move"),
            route(Intent.SET_DEADLINE, deadlines.cancel, verb="cancel"),
            route(Intent.DEADLINE_STATUS, deadlines.status),
            route(Intent.DEADLINE_STATUS, deadlines.done, verb="done"),
            route(Intent.DEADLINE_STATUS, deadlines.listing, verb="list"),
            route(Intent.ANSWER, deadlines.answer_move, verb=deadline_module.ASKED_MOVE),
            route(Action(deadline_module.DONE), deadlines.on_done),
            route(Action(deadline_module.MOVE), deadlines.on_move),
            route(Action(deadline_module.KEEP), deadlines.on_keep),
        ]
    if groups is not None:
        table += [
            route(Intent.MANAGE_GROUP, groups.list),
            route(Intent.MANAGE_GROUP, groups.create, verb="create"),
            route(Intent.MANAGE_GROUP, groups.list, verb="list"),
            route(Intent.MANAGE_GROUP, groups.delete, verb="delete"),
            route(Intent.MANAGE_GROUP, groups.add, verb="add"),
            route(Intent.MANAGE_GROUP, groups.remove, verb="remove"),
            # "visa X" is a group only if one is called X; otherwise a course question
            route(Intent.MANAGE_GROUP, groups.show, verb="show", otherwise=Intent.FIND_COURSE),
        ]
    if polls is not None:
        table += [
            route(Intent.PLAN_MEETING, polls.plan),
            route(Intent.PLAN_MEETING, polls.remind_missing, verb="remind_missing"),
            route(Intent.PLAN_MEETING, polls.result, verb="result"),
            route(Intent.PLAN_MEETING, polls.move, verb="move"),
            route(Intent.PLAN_MEETING, polls.cancel_meeting, verb="cancel"),
            route(Action(poll_cards.ANSWER), polls.on_answer),
            route(Action(poll_cards.BOOK), polls.on_book),
            route(Action(poll_cards.CANCEL), polls.on_cancel),
            route(Action(poll_cards.VIEW), polls.on_view),
        ]
    table += [
        # small talk and the bot itself
        route(Intent.MORE_RESULTS, small_talk.nothing_more),
        route(Intent.HELP, small_talk.show_help),
        route(Intent.THANKS, small_talk.thanks),
        route(Intent.GREETING, small_talk.greeting),
        route(Intent.ABOUT_BOT, small_talk.about),
        route(Intent.CANCEL, small_talk.cancel),
        route(Intent.ANSWER, small_talk.continue_dialog, verb="continue"),
        route(Intent.ANSWER, small_talk.no_question),
        route(Intent.UNKNOWN, small_talk.not_understood),
    ]
    routes = Routes(*table, fallback=small_talk.not_understood)
    small_talk.use_help(routes.help_entries)
    return routes
