"""Reminders and topic watches in Swedish (issue 7): setting, listing, snoozing.

Deadlines are dialogs/deadlines.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from botbuilder.dialogs import Dialog
from rapidfuzz import fuzz

from dialogs import reminder_cards
from dialogs.access import group_named, may_manage, stripped_group_name
from dialogs.buttons import button
from dialogs.limits import (
    CONVERSATION_WINDOW,
    LIST_PAGE,
    REMINDERS_PER_CONVERSATION,
    REMINDERS_PER_MEMBER,
    ROW_CHARS,
)
from dialogs.reading import Reading, reminder_parts
from dialogs.reminder_cards import (
    DELETE,
    DONE,
    MUTE,
    SNOOZE,
    STOP,
    TOMORROW,
    day_off_name,
)
from dialogs.reminder_texts import Texts
from dialogs.turn import HelpEntry, Turn
from dialogs.values import card_id, card_int, card_text
from scheduler.clock import Clock
from scheduler.nudges import NudgeService
from scheduler.swedish import format_date, format_when
from scheduler.timing import (
    is_day_off,
    local_day,
    next_occurrence,
    snooze_until,
    working_day_after,
    working_day_before,
)
from scheduler.when import Recurrence, Span, WhenError, parse
from storage.groups import Group, GroupRepository, name_key
from storage.inputs import column_limit
from storage.reminders import (
    CONVERSATION,
    EARLIER,
    GROUP,
    KEEP,
    LATER,
    PERSON,
    SKIP,
    NewReminder,
    NotYours,
    ReminderView,
    TopicWatch,
)
from storage.tally import Tally

logger = logging.getLogger(__name__)

WATCH_TOPIC_CHARS = column_limit(TopicWatch, "topic")
MORE = "reminders.more"  # "Visa fler" under a page of "mina påminnelser"

# How closely "tysta påminnelsen om X" must name a reminder's words or group (rapidfuzz, 0-100).
MUTE_MATCH = 80
# A snooze button may ask for five minutes to a week; our cards send 60.
MIN_SNOOZE, MAX_SNOOZE = 5, 7 * 24 * 60


_CHOICES = re.compile(r"kl\. (\d\d\.\d\d)")


def _settle_clock(text: str, choices: Sequence[str], chosen: str) -> str:
    """The message with its ambiguous clock ("kl 3") replaced by the one chosen ("kl 15.00")."""
    night = choices[0]
    hour, minute = int(night[:2]), night[3:]
    pattern = re.compile(
        rf"\b(?:(?:kl(?:ockan)?\.?|at)\s*)?0?{hour}(?:[.:]{minute})?(?:\s*(?:am|pm))?\b", re.I
    )
    replaced, count = pattern.subn(f"kl {chosen}", text, count=1)
    return replaced if count else f"{text} kl {chosen}"


class RemindMe:
    name = "reminders"
    help: Sequence[HelpEntry] = (
        Texts.HELP_REMIND,
        Texts.HELP_LIST,
        Texts.HELP_WATCH,
        Texts.HELP_GROUP,
        Texts.HELP_MUTE,
    )

    def __init__(
        self,
        nudges: NudgeService,
        groups: GroupRepository,
        clock: Clock,
        *,
        tally: Tally | None = None,
    ) -> None:
        self._tally = tally
        self._nudges = nudges
        self._reminders = nudges.reminders
        self._groups = groups
        self._clock = clock

    def dialogs(self) -> Sequence[Dialog]:
        return ()

    # --- handlers (reached through dialogs/routes.py) -----------------------------------------
    async def remind(self, turn: Turn, reading: Reading) -> None:
        """set_reminder: "påminn mig imorgon kl 9 om att ...", "remind me on Friday at 3pm to"."""
        if reading.when_error:
            choices = _CHOICES.findall(reading.when_error)
            if len(choices) == 2:
                turn.ask("clock", reading.text, choices)  # "eftermiddag" is then an answer
            await turn.reply(bad_time(reading.when_error))
            return
        who, what = reading.slots.get("who"), reading.slots.get("what")
        if reading.when is None:
            if who and what:
                turn.ask("time", reading.text)
                await turn.reply(Texts.ASK_WHEN.format(what=what))
            else:
                await turn.reply(Texts.NO_TIME)
            return
        if not who:
            await turn.reply(Texts.NO_AUDIENCE)
            return
        if not what:
            turn.ask("what", reading.text)
            await turn.reply(Texts.ASK_WHAT)
            return
        await self._set(turn, reading.when, who, what)

    async def answer(self, turn: Turn, reading: Reading) -> None:
        """An answer to the bot's question about a reminder: a time, "eftermiddag", a subject."""
        pending = turn.memory.pending
        turn.forget_question()
        if reading.verb == "clock":
            text = _settle_clock(pending, turn.memory.choices, reading.slots["clock"])
        elif reading.verb == "time":
            text = f"{pending} {reading.text}"
        else:
            text = pending
        try:
            parsed = parse(text, self._clock.now())
        except WhenError as error:
            await turn.reply(bad_time(error))
            return
        if parsed is None:
            await turn.reply(Texts.NO_TIME)
            return
        parts = reminder_parts(text, parsed)
        what = reading.slots.get("what") if reading.verb == "what" else parts.get("what")
        who = parts.get("who")
        if not who or not what:
            await turn.reply(Texts.NO_WHAT if who else Texts.NO_AUDIENCE)
            return
        await self._set(turn, parsed, who, what)

    async def move(self, turn: Turn, reading: Reading) -> None:
        await self._move_number(turn, int(reading.slots["n"]), reading.slots["when"])

    async def list(self, turn: Turn, reading: Reading) -> None:
        await self._list(turn)

    async def delete(self, turn: Turn, reading: Reading) -> None:
        n = reading.slots.get("n")
        number = int(n) if n else reading.number
        if number is None:
            await self._list(turn)
            return
        await self._delete_number(turn, number)

    async def watch(self, turn: Turn, reading: Reading) -> None:
        topic = reading.slots.get("topic") or reading.topic
        await self._watch(turn, topic)

    async def watches(self, turn: Turn, reading: Reading) -> None:
        await self._watches(turn)

    async def unwatch(self, turn: Turn, reading: Reading) -> None:
        await self._unwatch(turn, reading.slots.get("topic") or reading.topic)

    async def list_group(self, turn: Turn, reading: Reading) -> None:
        """ "påminnelser för gruppen X": every reminder of the group, for its managers."""
        slots = reading.slots
        name = slots.get("group") or slots.get("owner") or ""
        group = await self._group_named(turn, name, then="")
        if group is None:
            return
        if not may_manage(turn, group):
            await turn.reply(Texts.GROUP_LIST_ONLY_MANAGERS)
            return
        items = await asyncio.to_thread(self._reminders.of_group, group.id)
        if not items:
            await turn.reply(Texts.GROUP_LIST_EMPTY.format(group=group.name))
            return
        items = items[:LIST_PAGE]
        rows = [_group_row(n, item) for n, item in enumerate(items, start=1)]
        title = Texts.GROUP_LIST_TITLE.format(group=group.name)
        card = _rows_card(
            title,
            [
                (row, button(Texts.STOP_BUTTON, STOP, reminder=item.id))
                for row, item in zip(rows, items, strict=True)
            ],
            Texts.GROUP_LIST_HINT,
        )
        await turn.reply_card(card, "\n".join([f"**{title}**", *rows, Texts.GROUP_LIST_HINT]))

    async def mute(self, turn: Turn, reading: Reading) -> None:
        """ "tysta påminnelsen om mötet": a member opts out of a group's recurring reminder."""
        what = (reading.slots.get("what") or reading.slots.get("what2") or "").strip(" ?.!")
        received = await asyncio.to_thread(
            self._reminders.received_by, turn.user.id, turn.user.aad_object_id
        )
        if not received:
            await turn.reply(Texts.MUTE_NONE_AT_ALL)
            return
        found = _matching(received, what) if what else received
        if not found:
            await turn.reply(Texts.MUTE_NONE.format(what=what))
            return
        if len(found) == 1:
            await self._mute(turn, found[0])
            return
        found = found[:LIST_PAGE]
        rows = [
            Texts.MUTE_ROW.format(
                n=n,
                description=item.rrule_description or "",
                text=_short(item.text),
                group=item.group_name or "",
            )
            for n, item in enumerate(found, start=1)
        ]
        card = _rows_card(
            Texts.MUTE_WHICH_TITLE,
            [
                (row, button(Texts.MUTE_BUTTON, MUTE, reminder=item.id))
                for row, item in zip(rows, found, strict=True)
            ],
            "",
        )
        await turn.reply_card(card, "\n".join([f"**{Texts.MUTE_WHICH_TITLE}**", *rows]))

    async def on_mute(self, turn: Turn, reading: Reading) -> None:
        reminder_id = card_id((turn.value or {}).get("reminder"))
        if reminder_id is None:
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        reminder = await asyncio.to_thread(self._reminders.get, reminder_id)
        group = await self._group_of(reminder)
        if (
            reminder is None
            or group is None
            or reminder.cancelled
            or not group.has_member(turn.user.id, turn.user.aad_object_id)
        ):
            await turn.reply(Texts.NOT_YOURS)
            return
        await self._mute(turn, reminder)

    async def _mute(self, turn: Turn, reminder: ReminderView) -> None:
        me = turn.user.person
        first = await asyncio.to_thread(self._reminders.mute, reminder.id, me, self._clock.now())
        template = Texts.MUTED if first else Texts.ALREADY_MUTED
        await turn.reply(template.format(text=reminder.text, group=reminder.group_name or ""))

    async def _group_of(self, reminder: ReminderView | None) -> Group | None:
        if reminder is None or reminder.group_id is None or reminder.audience != GROUP:
            return None
        return await asyncio.to_thread(self._groups.get, reminder.group_id)

    async def on_day_off(self, turn: Turn, reading: Reading) -> None:
        """The organiser's choice for an occurrence on a day off: once, by the reminder's owner,
        the group's creator or a coordinator."""
        data = turn.value or {}
        reminder_id = card_id(data.get("reminder"))
        choice = data.get("choice")
        occurrence = _moment(card_text(data.get("occurrence"), max_length=40))
        if reminder_id is None or occurrence is None or choice not in (EARLIER, LATER, SKIP, KEEP):
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        reminder = await asyncio.to_thread(self._reminders.get, reminder_id)
        group = await self._group_of(reminder)
        if (
            reminder is None
            or reminder.cancelled
            or reminder.rrule is None
            or reminder.series_start is None
            or not (reminder.owner_id == turn.user.id or may_manage(turn, group))
        ):
            await turn.reply(Texts.NOT_YOURS)
            return
        # Only a real occurrence of the series, on a day off, can be moved or called off.
        real = next_occurrence(reminder.rrule, reminder.series_start, occurrence - SECOND)
        if real != occurrence or not is_day_off(occurrence, reminder.series_start):
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        now = self._clock.now()
        if occurrence <= now:
            await turn.reply(Texts.DAY_OFF_PASSED)
            return
        moved_to = {EARLIER: working_day_before, LATER: working_day_after}.get(choice)
        target = moved_to(occurrence) if moved_to else None
        if target is not None and target <= now:
            await turn.reply(Texts.DAY_OFF_TOO_LATE.format(day=format_date(local_day(target))))
            return
        me = turn.user.person
        chosen = await asyncio.to_thread(
            self._reminders.choose, reminder.id, occurrence, choice, target, me, now
        )
        if chosen is None:
            await turn.reply(Texts.NOT_YOURS)
            return
        if chosen.first and chosen.moved_to is not None:
            self._nudges.wake_at(chosen.moved_to, job_id=f"moved:{reminder.id}")
        day = f"{format_date(local_day(occurrence))} ({day_off_name(occurrence)})"
        if chosen.moved_to is not None:
            outcome = Texts.DAY_OFF_MOVED.format(
                text=reminder.text, when=format_when(chosen.moved_to), day=day
            )
        elif chosen.choice == SKIP:
            outcome = Texts.DAY_OFF_SKIPPED.format(text=reminder.text, day=day)
        else:
            outcome = Texts.DAY_OFF_KEPT.format(text=reminder.text, when=format_when(occurrence))
        card_id_ = turn.activity.reply_to_id
        if chosen.first and card_id_ and turn.supports_cards:
            await turn.update_card(card_id_, _card([_text_block(outcome)]))
        await turn.reply(outcome if chosen.first else Texts.DAY_OFF_DECIDED + outcome)

    # --- setting ------------------------------------------------------------------------------
    async def _set(self, turn: Turn, parsed: Any, who: str, what: str) -> None:
        value = parsed.value
        rule = description = None
        if isinstance(value, Recurrence):
            due, rule, description = value.first, value.rule, value.description
            when_text = Texts.RECURRING_WHEN.format(
                description=value.description, first=format_when(value.first)
            )
        else:
            due = value.start if isinstance(value, Span) else value.at
            when_text = format_when(due)
            assumed = getattr(value, "assumed", None)
            if assumed:
                when_text += Texts.ASSUMED.format(assumed=assumed)
        mine = await asyncio.to_thread(self._reminders.count_upcoming, turn.user.id)
        if mine >= REMINDERS_PER_MEMBER:
            await turn.reply(Texts.TOO_MANY.format(limit=REMINDERS_PER_MEMBER))
            return
        me = turn.user.person
        base: dict[str, Any] = {
            "owner": me,
            "text": what,
            "due_at": due,
            "tenant_id": turn.tenant_id,
            "rrule": rule,
            "rrule_description": description,
            "created_in": turn.conversation_id,
        }
        lowered = who.lower()
        lowered = {"me": "mig", "us": "oss", "everyone": "alla"}.get(lowered, lowered)
        if lowered in ("mig", "mej") or (lowered in ("oss", "alla", "er") and turn.is_personal):
            conversation = turn.conversation_id if turn.is_personal else None
            if not await self._room_here(turn):
                return
            await self._nudges.add(
                NewReminder(audience=PERSON, person=me, conversation_id=conversation, **base)
            )
            await turn.reply(Texts.SET_ME.format(when=when_text, what=what))
            return
        if lowered in ("oss", "alla", "er", "alla här", "chatten"):
            if not await self._room_here(turn):
                return
            await self._nudges.add(
                NewReminder(audience=CONVERSATION, conversation_id=turn.conversation_id, **base)
            )
            await turn.reply(Texts.SET_US.format(when=when_text, what=what))
            return
        group = await self._group_named(turn, who)
        if group is None:
            return
        if not (may_manage(turn, group) or group.has_member(turn.user.id, turn.user.aad_object_id)):
            await turn.reply(Texts.NOT_IN_GROUP.format(group=group.name))
            return
        same = await asyncio.to_thread(self._reminders.same_for_group, group.id, what, due, rule)
        if same is not None:
            reply = Texts.SAME_EXISTS.format(
                group=group.name,
                text=same.text,
                when=_when_of(same),
                owner=same.owner_name or Texts.SOMEONE,
            )
            if may_manage(turn, group):
                reply += Texts.SAME_EXISTS_HINT.format(group=group.name)
            await turn.reply(reply)
            return
        if not await self._room_here(turn):
            return
        await self._nudges.add(
            NewReminder(audience=GROUP, group_id=group.id, group_name=group.name, **base)
        )
        await turn.reply(
            Texts.SET_GROUP.format(
                group=group.name, count=_people(len(group.members)), when=when_text, what=what
            )
        )

    async def _room_here(self, turn: Turn) -> bool:
        """One more reminder made in this conversation today, or a reply saying why not."""
        if self._tally is None:
            return True
        taken = await asyncio.to_thread(
            self._tally.take,
            "reminder",
            turn.conversation_id,
            REMINDERS_PER_CONVERSATION,
            CONVERSATION_WINDOW,
            turn.now,
        )
        if not taken:
            await turn.reply(Texts.TOO_MANY_HERE.format(limit=REMINDERS_PER_CONVERSATION))
        return taken

    async def _group_named(
        self, turn: Turn, who: str, then: str = Texts.NO_AUDIENCE
    ) -> Group | None:
        group, names = await group_named(self._groups, who, turn.tenant_id)
        if group is None:
            reply = Texts.NO_GROUP.format(name=stripped_group_name(who))
            if names:
                reply += " " + Texts.GROUPS_OFFERED.format(names=", ".join(names))
            await turn.reply(reply + " " + then if then else reply)
        return group

    # --- managing -----------------------------------------------------------------------------
    async def _mine(self, turn: Turn) -> Sequence[ReminderView]:
        return await asyncio.to_thread(self._reminders.upcoming_for, turn.user.id)

    async def _list(self, turn: Turn, offset: int = 0) -> None:
        listed = await self._list_card(turn, offset)
        if listed is None:
            await turn.reply(Texts.LIST_EMPTY)
            return
        await turn.reply_card(*listed)

    async def _list_card(self, turn: Turn, offset: int) -> tuple[dict[str, Any], str] | None:
        everything = await self._mine(turn)
        if not everything:
            return None
        # A page at a time: Teams refuses a card over about 28 KB.
        offset = offset if 0 <= offset < len(everything) else 0
        items = everything[offset : offset + LIST_PAGE]
        rows = [_row(n, item) for n, item in enumerate(items, start=offset + 1)]
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": Texts.LIST_TITLE, "weight": "Bolder", "size": "Medium"}
        ]
        for row, item in zip(rows, items, strict=True):
            body.append(
                {
                    "type": "ColumnSet",
                    "columns": [
                        {
                            "type": "Column",
                            "width": "stretch",
                            "items": [{"type": "TextBlock", "text": row, "wrap": True}],
                        },
                        {
                            "type": "Column",
                            "width": "auto",
                            "items": [
                                {
                                    "type": "ActionSet",
                                    "actions": [button(Texts.DELETE, DELETE, reminder=item.id)],
                                }
                            ],
                        },
                    ],
                }
            )
        body.append({"type": "TextBlock", "text": Texts.LIST_HINT, "wrap": True, "isSubtle": True})
        fallback = "\n".join([f"**{Texts.LIST_TITLE}**", *rows, Texts.LIST_HINT])
        card = _card(body)
        if offset + LIST_PAGE < len(everything):
            card["actions"] = [button(Texts.MORE, MORE, offset=offset + LIST_PAGE)]
            fallback += "\n" + Texts.MORE_TEXT.format(count=len(everything) - offset - LIST_PAGE)
        return card, fallback

    async def _nth(self, turn: Turn, n: int) -> ReminderView | None:
        items = await self._mine(turn)
        if not 1 <= n <= len(items):
            await turn.reply(Texts.NO_SUCH_NUMBER.format(n=n))
            return None
        return items[n - 1]

    async def _delete_number(self, turn: Turn, n: int) -> None:
        item = await self._nth(turn, n)
        if item is not None:
            await self._cancel(turn, item.id)

    async def _cancel(self, turn: Turn, reminder_id: int) -> None:
        try:
            view = await asyncio.to_thread(
                self._reminders.cancel, reminder_id, turn.user.id, self._clock.now()
            )
        except NotYours:
            await turn.reply(Texts.NOT_YOURS)
            return
        template = Texts.DELETED_RECURRING if view.is_recurring else Texts.DELETED
        await turn.reply(template.format(text=view.text))

    async def _stop_for_group(self, turn: Turn, reminder: ReminderView, group: Group) -> None:
        try:
            view = await asyncio.to_thread(
                self._reminders.stop_for_group, reminder.id, group.id, self._clock.now()
            )
        except NotYours:
            await turn.reply(Texts.NOT_YOURS)
            return
        template = Texts.DELETED_RECURRING if view.is_recurring else Texts.DELETED
        await turn.reply(template.format(text=view.text))

    async def _move_number(self, turn: Turn, n: int, when_text: str) -> None:
        item = await self._nth(turn, n)
        if item is None:
            return
        try:
            parsed = parse(when_text, self._clock.now())
        except WhenError as error:
            await turn.reply(bad_time(error))
            return
        if parsed is None or isinstance(parsed.value, Recurrence):
            await turn.reply(Texts.NO_TIME)
            return
        value = parsed.value
        due = value.start if isinstance(value, Span) else value.at
        try:
            view = await asyncio.to_thread(self._reminders.move, item.id, turn.user.id, due)
        except NotYours:
            await turn.reply(Texts.NOT_YOURS)
            return
        self._nudges.wake_at(due, job_id=f"reminder:{view.id}")
        await turn.reply(Texts.MOVED.format(text=view.text, when=format_when(due)))

    # --- buttons on cards ---------------------------------------------------------------------
    async def on_delete(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, DELETE, turn.value or {})

    async def on_snooze(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, SNOOZE, turn.value or {})

    async def on_tomorrow(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, TOMORROW, turn.value or {})

    async def on_done(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, DONE, turn.value or {})

    async def on_more(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, MORE, turn.value or {})

    async def on_stop(self, turn: Turn, reading: Reading) -> None:
        await self._on_submit(turn, STOP, turn.value or {})

    # Card data comes back from the client as written: every id and number is checked here, and
    # every id must be the presser's own (storage checks ownership where it changes something).
    async def _on_submit(self, turn: Turn, action: str, data: dict[str, Any]) -> None:
        if action == MORE:
            offset = data.get("offset")
            # bound-checked: a page that does not exist shows the first
            await self._list(turn, offset if type(offset) is int else 0)
        elif action == DELETE:
            reminder_id = card_id(data.get("reminder"))
            if reminder_id is None:
                await turn.reply(Texts.UNKNOWN_BUTTON)
                return
            await self._delete_pressed(turn, reminder_id)
        elif action in (SNOOZE, TOMORROW, DONE):
            await self._on_delivery(turn, action, data)
        elif action == STOP:
            reminder_id = card_id(data.get("reminder"))
            reminder = (
                await asyncio.to_thread(self._reminders.get, reminder_id) if reminder_id else None
            )
            group = await self._group_of(reminder)
            if reminder is None and reminder_id is None:
                await turn.reply(Texts.UNKNOWN_BUTTON)
            elif reminder is not None and reminder.owner_id == turn.user.id:
                await self._cancel(turn, reminder.id)
            elif reminder is not None and group is not None and may_manage(turn, group):
                await self._stop_for_group(turn, reminder, group)
            elif group is not None and group.has_member(turn.user.id, turn.user.aad_object_id):
                await turn.reply(Texts.ONLY_OWNER_STOPS)
            else:  # someone else's, or gone: the same answer, without its text
                await turn.reply(Texts.NOT_YOURS)
        else:
            await turn.reply(Texts.UNKNOWN_BUTTON)

    async def _delete_pressed(self, turn: Turn, reminder_id: int) -> None:
        """ "Ta bort" on the list: once. A second press changes nothing and says so; the list
        card then shows what is left."""
        if any(r.id == reminder_id for r in await self._mine(turn)):
            await self._cancel(turn, reminder_id)
        else:
            view = await asyncio.to_thread(self._reminders.get, reminder_id)
            if view is None or view.owner_id != turn.user.id:
                await turn.reply(Texts.NOT_YOURS)
                return
            await turn.reply(Texts.ALREADY_DELETED.format(text=view.text))
        listed = await self._list_card(turn, 0)
        empty = _card([{"type": "TextBlock", "text": Texts.LIST_EMPTY, "wrap": True}])
        await turn.show_pressed(listed[0] if listed else empty)

    async def _on_delivery(self, turn: Turn, action: str, data: dict[str, Any]) -> None:
        delivery_id = card_id(data.get("delivery"))
        minutes = card_int(data.get("minutes", 60), low=MIN_SNOOZE, high=MAX_SNOOZE)
        if delivery_id is None or (action == SNOOZE and minutes is None):
            await turn.reply(Texts.UNKNOWN_BUTTON)
            return
        reminder = await asyncio.to_thread(
            self._reminders.received,
            delivery_id,
            turn.user.id,
            turn.user.aad_object_id,
            turn.conversation_id,
        )
        if reminder is None:  # gone, or sent to someone else: the same answer for both
            await turn.reply(Texts.NOT_YOURS)
            return
        now = self._clock.now()
        if action == DONE:
            pressed = await asyncio.to_thread(self._reminders.finish, delivery_id, now)
        else:
            # "Imorgon kl. 9" has no minutes: the next morning.
            due = snooze_until(now, minutes=(minutes or 60) if action == SNOOZE else None)
            new = self._snooze_of(turn, reminder, due)
            pressed = await asyncio.to_thread(self._reminders.snooze_once, delivery_id, new, now)
        if pressed is None:
            await turn.reply(Texts.NOT_YOURS)
            return
        if pressed.reminder_id is not None and pressed.due_at is not None:
            self._nudges.wake_at(pressed.due_at, job_id=f"reminder:{pressed.reminder_id}")
        # The card the button sat on now shows the outcome instead of live buttons.
        await turn.show_pressed(
            reminder_cards.pressed(reminder.text, done=pressed.done, due_at=pressed.due_at)
        )
        if pressed.done:
            await turn.reply(Texts.DONE if pressed.first else Texts.ALREADY_DONE)
        elif pressed.due_at is not None:
            template = Texts.SNOOZED if pressed.first else Texts.ALREADY_SNOOZED
            await turn.reply(template.format(when=format_when(pressed.due_at), text=reminder.text))

    def _snooze_of(self, turn: Turn, reminder: ReminderView, due: datetime) -> NewReminder:
        me = turn.user.person
        in_chat = reminder.audience == CONVERSATION and not turn.is_personal
        return NewReminder(
            owner=me,
            audience=CONVERSATION if in_chat else PERSON,
            person=None if in_chat else me,
            conversation_id=turn.conversation_id if (in_chat or turn.is_personal) else None,
            text=reminder.text,
            due_at=due,
            tenant_id=turn.tenant_id,
            created_in=turn.conversation_id,
        )

    # --- topic watches ------------------------------------------------------------------------
    async def _watch(self, turn: Turn, topic: str) -> None:
        topic = topic.strip(" ?,")
        if len(topic) > WATCH_TOPIC_CHARS:
            await turn.reply(Texts.WATCH_TOO_LONG.format(limit=WATCH_TOPIC_CHARS))
            return
        person = turn.user.person
        added = await asyncio.to_thread(
            lambda: self._reminders.add_watch(
                person,
                topic,
                tenant_id=turn.tenant_id,
                conversation_id=turn.conversation_id if turn.is_personal else None,
                now=self._clock.now(),
            )
        )
        template = Texts.WATCH_SET if added else Texts.WATCH_EXISTS
        await turn.reply(template.format(topic=topic))

    async def _watches(self, turn: Turn) -> None:
        watches = await asyncio.to_thread(self._reminders.watches_of, turn.user.id)
        if not watches:
            await turn.reply(Texts.WATCH_NONE)
            return
        rows = [Texts.WATCH_ROW.format(topic=w.topic) for w in watches]
        await turn.reply("\n".join([f"**{Texts.WATCH_LIST_TITLE}**", *rows, Texts.WATCH_HINT]))

    async def _unwatch(self, turn: Turn, topic: str) -> None:
        removed = await asyncio.to_thread(self._reminders.remove_watch, turn.user.id, topic)
        if removed is None:
            await turn.reply(Texts.WATCH_NOT_FOUND.format(topic=topic))
            return
        await turn.reply(Texts.WATCH_REMOVED.format(topic=removed))


def _row(n: int, item: ReminderView) -> str:
    if item.audience == CONVERSATION:
        where = Texts.WHERE_CHAT
    elif item.audience == GROUP:
        where = Texts.WHERE_GROUP.format(group=item.group_name or "")
    else:
        where = ""
    when = format_when(item.due_at) if item.due_at else ""
    text = item.text if len(item.text) <= ROW_CHARS else item.text[: ROW_CHARS - 1] + "…"
    if item.is_recurring:
        return Texts.LIST_ROW_RECURRING.format(
            n=n, description=item.rrule_description or "", when=when, text=text, where=where
        )
    return Texts.LIST_ROW.format(n=n, when=when, text=text, where=where)


SECOND = timedelta(seconds=1)


def _when_of(item: ReminderView) -> str:
    when = format_when(item.due_at) if item.due_at else ""
    if item.is_recurring:
        return Texts.RECURRING_WHEN.format(description=item.rrule_description or "", first=when)
    return when


def _short(text: str) -> str:
    return text if len(text) <= ROW_CHARS else text[: ROW_CHARS - 1] + "…"


def _group_row(n: int, item: ReminderView) -> str:
    when = format_when(item.due_at) if item.due_at else ""
    owner = item.owner_name or Texts.SOMEONE
    if item.is_recurring:
        return Texts.GROUP_LIST_ROW_RECURRING.format(
            n=n,
            description=item.rrule_description or "",
            when=when,
            text=_short(item.text),
            owner=owner,
        )
    return Texts.GROUP_LIST_ROW.format(n=n, when=when, text=_short(item.text), owner=owner)


def _matching(items: Sequence[ReminderView], what: str) -> list[ReminderView]:
    """The reminders whose words or group the person's words name ("mötet", "styrgruppen")."""
    wanted = name_key(re.sub(r"^(?:om|för|från|till)\s+", "", what, flags=re.I))
    found = []
    for item in items:
        said = name_key(f"{item.text} {item.group_name or ''}")
        if wanted and fuzz.partial_ratio(wanted, said) >= MUTE_MATCH:
            found.append(item)
    return found


def _moment(value: str | None) -> datetime | None:
    """An aware time from card data ("2026-04-06T08:00:00+00:00"), else None."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True}


def _rows_card(title: str, rows: Sequence[tuple[str, dict[str, Any]]], hint: str) -> dict[str, Any]:
    """A list with one button beside each row."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True}
    ]
    for text, action in rows:
        body.append(
            {
                "type": "ColumnSet",
                "columns": [
                    {"type": "Column", "width": "stretch", "items": [_text_block(text)]},
                    {
                        "type": "Column",
                        "width": "auto",
                        "items": [{"type": "ActionSet", "actions": [action]}],
                    },
                ],
            }
        )
    if hint:
        body.append({"type": "TextBlock", "text": hint, "wrap": True, "isSubtle": True})
    return _card(body)


def _people(n: int) -> str:
    return (Texts.PERSON if n == 1 else Texts.PEOPLE).format(n=n)


def _card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }


def bad_time(error: object) -> str:
    """The parser's words, with a time as it could be written unless they already give one."""
    said = str(error)
    return said if "till exempel" in said else Texts.BAD_TIME.format(error=said)
