"""The poll, result and invitation cards, and their text fallbacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dialogs.buttons import button, refresh
from dialogs.polls.invitations import outlook_link
from dialogs.polls.texts import Texts
from scheduler.swedish import format_span, format_when
from storage.people import Person
from storage.polls import (
    BOOKED,
    CANCELLED,
    CHOICES,
    CLOSED,
    OPEN,
    PollView,
)

# Card submits carry {"action": ...}; the capability dispatches on the same constants.
ANSWER = "polls.answer"
BOOK = "polls.book"
CANCEL = "polls.cancel"
VIEW = "polls.view"  # a card's refresh: the presser's own view of the poll


def _length_text(minutes: int) -> str:
    if minutes % 60 == 0:
        return Texts.HOUR if minutes == 60 else Texts.HOURS.format(hours=minutes // 60)
    return Texts.MINUTES.format(minutes=minutes)


def people(count: int) -> str:
    return Texts.ONE_PERSON if count == 1 else Texts.PEOPLE.format(count=count)


def name_list(names: Sequence[str]) -> str:
    names = list(names)
    if not names:
        return Texts.NOBODY
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + Texts.AND + names[-1]


def unanswered(poll: PollView, members: Sequence[Person]) -> list[Person]:
    answered = poll.answered()
    return [m for m in members if m.user_id not in answered]


def text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def _card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def _state_line(poll: PollView) -> str | None:
    if poll.status == BOOKED and poll.meeting is not None:
        return Texts.STATE_BOOKED.format(
            when=format_span(poll.meeting.start, poll.meeting.end), place=poll.place
        )
    if poll.status == CANCELLED:
        return Texts.STATE_CANCELLED
    if poll.status == CLOSED:
        return Texts.STATE_CLOSED
    return None


@dataclass(frozen=True)
class Viewer:
    """Whose view of a poll card: their answers, and whether they see the manage buttons."""

    user_id: str
    manages: bool = False


def poll_card(
    poll: PollView,
    members: Sequence[Person],
    *,
    viewer: Viewer | None = None,
    shared: bool = False,
) -> dict[str, Any]:
    """The poll: facts, per slot who said what (and a choice to make), who has not answered.

    With a `viewer`, that person's view: their answers acknowledged and kept in the choices, and
    for the organiser and coordinators the buttons to book and cancel. A `shared` card (in the
    group's chat) asks Teams to refresh it into each member's own view (dialogs/buttons.py).
    """
    title = Texts.CARD_TITLE.format(title=poll.title, group=poll.group_name)
    body: list[dict[str, Any]] = [
        text_block(title, weight="Bolder", size="Medium"),
        {
            "type": "FactSet",
            "facts": [
                {"title": Texts.FACT_LENGTH, "value": _length_text(poll.length_minutes)},
                {"title": Texts.FACT_PLACE, "value": poll.place},
                {"title": Texts.FACT_DEADLINE, "value": format_when(poll.deadline)},
                {"title": Texts.FACT_BY, "value": poll.creator.name or poll.creator.user_id},
            ],
        },
    ]
    state = _state_line(poll)
    open_now = poll.status == OPEN
    mine = viewer.user_id if viewer else None
    if state:
        body.append(text_block(state, weight="Bolder", color="Accent"))
    elif open_now:
        body.append(text_block(Texts.CARD_INTRO, isSubtle=True))
    if mine is not None:
        answered = mine in poll.answered()
        body.append(
            text_block(
                Texts.YOU_ANSWERED if answered else Texts.YOU_NOT_ANSWERED,
                weight="Bolder",
                color="Good" if answered else "Attention",
            )
        )
    manages = viewer is not None and viewer.manages and poll.status in (OPEN, CLOSED)
    for slot in poll.slots:
        names = poll.names_by_choice(slot.id)
        when = format_span(slot.start, slot.end)
        items: list[dict[str, Any]] = [
            text_block(when, weight="Bolder"),
            *(
                text_block(
                    Texts.ANSWER_ROW.format(
                        choice=Texts.CHOICE[choice],
                        count=len(names[choice]),
                        names=name_list(names[choice]),
                    ),
                    spacing="None",
                    size="Small",
                )
                for choice in CHOICES
            ),
        ]
        given = poll.choice_of(mine, slot.id) if mine is not None else None
        if given:
            items.append(
                text_block(Texts.YOUR_ANSWER.format(choice=Texts.CHOICE[given]), color="Good")
            )
        if open_now:
            choice_set: dict[str, Any] = {
                "type": "Input.ChoiceSet",
                "id": f"slot_{slot.id}",
                "style": "expanded",
                "isMultiSelect": False,
                # a screen reader reads the label: the time, not just "Välj"
                "label": Texts.PICK_FOR.format(when=when),
                "choices": [{"title": Texts.CHOICE[c], "value": c} for c in CHOICES],
            }
            if given:
                choice_set["value"] = given  # the answer stays as given
            items.append(choice_set)
        if manages:
            items.append(
                {
                    "type": "ActionSet",
                    "actions": [button(Texts.BOOK_THIS, BOOK, poll=poll.id, slot=slot.id)],
                }
            )
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": items})
    missing = unanswered(poll, members)
    body.append(
        text_block(
            Texts.NOT_ANSWERED.format(
                count=len(missing), names=name_list([m.name or m.user_id for m in missing])
            )
            if missing
            else Texts.ALL_ANSWERED,
            separator=True,
            isSubtle=True,
        )
    )
    actions: list[dict[str, Any]] = []
    if open_now:
        actions.append(button(Texts.SUBMIT, ANSWER, poll=poll.id))
    if manages:
        actions.append(button(Texts.CANCEL, CANCEL, poll=poll.id))
    card = _card(body, actions)
    if shared:
        people = [poll.creator.user_id, *(m.user_id for m in members)]
        clause, automatic = refresh(VIEW, people, poll=poll.id)
        card["refresh"] = clause
        if not automatic:  # too many for Teams to refresh: each refreshes by hand
            card.setdefault("actions", []).append(button(Texts.MY_VIEW, VIEW, poll=poll.id))
    return card


def poll_text(poll: PollView, members: Sequence[Person]) -> str:
    """The same content as text, for channels without cards and for notification previews."""
    lines = [f"**{Texts.CARD_TITLE.format(title=poll.title, group=poll.group_name)}**"]
    lines.append(f"{Texts.FACT_DEADLINE}: {format_when(poll.deadline)}")
    for slot in poll.slots:
        names = poll.names_by_choice(slot.id)
        counts = ", ".join(f"{Texts.CHOICE[c]} {len(names[c])}" for c in CHOICES)
        lines.append(f"• {format_span(slot.start, slot.end)}: {counts}")
    return "\n".join(lines)


def result_rows(poll: PollView) -> list[str]:
    return [
        Texts.RESULT_ROW.format(
            n=n,
            when=format_span(r.slot.start, r.slot.end),
            yes=r.yes,
            if_needed=r.if_needed,
            no=r.no,
        )
        for n, r in enumerate(poll.ranked(), start=1)
    ]


def result_card(
    poll: PollView, members: Sequence[Person], headline: str, *, bookable: bool
) -> dict[str, Any]:
    """Slots ranked by Ja, then Ja + Om det behövs, then earliest; a "Boka" button per slot."""
    body: list[dict[str, Any]] = [
        text_block(
            Texts.RESULT_TITLE.format(title=poll.title, group=poll.group_name),
            weight="Bolder",
            size="Medium",
        ),
        text_block(headline),
    ]
    for row, ranked in zip(result_rows(poll), poll.ranked(), strict=True):
        items: list[dict[str, Any]] = [text_block(row)]
        if bookable:
            items.append(
                {
                    "type": "ActionSet",
                    "actions": [button(Texts.BOOK, BOOK, poll=poll.id, slot=ranked.slot.id)],
                }
            )
        body.append({"type": "Container", "separator": True, "items": items})
    actions = None
    if bookable:
        body.append(text_block(Texts.RESULT_PICK, isSubtle=True))
        actions = [button(Texts.CANCEL, CANCEL, poll=poll.id)]
    return _card(body, actions)


def invite_card(poll: PollView, ics_url: str, *, moved: bool) -> dict[str, Any]:
    meeting = poll.meeting
    assert meeting is not None
    title = (Texts.INVITE_MOVED_TITLE if moved else Texts.INVITE_TITLE).format(title=poll.title)
    body = [
        text_block(title, weight="Bolder", size="Medium"),
        text_block(
            Texts.INVITE_BODY.format(
                when=format_span(meeting.start, meeting.end),
                place=poll.place,
                group=poll.group_name,
            )
        ),
    ]
    actions = [
        {"type": "Action.OpenUrl", "title": Texts.ADD_ICS, "url": ics_url},
        {"type": "Action.OpenUrl", "title": Texts.OPEN_OUTLOOK, "url": outlook_link(poll)},
    ]
    return _card(body, actions)
