"""What a due reminder says, and its buttons: the reminders capability's words, handed to the
scheduler at composition as its `ReminderRenderer` (scheduler/nudges.py).

The button ids below are the contract between a card and its handler (dialogs/reminders.py):
both import them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialogs import deadline_cards
from dialogs.buttons import button
from scheduler.nudges import CourseHit
from scheduler.swedish import format_date, format_when, holiday_name
from scheduler.timing import local_day, working_day_after, working_day_before
from storage.deadlines import DeadlineView
from storage.reminders import (
    DAY_OFF,
    DEADLINE_NUDGE,
    DEADLINE_SUMMARY,
    MEETING,
    NOTICE,
    DueDelivery,
)

# Card submits carry {"action": <one of these>, ...}.
SNOOZE = "reminders.snooze"
TOMORROW = "reminders.tomorrow"
DONE = "reminders.done"
STOP = "reminders.stop"
DEADLINE_DONE = deadline_cards.DONE  # the deadline capability's, kept here for old imports
DELETE = "reminders.delete"
MUTE = "reminders.mute"  # a member: no more of this group reminder for me
DAY_OFF_CHOICE = "reminders.day_off"  # the organiser's choice for an occurrence on a day off


class Texts:
    TITLE = "Påminnelse"
    TITLE_LATE = "Påminnelse (sen)"
    LATE = "Den skulle ha kommit {when}, men jag var inte igång då."
    FOR_GROUP = "Till arbetsgruppen {group}."
    RECURRING = "Återkommer {description}."
    SNOOZE_HOUR = "Påminn igen om 1 timme"
    TOMORROW = "Imorgon kl. 9"
    DONE = "Klar"
    STOP = "Sluta påminna"
    MUTE = "Tysta för mig"
    # To the organiser, a week before a group's recurring reminder falls on a day off.
    DAY_OFF_TITLE = "Påminnelse på en ledig dag"
    DAY_OFF_BODY = "”{text}” till {group} ska komma {when}."
    DAY_OFF_QUESTION = "{day} är {name}: flytta eller ställ in?"
    DAY_OFF_WEEKEND = "en helgdag"
    DAY_OFF_OPTIONS = "Föregående vardag är {before}, nästa {after}."
    DAY_OFF_EARLIER = "Föregående vardag"
    DAY_OFF_LATER = "Nästa vardag"
    DAY_OFF_SKIP = "Ställ in den gången"
    DAY_OFF_KEEP = "Behåll"
    # A pressed card shows what the press did, in place of its buttons.
    PRESSED_SNOOZED = "Påminner igen {when}"
    PRESSED_DONE = "Klar ✓"
    MEETING = "Möte {when}: {text}"
    FAILED = (
        "Jag kunde inte leverera påminnelsen ”{text}” till {who}: {why}. Jag försöker inte igen."
    )
    FAILED_GONE = "boten finns inte längre i chatten eller personen finns inte kvar"
    FAILED_RETRIES = "det gick inte efter flera försök"
    WHO_CHAT = "chatten"
    WHO_UNKNOWN = "mottagaren"
    WATCH_TITLE = "Ny utbildning om {topic}"
    WATCH_ROW = "• {title}{url}"


class ReminderCards:
    """The scheduler's `ReminderRenderer`: text and card of a due reminder, and the notices the
    pipeline sends on its own."""

    def message(
        self, item: DueDelivery, deadline: DeadlineView | None, now: datetime | None = None
    ) -> tuple[str, dict[str, Any] | None]:
        if item.kind == DEADLINE_NUDGE and deadline is not None:
            return deadline_cards.nudge(item, deadline, now)
        if item.kind == DEADLINE_SUMMARY and deadline is not None:
            return deadline_cards.summary(deadline, now or item.due_at)
        if item.kind == NOTICE:
            return item.text, None
        if item.kind == DAY_OFF:
            return _day_off(item)
        lines = [item.text]
        if item.kind == MEETING and item.meeting_start is not None:
            lines = [Texts.MEETING.format(when=format_when(item.meeting_start), text=item.text)]
        if item.group_name and item.kind != MEETING:
            lines.append(Texts.FOR_GROUP.format(group=item.group_name))
        if item.late:
            lines.append(Texts.LATE.format(when=format_when(item.due_at)))
        if item.is_recurring and item.rrule_description:
            lines.append(Texts.RECURRING.format(description=item.rrule_description))
        title = Texts.TITLE_LATE if item.late else Texts.TITLE
        actions: list[dict[str, Any]] = []
        if item.kind != MEETING:
            actions = [
                _submit(Texts.SNOOZE_HOUR, SNOOZE, delivery=item.id, minutes=60),
                _submit(Texts.TOMORROW, TOMORROW, delivery=item.id),
                _submit(Texts.DONE, DONE, delivery=item.id),
            ]
            if item.is_recurring and (
                item.group_id is None or item.recipient == item.owner.user_id
            ):
                actions.append(_submit(Texts.STOP, STOP, reminder=item.reminder_id))
            elif item.is_recurring:
                # The others in the group cannot stop it for everyone; they can for themselves.
                actions.append(_submit(Texts.MUTE, MUTE, reminder=item.reminder_id))
        return "\n".join([f"**{title}**", *lines]), _card(title, lines, actions)

    def failed(self, item: DueDelivery, *, gone: bool) -> str:
        """To the reminder's owner, when a delivery is given up."""
        why = Texts.FAILED_GONE if gone else Texts.FAILED_RETRIES
        if item.recipient.startswith("conv:"):
            who = Texts.WHO_CHAT
        else:
            who = item.recipient_name or Texts.WHO_UNKNOWN
        return Texts.FAILED.format(text=item.text, who=who, why=why)

    def new_courses(self, topic: str, hits: Sequence[CourseHit]) -> str:
        """To someone watching a topic, after an import brought courses on it."""
        rows = [
            Texts.WATCH_ROW.format(title=h.title, url=f": {h.url}" if h.url else "") for h in hits
        ]
        return "\n".join([Texts.WATCH_TITLE.format(topic=topic), *rows])


def pressed(text: str, *, done: bool, due_at: datetime | None) -> dict[str, Any]:
    """A delivered reminder's card after a press: the reminder and the outcome, no buttons."""
    if done or due_at is None:
        outcome = Texts.PRESSED_DONE
    else:
        outcome = Texts.PRESSED_SNOOZED.format(when=format_when(due_at))
    return _card(Texts.TITLE, [text, outcome], [])


def day_off_occurrence(key: str | None) -> tuple[int, datetime] | None:
    """(reminder id, occurrence) of a day-off notice's key "dayoff:<id>:<iso time>"."""
    if not key or not key.startswith("dayoff:"):
        return None
    _, reminder_id, moment = key.split(":", 2)
    return int(reminder_id), datetime.fromisoformat(moment)


def day_off_name(occurrence: datetime) -> str:
    """ "annandag påsk", "julafton"; "en helgdag" for a weekend day without a name."""
    name = holiday_name(local_day(occurrence))
    return name[0].lower() + name[1:] if name else Texts.DAY_OFF_WEEKEND


def _short_date(moment: datetime) -> str:
    day = local_day(moment)
    return format_date(day)


def _day_off(item: DueDelivery) -> tuple[str, dict[str, Any] | None]:
    found = day_off_occurrence(item.key)
    if found is None:
        return item.text, None
    reminder_id, occurrence = found
    lines = [
        Texts.DAY_OFF_BODY.format(
            text=item.text, group=item.group_name or "", when=format_when(occurrence)
        ),
        Texts.DAY_OFF_QUESTION.format(day=_short_date(occurrence), name=day_off_name(occurrence)),
        Texts.DAY_OFF_OPTIONS.format(
            before=_short_date(working_day_before(occurrence)),
            after=_short_date(working_day_after(occurrence)),
        ),
    ]
    data = {"reminder": reminder_id, "occurrence": occurrence.isoformat()}
    actions = [
        _submit(title, DAY_OFF_CHOICE, choice=choice, **data)
        for title, choice in (
            (Texts.DAY_OFF_EARLIER, "earlier"),
            (Texts.DAY_OFF_LATER, "later"),
            (Texts.DAY_OFF_SKIP, "skip"),
            (Texts.DAY_OFF_KEEP, "keep"),
        )
    ]
    title = Texts.DAY_OFF_TITLE
    return "\n".join([f"**{title}**", *lines]), _card(title, lines, actions)


def _submit(title: str, action: str, **data: Any) -> dict[str, Any]:
    return button(title, action, **data)


def _card(title: str, lines: list[str], actions: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [
            {
                "type": "TextBlock",
                "text": title,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            *({"type": "TextBlock", "text": line, "wrap": True} for line in lines),
        ],
    }
    if actions:
        card["actions"] = actions
    return card
