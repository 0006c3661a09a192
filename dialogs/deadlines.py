"""Deadlines for a working group (issue 17): registering, listing, moving, cancelling, "klar".

Who may do what: a coordinator or the group's creator registers, moves and cancels a group's
deadlines (and whoever set one may change it); members see theirs and say "klar"; `status` is
for the owner, the members and coordinators. Someone else's deadline is answered as if it did
not exist. What the members and the owner receive is rendered in dialogs/deadline_cards.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from botbuilder.dialogs import Dialog

from dialogs import deadline_cards
from dialogs.access import group_named, may_manage, stripped_group_name
from dialogs.deadline_cards import card, row, status_lines, submit, when_text
from dialogs.limits import CONVERSATION_WINDOW, DEADLINES_PER_CONVERSATION
from dialogs.reading import Reading
from dialogs.turn import HelpEntry, Turn
from dialogs.values import card_id, card_text
from scheduler.clock import Clock
from scheduler.nudges import NudgeService
from scheduler.swedish import MONTHS, format_date, format_when
from scheduler.timing import DEADLINE_NUDGE_HOUR, at_hour, local_day
from scheduler.when import Recurrence, Span, WhenError, parse
from storage.deadlines import DeadlineClosed, DeadlineRepository, DeadlineView
from storage.groups import Group, GroupRepository
from storage.tally import Tally

logger = logging.getLogger(__name__)

DEFAULT_DEADLINE_SCHEDULE = (14, 3, 1, 0)
DONE = deadline_cards.DONE  # "Klar" on a nudge, and on the "which one?" question
MOVE = "deadlines.move"  # "Ja, flytta" when a registered name already exists
KEEP = "deadlines.keep"  # "Nej, behåll"
ASKED_MOVE = "deadline_move"  # the bot's own question, answered "ja"/"nej"
# words around a deadline's name that belong to the date ("senast fredag", "den 15 mars")
_NAME_WRAPPING = r"^(?:för|om|den|senast|by|for)\s+|\s+(?:senast|den|by)$"
# "enkäten för gruppen Civilsamhälle" in a move or cancel command
_FOR_GROUP = re.compile(r"^(?P<name>.+?)\s+för\s+(?:arbets)?gruppen\s+(?P<group>.+)$", re.I)
# how far ahead a date from a card button may be (a typed one is read by the time parser)
LATEST = timedelta(days=5 * 366)


class Texts:
    HELP_DEADLINE = HelpEntry(
        "Deadline för en arbetsgrupp",
        "deadline delredovisning 30 september för gruppen RSS Dalarna",
    )
    HELP_LIST = HelpEntry("Se, flytta och ta bort deadlines", "mina deadlines")
    HOWTO = (
        "Skriv till exempel ”deadline delredovisning {example} för gruppen RSS Dalarna” "
        "eller ”RSS Dalarna ska lämna in enkäten senast fredag”."
    )
    NO_DATE = "Jag hittade inget datum för deadlinen. "
    PAST = "Den tiden har redan varit ({when}). Ange en senare tid."
    WHICH_GROUP = "För vilken arbetsgrupp gäller deadlinen? "
    TOO_MANY_HERE = (
        "I den här chatten har det redan lagts in {limit} deadlines det senaste dygnet, så "
        "många som går på ett dygn. Försök igen i morgon."
    )
    ONLY_MANAGERS = "Bara samordnare och den som skapade gruppen kan lägga in deadlines."
    ONLY_MANAGERS_CHANGE = (
        "Bara samordnare och den som skapade gruppen kan flytta eller ta bort deadlines."
    )
    SET = "Deadline **{name}** {when} för **{group}** ({count}), satt av {owner}."
    NUDGES = " Jag påminner var och en {nudges}, tills de svarar **Klar**."
    NO_NUDGES = " Det hinns inte med någon påminnelse före deadlinen."
    SUMMARY = (
        " Sammanfattningen kommer till dig {summary}. Skriv ”status {name}” när du vill se läget."
    )
    NOW = "nu direkt"
    AND = " och "
    PERSON = "{n} person"
    PEOPLE = "{n} personer"
    NO_GROUP = "Jag hittar ingen arbetsgrupp som heter ”{name}”."
    GROUPS_OFFERED = "Menade du: {names}?"
    EXISTS = (
        "Det finns redan en deadline **{name}** för **{group}**, {old}. "
        "Vill du flytta den till {new}? Svara ja eller nej."
    )
    SAME = "Deadline **{name}** för **{group}** är redan {when}."
    YES_MOVE = "Ja, flytta"
    NO_KEEP = "Nej, behåll"
    KEPT = "Okej, **{name}** ligger kvar {when}."
    MOVED = "Flyttad: **{name}** för **{group}** är nu {when}."
    DONE_KEPT = " De som redan svarat Klar ({count}) står kvar som klara."
    NOT_OPEN = "**{name}** är redan avslutad och kan inte ändras."
    CANCELLED = "Borttagen: **{name}** för **{group}**. Jag har sagt till {count} som var med."
    CANCEL_NOTICE = (
        "Deadlinen **{name}** för {group} ({when}) är borttagen av {who}. "
        "Du behöver inte göra något mer för den."
    )
    SOMEONE = "en samordnare"
    ALREADY_CANCELLED = "**{name}** är redan avslutad."
    NO_DEADLINE = "Jag hittar ingen deadline som heter ”{name}”."
    LIST_MINE = "Dina deadlines"
    LIST_GROUP = "Deadlines för {group}"
    LIST_ALL = "Alla öppna deadlines"
    LIST_EMPTY = "Det finns inga öppna deadlines här. "
    LIST_HINT = "Flytta med ”flytta deadline NAMN till DATUM”, ta bort med ”ta bort deadline NAMN”."
    ALL_ONLY_COORDINATORS = "Alla deadlines kan bara samordnare se. Skriv ”mina deadlines”."
    GROUP_ONLY_MEMBERS = "Deadlines för {group} kan bara gruppens medlemmar och samordnare se."
    STATUS_TITLE = "Status: {name}"
    NOTHING_NUDGED = (
        "Jag har inte påmint dig om någon deadline som väntar på ditt svar här. "
        "Tryck **Klar** på påminnelsen, eller skriv ”klar med NAMN”."
    )
    WHICH = "Vilken deadline är du klar med?"
    WHICH_TEXT = "Skriv till exempel ”klar med {first}”. Öppna: {names}."
    DEADLINE_DONE = "Tack! Jag har noterat att du är klar med **{name}**."
    DEADLINE_ALREADY = "Du var redan markerad som klar med **{name}**."
    NOT_IN_DEADLINE = "Du är inte med i deadlinen **{name}**."
    GONE = "Den påminnelsen finns inte längre."
    UNKNOWN_BUTTON = "Den knappen känner jag inte igen. Skriv ”mina deadlines” för att se dina."


@dataclass(frozen=True)
class _Day:
    day: date
    due_at: datetime | None  # a time on the day, when one was given


class Deadlines:
    name = "deadlines"
    help: Sequence[HelpEntry] = (Texts.HELP_DEADLINE, Texts.HELP_LIST)

    def __init__(
        self,
        deadlines: DeadlineRepository,
        nudges: NudgeService,
        groups: GroupRepository,
        clock: Clock,
        *,
        schedule: Sequence[int] = DEFAULT_DEADLINE_SCHEDULE,
        hour: int = DEADLINE_NUDGE_HOUR,
        tally: Tally | None = None,
    ) -> None:
        self._deadlines = deadlines
        self._tally = tally  # deadlines a conversation registers per day (issue 14.7)
        self._nudges = nudges
        self._groups = groups
        self._clock = clock
        self._schedule = tuple(schedule)
        self._hour = hour

    def dialogs(self) -> Sequence[Dialog]:
        return ()

    # --- handlers (reached through dialogs/routes.py) -----------------------------------------
    async def register(self, turn: Turn, reading: Reading) -> None:
        """ "deadline X 30 januari för gruppen G", "G ska lämna in X senast fredag",
        "sista dag för X är 15 mars", "deadline for X is Friday"."""
        slots = reading.slots
        body = slots.get("body") or " ".join(
            part for part in (slots.get("name"), slots.get("when")) if part
        )
        if not body:
            await turn.reply(self._howto())
            return
        await self._register(turn, body, slots.get("group"), slots.get("days"))

    async def howto(self, turn: Turn, reading: Reading) -> None:
        await turn.reply(self._howto())

    async def status(self, turn: Turn, reading: Reading) -> None:
        name = reading.slots.get("name") or reading.topic
        if not await self._status(turn, name):
            await turn.reply(Texts.NO_DEADLINE.format(name=name))

    async def done(self, turn: Turn, reading: Reading) -> None:
        await self._done(turn, reading.slots.get("name"))

    async def listing(self, turn: Turn, reading: Reading) -> None:
        await self._list(turn, reading.slots.get("scope", ""), reading.slots.get("group"))

    async def move(self, turn: Turn, reading: Reading) -> None:
        deadline = await self._managed(turn, reading.slots.get("name", ""))
        if deadline is None:
            return
        when = await self._read_day(turn, reading.slots.get("when", ""))
        if when is not None:
            await self._move(turn, deadline, when)

    async def cancel(self, turn: Turn, reading: Reading) -> None:
        deadline = await self._managed(turn, reading.slots.get("name", ""))
        if deadline is None:
            return
        who = turn.user.name or Texts.SOMEONE
        notice = Texts.CANCEL_NOTICE.format(
            name=deadline.name, group=deadline.group_name, when=when_text(deadline), who=who
        )
        now = self._clock.now()
        view = await asyncio.to_thread(self._deadlines.cancel, deadline.id, notice, now)
        if view is None:
            await turn.reply(Texts.ALREADY_CANCELLED.format(name=deadline.name))
            return
        self._nudges.wake_at(now, job_id="nudges:next")
        count = len(view.done) + len(view.not_done)
        await turn.reply(
            Texts.CANCELLED.format(name=view.name, group=view.group_name, count=_people(count))
        )

    async def answer_move(self, turn: Turn, reading: Reading) -> None:
        """ "ja"/"nej" to "Vill du flytta den till ...?"."""
        pending = turn.memory.pending
        turn.forget_question()
        proposal = _proposal(pending)
        if proposal is None:
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        deadline_id, when = proposal
        await self._decide(turn, deadline_id, when if reading.yes_no else None)

    # Card data comes back from the client as written: ids and dates are checked, and the
    # presser must be a member (Klar) or may manage the group (move, keep).
    async def on_done(self, turn: Turn, reading: Reading) -> None:
        data = turn.value or {}
        deadline_id = card_id(data.get("deadline"))
        deadline = None
        if deadline_id is not None:
            deadline = await asyncio.to_thread(self._deadlines.get, deadline_id)
        if deadline is None or not deadline.has_member(turn.user.id, turn.user.aad_object_id):
            # Not "you are not in X": a stranger learns nothing, not even the name.
            await turn.reply(Texts.GONE if deadline_id else Texts.UNKNOWN_BUTTON)
        else:
            await self._mark_done(turn, deadline)

    async def on_move(self, turn: Turn, reading: Reading) -> None:
        data = turn.value or {}
        deadline_id = card_id(data.get("deadline"))
        when = self._card_day(data.get("day"), data.get("at"))
        if deadline_id is None or when is None:
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        turn.forget_question()
        await self._decide(turn, deadline_id, when)

    async def on_keep(self, turn: Turn, reading: Reading) -> None:
        deadline_id = card_id((turn.value or {}).get("deadline"))
        if deadline_id is None:
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        turn.forget_question()
        await self._decide(turn, deadline_id, None)

    # --- registering --------------------------------------------------------------------------
    def _howto(self) -> str:
        ahead = local_day(self._clock.now()) + timedelta(days=30)
        example = f"{ahead.day} {MONTHS[ahead.month - 1]} {ahead.year}"
        return Texts.HOWTO.format(example=example)

    async def _group_named(self, turn: Turn, who: str | None) -> Group | None:
        if not who:
            # no group named: the group whose chat this is, if there is exactly one
            groups = await asyncio.to_thread(self._groups.all, turn.tenant_id)
            here = [g for g in groups if g.conversation_id == turn.conversation_id]
            if len(here) == 1:
                return here[0]
            await turn.reply(Texts.WHICH_GROUP + self._howto())
            return None
        group, names = await group_named(self._groups, who, turn.tenant_id)
        if group is None:
            reply = Texts.NO_GROUP.format(name=stripped_group_name(who))
            if names:
                reply += " " + Texts.GROUPS_OFFERED.format(names=", ".join(names))
            await turn.reply(reply + " " + self._howto())
        return group

    async def _read_day(self, turn: Turn, text: str) -> _Day | None:
        """The deadline's day, and its time if one was written; None (answered) otherwise.

        Read from the start of today, so "idag" is today even after the morning's default
        hour; a time written for today must still be ahead.
        """
        now = self._clock.now()
        try:
            parsed = parse(text, at_hour(local_day(now), 0))
        except WhenError as error:
            await turn.reply(f"{error} {self._howto()}")
            return None
        if parsed is None or isinstance(parsed.value, Recurrence):
            await turn.reply(Texts.NO_DATE + self._howto())
            return None
        value = parsed.value
        moment = value.start if isinstance(value, Span) else value.at
        all_day = bool(getattr(value, "all_day", False))
        if not all_day and moment <= now:
            await turn.reply(Texts.PAST.format(when=format_when(moment)))
            return None
        return _Day(local_day(moment), None if all_day else moment)

    def _card_day(self, day_value: Any, at_value: Any) -> _Day | None:
        day_text, at_text = card_text(day_value, max_length=10), card_text(at_value, max_length=40)
        if day_text is None:
            return None
        try:
            day = date.fromisoformat(day_text)
            at = datetime.fromisoformat(at_text) if at_text else None
        except ValueError:
            return None
        now = self._clock.now()
        if not local_day(now) <= day <= local_day(now + LATEST):
            return None
        if at is not None and (at.tzinfo is None or local_day(at) != day or at <= now):
            return None
        return _Day(day, at)

    async def _register(
        self, turn: Turn, body: str, group_name: str | None, days: str | None
    ) -> None:
        group = await self._group_named(turn, group_name)
        if group is None:
            return
        if not may_manage(turn, group):
            await turn.reply(Texts.ONLY_MANAGERS)
            return
        when = await self._read_day(turn, body)
        if when is None:
            return
        parsed = parse(body, at_hour(local_day(self._clock.now()), 0))
        rest = parsed.rest if parsed else body
        name = re.sub(
            r"^(?:för|om|den|senast|by|for)\s+|\s+(?:senast|den|by)$", "", rest, flags=re.I
        )
        name = name.strip(" ,:") or body
        existing = await asyncio.to_thread(self._deadlines.open_named, name, group.id)
        if existing is not None:
            await self._ask_move(turn, existing, when)
            return
        schedule = self._schedule
        if days:
            schedule = tuple(sorted({int(d) for d in re.findall(r"\d+", days)} | {0}, reverse=True))
        now = self._clock.now()
        if self._tally is not None and not await asyncio.to_thread(
            self._tally.take,
            "deadline",
            turn.conversation_id,
            DEADLINES_PER_CONVERSATION,
            CONVERSATION_WINDOW,
            now,
        ):
            await turn.reply(Texts.TOO_MANY_HERE.format(limit=DEADLINES_PER_CONVERSATION))
            return
        owner = turn.user.person
        members = list(group.members)
        view = await asyncio.to_thread(
            lambda: self._deadlines.add(
                name=name,
                day=when.day,
                tenant_id=turn.tenant_id,
                group_id=group.id,
                group_name=group.name,
                owner=owner,
                conversation_id=turn.conversation_id,
                members=members,
                schedule=schedule,
                hour=self._hour,
                now=now,
                due_at=when.due_at,
            )
        )
        self._nudges.wake_at(now, job_id="nudges:next")
        await turn.reply(self._confirmation(view, len(members), now))

    def _confirmation(self, view: DeadlineView, count: int, now: datetime) -> str:
        text = Texts.SET.format(
            name=view.name,
            when=when_text(view),
            group=view.group_name,
            count=_people(count),
            owner=view.owner.name or view.owner.user_id,
        )
        text += Texts.NUDGES.format(nudges=_nudge_list(view.nudges, now)) if view.nudges else ""
        text += "" if view.nudges else Texts.NO_NUDGES
        if view.summary_at is None:
            return text
        return text + Texts.SUMMARY.format(summary=format_when(view.summary_at), name=view.name)

    async def _ask_move(self, turn: Turn, existing: DeadlineView, when: _Day) -> None:
        new = format_when(when.due_at) if when.due_at else format_date(when.day)
        if existing.day == when.day and existing.due_at == when.due_at:
            await turn.reply(
                Texts.SAME.format(name=existing.name, group=existing.group_name, when=new)
            )
            return
        question = Texts.EXISTS.format(
            name=existing.name, group=existing.group_name, old=when_text(existing), new=new
        )
        at = when.due_at.isoformat() if when.due_at else ""
        turn.ask(ASKED_MOVE, f"{existing.id} {when.day.isoformat()} {at}".strip())
        buttons = [
            submit(Texts.YES_MOVE, MOVE, deadline=existing.id, day=when.day.isoformat(), at=at),
            submit(Texts.NO_KEEP, KEEP, deadline=existing.id),
        ]
        await turn.reply_card(card(existing.name, [question], buttons), question)

    async def _decide(self, turn: Turn, deadline_id: int, when: _Day | None) -> None:
        """Moves the deadline to `when`, or (None) keeps it; only for those who may manage it."""
        deadline = await asyncio.to_thread(self._deadlines.get, deadline_id)
        if deadline is None or not await self._may_manage(turn, deadline):
            await turn.reply(Texts.GONE)
            return
        if when is None:
            await turn.reply(Texts.KEPT.format(name=deadline.name, when=when_text(deadline)))
            return
        await self._move(turn, deadline, when)

    # --- managing -----------------------------------------------------------------------------
    async def _may_manage(self, turn: Turn, deadline: DeadlineView) -> bool:
        group = None
        if deadline.group_id is not None:
            group = await asyncio.to_thread(self._groups.get, deadline.group_id)
        return may_manage(turn, group, planned_by=deadline.owner.user_id)

    async def _may_see(self, turn: Turn, deadline: DeadlineView) -> bool:
        return deadline.has_member(turn.user.id, turn.user.aad_object_id) or await self._may_manage(
            turn, deadline
        )

    async def _managed(self, turn: Turn, name: str) -> DeadlineView | None:
        """The open deadline `name` if this person may change it; otherwise answered.

        "enkäten för gruppen Civilsamhälle" names the group when several have an "enkäten".
        """
        group_id = None
        named = _FOR_GROUP.match(name)
        if named:
            group = await self._group_named(turn, named["group"])
            if group is None:
                return None
            name, group_id = named["name"], group.id
        deadline = await asyncio.to_thread(
            lambda: self._deadlines.find(name, turn.tenant_id, group_id=group_id)
        )
        if deadline is None or not await self._may_see(turn, deadline):
            await turn.reply(Texts.NO_DEADLINE.format(name=name))
            return None
        if not await self._may_manage(turn, deadline):
            await turn.reply(Texts.ONLY_MANAGERS_CHANGE)
            return None
        if not deadline.is_open:
            await turn.reply(Texts.NOT_OPEN.format(name=deadline.name))
            return None
        return deadline

    async def _move(self, turn: Turn, deadline: DeadlineView, when: _Day) -> None:
        now = self._clock.now()
        try:
            view = await asyncio.to_thread(
                self._deadlines.move, deadline.id, when.day, when.due_at, now
            )
        except DeadlineClosed:
            await turn.reply(Texts.NOT_OPEN.format(name=deadline.name))
            return
        self._nudges.wake_at(now, job_id="nudges:next")
        text = Texts.MOVED.format(name=view.name, group=view.group_name, when=when_text(view))
        text += Texts.NUDGES.format(nudges=_nudge_list(view.nudges, now)) if view.nudges else ""
        text += "" if view.nudges else Texts.NO_NUDGES
        if view.done:
            text += Texts.DONE_KEPT.format(count=len(view.done))
        await turn.reply(text)

    async def _list(self, turn: Turn, scope: str, group_name: str | None) -> None:
        me = turn.user.person
        if group_name:
            group = await self._group_named(turn, group_name)
            if group is None:
                return
            if not (
                may_manage(turn, group) or group.has_member(turn.user.id, turn.user.aad_object_id)
            ):
                await turn.reply(Texts.GROUP_ONLY_MEMBERS.format(group=group.name))
                return
            title = Texts.LIST_GROUP.format(group=group.name)
            found = await asyncio.to_thread(
                lambda: self._deadlines.listing(turn.tenant_id, group_id=group.id)
            )
        elif scope.lower() in ("alla", "all"):
            if not turn.is_coordinator:
                await turn.reply(Texts.ALL_ONLY_COORDINATORS)
                return
            title = Texts.LIST_ALL
            found = await asyncio.to_thread(self._deadlines.listing, turn.tenant_id)
        else:
            title = Texts.LIST_MINE
            found = await asyncio.to_thread(
                lambda: self._deadlines.listing(turn.tenant_id, person=me)
            )
        if not found:
            await turn.reply(Texts.LIST_EMPTY + self._howto())
            return
        rows = [f"• {row(d)}" for d in found]
        lines = [*rows, Texts.LIST_HINT]
        await turn.reply_card(card(title, lines, []), "\n".join([f"**{title}**", *lines]))

    # --- status and "klar" --------------------------------------------------------------------
    async def _status(self, turn: Turn, name: str) -> bool:
        deadline = await asyncio.to_thread(self._deadlines.find, name, turn.tenant_id)
        if deadline is None or not (turn.is_coordinator or await self._may_see(turn, deadline)):
            # "status ..." may mean a poll; someone else's deadline is as good as none
            return False
        title = Texts.STATUS_TITLE.format(name=deadline.name)
        lines = status_lines(deadline, self._clock.now())
        await turn.reply_card(card(title, lines, []), "\n".join([f"**{title}**", *lines]))
        return True

    async def _done(self, turn: Turn, name: str | None) -> None:
        """ "klar": the deadline named, or the one the message replies to, or the one (of those
        the person was nudged about) still open; never another chat's or one not nudged about."""
        if name:
            # among the person's own deadlines: another group's of the same name is not theirs
            deadline = await asyncio.to_thread(
                lambda: self._deadlines.find(name, turn.tenant_id, member=turn.user.id)
            )
            if deadline is None:
                await turn.reply(Texts.NO_DEADLINE.format(name=name))
                return
            await self._mark_done(turn, deadline)
            return
        replied_to = turn.activity.reply_to_id
        if replied_to:
            deadline = await asyncio.to_thread(self._deadlines.nudged_by, replied_to, turn.user.id)
            if deadline is not None:
                await self._mark_done(turn, deadline)
                return
        if not turn.is_personal:
            # nudges go to personal chats: a plain "klar" here is about something else
            await turn.reply(Texts.NOTHING_NUDGED)
            return
        today = local_day(self._clock.now())
        open_ones = await asyncio.to_thread(
            lambda: self._deadlines.nudged(turn.user.id, today=today)
        )
        if not open_ones:
            await turn.reply(Texts.NOTHING_NUDGED)
            return
        if len(open_ones) == 1:
            await self._mark_done(turn, open_ones[0])
            return
        buttons = [submit(d.name, DONE, deadline=d.id) for d in open_ones]
        text = Texts.WHICH_TEXT.format(
            first=open_ones[0].name, names=", ".join(d.name for d in open_ones)
        )
        await turn.reply_card(card(Texts.WHICH, [], buttons), f"{Texts.WHICH} {text}")

    async def _mark_done(self, turn: Turn, deadline: DeadlineView) -> None:
        if not deadline.has_member(turn.user.id, turn.user.aad_object_id):
            await turn.reply(Texts.NOT_IN_DEADLINE.format(name=deadline.name))
            return
        changed = await asyncio.to_thread(
            self._deadlines.mark_done, deadline.id, turn.user.id, self._clock.now()
        )
        template = Texts.DEADLINE_DONE if changed else Texts.DEADLINE_ALREADY
        await turn.reply(template.format(name=deadline.name))


def _proposal(pending: str) -> tuple[int, _Day] | None:
    """The bot's own question, as it remembered it: "<deadline id> <day> [<time>]"."""
    parts = pending.split()
    try:
        deadline_id = int(parts[0])
        day = date.fromisoformat(parts[1])
        at = datetime.fromisoformat(parts[2]) if len(parts) > 2 else None
    except (IndexError, ValueError):
        return None
    return deadline_id, _Day(day, at)


def _people(n: int) -> str:
    return (Texts.PERSON if n == 1 else Texts.PEOPLE).format(n=n)


def _nudge_list(nudges: Sequence[datetime], now: datetime) -> str:
    parts = [Texts.NOW if at <= now else format_when(at) for at in nudges]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + Texts.AND + parts[-1]
