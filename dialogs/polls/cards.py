"""The poll, result and invitation cards, and their text fallbacks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def poll_card(
    poll: PollView, members: Sequence[Person], *, answering: bool = True
) -> dict[str, Any]:
    """The poll: facts, per slot who said what (and a choice to make), who has not answered."""
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
    open_now = poll.status == OPEN and answering
    if state:
        body.append(text_block(state, weight="Bolder", color="Accent"))
    elif open_now:
        body.append(text_block(Texts.CARD_INTRO, isSubtle=True))
    for slot in poll.slots:
        names = poll.names_by_choice(slot.id)
        items: list[dict[str, Any]] = [
            text_block(format_span(slot.start, slot.end), weight="Bolder"),
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
        if open_now:
            items.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": f"slot_{slot.id}",
                    "style": "expanded",
                    "isMultiSelect": False,
                    "label": Texts.PICK,
                    "choices": [{"title": Texts.CHOICE[c], "value": c} for c in CHOICES],
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
    actions = (
        [
            {
                "type": "Action.Submit",
                "title": Texts.SUBMIT,
                "data": {"action": "polls.answer", "poll": poll.id},
            }
        ]
        if open_now
        else None
    )
    return _card(body, actions)


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
                    "actions": [
                        {
                            "type": "Action.Submit",
                            "title": Texts.BOOK,
                            "data": {
                                "action": "polls.book",
                                "poll": poll.id,
                                "slot": ranked.slot.id,
                            },
                        }
                    ],
                }
            )
        body.append({"type": "Container", "separator": True, "items": items})
    actions = None
    if bookable:
        body.append(text_block(Texts.RESULT_PICK, isSubtle=True))
        actions = [
            {
                "type": "Action.Submit",
                "title": Texts.CANCEL,
                "data": {"action": "polls.cancel", "poll": poll.id},
            }
        ]
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
