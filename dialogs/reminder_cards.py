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
from scheduler.swedish import format_when
from storage.deadlines import DeadlineView
from storage.reminders import (
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
        self, item: DueDelivery, deadline: DeadlineView | None
    ) -> tuple[str, dict[str, Any] | None]:
        if item.kind == DEADLINE_NUDGE and deadline is not None:
            return deadline_cards.nudge(item, deadline)
        if item.kind == DEADLINE_SUMMARY and deadline is not None:
            return deadline_cards.summary(deadline, item.due_at)
        if item.kind == NOTICE:
            return item.text, None
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
            if item.is_recurring:
                actions.append(_submit(Texts.STOP, STOP, reminder=item.reminder_id))
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
