"""Deadlines for a working group (issue 17): registering, status, "klar"."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from botbuilder.dialogs import Dialog

from dialogs.access import group_named, may_manage, stripped_group_name
from dialogs.reading import Reading
from dialogs.reminder_cards import DEADLINE_DONE, summary_lines
from dialogs.turn import HelpEntry, Turn
from dialogs.values import card_id
from scheduler.clock import Clock
from scheduler.nudges import NudgeService
from scheduler.swedish import format_date
from scheduler.timing import DEADLINE_NUDGE_HOUR, local_day
from scheduler.when import Recurrence, Span, WhenError, parse
from storage.deadlines import DeadlineRepository, DeadlineView
from storage.groups import Group, GroupRepository
from storage.reminders import Person

logger = logging.getLogger(__name__)

DEFAULT_DEADLINE_SCHEDULE = (14, 3, 1, 0)


class Texts:
    HELP_DEADLINE = HelpEntry(
        "Deadline för en arbetsgrupp",
        "deadline delredovisning 30 september för gruppen RSS Dalarna",
    )
    DEADLINE_HOWTO = (
        "Skriv till exempel ”deadline delredovisning 30 september 2026 för gruppen RSS Dalarna”."
    )
    DEADLINE_NO_DATE = "Jag hittade inget datum för deadlinen. " + DEADLINE_HOWTO
    DEADLINE_ONLY_COORDINATORS = (
        "Bara samordnare och den som skapade gruppen kan lägga in deadlines."
    )
    DEADLINE_SET = (
        "Deadline **{name}** {day} för **{group}** ({count}). Jag påminner var och en "
        "{schedule} kl. {hour:02d}.00, tills de svarar **Klar**, och skickar en sammanfattning "
        "till dig morgonen efter. Skriv ”status {name}” när du vill se läget."
    )
    SCHEDULE_DAY = {0: "samma dag", 1: "1 dag före"}
    SCHEDULE_DAYS = "{days} dagar före"
    AND = " och "
    PERSON = "{n} person"
    PEOPLE = "{n} personer"
    NO_GROUP = "Jag hittar ingen arbetsgrupp som heter ”{name}”."
    GROUPS_OFFERED = "Menade du: {names}?"
    NO_AUDIENCE = "Vem ska jag påminna? Skriv ”mig”, ”oss” eller ”gruppen Namn”."
    NO_DEADLINE = "Jag hittar ingen deadline som heter ”{name}”."
    STATUS_TITLE = "Status: {name}"
    NOTHING_OPEN = "Det finns ingen deadline som väntar på att du ska bli klar."
    WHICH_DEADLINE = (
        "Vilken deadline är du klar med? Skriv till exempel ”klar {first}”. Öppna: {names}."
    )
    DEADLINE_DONE = "Tack! Jag har noterat att du är klar med **{name}**."
    DEADLINE_ALREADY = "Du var redan markerad som klar med **{name}**."
    NOT_IN_DEADLINE = "Du är inte med i deadlinen **{name}**."
    GONE = "Den påminnelsen finns inte längre."
    UNKNOWN_BUTTON = "Den knappen känner jag inte igen. Skriv ”mina påminnelser” för att se dina."


class Deadlines:
    name = "deadlines"
    help: Sequence[HelpEntry] = (Texts.HELP_DEADLINE,)

    def __init__(
        self,
        deadlines: DeadlineRepository,
        nudges: NudgeService,
        groups: GroupRepository,
        clock: Clock,
        *,
        schedule: Sequence[int] = DEFAULT_DEADLINE_SCHEDULE,
        hour: int = DEADLINE_NUDGE_HOUR,
    ) -> None:
        self._deadlines = deadlines
        self._nudges = nudges
        self._groups = groups
        self._clock = clock
        self._schedule = tuple(schedule)
        self._hour = hour

    def dialogs(self) -> Sequence[Dialog]:
        return ()

    # --- handlers (reached through dialogs/routes.py) -----------------------------------------
    async def register(self, turn: Turn, reading: Reading) -> None:
        slots = reading.slots
        if "body" not in slots or "group" not in slots:
            await turn.reply(Texts.DEADLINE_HOWTO)
            return
        await self._register(turn, slots["body"], slots["group"], slots.get("days"))

    async def howto(self, turn: Turn, reading: Reading) -> None:
        await turn.reply(Texts.DEADLINE_HOWTO)

    async def status(self, turn: Turn, reading: Reading) -> None:
        name = reading.slots.get("name") or reading.topic
        if not await self._status(turn, name):
            await turn.reply(Texts.NO_DEADLINE.format(name=name))

    async def done(self, turn: Turn, reading: Reading) -> None:
        await self._done(turn, reading.slots.get("name"))

    # Card data comes back from the client as written: the id is checked, and the presser must
    # be a member of the deadline.
    async def on_done(self, turn: Turn, reading: Reading) -> None:
        data = turn.value or {}
        deadline_id = card_id(data.get("deadline"))
        deadline = (
            await asyncio.to_thread(self._deadlines.get, deadline_id) if deadline_id else None
        )
        if deadline is None or not _is_in(deadline, turn):
            # Not "you are not in X": a stranger learns nothing, not even the name.
            await turn.reply(Texts.GONE if deadline_id else Texts.UNKNOWN_BUTTON)
        else:
            await self._mark_done(turn, deadline)

    # --- registering --------------------------------------------------------------------------
    async def _group_named(self, turn: Turn, who: str) -> Group | None:
        group, names = await group_named(self._groups, who, turn.tenant_id)
        if group is None:
            reply = Texts.NO_GROUP.format(name=stripped_group_name(who))
            if names:
                reply += " " + Texts.GROUPS_OFFERED.format(names=", ".join(names))
            await turn.reply(reply + " " + Texts.NO_AUDIENCE)
        return group

    async def _register(self, turn: Turn, body: str, group_name: str, days: str | None) -> None:
        group = await self._group_named(turn, group_name)
        if group is None:
            return
        if not may_manage(turn, group):
            await turn.reply(Texts.DEADLINE_ONLY_COORDINATORS)
            return
        try:
            parsed = parse(body, self._clock.now())
        except WhenError as error:
            await turn.reply(f"{error} {Texts.DEADLINE_HOWTO}")
            return
        if parsed is None or isinstance(parsed.value, Recurrence):
            await turn.reply(Texts.DEADLINE_NO_DATE)
            return
        value = parsed.value
        moment = value.start if isinstance(value, Span) else value.at
        day = local_day(moment)
        name = re.sub(r"^(?:för|om|den|senast)\s+|\s+(?:senast|den)$", "", parsed.rest, flags=re.I)
        name = name.strip(" ,:") or body
        schedule = self._schedule
        if days:
            schedule = tuple(sorted({int(d) for d in re.findall(r"\d+", days)} | {0}, reverse=True))
        owner = Person(turn.user.id, turn.user.name, turn.user.aad_object_id)
        members = [Person(m.user_id, m.name, m.aad_object_id) for m in group.members]
        view = await asyncio.to_thread(
            lambda: self._deadlines.add(
                name=name,
                day=day,
                tenant_id=turn.tenant_id,
                group_id=group.id,
                group_name=group.name,
                owner=owner,
                conversation_id=turn.conversation_id,
                members=members,
                schedule=schedule,
                hour=self._hour,
                now=self._clock.now(),
            )
        )
        self._nudges.wake_at(self._clock.now(), job_id="nudges:next")
        await turn.reply(
            Texts.DEADLINE_SET.format(
                name=view.name,
                day=format_date(view.day),
                group=group.name,
                count=_people(len(members)),
                schedule=_schedule_text(schedule),
                hour=self._hour,
            )
        )

    # --- status and "klar" --------------------------------------------------------------------
    async def _status(self, turn: Turn, name: str) -> bool:
        deadline = await asyncio.to_thread(self._deadlines.find, name, turn.tenant_id)
        if deadline is None or not (
            turn.is_coordinator or deadline.owner.user_id == turn.user.id or _is_in(deadline, turn)
        ):
            # "status ..." may mean a poll; someone else's deadline is as good as none
            return False
        title = Texts.STATUS_TITLE.format(name=deadline.name)
        lines = summary_lines(deadline)
        body = [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            *({"type": "TextBlock", "text": line, "wrap": True} for line in lines),
        ]
        await turn.reply_card(_card(body), "\n".join([f"**{title}**", *lines]))
        return True

    async def _done(self, turn: Turn, name: str | None) -> None:
        today = local_day(self._clock.now())
        if name:
            deadline = await asyncio.to_thread(self._deadlines.find, name, turn.tenant_id)
            if deadline is None:
                await turn.reply(Texts.NO_DEADLINE.format(name=name))
                return
            await self._mark_done(turn, deadline)
            return
        open_ones = await asyncio.to_thread(self._deadlines.open_for, turn.user.id, today)
        if not open_ones:
            await turn.reply(Texts.NOTHING_OPEN)
            return
        if len(open_ones) > 1:
            names = ", ".join(d.name for d in open_ones)
            await turn.reply(Texts.WHICH_DEADLINE.format(first=open_ones[0].name, names=names))
            return
        await self._mark_done(turn, open_ones[0])

    async def _mark_done(self, turn: Turn, deadline: DeadlineView) -> None:
        if not any(p.user_id == turn.user.id for p in (*deadline.done, *deadline.not_done)):
            await turn.reply(Texts.NOT_IN_DEADLINE.format(name=deadline.name))
            return
        changed = await asyncio.to_thread(
            self._deadlines.mark_done, deadline.id, turn.user.id, self._clock.now()
        )
        template = Texts.DEADLINE_DONE if changed else Texts.DEADLINE_ALREADY
        await turn.reply(template.format(name=deadline.name))


# The card action stays "reminders.deadline_done": cards already sent carry it.
DONE = DEADLINE_DONE


def _is_in(deadline: DeadlineView, turn: Turn) -> bool:
    """A member of the deadline (done or not), by Teams user id or AAD object id."""
    aad = turn.user.aad_object_id
    return any(
        p.user_id == turn.user.id or (aad and p.aad_object_id == aad)
        for p in (*deadline.done, *deadline.not_done)
    )


def _people(n: int) -> str:
    return (Texts.PERSON if n == 1 else Texts.PEOPLE).format(n=n)


def _schedule_text(schedule: Sequence[int]) -> str:
    parts = [
        Texts.SCHEDULE_DAY.get(d) or Texts.SCHEDULE_DAYS.format(days=d)
        for d in sorted(schedule, reverse=True)
    ]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + Texts.AND + parts[-1]


def _card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
