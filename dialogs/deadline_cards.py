"""What a deadline looks like to people: the members' nudge, the owner's summary, `status`.

The reminder pipeline renders deadline nudges and summaries through `ReminderCards`, which hands
them here; the deadlines capability (dialogs/deadlines.py) uses the same lines for `status`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from dialogs.buttons import button
from scheduler.swedish import format_date, format_when
from scheduler.timing import local_day
from storage.deadlines import DeadlineView
from storage.reminders import DueDelivery, Person

# The card action of a nudge's "Klar" button. It keeps the name it had when deadlines were part of
# the reminders: cards already sent carry it.
DONE = "reminders.deadline_done"


class Texts:
    TITLE = "Deadline: {name}"
    LEFT = {0: "idag", 1: "imorgon"}
    DAYS = "om {days} dagar"
    BODY = "”{name}” ska vara {ready} {when} ({left})."
    FROM = "Satt av {owner} för arbetsgruppen {group}."
    PRESS = "Tryck **Klar** när din del är klar."
    LATE = "Den skulle ha kommit {when}, men jag var inte igång då."
    DONE = "Klar"
    # "klar" agrees with the name's definite ending: enkäten ska vara klar, underlaget klart,
    # rapporterna klara; a name without one ("delredovisning") takes the common gender.
    READY = "klar"
    READY_NEUTER = "klart"
    READY_PLURAL = "klara"
    SUMMARY_TITLE = "Sammanfattning: {name}"
    IS = "Deadline är {when} för {group}, satt av {owner}."
    WAS = "Deadline var {when} för {group}, satt av {owner}."
    CANCELLED = "Borttagen. Deadline skulle ha varit {when} för {group}, satt av {owner}."
    SUMMARY_DONE = "Klara ({count}): {names}"
    SUMMARY_NOT_DONE = "Inte klara ({count}): {names}"
    NOBODY = "ingen"
    ROW = "{name} – {when}, {group} (satt av {owner}): {done} av {count} klara"


def ready_word(name: str) -> str:
    """ "klar", "klart" or "klara" for what the deadline is called (a small, honest rule)."""
    words = name.strip(" ”\"'.!?").split()
    last = words[-1].lower() if words else ""
    if last.endswith("na"):  # rapporterna, nomineringarna
        return Texts.READY_PLURAL
    if last.endswith("et") or (len(last) > 2 and last[-1] == "t" and last[-2] in "aeiouyåäö"):
        return Texts.READY_NEUTER  # underlaget, schemat
    return Texts.READY


def when_text(deadline: DeadlineView) -> str:
    """ "fredag 4 december 2026", or with the time given "fredag 4 december 2026 kl. 12.00"."""
    return format_when(deadline.due_at) if deadline.due_at else format_date(deadline.day)


def status_lines(deadline: DeadlineView, now: datetime) -> list[str]:
    """Where a deadline stands; the tense follows the date (a deadline ahead "är", past "var")."""

    def names(people: Sequence[Person]) -> str:
        return ", ".join(p.name or p.user_id for p in people) or Texts.NOBODY

    owner = deadline.owner.name or deadline.owner.user_id
    fields = {"when": when_text(deadline), "group": deadline.group_name, "owner": owner}
    if deadline.is_cancelled:
        head = Texts.CANCELLED.format(**fields)
    elif _is_past(deadline, now):
        head = Texts.WAS.format(**fields)
    else:
        head = Texts.IS.format(**fields)
    return [
        head,
        Texts.SUMMARY_DONE.format(count=len(deadline.done), names=names(deadline.done)),
        Texts.SUMMARY_NOT_DONE.format(count=len(deadline.not_done), names=names(deadline.not_done)),
    ]


def row(deadline: DeadlineView) -> str:
    return Texts.ROW.format(
        name=deadline.name,
        when=when_text(deadline),
        group=deadline.group_name,
        owner=deadline.owner.name or deadline.owner.user_id,
        done=len(deadline.done),
        count=len(deadline.done) + len(deadline.not_done),
    )


def nudge(
    item: DueDelivery, deadline: DeadlineView, now: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """A member's nudge, in words true at `now`, when it is sent (after downtime too)."""
    title = Texts.TITLE.format(name=deadline.name)
    lines = [
        Texts.BODY.format(
            name=deadline.name,
            ready=ready_word(deadline.name),
            when=when_text(deadline),
            left=_days_left(deadline.day, now or item.due_at),
        ),
        Texts.FROM.format(
            owner=deadline.owner.name or deadline.owner.user_id, group=deadline.group_name
        ),
        Texts.PRESS,
    ]
    if item.late:
        lines.append(Texts.LATE.format(when=format_when(item.due_at)))
    actions = [submit(Texts.DONE, DONE, deadline=deadline.id)]
    return "\n".join([f"**{title}**", *lines]), card(title, lines, actions)


def summary(deadline: DeadlineView, now: datetime) -> tuple[str, dict[str, Any]]:
    title = Texts.SUMMARY_TITLE.format(name=deadline.name)
    lines = status_lines(deadline, now)
    return "\n".join([f"**{title}**", *lines]), card(title, lines, [])


def _is_past(deadline: DeadlineView, now: datetime) -> bool:
    if deadline.due_at is not None:
        return deadline.due_at <= now
    return deadline.day < local_day(now)


def _days_left(day: date, due_at: datetime) -> str:
    days = (day - local_day(due_at)).days
    return Texts.LEFT.get(days) or Texts.DAYS.format(days=days)


def submit(title: str, action: str, **data: Any) -> dict[str, Any]:
    return button(title, action, **data)


def card(title: str, lines: list[str], actions: list[dict[str, Any]]) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
        *({"type": "TextBlock", "text": line, "wrap": True} for line in lines),
    ]
    found: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if actions:
        found["actions"] = actions
    return found
